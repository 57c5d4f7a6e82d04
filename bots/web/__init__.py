"""The web companion of ``pixelsmith run``: mask painter, gallery, admin dashboard."""
