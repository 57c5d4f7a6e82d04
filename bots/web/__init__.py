"""The web companion of ``pixelsmith run``: mask painter, gallery, admin dashboard."""

from pathlib import Path

from core import messages

messages.register(Path(__file__).resolve().parent / "locales")
