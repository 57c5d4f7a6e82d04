"""The adapters. Their shared chat sentences and the terminal's (CLI, console, doctor) live in
``bots/locales``; Discord's and Slack's own in their packages."""

from pathlib import Path

from core import messages

messages.register(Path(__file__).resolve().parent / "locales")
