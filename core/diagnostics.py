"""Diagnostics: cheap, read-only probes of what ``pixelsmith run`` needs (database, gateway).

Contract: a probe never raises for a failure it is probing for; it returns a frozen result that
carries keys and parameters only, never words and never exception text (drivers and gateways
echo URLs, passwords and parts of keys in their messages). Nothing here generates an image or
costs money: the gateway is asked only ``GET /models``. Adapters (``bots/doctor.py``) turn the
results into sentences through :mod:`core.messages`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

import openai
from sqlalchemy.engine import URL, make_url

from core.errors import Charge, PixelsmithError, UpstreamError
from core.providers.images_api import map_sdk_error

ErrorKey = Literal["timeout", "connect", "other"]
Dialect = Literal["sqlite", "postgresql"]
GatewayOutcome = Literal["ok", "unlisted", "rejected", "forbidden", "http_error", "unreachable"]

# Statuses that say "this server has no model list", not "this key is bad".
_NO_LIST_STATUSES = frozenset({404, 405, 501})


@dataclass(frozen=True)
class ProbeError:
    """Why a probe could not finish.

    ``key``: ``timeout`` (no answer within the probe's timeout), ``connect`` (the connection
    failed or was refused) or ``other``; ``exception`` is the exception's class name only.
    """

    key: ErrorKey
    exception: str


def probe_error(exc: BaseException) -> ProbeError:
    """Classify ``exc`` without keeping its text (it may hold a secret)."""
    name = type(exc).__name__
    if isinstance(exc, TimeoutError | openai.APITimeoutError):
        return ProbeError("timeout", name)
    if isinstance(exc, openai.APIConnectionError | OSError):
        return ProbeError("connect", name)
    return ProbeError("other", name)


def public_url(url: str) -> str:
    """``url`` without user:password@ and without a query (either may hold a secret)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "?"
    host = parts.hostname or ""
    if port:
        host = f"{host}:{port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


# -- database ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DatabaseProbe:
    """What ``database.url`` leads to.

    ``dialect`` is None when the URL is not a supported one (SQLite or PostgreSQL); then nothing
    was opened. ``where`` is ``host:port/dbname`` (PostgreSQL) or the file path (SQLite), and
    ``public_url`` the URL without password and query: both are safe to print. ``revision`` is
    the schema's Alembic revision after migrating (None if unknown), ``head`` the revision this
    code expects; ``error`` is set when the database could not be opened or read.
    """

    dialect: Dialect | None
    where: str = ""
    public_url: str = ""
    revision: str | None = None
    head: str = ""
    error: ProbeError | None = None

    @property
    def supported(self) -> bool:
        return self.dialect is not None

    @property
    def at_head(self) -> bool:
        return self.error is None and self.revision == self.head

    @property
    def ok(self) -> bool:
        return self.supported and self.at_head


async def probe_database(url: str, *, timeout_s: float = 10) -> DatabaseProbe:
    """Open the database at ``url`` (creating/migrating it to head), read its revision, close it.

    A PostgreSQL URL without ``connect_timeout`` gets ``timeout_s`` so that a silent host fails
    instead of hanging. Never raises for a database that is down, missing or unreadable.
    """
    try:
        parsed = make_url(url)
        backend = parsed.get_backend_name()
    except Exception:
        return DatabaseProbe(None)
    if backend not in ("sqlite", "postgresql"):
        return DatabaseProbe(None)
    dialect: Dialect = "postgresql" if backend == "postgresql" else "sqlite"
    shown = URL.create(  # URL.set(password=None) would keep the password
        parsed.drivername,
        username=parsed.username,
        host=parsed.host,
        port=parsed.port,
        database=parsed.database,
    ).render_as_string(hide_password=False)
    target = url
    if dialect == "postgresql":
        where = f"{parsed.host or 'localhost'}:{parsed.port or 5432}/{parsed.database or ''}"
        if "connect_timeout" not in parsed.query:
            timed = parsed.update_query_dict({"connect_timeout": str(int(timeout_s))})
            target = timed.render_as_string(hide_password=False)
    else:
        where = parsed.database or ":memory:"
    head = schema_head()
    base = DatabaseProbe(dialect, where=where, public_url=shown, head=head)
    try:
        revision = await _open_and_read(target)
    except Exception as exc:
        return replace(base, error=probe_error(exc))
    return replace(base, revision=revision)


async def _open_and_read(target: str) -> str | None:
    from core.migrations import current
    from core.store import Store

    store = await Store.open(target, migrate=True)
    try:

        def read() -> str | None:
            with store.engine.connect() as conn:
                return current(conn)

        return await asyncio.to_thread(read)
    finally:
        await store.close()


def schema_head() -> str:
    """The newest Alembic revision shipped with this code."""
    from alembic.script import ScriptDirectory

    from core.migrations import HEAD, alembic_config

    try:
        head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    except Exception:
        return HEAD
    return head or HEAD


# -- gateway -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServedModel:
    """One entry of the gateway's model list: its id, the shutdown date it announces (the
    ``openai`` SDK's ``Model.shutdown_date``) and whether the entry itself says it makes images
    (one-api/new-api style gateways add ``supported_endpoint_types``; others a type or
    modalities field)."""

    id: str
    shutdown_date: str | None = None
    says_image: bool = False


@dataclass(frozen=True)
class GatewayProbe:
    """What ``GET {base_url}/models`` said about the key.

    ``outcome``:
      ``ok``          the key was accepted; ``models`` holds the served ids (never empty);
      ``unlisted``    the gateway answered but lists no models (HTTP 404/405/501, an empty list
                      or something that is not a model list): the key is unverified;
      ``rejected``    HTTP 401; ``forbidden`` HTTP 403; ``http_error`` any other HTTP error;
      ``unreachable`` no answer: ``error`` says whether it timed out or could not connect.
    ``models`` is None unless ``ok``. ``status`` is the HTTP status (200 for an unusable list).
    ``failure`` is the typed failure the image service would raise for the same answer
    (:func:`core.providers.images_api.map_sdk_error`), so its admin sentence can be reused.
    """

    outcome: GatewayOutcome
    models: frozenset[str] | None = None
    status: int | None = None
    failure: PixelsmithError | None = None
    error: ProbeError | None = None
    served: tuple[ServedModel, ...] = ()  # the list's entries, in its order (``ok`` only)

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"


async def probe_gateway(base_url: str, api_key: str, *, timeout_s: float = 10) -> GatewayProbe:
    """List the gateway's models with ``api_key``: one ``GET /models``, no retry, no cost."""
    client = openai.AsyncOpenAI(
        api_key=api_key, base_url=base_url, max_retries=0, timeout=timeout_s
    )
    try:
        page = await client.models.list()
        ids = frozenset(m.id for m in page.data)
        served = tuple(_served(m) for m in page.data)
    except openai.APIStatusError as exc:
        return _status_probe(exc)
    except (openai.APIConnectionError, TimeoutError, OSError) as exc:
        return GatewayProbe("unreachable", failure=_network_failure(exc), error=probe_error(exc))
    except Exception:  # not a model list at all (an HTML page, another API)
        return GatewayProbe("unlisted", status=200)
    finally:
        await client.close()
    if not ids:  # an empty list says nothing about which models are served
        return GatewayProbe("unlisted", status=200)
    return GatewayProbe("ok", models=ids, status=200, served=served)


_IMAGE_HINT_FIELDS = ("supported_endpoint_types", "type", "modalities", "output_modalities")


def _served(model: object) -> ServedModel:
    extra = getattr(model, "model_extra", None) or {}
    hints = " ".join(str(extra.get(k, "")) for k in _IMAGE_HINT_FIELDS).lower()
    shutdown = getattr(model, "shutdown_date", None)
    return ServedModel(
        id=str(getattr(model, "id", "")),
        shutdown_date=str(shutdown) if shutdown else None,
        says_image="image" in hints,
    )


def _status_probe(exc: openai.APIStatusError) -> GatewayProbe:
    status = exc.status_code
    failure = map_sdk_error(exc, model="", prompt="")
    outcome: GatewayOutcome
    if status == 401:
        outcome = "rejected"
    elif status == 403:
        outcome = "forbidden"
    elif status in _NO_LIST_STATUSES:
        outcome = "unlisted"
    else:
        outcome = "http_error"
    return GatewayProbe(outcome, status=status, failure=failure)


def _network_failure(exc: BaseException) -> PixelsmithError:
    if isinstance(exc, openai.APIError):
        return map_sdk_error(exc, model="", prompt="")
    key = "upstream.timeout" if isinstance(exc, TimeoutError) else "upstream.network"
    return UpstreamError(key, charge=Charge.NONE)


__all__ = [
    "DatabaseProbe",
    "GatewayProbe",
    "ProbeError",
    "ServedModel",
    "probe_database",
    "probe_error",
    "probe_gateway",
    "public_url",
    "schema_head",
]
