"""The rooms of :class:`~core.service.ImageService`, each a mixin it is made of (like the rooms
of :class:`~core.store.store.Store`): ``finishing`` (Re-roll, Upscale, Vary).
"""
