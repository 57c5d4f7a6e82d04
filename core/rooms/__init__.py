"""The rooms of :class:`~core.service.ImageService`, each a mixin it is made of (like the rooms
of :class:`~core.store.store.Store`): ``finishing`` (Re-roll, Upscale, Vary) and
``interactions`` (what a click or a modal submit needs later, in the database).
"""
