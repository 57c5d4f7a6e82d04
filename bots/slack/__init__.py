"""The Slack adapter (Bolt); its sentences live in ``locales``."""

from pathlib import Path

from core import messages

messages.register(Path(__file__).resolve().parent / "locales")
