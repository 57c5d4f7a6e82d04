"""FakeDiscord's published limits, each shown rejecting with Discord's 400/50035 ``errors`` tree.

Requests are made the way discord.py sends them (JSON bodies, or ``payload_json`` + ``files[n]``
multipart), straight to the fake's REST API; the rules and their sources are in
``tests/fakes/discord_rules.py`` and ``tests/fakes/discord.py``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import discord
import pytest

from tests.fakes import discord_payloads as P
from tests.fakes.discord import FakeDiscord

TOKEN = "fake-bot-token"


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord(token=TOKEN) as f:
        yield f


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(headers={"Authorization": f"Bot {TOKEN}"}) as s:
        yield s


def interaction(fake: FakeDiscord, **ctx: Any) -> dict[str, Any]:
    payload = P.slash_command(fake.context(**ctx), "imagine")
    fake.register_interaction(payload)
    return payload


async def post(
    http: aiohttp.ClientSession,
    url: str,
    body: Any,
    files: list[bytes] | None = None,
    method: str = "POST",
) -> tuple[int, dict[str, Any]]:
    if files is None:
        async with http.request(method, url, json=body) as r:
            return r.status, (await r.json() if r.status != 204 else {})
    form = aiohttp.FormData()
    form.add_field("payload_json", json.dumps(body), content_type="application/json")
    for i, data in enumerate(files):
        form.add_field(f"files[{i}]", data, filename=f"f{i}.png")
    async with http.request(method, url, data=form) as r:
        return r.status, await r.json()


def invalid(status: int, body: dict[str, Any], *path: str | int) -> None:
    """A 50035 whose errors tree has ``_errors`` at ``path``."""
    assert status == 400 and body["code"] == 50035 and body["message"] == "Invalid Form Body"
    node: Any = body["errors"]
    for key in path:
        node = node[str(key)]
    assert node["_errors"][0]["code"].startswith(("BASE_TYPE", "NUMBER_TYPE", "COMPONENT"))


def callback_url(fake: FakeDiscord, it: dict[str, Any]) -> str:
    return f"{fake.api_base}/interactions/{it['id']}/{it['token']}/callback"


def followup_url(fake: FakeDiscord, it: dict[str, Any]) -> str:
    return f"{fake.api_base}/webhooks/{fake.application_id}/{it['token']}"


def row(*children: dict[str, Any]) -> dict[str, Any]:
    return {"type": 1, "components": list(children)}


def button(label: str = "Again", custom_id: str = "px:again") -> dict[str, Any]:
    return {"type": 2, "style": 1, "label": label, "custom_id": custom_id}


def text_input(**extra: Any) -> dict[str, Any]:
    return {"type": 4, "custom_id": "prompt", "style": 2, **extra}


def label(child: dict[str, Any], text: str = "What should change?") -> dict[str, Any]:
    return {"type": 18, "label": text, "component": child}


def modal(*components: dict[str, Any], title: str = "Edit image") -> dict[str, Any]:
    return {"type": 9, "data": {"custom_id": "px:edit", "title": title, "components": components}}


# -- messages ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"content": "x" * 2001}, ("content",)),
        ({"embeds": [{"title": "e"}] * 11}, ("embeds",)),
        ({"content": "x", "components": [row(button())] * 6}, ("components",)),
        (
            {"components": [row(*[button(custom_id=f"b{i}") for i in range(6)])]},
            ("components", 0, "components"),
        ),
        (
            {"components": [row(button(custom_id="c" * 101))]},
            ("components", 0, "components", 0, "custom_id"),
        ),
        (
            {"components": [row(button(label="l" * 81))]},
            ("components", 0, "components", 0, "label"),
        ),
        (
            {"components": [row(button(), button())]},  # the same custom_id twice
            ("components", 0, "components", 1, "custom_id"),
        ),
    ],
)
async def test_message_limits_on_followups(
    fake: FakeDiscord, http: aiohttp.ClientSession, body: dict[str, Any], path: tuple[Any, ...]
) -> None:
    it = interaction(fake)
    assert (await post(http, callback_url(fake, it), {"type": 5}))[0] == 200
    status, answer = await post(http, followup_url(fake, it), body)
    invalid(status, answer, *path)
    assert (await post(http, followup_url(fake, it), {"content": "x" * 2000}))[0] == 200


async def test_message_limits_on_channel_messages_and_edits(
    fake: FakeDiscord, http: aiohttp.ClientSession
) -> None:
    url = f"{fake.api_base}/channels/{fake.channel_id}/messages"
    invalid(*await post(http, url, {"content": "x" * 2001}), "content")
    status, msg = await post(http, url, {"content": "ok"})
    assert status == 200
    invalid(
        *await post(http, f"{url}/{msg['id']}", {"content": "x" * 2001}, method="PATCH"), "content"
    )


async def test_at_most_10_files_a_message(fake: FakeDiscord, http: aiohttp.ClientSession) -> None:
    url = f"{fake.api_base}/channels/{fake.channel_id}/messages"
    invalid(*await post(http, url, {"content": "x"}, files=[b"\x89PNG"] * 11), "attachments")
    assert (await post(http, url, {"content": "x"}, files=[b"\x89PNG"] * 10))[0] == 200


async def test_the_per_file_limit_is_the_interactions_attachment_size_limit(
    fake: FakeDiscord, http: aiohttp.ClientSession
) -> None:
    it = interaction(fake, attachment_size_limit=1024)
    await post(http, callback_url(fake, it), {"type": 5})
    status, body = await post(http, followup_url(fake, it), {"content": "x"}, files=[b"0" * 1025])
    assert (status, body["code"]) == (413, 40005)
    assert (await post(http, followup_url(fake, it), {}, files=[b"0" * 1024]))[0] == 200


async def test_discord_py_surfaces_the_errors_tree(fake: FakeDiscord) -> None:
    it = interaction(fake)
    client = discord.Webhook.partial(
        int(fake.application_id), it["token"], session=aiohttp.ClientSession()
    )
    async with aiohttp.ClientSession() as http:
        await post(http, callback_url(fake, it), {"type": 5})
    try:
        from tests.fakes.discord import point_discord_py_at

        with point_discord_py_at(fake), pytest.raises(discord.HTTPException) as caught:
            await client.send("x" * 2001, wait=True)
        assert caught.value.status == 400 and caught.value.code == 50035
        assert "content" in caught.value.text
    finally:
        await client.session.close()


# -- the interaction's deadlines -------------------------------------------------------------


async def test_one_initial_response_within_3_seconds(
    fake: FakeDiscord, http: aiohttp.ClientSession
) -> None:
    late = interaction(fake)
    fake.clock.advance(3.01)
    status, body = await post(http, callback_url(fake, late), {"type": 5})
    assert (status, body["code"]) == (404, 10062)
    on_time = interaction(fake)
    assert (await post(http, callback_url(fake, on_time), {"type": 5}))[0] == 200
    status, body = await post(http, callback_url(fake, on_time), {"type": 5})
    assert (status, body["code"]) == (400, 40060)


async def test_an_interaction_discord_never_sent_is_unknown(
    fake: FakeDiscord, http: aiohttp.ClientSession
) -> None:
    never_sent = P.slash_command(fake.context(), "imagine")  # neither dispatched nor registered
    status, body = await post(http, callback_url(fake, never_sent), {"type": 5})
    assert (status, body["code"]) == (404, 10062)
    known = interaction(fake)
    wrong_id = {**known, "id": never_sent["id"]}  # a known token under another interaction's id
    status, body = await post(http, callback_url(fake, wrong_id), {"type": 5})
    assert (status, body["code"]) == (404, 10062)
    assert (await post(http, callback_url(fake, known), {"type": 5}))[0] == 200


async def test_followups_within_15_minutes(fake: FakeDiscord, http: aiohttp.ClientSession) -> None:
    it = interaction(fake)
    await post(http, callback_url(fake, it), {"type": 5})
    fake.clock.advance(14 * 60)
    assert (await post(http, followup_url(fake, it), {"content": "still here"}))[0] == 200
    fake.clock.advance(61)
    status, body = await post(http, followup_url(fake, it), {"content": "too late"})
    assert (status, body["code"]) == (401, 50027)


# -- modals ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("response", "path"),
    [
        (modal(label(text_input()), title="t" * 46), ("title",)),
        (modal(*[label(text_input(custom_id=f"p{i}")) for i in range(6)]), ("components",)),
        (modal(), ("components",)),
        (modal(label(text_input(), text="l" * 46)), ("components", 0, "label")),
        (modal(label(text_input(max_length=4001))), ("components", 0, "component", "max_length")),
        (
            modal(label(text_input(placeholder="p" * 101))),
            ("components", 0, "component", "placeholder"),
        ),
        (modal(label(text_input(label="old style"))), ("components", 0, "component", "label")),
        (
            modal(label(text_input(custom_id="c" * 101))),
            ("components", 0, "component", "custom_id"),
        ),
        (modal(row(text_input(label="Prompt"))), ("components", 0, "type")),  # not in a Label
    ],
)
async def test_modal_limits(
    fake: FakeDiscord,
    http: aiohttp.ClientSession,
    response: dict[str, Any],
    path: tuple[Any, ...],
) -> None:
    fake.labels_required = True
    status, body = await post(http, callback_url(fake, interaction(fake)), response)
    invalid(status, body, *path)


async def test_a_label_wrapped_modal_opens(fake: FakeDiscord, http: aiohttp.ClientSession) -> None:
    fake.labels_required = True
    upload = {"type": 19, "custom_id": "images", "min_values": 1, "max_values": 10}
    response = modal(label(upload, "Images"), label(text_input(max_length=4000)))
    assert (await post(http, callback_url(fake, interaction(fake)), response))[0] == 200


async def test_the_deprecated_action_row_form_is_refused_only_when_labels_are_required(
    fake: FakeDiscord, http: aiohttp.ClientSession
) -> None:
    fake.labels_required = False
    response = modal(row(text_input(label="Prompt")))
    assert (await post(http, callback_url(fake, interaction(fake)), response))[0] == 200


# -- autocomplete and commands ---------------------------------------------------------------


async def test_autocomplete_answers_25_choices_of_at_most_100(
    fake: FakeDiscord, http: aiohttp.ClientSession
) -> None:
    def answer(choices: list[dict[str, Any]]) -> dict[str, Any]:
        return {"type": 8, "data": {"choices": choices}}

    ctx = fake.context()
    auto = P.autocomplete(ctx, "imagine", focused="model", value="gpt")
    fake.register_interaction(auto)
    many = [{"name": f"m{i}", "value": f"m{i}"} for i in range(26)]
    invalid(*await post(http, callback_url(fake, auto), answer(many)), "choices")
    long = P.autocomplete(ctx, "imagine", focused="model", value="gpt")
    fake.register_interaction(long)
    status, body = await post(
        http, callback_url(fake, long), answer([{"name": "n" * 101, "value": "v"}])
    )
    invalid(status, body, "choices", 0, "name")
    ok = P.autocomplete(ctx, "imagine", focused="model", value="gpt")
    fake.register_interaction(ok)
    assert (await post(http, callback_url(fake, ok), answer(many[:25])))[0] == 200


def command(**extra: Any) -> dict[str, Any]:
    return {"name": "imagine", "type": 1, "description": "Make an image", **extra}


def opt(**extra: Any) -> dict[str, Any]:
    return {"name": "prompt", "type": 3, "description": "What to draw", **extra}


@pytest.mark.parametrize(
    ("commands", "path"),
    [
        ([command(name="Imagine")], (0, "name")),  # lowercase required
        ([command(name="x" * 33)], (0, "name")),
        ([command(description="d" * 101)], (0, "description")),
        ([command(description="")], (0, "description")),
        ([{"name": "Edit image", "type": 3, "description": "no"}], (0, "description")),
        ([command(options=[opt(name=f"o{i}") for i in range(26)])], (0, "options")),
        ([command(options=[opt(description="")])], (0, "options", 0, "description")),
        (
            [
                command(
                    options=[opt(choices=[{"name": f"c{i}", "value": f"{i}"} for i in range(26)])]
                )
            ],
            (0, "options", 0, "choices"),
        ),
        (
            [command(options=[opt(choices=[{"name": "c", "value": "v" * 101}])])],
            (0, "options", 0, "choices", 0, "value"),
        ),
        (
            [command(options=[opt(autocomplete=True, choices=[{"name": "c", "value": "v"}])])],
            (0, "options", 0, "autocomplete"),
        ),
        # localized names and descriptions follow the same restrictions; keys are locales
        ([command(name_localizations={"zh-CN": "画 图"})], (0, "name_localizations", "zh-CN")),
        ([command(name_localizations={"de": "Bild"})], (0, "name_localizations", "de")),
        (
            [command(description_localizations={"zh-CN": "长" * 101})],
            (0, "description_localizations", "zh-CN"),
        ),
        ([command(description_localizations={"zh": "画"})], (0, "description_localizations", "zh")),
        (
            [command(options=[opt(description_localizations={"ja": ""})])],
            (0, "options", 0, "description_localizations", "ja"),
        ),
        (
            [{"name": "Edit image", "type": 3, "name_localizations": {"zh-CN": "图" * 33}}],
            (0, "name_localizations", "zh-CN"),
        ),
        (
            [
                command(
                    options=[
                        opt(choices=[{"name": "c", "value": "v", "name_localizations": {"fr": ""}}])
                    ]
                )
            ],
            (0, "options", 0, "choices", 0, "name_localizations", "fr"),
        ),
        # required options first; option names unique; STRING lengths within 0-6000 / 1-6000
        (
            [command(options=[opt(name="size"), opt(name="prompt", required=True)])],
            (0, "options", 1),
        ),
        ([command(options=[opt(), opt()])], (0, "options", 1, "name")),
        ([command(options=[opt(max_length=6001)])], (0, "options", 0, "max_length")),
        ([command(options=[opt(min_length=-1)])], (0, "options", 0, "min_length")),
        # command names unique per type within a scope
        ([command(), command()], (1,)),
    ],
)
async def test_command_limits(
    fake: FakeDiscord, http: aiohttp.ClientSession, commands: list[Any], path: tuple[Any, ...]
) -> None:
    url = f"{fake.api_base}/applications/{fake.application_id}/guilds/{fake.guild_id}/commands"
    status, body = await post(http, url, commands, method="PUT")
    assert status == 400 and body["code"] == 50035
    node: Any = body["errors"]
    for key in path:
        node = node[str(key)]
    assert node["_errors"]


async def test_commands_per_scope_and_size(fake: FakeDiscord, http: aiohttp.ClientSession) -> None:
    url = f"{fake.api_base}/applications/{fake.application_id}/commands"
    menus = [{"name": f"Menu {i}", "type": 3} for i in range(16)]
    status, body = await post(http, url, menus, method="PUT")
    assert status == 400 and body["errors"]["_errors"][0]["code"] == "APPLICATION_COMMANDS_TOO_MANY"
    big = command(
        options=[
            opt(
                name=f"o{i}",
                description="d" * 100,
                choices=[{"name": "n" * 100, "value": "v" * 100}] * 25,
            )
            for i in range(4)
        ]
    )
    status, body = await post(http, url, [big], method="PUT")
    assert body["errors"]["0"]["_errors"][0]["code"] == "APPLICATION_COMMAND_TOO_LARGE"
    status, _ = await post(http, url, [command(options=[opt()]), *menus[:15]], method="PUT")
    assert status == 200


async def test_localized_well_ordered_commands_sync(
    fake: FakeDiscord, http: aiohttp.ClientSession
) -> None:
    """What the rules above refuse, done right, is accepted: a context menu and a slash command
    of the same name (different types), localized, required options first."""
    url = f"{fake.api_base}/applications/{fake.application_id}/commands"
    slash = command(
        name_localizations={"zh-CN": "画图", "zh-TW": "畫圖"},
        description_localizations={"zh-CN": "生成图片"},
        options=[
            opt(required=True, max_length=6000, name_localizations={"zh-CN": "提示词"}),
            opt(name="size", choices=[{"name": "Square", "value": "1024x1024"}]),
        ],
    )
    menu = {"name": "imagine", "type": 3, "name_localizations": {"zh-CN": "编辑 图片"}}
    status, body = await post(http, url, [slash, menu], method="PUT")
    assert status == 200, body


async def test_after_the_deferred_message_is_deleted_followups_are_unknown_message(
    fake: FakeDiscord, http: aiohttp.ClientSession
) -> None:
    # discord-api-docs#3087: the user deleted the "thinking" message; the token still lives.
    fake.deleted_defer_unknown = True
    it = interaction(fake)
    status, answer = await post(http, callback_url(fake, it), {"type": 5, "data": {"flags": 64}})
    assert status == 200
    fake.delete_as_user(answer["resource"]["message"]["id"])
    status, body = await post(http, followup_url(fake, it), {"content": "done", "flags": 64})
    assert (status, body["code"]) == (404, 10008)
    edit = f"{followup_url(fake, it)}/messages/@original"
    status, body = await post(http, edit, {"content": "done"}, method="PATCH")
    assert (status, body["code"]) == (404, 10008)
