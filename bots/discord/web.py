"""Links to the web companion, always answered privately (ephemeral): the result's "Edit
region" button, ``/gallery`` and ``/pixelsmith-admin dashboard``. A link binds the clicking user
in the server (or DM) the interaction came from; results of an edit go back to that channel."""

from __future__ import annotations

from dataclasses import replace

from bots.web.links import link_for
from core import messages
from core.config import Settings
from core.types import Identity


def web_on(settings: Settings) -> bool:
    """Whether results get an "Edit region" button (the web companion is configured)."""
    probe = Identity(platform="discord", user_id="0")
    return link_for(settings, "gallery", probe) is not None


def link_text(settings: Settings, identity: Identity, url: str | None) -> str:
    if url is None:
        return messages.text("discord.web.off", identity.locale)
    minutes = round(settings.web.link_minutes)
    return messages.text("discord.web.link", identity.locale, minutes=minutes, url=url)


def region_text(settings: Settings, identity: Identity, ref: str) -> str:
    """For the Edit region button, after the job was checked for the clicker."""
    return link_text(settings, identity, link_for(settings, "edit", identity, job=ref))


def gallery_text(settings: Settings, identity: Identity) -> str:
    return link_text(settings, identity, link_for(settings, "gallery", identity))


def dashboard_text(settings: Settings, admin: Identity) -> str:
    """For /pixelsmith-admin dashboard, after its admin check."""
    identity = replace(admin, is_admin=True)
    return link_text(settings, admin, link_for(settings, "dashboard", identity, admin=True))
