"""Interaction state of :class:`~core.service.ImageService` (a room of it, as a mixin): what a
button click or a modal submit needs later, kept in the database (table ``interaction``) so
that ANY process sharing it, or the same one after a restart, finds it until it expires.

* :meth:`remember` / :meth:`recall`: a random token (128 bits, 32 hex characters) a button or
  modal carries, naming a row that holds a JSON payload and, bounded, input images. It is
  owned: :meth:`recall` answers only the member who made it, in the community they made it in
  (anything else, a malformed, unknown or expired token included, is None, and the adapter
  says "expired" with nothing charged).
* :meth:`keep_inputs` / :meth:`reroll`: the inputs of an edit job (images, mask, sketch), so
  that Re-roll sends the same ones again for whoever may act on the job (the adapter checked
  that before asking).

Images are stored packed, at most :data:`MAX_KEPT_BYTES` per row (PostgreSQL ``bytea``,
SQLite blob); what does not fit is not kept, and the button that would need it says so.
Expired rows are deleted by the reaper's timer (:meth:`sweep_interactions`).
"""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from core.errors import InvalidRequest
from core.request import Options
from core.types import Identity, ImageRequest, JobView, PreparedImage

if TYPE_CHECKING:
    from core.store import Store

log = logging.getLogger("pixelsmith.service")

TOKEN_HEX = 32  # 16 random bytes
TOKEN = re.compile(r"[0-9a-f]{32}")
MAX_KEPT_BYTES = 48 * 1024 * 1024  # the images of one row, all together
INPUTS_KIND = "inputs"
INPUTS_TTL_S = 6 * 3600.0  # how long an edit's Re-roll can send the same inputs again
_OPTIONS = tuple(f.name for f in fields(Options))
_IMAGE_KEYS = ("mime", "width", "height", "name", "source_width", "source_height")


@dataclass(frozen=True)
class Remembered:
    """A row :meth:`InteractionsRoom.recall` found for its owner."""

    token: str
    kind: str
    payload: dict[str, Any]
    expires_at: datetime
    images: tuple[PreparedImage, ...] = ()
    mask: PreparedImage | None = None
    markup: PreparedImage | None = None

    @property
    def prompt(self) -> str:
        return str(self.payload.get("prompt") or "")

    def options(self, *, force: bool = False) -> Options:
        """The options a remembered request was made with (:meth:`remember_request`)."""
        saved = self.payload.get("options")
        given = {k: v for k, v in (saved if isinstance(saved, dict) else {}).items()}
        values = {k: given.get(k) for k in _OPTIONS}
        values["force"] = True if force or values.get("force") else None
        return Options(**values)


def pack(
    images: tuple[PreparedImage, ...],
    mask: PreparedImage | None = None,
    markup: PreparedImage | None = None,
) -> tuple[list[dict[str, Any]], bytes]:
    """The images' descriptions and their bytes one after the other."""
    described, chunks = [], []
    roles = [("image", i) for i in images] + [
        (role, image) for role, image in (("mask", mask), ("markup", markup)) if image is not None
    ]
    for role, image in roles:
        entry: dict[str, Any] = {k: getattr(image, k) for k in _IMAGE_KEYS}
        described.append({"role": role, "size": len(image.data), **entry})
        chunks.append(image.data)
    return described, b"".join(chunks)


def unpack(
    described: Any, data: bytes | None
) -> tuple[tuple[PreparedImage, ...], PreparedImage | None, PreparedImage | None]:
    """:func:`pack` undone; ValueError when the row does not add up (never half an image)."""
    blob, at = bytes(data or b""), 0
    images: list[PreparedImage] = []
    extra: dict[str, PreparedImage] = {}
    for entry in described if isinstance(described, list) else []:
        size = int(entry["size"])
        if size < 0 or at + size > len(blob):
            raise ValueError("kept images do not add up")
        image = PreparedImage(data=blob[at : at + size], **{k: entry[k] for k in _IMAGE_KEYS})
        at += size
        if entry["role"] == "image":
            images.append(image)
        else:
            extra[str(entry["role"])] = image
    if at != len(blob):
        raise ValueError("kept images do not add up")
    return tuple(images), extra.get("mask"), extra.get("markup")


def request_options(request: ImageRequest) -> dict[str, Any]:
    """A request's options as JSON (what :meth:`Remembered.options` reads back)."""
    values = {k: getattr(request, k, None) for k in _OPTIONS}
    values["model"] = request.model
    return {k: v for k, v in values.items() if v is not None and v is not False}


class InteractionsRoom:
    """Needs the store ImageService opened (and its ``rebuild``, from the finishing room)."""

    store: Store

    if TYPE_CHECKING:

        def rebuild(
            self,
            job: JobView,
            identity: Identity,
            *,
            idem_key: str,
            prompt: str | None = None,
            images: tuple[PreparedImage, ...] = (),
            mask: PreparedImage | None = None,
            markup: PreparedImage | None = None,
            force: bool = False,
        ) -> ImageRequest: ...

    async def remember(
        self,
        owner: Identity,
        kind: str,
        payload: dict[str, Any],
        *,
        ttl_s: float,
        images: tuple[PreparedImage, ...] = (),
        mask: PreparedImage | None = None,
        markup: PreparedImage | None = None,
    ) -> str | None:
        """Keep ``payload`` (JSON) and the images for ``owner`` for ``ttl_s`` seconds; the token
        to carry, or None when the images are too large to keep (then offer no button)."""
        described, data = pack(images, mask, markup)
        if len(data) > MAX_KEPT_BYTES:
            log.info("interaction state not kept: %d bytes of images", len(data))
            return None
        token = secrets.token_hex(TOKEN_HEX // 2)
        await self._save(token, kind, owner, payload, described, data, ttl_s, owned=True)
        return token

    async def remember_request(
        self, request: ImageRequest, kind: str, *, ttl_s: float, **extra: Any
    ) -> str | None:
        """:meth:`remember` a request (its prompt, options and inputs) for its own member."""
        payload = {"prompt": request.prompt, "options": request_options(request), **extra}
        return await self.remember(
            request.identity,
            kind,
            payload,
            ttl_s=ttl_s,
            images=request.images,
            mask=request.mask,
            markup=request.markup,
        )

    async def remember_refused(
        self, request: ImageRequest, kind: str, *, ttl_s: float, suggestion: str | None
    ) -> str | None:
        """:meth:`remember_request` for a refusal's buttons, with its suggestion. None when it
        cannot be kept (images too large, or the database failed): the refusal is then shown
        without buttons, and the member's request is never lost to an error here."""
        try:
            return await self.remember_request(request, kind, ttl_s=ttl_s, suggestion=suggestion)
        except Exception as exc:
            log.warning("refused request not kept (%s)", type(exc).__name__)
            return None

    async def recall(self, caller: Identity, kind: str, token: object) -> Remembered | None:
        """The state ``token`` names, for ``caller`` only: None when it is malformed, unknown,
        expired, of another kind, another community or another member."""
        if not isinstance(token, str) or not TOKEN.fullmatch(token):
            return None
        row = await self.store.load_interaction(token)
        if row is None or row["kind"] != kind or row["owner_scope"] is None:
            return None
        if row["community_scope"] != caller.community_scope:
            return None
        if row["owner_scope"] != caller.member_scope:
            return None
        return self._remembered(row)

    async def forget(self, token: str) -> None:
        """Drop a token's state now (a modal submitted: it is used up)."""
        if TOKEN.fullmatch(token):
            await self.store.drop_interaction(token)

    async def keep_inputs(self, job_id: int, request: ImageRequest) -> bool:
        """Keep an edit job's inputs for :data:`INPUTS_TTL_S`, so :meth:`reroll` can send them
        again from any process. False: nothing to keep, or too large (Re-roll then says so)."""
        if not request.images:
            return False
        described, data = pack(request.images, request.mask, request.markup)
        if len(data) > MAX_KEPT_BYTES:
            log.info("inputs of job %s not kept: %d bytes", job_id, len(data))
            return False
        owner = request.identity
        return await self._save(
            f"{INPUTS_KIND}:{int(job_id)}", INPUTS_KIND, owner, {}, described, data,
            INPUTS_TTL_S, owned=False,
        )  # fmt: skip

    async def reroll(
        self, job: JobView, identity: Identity, *, idem_key: str, prompt: str | None = None
    ) -> ImageRequest:
        """Re-roll's request: the job's options again (``prompt`` None: its own prompt); an
        edit sends the same images, mask and sketch, or ``InvalidRequest("finish.inputs_gone")``
        once they are no longer kept. ``job`` is one the adapter resolved for the clicker."""
        if not job.request.get("edit"):
            return self.rebuild(job, identity, idem_key=idem_key, prompt=prompt)
        row = await self.store.load_interaction(f"{INPUTS_KIND}:{int(job.id)}")
        kept = None
        if row is not None and row["community_scope"] == job.community_scope:
            kept = self._remembered(row)
        if kept is None or not kept.images:
            raise InvalidRequest("finish.inputs_gone", hours=int(INPUTS_TTL_S // 3600))
        return self.rebuild(
            job,
            identity,
            idem_key=idem_key,
            prompt=prompt,
            images=kept.images,
            mask=kept.mask,
            markup=kept.markup,
        )

    async def sweep_interactions(self) -> int:
        """Delete expired interaction state (the reaper's timer calls this)."""
        return await self.store.sweep_interactions()

    async def _save(
        self,
        token: str,
        kind: str,
        owner: Identity,
        payload: dict[str, Any],
        described: list[dict[str, Any]],
        data: bytes,
        ttl_s: float,
        *,
        owned: bool,
    ) -> bool:
        now = datetime.now(UTC)
        row = {
            "token": token,
            "kind": kind,
            "community_scope": owner.community_scope,
            "owner_scope": owner.member_scope if owned else None,
            "payload": payload,
            "inputs": described,
            "data": data or None,
            "created_at": now,
            "expires_at": now + timedelta(seconds=ttl_s),
        }
        return await self.store.save_interaction(row, replace=not owned)

    @staticmethod
    def _remembered(row: dict[str, Any]) -> Remembered | None:
        try:
            images, mask, markup = unpack(row["inputs"], row["data"])
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("interaction state unreadable (%s)", type(exc).__name__)
            return None
        payload = row["payload"] if isinstance(row["payload"], dict) else {}
        expires = row["expires_at"]
        if expires.tzinfo is None:  # SQLite hands back naive UTC
            expires = expires.replace(tzinfo=UTC)
        return Remembered(row["token"], row["kind"], payload, expires, images, mask, markup)
