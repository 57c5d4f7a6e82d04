"""The Discord fake against the real discord.py: login, gateway, sync, interactions, files.

Waits have generous timeouts that only turn a hang into a failure; nothing asserts speed.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import struct
import zlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import discord
import pytest
from discord import app_commands

from tests.fakes import discord_payloads as P
from tests.fakes.discord import (
    FakeDiscord,
    GatewayEvent,
    MessageEvent,
    Rejection,
    point_discord_py_at,
)

WAIT = 10.0  # fail-only


def png(w: int = 4, h: int = 3, rgb: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    def chunk(tag: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(tag + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)

    raw = b"".join(b"\x00" + bytes(rgb) * w for _ in range(h))
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


INPUT_PNG = png(5, 7, (10, 200, 10))
OUTPUT_PNG = png(4, 3)


class EditModal(discord.ui.Modal, title="Edit image"):
    prompt: discord.ui.TextInput[EditModal] = discord.ui.TextInput(label="What should change?")

    def __init__(self, bot: PingBot, target: discord.Message) -> None:
        super().__init__(timeout=None)
        self.bot, self.target = bot, target

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        source = await self.target.attachments[0].read()  # fake CDN
        self.bot.downloads.append(source)
        await interaction.followup.send(
            f"editing with: {self.prompt.value}",
            file=discord.File(io.BytesIO(OUTPUT_PNG), "edited.png"),
            ephemeral=True,
        )


class RerollView(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="Re-roll", custom_id="pixelsmith:reroll")
    async def reroll(
        self, interaction: discord.Interaction, button: discord.ui.Button[Any]
    ) -> None:
        await interaction.response.defer()  # type 6: deferred update of the button's message
        await interaction.edit_original_response(content="re-rolled", view=None)


class PingBot(discord.Client):
    """A minimal product-shaped bot: Client subclass + CommandTree, sync in setup_hook."""

    def __init__(self, guild_id: str) -> None:
        # guild_ready_timeout: on_ready fires once no GUILD_CREATE came for this long (default 2 s).
        super().__init__(intents=discord.Intents.default(), guild_ready_timeout=0.05)
        self.guild = discord.Object(int(guild_id))
        self.tree = app_commands.CommandTree(self)
        self.tree.on_error = self._on_tree_error  # type: ignore[method-assign]
        self.ready_event = asyncio.Event()
        self.started: list[int] = []  # interaction ids whose handler began
        self.downloads: list[bytes] = []
        self.errors: list[BaseException] = []
        self.sent: list[discord.WebhookMessage] = []
        self.interactions: list[discord.Interaction] = []
        self.fallback_to_channel = False
        self._add_commands()

    async def setup_hook(self) -> None:
        self.add_view(RerollView())
        self.tree.copy_global_to(guild=self.guild)
        await self.tree.sync(guild=self.guild)

    async def on_ready(self) -> None:
        self.ready_event.set()

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        self.interactions.append(interaction)

    async def _on_tree_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        self.errors.append(getattr(error, "original", error))

    def _add_commands(self) -> None:
        bot = self

        @app_commands.command(name="ping", description="Answer with a picture")
        @app_commands.describe(style="How to answer", n="How many", image="A picture to read")
        @app_commands.choices(
            style=[
                app_commands.Choice(name="Plain", value="plain"),
                app_commands.Choice(name="Fancy", value="fancy"),
            ]
        )
        @app_commands.choices(
            n=[app_commands.Choice(name="one", value=1), app_commands.Choice(name="two", value=2)]
        )
        async def ping(
            interaction: discord.Interaction,
            style: app_commands.Choice[str],
            n: app_commands.Choice[int],
            image: discord.Attachment | None = None,
            model: str = "gpt-image-1",
        ) -> None:
            bot.started.append(interaction.id)
            try:
                await interaction.response.defer(thinking=True)
            except discord.NotFound:
                if not bot.fallback_to_channel:
                    raise
                # Token dead (10062): say it in the channel instead.
                assert isinstance(interaction.channel, discord.TextChannel)
                await interaction.channel.send(f"pong {style.value} (late)")
                return
            if image is not None:
                bot.downloads.append(await image.read())
            content = f"pong {style.value} x{n.value} with {model}"
            try:
                msg = await interaction.followup.send(
                    content, file=discord.File(io.BytesIO(OUTPUT_PNG), "pong.png"), wait=True
                )
            except discord.HTTPException as exc:
                if exc.status != 413:
                    raise
                bot.errors.append(exc)  # re-pack: here, send without the file
                msg = await interaction.followup.send(content + " (too large)", wait=True)
            bot.sent.append(msg)
            await interaction.followup.send("again?", view=RerollView())

        @ping.autocomplete("model")
        async def model_autocomplete(
            interaction: discord.Interaction, current: str
        ) -> list[app_commands.Choice[str]]:
            models = ["gpt-image-1", "gpt-image-1-mini", "dall-e-3"]
            return [app_commands.Choice(name=m, value=m) for m in models if current in m]

        @app_commands.context_menu(name="Edit image")
        async def edit_image(interaction: discord.Interaction, message: discord.Message) -> None:
            bot.started.append(interaction.id)
            await interaction.response.send_modal(EditModal(bot, message))

        self.tree.add_command(ping)
        self.tree.add_command(edit_image)


async def _start(fake: FakeDiscord, bot: PingBot) -> asyncio.Task[None]:
    task = asyncio.create_task(bot.start(fake.token or "any"))
    ready = asyncio.create_task(bot.ready_event.wait())
    done, _ = await asyncio.wait({task, ready}, timeout=WAIT, return_when=asyncio.FIRST_COMPLETED)
    if ready not in done:
        ready.cancel()
        if task in done:
            task.result()  # raise the start-up error
        raise AssertionError("client never became ready")
    return task


@contextlib.asynccontextmanager
async def running(fake: FakeDiscord, count: int = 1) -> AsyncIterator[list[PingBot]]:
    bots = [PingBot(fake.guild_id) for _ in range(count)]
    tasks: list[asyncio.Task[None]] = []
    try:
        for bot in bots:  # a failed start still stops the ones started before it
            tasks.append(await _start(fake, bot))  # noqa: PERF401
        yield bots
    finally:
        for bot in bots:
            await bot.close()
        for task in tasks:
            await task


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as f:
        with point_discord_py_at(f):
            yield f


async def eventually(cond: Any) -> None:
    """For client-side state the fake cannot see; the timeout only turns a hang into a failure."""
    async with asyncio.timeout(WAIT):
        while not cond():
            await asyncio.sleep(0.005)


def _is(cls: type, **attrs: Any) -> Callable[[Any], bool]:  # predicate helper for fake.wait_for
    return lambda e: isinstance(e, cls) and all(getattr(e, k) == v for k, v in attrs.items())


async def test_sync_slash_defer_and_multipart_followup(fake: FakeDiscord) -> None:
    async with running(fake) as (bot,):
        assert bot.user is not None and str(bot.user.id) == fake.application_id
        assert bot.get_guild(int(fake.guild_id)) is not None  # GUILD_CREATE reached the cache
        [identify] = fake.gateway
        assert identify.compress == "zlib-stream"  # honoured: frames are zlib, Z_SYNC_FLUSH-ed
        [sync] = fake.commands
        assert sync.guild_id == fake.guild_id and sync.method == "PUT"
        by_name = {c["name"]: c for c in sync.payload}
        assert by_name["Edit image"]["type"] == 3
        opts = {o["name"]: o for o in by_name["ping"]["options"]}
        assert opts["style"]["type"] == 3
        assert [c["value"] for c in opts["style"]["choices"]] == ["plain", "fancy"]
        assert opts["n"]["type"] == 4 and [c["value"] for c in opts["n"]["choices"]] == [1, 2]
        assert opts["image"]["type"] == 11 and opts["image"]["required"] is False
        assert opts["model"]["autocomplete"] is True

        image = fake.make_attachment("in.png", INPUT_PNG)
        payload = P.slash_command(
            fake.context(), "ping", options={"style": "fancy", "n": 2}, attachments={"image": image}
        )
        assert await fake.dispatch("INTERACTION_CREATE", payload) == 1

        followup = await fake.wait_for(_is(MessageEvent, kind="followup", multipart=True))
        [callback] = fake.callbacks
        assert callback.type == 5 and callback.seq < followup.seq
        assert followup.content == "pong fancy x2 with gpt-image-1"
        [out] = followup.files
        assert (out.filename, out.content_type, out.data) == ("pong.png", "image/png", OUTPUT_PNG)
        assert (out.width, out.height, out.size) == (4, 3, len(OUTPUT_PNG))
        # Discord: the first followup after a defer replaces the "thinking" message.
        deferred = next(m for m in fake.messages if m.kind == "deferred")
        assert followup.message_id == deferred.message_id
        assert bot.downloads == [INPUT_PNG]
        await fake.wait_for(_is(MessageEvent, kind="followup", content="again?"))
        [msg] = bot.sent
        assert msg.attachments[0].url == out.url and msg.attachments[0].size == out.size
        assert not fake.rejections and not bot.errors


async def test_one_interaction_reaches_two_clients(fake: FakeDiscord) -> None:
    async with running(fake, count=2) as bots:
        assert fake.gateway_clients == 2
        payload = P.slash_command(fake.context(), "ping", options={"style": "plain", "n": 1})
        assert await fake.dispatch("INTERACTION_CREATE", payload) == 2
        # Both handlers run; Discord accepts one acknowledgement, the other gets 40060.
        await fake.wait_for(_is(Rejection, code=40060))
        await fake.wait_for(_is(MessageEvent, kind="followup", content="again?"))
        assert all(b.started == [int(payload["id"])] for b in bots)
        assert len(fake.callbacks) == 1
        await eventually(lambda: any(b.errors for b in bots))
        losers = [b for b in bots if b.errors]
        assert len(losers) == 1
        [err] = losers[0].errors
        assert isinstance(err, discord.HTTPException) and err.code == 40060


async def test_context_menu_modal_submit_and_cdn_download(fake: FakeDiscord) -> None:
    # This toy bot sends the older action-row modal; the Label rule has its own tests.
    fake.labels_required = False
    async with running(fake) as (bot,):
        ctx = fake.context(locale="zh-CN")
        target = P.user_message(
            ctx, "look", attachments=[fake.make_attachment("cat.png", INPUT_PNG)]
        )
        await fake.dispatch("INTERACTION_CREATE", P.message_command(ctx, "Edit image", target))

        modal = await fake.wait_for_callback(lambda c: c.type == 9)
        assert modal.data["title"] == "Edit image"
        text_input = modal.data["components"][0]["components"][0]
        assert text_input["type"] == 4
        assert bot.interactions[0].locale is discord.Locale.chinese

        submit = P.modal_submit(ctx, modal.data["custom_id"], {text_input["custom_id"]: "bluer"})
        await fake.dispatch("INTERACTION_CREATE", submit)
        done = await fake.wait_for_message(lambda m: m.kind == "followup")
        assert done.content == "editing with: bluer"
        assert done.ephemeral and done.files[0].data == OUTPUT_PNG
        assert [c.type for c in fake.callbacks] == [9, 5]
        assert fake.callbacks[1].ephemeral
        assert bot.downloads == [INPUT_PNG]


async def test_autocomplete_and_persistent_button(fake: FakeDiscord) -> None:
    async with running(fake) as (_bot,):
        ctx = fake.context()
        await fake.dispatch(
            "INTERACTION_CREATE",
            P.autocomplete(ctx, "ping", focused="model", value="mini", options={"style": "plain"}),
        )
        auto = await fake.wait_for_callback(lambda c: c.type == 8)
        assert auto.data["choices"] == [{"name": "gpt-image-1-mini", "value": "gpt-image-1-mini"}]

        # A button on a message the bot posted earlier (persistent view, survives restarts).
        button_msg = P.message_object(
            channel_id=ctx.channel_id,
            guild_id=ctx.guild_id,
            author=fake.bot_user,
            content="here",
            components=[RerollView().to_components()[0]],
        )
        await fake.dispatch(
            "INTERACTION_CREATE", P.component_click(ctx, "pixelsmith:reroll", button_msg)
        )
        edit = await fake.wait_for_message(lambda m: m.kind == "original_edit")
        assert edit.message_id == button_msg["id"] and edit.content == "re-rolled"
        assert edit.components == [] and [c.type for c in fake.callbacks] == [8, 6]


async def test_scripted_failures_seen_by_discord_py(fake: FakeDiscord) -> None:
    async with running(fake) as (bot,):
        ctx = fake.context()
        # 1. 413/40005 on the next upload: the handler re-packs.
        fake.fail_next_upload()
        await fake.dispatch(
            "INTERACTION_CREATE", P.slash_command(ctx, "ping", options={"style": "plain", "n": 1})
        )
        repacked = await fake.wait_for_message(lambda m: "too large" in (m.content or ""))
        assert not repacked.files
        [err] = bot.errors
        assert isinstance(err, discord.HTTPException) and (err.status, err.code) == (413, 40005)

        # 2. Expired token: callback 10062, the handler falls back to the channel.
        bot.fallback_to_channel = True
        late = P.slash_command(ctx, "ping", options={"style": "fancy", "n": 1})
        fake.register_interaction(late)
        fake.expire_interaction(late["token"])
        await fake.dispatch("INTERACTION_CREATE", late)
        msg = await fake.wait_for_message(lambda m: m.kind == "channel")
        assert msg.channel_id == fake.channel_id and msg.content == "pong fancy (late)"
        assert any(r.code == 10062 for r in fake.rejections)

        # 3. 429 with retry_after: discord.py waits and retries by itself.
        fake.rate_limit_next(0.01, path_contains="/callback")
        await fake.dispatch(
            "INTERACTION_CREATE", P.slash_command(ctx, "ping", options={"style": "plain", "n": 2})
        )
        await fake.wait_for_message(lambda m: m.content == "pong plain x2 with gpt-image-1")
        assert any(r.status == 429 for r in fake.rejections)


async def test_fixtures_parse_in_discord_py() -> None:
    slash = P.load_fixture("interaction_create_slash_imagine")
    menu = P.load_fixture("interaction_create_message_context_menu")
    async with FakeDiscord(
        application_id=slash["application_id"],
        guild_id=slash["guild_id"],
        channel_id=slash["channel_id"],
    ) as fake:
        with point_discord_py_at(fake):
            async with running(fake) as (bot,):
                await fake.dispatch("INTERACTION_CREATE", slash)
                await fake.dispatch("INTERACTION_CREATE", menu)
                await eventually(lambda: len(bot.interactions) == 2)
    first, second = bot.interactions
    assert first.type is discord.InteractionType.application_command
    assert first.user.id == int(slash["member"]["user"]["id"])
    assert first.permissions.attach_files and first.filesize_limit == 10 * 1024 * 1024
    assert first.channel is not None and first.channel.id == int(slash["channel_id"])
    assert first.data is not None and first.data.get("name") == "imagine"
    target_id = menu["data"]["target_id"]
    assert (
        menu["data"]["resolved"]["messages"][target_id]["attachments"][0]["content_type"]
        == "image/png"
    )
    assert second.locale is discord.Locale.chinese


async def test_reconnect_resumes_and_keeps_delivering(fake: FakeDiscord) -> None:
    async with running(fake) as (_bot,):
        [identify] = fake.gateway
        await fake.request_reconnect()  # op 7: discord.py reconnects to resume_gateway_url
        resumed = await fake.wait_for(_is(GatewayEvent, kind="resume"))
        assert resumed.session_id == identify.session_id
        ctx = fake.context()
        await fake.dispatch(
            "INTERACTION_CREATE", P.slash_command(ctx, "ping", options={"style": "plain", "n": 1})
        )
        await fake.wait_for_message(lambda m: m.kind == "followup" and m.content == "again?")
