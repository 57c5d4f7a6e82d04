"""Raw Discord payloads, shaped as Discord sends them (API v10), for tests and the fake gateway.

Every builder returns a plain ``dict`` ready for ``FakeDiscord.dispatch("INTERACTION_CREATE", ...)``
(or for ``client._connection.parse_interaction_create``). Ids are strings, as on the wire.

The common "who / where" part lives in an :class:`InteractionContext`; ``FakeDiscord.context()``
returns one that matches the fake's application, guild and channel::

    ctx = fake.context(user_id=42, locale="zh-CN")
    payload = slash_command(ctx, "imagine", options={"prompt": "a fox", "n": 2},
                            attachments={"image": fake.make_attachment("in.png", png_bytes)})
    await fake.dispatch("INTERACTION_CREATE", payload)

Shapes follow discord.com/developers/docs/interactions/receiving-and-responding (Interaction
Object) and discord.py 2.7's ``types/interactions.py``. Two canonical examples are kept as JSON in
``tests/fixtures/discord/``.
"""

from __future__ import annotations

import itertools
import json
import secrets
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

DISCORD_EPOCH_MS = 1_420_070_400_000
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "discord"

# Permission bits, as strings the way Discord sends them.
ALL_MEMBER_PERMISSIONS = str((1 << 47) - 1)  # everything up to SEND_VOICE_MESSAGES
DEFAULT_MEMBER_PERMISSIONS = (
    "2248473465835073"  # a typical member: send, attach, embed, use app cmds
)
ADMINISTRATOR = str(1 << 3)
DEFAULT_APP_PERMISSIONS = "2248473465835073"

APPLICATION_COMMAND = 2
MESSAGE_COMPONENT = 3
AUTOCOMPLETE = 4
MODAL_SUBMIT = 5

_counter = itertools.count()


def new_snowflake() -> str:
    """A fresh, increasing snowflake (timestamp << 22 | counter), as a string."""
    ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
    return str((ms << 22) | (next(_counter) & 0x3FFFFF))


def new_token() -> str:
    """An interaction token: opaque, long, URL-safe (Discord's are ~200 chars)."""
    return "aW50ZXJhY3Rpb246" + secrets.token_urlsafe(48)


def iso_now() -> str:
    return datetime.now(UTC).isoformat()


@dataclass(frozen=True)
class InteractionContext:
    """Who triggers an interaction, where. ``replace(ctx, user_id=...)`` for another user."""

    application_id: str
    guild_id: str | None
    channel_id: str
    user_id: str = "100000000000000001"
    username: str = "alice"
    global_name: str | None = "Alice"
    permissions: str = DEFAULT_MEMBER_PERMISSIONS
    app_permissions: str = DEFAULT_APP_PERMISSIONS
    locale: str = "en-US"
    guild_locale: str = "en-US"
    channel_name: str = "general"
    channel_type: int = 0
    roles: tuple[str, ...] = ()
    attachment_size_limit: int = 10 * 1024 * 1024
    extra: dict[str, Any] = field(default_factory=dict)

    def with_user(self, user_id: int | str, username: str = "bob", **kw: Any) -> InteractionContext:
        return replace(self, user_id=str(user_id), username=username, **kw)


def user_object(
    user_id: int | str,
    username: str = "alice",
    *,
    global_name: str | None = None,
    bot: bool = False,
) -> dict[str, Any]:
    return {
        "id": str(user_id),
        "username": username,
        "discriminator": "0",
        "global_name": global_name,
        "avatar": None,
        "bot": bot,
        "public_flags": 0,
        "flags": 0,
        "banner": None,
        "accent_color": None,
        "avatar_decoration_data": None,
        "primary_guild": None,
    }


def member_object(ctx: InteractionContext) -> dict[str, Any]:
    """An interaction's ``member``: guild member + ``user`` + resolved ``permissions`` string."""
    return {
        "user": user_object(ctx.user_id, ctx.username, global_name=ctx.global_name),
        "roles": list(ctx.roles),
        "premium_since": None,
        "permissions": ctx.permissions,
        "pending": False,
        "nick": None,
        "mute": False,
        "deaf": False,
        "joined_at": "2024-01-01T00:00:00.000000+00:00",
        "flags": 0,
        "communication_disabled_until": None,
        "avatar": None,
        "banner": None,
        "unusual_dm_activity_until": None,
    }


def channel_object(
    channel_id: int | str,
    guild_id: int | str | None,
    name: str = "general",
    *,
    type: int = 0,
    position: int = 0,
) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "id": str(channel_id),
        "type": type,
        "name": name,
        "position": position,
        "topic": None,
        "nsfw": False,
        "rate_limit_per_user": 0,
        "parent_id": None,
        "last_message_id": None,
        "permission_overwrites": [],
        "flags": 0,
    }
    if guild_id is not None:
        obj["guild_id"] = str(guild_id)
    return obj


def attachment_object(
    *,
    id: int | str,
    filename: str,
    url: str,
    size: int,
    content_type: str | None = None,
    width: int | None = None,
    height: int | None = None,
    ephemeral: bool = False,
    description: str | None = None,
) -> dict[str, Any]:
    """A Discord attachment. ``url`` is a signed CDN url (it expires on the real platform)."""
    obj: dict[str, Any] = {
        "id": str(id),
        "filename": filename,
        "size": size,
        "url": url,
        "proxy_url": url,
        "content_type": content_type,
        "placeholder": None,
        "placeholder_version": 1,
        "flags": 0,
    }
    if width is not None and height is not None:
        obj["width"], obj["height"] = width, height
    if ephemeral:
        obj["ephemeral"] = True
    if description is not None:
        obj["description"] = description
    return obj


def message_object(
    *,
    channel_id: int | str,
    author: Mapping[str, Any],
    content: str = "",
    id: int | str | None = None,
    guild_id: int | str | None = None,
    attachments: Iterable[Mapping[str, Any]] = (),
    embeds: Iterable[Any] = (),
    components: Iterable[Any] = (),
    flags: int = 0,
    type: int = 0,
    application_id: int | str | None = None,
    webhook_id: int | str | None = None,
    interaction_metadata: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "id": str(id or new_snowflake()),
        "type": type,
        "channel_id": str(channel_id),
        "author": dict(author),
        "content": content,
        "timestamp": iso_now(),
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": [dict(a) for a in attachments],
        "embeds": list(embeds),
        "components": list(components),
        "pinned": False,
        "flags": flags,
    }
    if guild_id is not None:
        obj["guild_id"] = str(guild_id)
    if application_id is not None:
        obj["application_id"] = str(application_id)
    if webhook_id is not None:
        obj["webhook_id"] = str(webhook_id)
    if interaction_metadata is not None:
        obj["interaction_metadata"] = dict(interaction_metadata)
    return obj


def user_message(
    ctx: InteractionContext,
    content: str = "",
    *,
    attachments: Iterable[Mapping[str, Any]] = (),
    id: int | str | None = None,
) -> dict[str, Any]:
    """A message posted by the context's user in the context's channel (target of context menus)."""
    return message_object(
        channel_id=ctx.channel_id,
        guild_id=ctx.guild_id,
        id=id,
        content=content,
        author=user_object(ctx.user_id, ctx.username, global_name=ctx.global_name),
        attachments=attachments,
    )


def base_interaction(
    ctx: InteractionContext,
    type: int,
    data: Mapping[str, Any] | None = None,
    *,
    id: str | None = None,
    token: str | None = None,
    message: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Fields every INTERACTION_CREATE carries; guild context (0) when ``ctx.guild_id`` is set."""
    in_guild = ctx.guild_id is not None
    payload: dict[str, Any] = {
        "id": id or new_snowflake(),
        "application_id": ctx.application_id,
        "type": type,
        "token": token or new_token(),
        "version": 1,
        "channel_id": ctx.channel_id,
        "channel": channel_object(
            ctx.channel_id, ctx.guild_id, ctx.channel_name, type=ctx.channel_type
        ),
        "app_permissions": ctx.app_permissions,
        "locale": ctx.locale,
        "entitlements": [],
        "entitlement_sku_ids": [],
        "authorizing_integration_owners": {"0": ctx.guild_id} if in_guild else {"1": ctx.user_id},
        "context": 0 if in_guild else 1,
        "attachment_size_limit": ctx.attachment_size_limit,
    }
    if data is not None:
        payload["data"] = dict(data)
    if in_guild:
        payload["guild_id"] = ctx.guild_id
        payload["guild"] = {"id": ctx.guild_id, "locale": ctx.guild_locale, "features": []}
        payload["guild_locale"] = ctx.guild_locale
        payload["member"] = member_object(ctx)
    else:
        payload["user"] = user_object(ctx.user_id, ctx.username, global_name=ctx.global_name)
    if message is not None:
        payload["message"] = dict(message)
    payload.update(ctx.extra)
    return payload


_OPTION_TYPES: list[tuple[type, int]] = [(bool, 5), (int, 4), (float, 10), (str, 3)]


def option(
    name: str, value: Any, *, type: int | None = None, focused: bool = False
) -> dict[str, Any]:
    """One command option; the type is guessed from the Python value (str 3, int 4, bool 5, float 10)."""
    if type is None:
        type = next(t for py, t in _OPTION_TYPES if isinstance(value, py))
    opt: dict[str, Any] = {"name": name, "type": type, "value": value}
    if focused:
        opt["focused"] = True
    return opt


def _command_data(
    ctx: InteractionContext,
    name: str,
    command_type: int,
    *,
    command_id: str | None,
    command_guild_id: str | bool | None,
) -> dict[str, Any]:
    data: dict[str, Any] = {"id": command_id or new_snowflake(), "name": name, "type": command_type}
    # Discord names the guild a command was registered in; discord.py looks guild commands up by it.
    gid = ctx.guild_id if command_guild_id is True else command_guild_id
    if gid:
        data["guild_id"] = str(gid)
    return data


def slash_command(
    ctx: InteractionContext,
    name: str,
    *,
    options: Mapping[str, Any] | Iterable[Mapping[str, Any]] | None = None,
    attachments: Mapping[str, Mapping[str, Any]] | None = None,
    subcommand: str | None = None,
    command_id: str | None = None,
    command_guild_id: str | bool | None = True,
    id: str | None = None,
    token: str | None = None,
) -> dict[str, Any]:
    """``/name`` with options. ``options`` maps name -> value (or is a list of :func:`option`);
    ``attachments`` maps an attachment option's name -> :func:`attachment_object` (type 11, value
    = attachment id, object in ``data.resolved.attachments``). ``command_guild_id=True`` (default)
    means "registered in ctx's guild"; pass ``None`` for a global command."""
    if options is None:
        opts: list[dict[str, Any]] = []
    elif isinstance(options, Mapping):
        opts = [option(k, v) for k, v in options.items()]
    else:
        opts = [dict(o) for o in options]
    data = _command_data(ctx, name, 1, command_id=command_id, command_guild_id=command_guild_id)
    if attachments:
        resolved = {str(a["id"]): dict(a) for a in attachments.values()}
        data["resolved"] = {"attachments": resolved}
        opts += [option(k, str(a["id"]), type=11) for k, a in attachments.items()]
    if subcommand is not None:
        opts = [{"name": subcommand, "type": 1, "options": opts}]
    data["options"] = opts
    return base_interaction(ctx, APPLICATION_COMMAND, data, id=id, token=token)


def message_command(
    ctx: InteractionContext,
    name: str,
    target: Mapping[str, Any],
    *,
    command_id: str | None = None,
    command_guild_id: str | bool | None = True,
    id: str | None = None,
    token: str | None = None,
) -> dict[str, Any]:
    """Message context menu (command type 3) on ``target`` (a :func:`message_object`), which
    arrives whole, attachments included, in ``data.resolved.messages``."""
    data = _command_data(ctx, name, 3, command_id=command_id, command_guild_id=command_guild_id)
    data["target_id"] = str(target["id"])
    data["resolved"] = {"messages": {str(target["id"]): dict(target)}}
    return base_interaction(ctx, APPLICATION_COMMAND, data, id=id, token=token)


def autocomplete(
    ctx: InteractionContext,
    name: str,
    *,
    focused: str,
    value: str,
    options: Mapping[str, Any] | None = None,
    command_id: str | None = None,
    command_guild_id: str | bool | None = True,
) -> dict[str, Any]:
    """Autocomplete (type 4): the user is typing ``value`` into option ``focused``."""
    opts = [option(k, v) for k, v in (options or {}).items() if k != focused]
    opts.append(option(focused, value, type=3, focused=True))
    data = _command_data(ctx, name, 1, command_id=command_id, command_guild_id=command_guild_id)
    data["options"] = opts
    return base_interaction(ctx, AUTOCOMPLETE, data)


def component_click(
    ctx: InteractionContext,
    custom_id: str,
    message: Mapping[str, Any],
    *,
    component_type: int = 2,
    values: Iterable[str] | None = None,
    id: str | None = None,
    token: str | None = None,
) -> dict[str, Any]:
    """A button (component_type 2) or select (3, with ``values``) on ``message``."""
    data: dict[str, Any] = {"custom_id": custom_id, "component_type": component_type}
    if values is not None:
        data["values"] = list(values)
    return base_interaction(ctx, MESSAGE_COMPONENT, data, id=id, token=token, message=message)


def modal_submit(
    ctx: InteractionContext,
    custom_id: str,
    fields: Mapping[str, str],
    *,
    files: Mapping[str, Iterable[Mapping[str, Any]]] | None = None,
    message: Mapping[str, Any] | None = None,
    id: str | None = None,
    token: str | None = None,
) -> dict[str, Any]:
    """Modal submit (type 5). Text inputs come back as action rows holding ``{type 4, custom_id,
    value}``; file uploads (``files``: custom_id -> attachments) as Label (18) -> FileUpload (19)
    whose ``values`` are attachment ids resolved in ``data.resolved.attachments``."""
    components: list[dict[str, Any]] = [
        {
            "type": 1,
            "id": i + 1,
            "components": [{"type": 4, "id": i + 100, "custom_id": k, "value": v}],
        }
        for i, (k, v) in enumerate(fields.items())
    ]
    data: dict[str, Any] = {"custom_id": custom_id, "components": components}
    for k, given in (files or {}).items():
        atts = [dict(a) for a in given]
        components.append(
            {
                "type": 18,
                "id": len(components) + 1,
                "component": {
                    "type": 19,
                    "id": len(components) + 200,
                    "custom_id": k,
                    "values": [a["id"] for a in atts],
                },
            }
        )
        data.setdefault("resolved", {}).setdefault("attachments", {}).update(
            {a["id"]: a for a in atts}
        )
    return base_interaction(ctx, MODAL_SUBMIT, data, id=id, token=token, message=message)


def load_fixture(name: str) -> dict[str, Any]:
    """A JSON fixture from tests/fixtures/discord/ (``name`` with or without ``.json``)."""
    path = FIXTURES / (name if name.endswith(".json") else f"{name}.json")
    fixture: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return fixture
