"""The rooms of :class:`~core.service.ImageService`, each a mixin it is made of (like the rooms
of :class:`~core.store.store.Store`): ``finishing`` (Re-roll, Upscale, Vary), ``interactions``
(what a click or a modal submit needs later, in the database), ``keys`` (communities' own
gateway keys), ``account`` (a member's quota, history and kept results) and ``admin`` (limits,
grants, bans, reports, audit, notices). ``core/service.py`` keeps the job itself: build, run,
settle.
"""
