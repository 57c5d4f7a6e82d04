"""A real ``pixelsmith run`` in a subprocess, pointed at loopback fakes in the test's process.

:class:`World` holds the three fakes (gateway, Discord, Slack); :class:`BotProcess` writes a
config that points at them and runs ``python -m bots.cli --config FILE run``. Readiness is waited
for, never slept for: the ``run.ready`` line on stdout, ``/healthz`` answering 200 and the fake
Discord gateway's IDENTIFY. :func:`check_invariants` is the one check every case ends with.

Every wait has a timeout only to turn a hang into a failure; nothing asserts a duration.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import sqlite3
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

import bots  # noqa: F401  (registers bots/locales, where run.ready lives)
from core import messages
from core.store import Store
from tests.fakes import discord_payloads as DP
from tests.fakes import slack_requests as SR
from tests.fakes.discord import FakeDiscord, GatewayEvent, MessageEvent
from tests.fakes.gateway import FakeGateway, _chat_prompt
from tests.fakes.slack import FakeSlack, Message

ROOT = Path(__file__).resolve().parents[2]
WAIT = 60.0  # fail-only: turns a hang into a failure
API_KEY = "sk-reliability-0123456789abcdef"
SLACK_TOKEN = "xoxb-reliability-0123456789"
SLACK_SECRET = "reliability-signing-secret"
UPSTREAM_PATHS = ("/v1/images/generations", "/v1/images/edits", "/v1/chat/completions")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def toml(data: dict[str, dict[str, Any]]) -> str:
    """A flat two-level TOML document (sections of scalars and lists); a None value is left
    out (the setting's default, e.g. no Discord token: no Discord adapter)."""

    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int | float):
            return repr(v)
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return json.dumps(str(v))  # a JSON string is a valid TOML basic string

    out = []
    for section, values in data.items():
        out.append(f"[{section}]")
        out += [f"{k} = {value(v)}" for k, v in values.items() if v is not None]
        out.append("")
    return "\n".join(out)


# ------------------------------------------------------------------------------------- fakes


@dataclass
class World:
    """The fake gateway, Discord and Slack, on 127.0.0.1 in this process."""

    gateway: FakeGateway
    discord: FakeDiscord
    slack: FakeSlack

    @classmethod
    async def start(cls, *, shard_count: int = 1) -> World:
        """``shard_count``: what the fake Discord recommends and routes guilds by."""
        gateway = FakeGateway()
        await gateway.start()
        discord = await FakeDiscord(shard_count=shard_count).start()
        slack = await FakeSlack(token=SLACK_TOKEN).start()
        return cls(gateway, discord, slack)

    async def stop(self) -> None:
        await self.slack.stop()
        await self.discord.stop()
        await self.gateway.stop()

    def upstream_calls(self) -> list[Any]:
        return [c for c in self.gateway.calls if c.path in UPSTREAM_PATHS]


def config_for(world: World, tmp: Path, **sections: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Settings pointing at ``world``: a tmp SQLite file, free ports, Slack in HTTP mode."""
    data: dict[str, dict[str, Any]] = {
        "provider": {
            "base_url": world.gateway.base_url,
            "api_key": API_KEY,
            "timeout_s": 30,
            "stream_partials": 0,
            "default_model": "gpt-image-2",
            "download_hosts": ["127.0.0.1"],
        },
        "database": {"url": f"sqlite:///{tmp / 'pixelsmith.db'}"},
        "discord": {
            "token": world.discord.token,
            "api_base_url": world.discord.api_base,
            "guild_ids": [int(world.discord.guild_id)],
            "attachment_hosts": ["127.0.0.1"],
        },
        "slack": {
            "mode": "http",
            "http_port": free_port(),
            "api_base_url": world.slack.api_base,
            "file_hosts": ["127.0.0.1"],
            "bot_token": SLACK_TOKEN,
            "signing_secret": SLACK_SECRET,
        },
        "metrics": {"port": free_port(), "host": "127.0.0.1"},
        "shutdown": {"grace_s": 5},
        "logging": {"level": "INFO"},
    }
    for name, values in sections.items():
        data.setdefault(name, {}).update(values)
    return data


# ------------------------------------------------------------------------------------- the bot


@dataclass
class BotProcess:
    """``pixelsmith run`` as a subprocess. Always ``await kill()`` it (fixtures do)."""

    world: World
    tmp: Path
    config: dict[str, dict[str, Any]]
    name: str = "bot"
    proc: asyncio.subprocess.Process | None = None
    stdout: list[str] = field(default_factory=list)
    health_seen: list[int] = field(default_factory=list)
    _reader: asyncio.Task[None] | None = None
    _ready: asyncio.Event = field(default_factory=asyncio.Event)
    _runs: int = 0

    @property
    def db_url(self) -> str:
        return str(self.config["database"]["url"])

    @property
    def db_path(self) -> Path:
        return Path(self.db_url.removeprefix("sqlite:///"))

    @property
    def config_path(self) -> Path:
        return self.tmp / f"{self.name}.toml"

    @property
    def discord(self) -> bool:
        """Whether this process runs a Discord adapter (a token is configured)."""
        return bool(self.config.get("discord", {}).get("token"))

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.config['metrics']['port']}"

    @property
    def slack_url(self) -> str:
        return f"http://127.0.0.1:{self.config['slack']['http_port']}/slack/events"

    @property
    def log_path(self) -> Path:
        return self.tmp / f"{self.name}-{self._runs}.log"

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def env(self) -> dict[str, str]:
        """The environment it runs in: this one without Pixelsmith's, Slack's or Discord's
        variables (the config file says everything)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PIXELSMITH_", "SLACK_"))}
        env.pop("DISCORD_TOKEN", None)
        env["PYTHONUNBUFFERED"] = "1"
        return env

    async def start(self) -> None:
        """Start and wait until every adapter is ready (or fail with the bot's log)."""
        self._runs += 1
        path = self.config_path
        path.write_text(toml(self.config), encoding="utf-8")
        identified = len(self._identifies())
        env = self.env()
        self._ready = asyncio.Event()
        self.stdout = []
        with open(self.log_path, "wb") as log:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bots.cli", "--config", str(path), "run",
                cwd=ROOT, env=env, stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE, stderr=log,
            )  # fmt: skip
        self._reader = asyncio.create_task(self._read_stdout())
        ready = messages.text("run.ready", "en", platforms="").split(":")[0]
        exited = asyncio.create_task(self.proc.wait())
        waiting = asyncio.create_task(self._ready.wait())
        done, _ = await asyncio.wait(
            {exited, waiting}, timeout=WAIT, return_when=asyncio.FIRST_COMPLETED
        )
        waiting.cancel()
        if waiting not in done or not any(ready in line for line in self.stdout):
            exited.cancel()
            await self.kill()
            raise AssertionError(f"{self.name} did not start:\n{self.log_tail()}")
        exited.cancel()
        await self.wait_healthy()
        if not self.discord:
            return
        await self.world.discord.wait_for(
            lambda e: isinstance(e, GatewayEvent) and e.kind == "identify"
            and len(self._identifies()) > identified, timeout=WAIT)  # fmt: skip

    def _identifies(self) -> list[GatewayEvent]:
        return [e for e in self.world.discord.gateway if e.kind == "identify"]

    async def _read_stdout(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        async for raw in self.proc.stdout:
            self.stdout.append(raw.decode(errors="replace").rstrip())
            if "running on" in self.stdout[-1]:
                self._ready.set()

    async def health(self) -> int | None:
        """``/healthz``'s status, None when nothing answers."""
        try:
            async with (
                aiohttp.ClientSession() as http,
                http.get(
                    self.metrics_url + "/healthz", timeout=aiohttp.ClientTimeout(total=5)
                ) as resp,
            ):
                return resp.status
        except (aiohttp.ClientError, TimeoutError):
            return None

    async def wait_healthy(self) -> None:
        async def poll() -> None:
            while await self.health() != 200:
                await asyncio.sleep(0.05)

        await asyncio.wait_for(poll(), WAIT)

    async def metrics(self) -> str:
        async with aiohttp.ClientSession() as http, http.get(self.metrics_url + "/metrics") as r:
            return await r.text()

    def send_signal(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    async def wait(self, timeout: float = WAIT) -> int:
        assert self.proc is not None
        code = await asyncio.wait_for(self.proc.wait(), timeout)
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(self._reader, 5)
        return code

    async def kill(self) -> None:
        """SIGKILL if still running, and reap it (finalizers call this even after a failure)."""
        if self.proc is not None and self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGKILL)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.proc.wait(), 10)
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
            self._reader = None

    # -- the database, read from outside (WAL lets readers in while the bot runs) ----------

    def jobs(self) -> list[dict[str, Any]]:
        """Every job row (``request`` parsed), from SQLite or PostgreSQL."""
        if not self.db_url.startswith("sqlite:///"):
            return pg_jobs(self.db_url)
        with contextlib.closing(sqlite3.connect(self.db_path, timeout=30)) as db:
            db.row_factory = sqlite3.Row
            rows = db.execute("SELECT * FROM job ORDER BY id").fetchall()
        jobs = [dict(r) for r in rows]
        for job in jobs:
            job["request"] = json.loads(job["request"]) if job["request"] else {}
        return jobs

    async def ledger_problems(self) -> list[str]:
        store = await Store.open(self.db_url, migrate=False)
        try:
            return await store.check()
        finally:
            await store.close()


def pg_jobs(url: str) -> list[dict[str, Any]]:
    """The job rows of a PostgreSQL database (``url`` as the bot has it, schema included)."""
    import psycopg
    from psycopg.rows import dict_row
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    options = parsed.query.get("options")
    libpq = parsed.set(drivername="postgresql", query={}).render_as_string(hide_password=False)
    extra: dict[str, Any] = {"options": str(options)} if options else {}
    with psycopg.connect(libpq, row_factory=dict_row, **extra) as db:
        rows = db.execute("SELECT * FROM job ORDER BY id").fetchall()
    jobs = [dict(r) for r in rows]
    for job in jobs:
        raw = job["request"]
        job["request"] = json.loads(raw) if isinstance(raw, str) else (raw or {})
        if job["lease_until"] is not None:  # as SQLite gives it: ISO text
            job["lease_until"] = job["lease_until"].isoformat()
    return jobs


# ------------------------------------------------------------------------------------- users


@dataclass
class Ask:
    """One request a test user made, and how to recognise its answer."""

    platform: str  # discord | slack
    user: str
    prompt: str
    token: str | None = None  # Discord interaction token
    ack_status: int | None = None  # Slack HTTP status of the ack


_users = iter(range(1, 10**9))


def new_user(platform: str) -> str:
    n = next(_users)
    return str(400000000000000000 + n) if platform == "discord" else f"U0REL{n:06d}"


async def discord_imagine(
    world: World, prompt: str, user: str | None = None, **options: Any
) -> Ask:
    """/imagine in the fake's own guild and channel."""
    return await discord_imagine_in(world, {}, prompt, user, **options)


async def discord_imagine_in(
    world: World, where: dict[str, str], prompt: str, user: str | None = None, **options: Any
) -> Ask:
    """/imagine in ``where`` (``guild_id`` and ``channel_id``; empty: the fake's own)."""
    user = user or new_user("discord")
    ctx = world.discord.context(**where).with_user(user, f"user{user[-4:]}")
    payload = DP.slash_command(ctx, "imagine", options={"prompt": prompt, **options})
    delivered = await world.discord.dispatch("INTERACTION_CREATE", payload)
    assert delivered == 1, f"{delivered} gateway clients got the interaction"
    return Ask("discord", user, prompt, token=payload["token"])


async def slack_imagine(
    world: World,
    bot: BotProcess,
    session: aiohttp.ClientSession,
    prompt: str,
    user: str | None = None,
    flags: str = "",
    *,
    where: dict[str, str] | None = None,
) -> Ask:
    """/imagine to ``bot``'s HTTP port, in the fake's workspace or ``where`` (``team_id`` and
    ``channel_id``: an installed workspace's channel)."""
    user = user or new_user("slack")
    text = f"{prompt} {flags}".strip()
    payload = SR.slash_command(
        text, response_url=world.slack.response_url(), user_id=user, **(where or {})
    )
    reply = await SR.send(session, bot.slack_url, payload, SLACK_SECRET)
    return Ask("slack", user, prompt, ack_status=reply.status)


def _discord_final(token: str) -> Callable[[MessageEvent], bool]:
    def match(m: MessageEvent) -> bool:
        results = [f for f in m.files if f.filename != "preview.png"]
        return (
            m.interaction_token == token and m.kind != "deferred" and (bool(results) or m.ephemeral)
        )

    return match


def _slack_answer(world: World, user: str) -> Message | None:
    mention = f"<@{user}>"
    for m in world.slack.messages:
        if m.kind == "ephemeral" and m.user == user:
            return m
        if (
            m.kind in ("post", "update")
            and mention in (m.text or "")
            and any(b.get("block_id") == "result_actions" for b in (m.blocks or []))
        ):
            return m
    return None


@dataclass
class Answer:
    ask: Ask
    ok: bool  # images delivered
    text: str


async def discord_reply(world: World, token: str, timeout: float = WAIT) -> MessageEvent:
    """The final message answering the Discord interaction ``token`` (images or an ephemeral)."""
    msg: MessageEvent = await world.discord.wait_for_message(_discord_final(token), timeout=timeout)
    return msg


async def answer(world: World, ask: Ask, timeout: float = WAIT) -> Answer:
    """The final reply to ``ask``: images, or a (failure) message to its user."""
    if ask.platform == "discord":
        assert ask.token is not None
        msg = await discord_reply(world, ask.token, timeout)
        return Answer(ask, bool(msg.files) and not msg.ephemeral, msg.content or "")
    found = await world.slack.wait_for(lambda: _slack_answer(world, ask.user), timeout=timeout)
    return Answer(ask, found.kind != "ephemeral", found.text or "")


async def notice(world: World, ask: Ask, timeout: float = WAIT) -> str:
    """The reaper's notice to ``ask``'s user after a restart (channel message / ephemeral)."""
    if ask.platform == "discord":
        mention = f"<@{ask.user}>"
        msg = await world.discord.wait_for_message(
            lambda m: m.kind == "channel" and mention in (m.content or ""), timeout=timeout
        )
        return msg.content or ""
    found = await world.slack.wait_for(
        lambda: next(
            (m for m in world.slack.messages if m.kind == "ephemeral" and m.user == ask.user), None
        ),
        timeout=timeout,
    )
    return found.text or ""


# ------------------------------------------------------------------------------------- invariants


@dataclass
class Invariants:
    jobs: list[dict[str, Any]]
    problems: list[str]


async def check_invariants(
    world: World, bot: BotProcess, asks: list[Ask], *, answered: bool = True
) -> Invariants:
    """After a case: every job of ``asks`` terminal, counters equal to the ledger, at most one
    upstream call per job, and (``answered``) every user got a reply. Returns the jobs."""
    prompts = {a.prompt for a in asks}
    jobs = [j for j in bot.jobs() if j["request"].get("prompt") in prompts]
    live = [(j["id"], j["state"]) for j in jobs if j["state"] in ("RESERVED", "SUBMITTED")]
    assert not live, f"jobs not terminal: {live}"
    problems = await bot.ledger_problems()
    assert problems == [], problems
    for job in jobs:
        prompt = job["request"]["prompt"]
        sent = [c for c in world.upstream_calls() if prompt in (_call_text(c) or "")]
        assert len(sent) <= 1, f"{len(sent)} upstream calls for job {job['id']}"
    assert len(jobs) <= len(asks), f"{len(jobs)} jobs for {len(asks)} requests"
    if answered:
        for ask in asks:
            await answer(world, ask)
    return Invariants(jobs, problems)


def _call_text(call: Any) -> str | None:
    """The prompt an upstream call carried (images API) or its chat text (reverse models)."""
    params = call.params or {}
    if "prompt" in params:
        return str(params["prompt"])
    return _chat_prompt(params.get("messages"))[0]


def prompt(words: str = "a lighthouse at dusk") -> str:
    """A prompt no other request of the run carries (matched against upstream calls)."""
    return f"{words}, take {uuid.uuid4().hex[:12]}"


def record(row: str, platform: str, job: dict[str, Any] | None, reply: str) -> None:
    """Append one observed fault-matrix row to $PIXELSMITH_FAULT_MATRIX (JSON lines), if set."""
    path = os.environ.get("PIXELSMITH_FAULT_MATRIX")
    if not path:
        return
    line = {
        "row": row,
        "platform": platform,
        "state": job["state"] if job else None,
        "error": job["error"] if job else None,
        "cost_micros": job["cost_micros"] if job else None,
        "reply": reply.splitlines()[0][:160] if reply else "",
    }
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(line, ensure_ascii=False) + "\n")
