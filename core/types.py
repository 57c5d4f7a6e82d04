"""The frozen dataclasses that cross the seam between core and the adapters.

Adapters build an :class:`Identity` and an :class:`ImageRequest`, hand them to
``ImageService``, and receive :class:`Progress` callbacks and an :class:`ImageResult`
(or a typed failure from :mod:`core.errors`). What the store reports back through the service
is here too: :class:`JobView` (a job and its :class:`JobState`), :class:`QuotaStatus` with its
:class:`LimitStatus` rows, and the report rows :class:`UsageRow` and :class:`DailySpend`.

Times are aware UTC datetimes; money is integer micro-dollars (``*_micros``).
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from core.errors import Note, PixelsmithError, QuotaExceeded

MICROS = 1_000_000
OPERATOR = "operator"
# the upstream budget of the operator's gateway key (a community's own key: "key:<fingerprint>")
OPERATOR_POOL = "operator"


@dataclass(frozen=True)
class Identity:
    """Who asks. ``community_id`` is a Discord guild or a Slack workspace (None: direct/CLI);
    ``org_id`` the Slack Enterprise Grid org the workspace belongs to (None: not in a Grid).

    The tenancy community (:attr:`tenant_id`) is the Grid org where there is one, else the
    guild or workspace: every scope below is built from it, so an org admin's settings, bans
    and reports cover that org's workspaces and never another org or a workspace outside it.
    An org-wide install may send no workspace at all (``community_id`` None, ``org_id`` set).
    """

    platform: str  # discord | slack | cli | console
    user_id: str
    community_id: str | None = None
    locale: str = "en"
    display_name: str | None = None
    roles: tuple[str, ...] = ()
    is_admin: bool = False
    channel_id: str | None = None  # where to answer, also after a restart (reaper notices)
    org_id: str | None = None

    @classmethod
    def operator(cls) -> Identity:
        """The operator (config and the ``pixelsmith`` CLI): bound by nothing, sees everything."""
        return cls(platform=OPERATOR, user_id=OPERATOR, is_admin=True)

    @property
    def is_operator(self) -> bool:
        return self.platform == OPERATOR

    @property
    def tenant_id(self) -> str | None:
        """The community every scope is kept in: the Grid org, else the guild or workspace."""
        return self.org_id or self.community_id

    @property
    def user_scope(self) -> str:
        return f"user:{self.platform}:{self.user_id}"

    @property
    def member_scope(self) -> str:
        """This user inside this community (``member:<platform>:<community>:<user>``), or in
        a direct-message context (``member:<platform>:dm:<user>``)."""
        where = "dm" if self.tenant_id is None else self.tenant_id
        return f"member:{self.platform}:{where}:{self.user_id}"

    @property
    def members_scope(self) -> str | None:
        """Every member of this community: where its admins' default limits live."""
        if self.tenant_id is None:
            return None
        return f"member:{self.platform}:{self.tenant_id}:*"

    @property
    def any_community_scope(self) -> str:
        """This user in every community (restrict-only limits kept by an upgrade)."""
        return f"member:{self.platform}:*:{self.user_id}"

    def member_of_mine(self, user_id: str) -> Identity:
        """Another user of this caller's platform and community (the target of an admin action)."""
        return Identity(self.platform, user_id, self.community_id, org_id=self.org_id)

    @property
    def community_scope(self) -> str | None:
        if self.tenant_id is None:
            return None
        return f"community:{self.platform}:{self.tenant_id}"


@dataclass(frozen=True)
class PreparedImage:
    """An input image after intake: sanitized bytes ready to send upstream."""

    data: bytes
    mime: str  # image/png | image/jpeg | image/webp
    width: int
    height: int
    name: str = "image.png"
    source_width: int = 0  # size before downscaling (a mask must match it)
    source_height: int = 0


@dataclass(frozen=True)
class ImageRequest:
    """A validated request. Built by ``core.request.build_request``; never by hand in adapters.

    ``size`` None means "auto" (omitted upstream). ``images`` non-empty means an edit.
    """

    prompt: str
    model: str
    identity: Identity
    size: str | None = None
    quality: str | None = None
    n: int = 1
    background: str | None = None
    moderation: str | None = None
    output_format: str | None = None
    input_fidelity: str | None = None
    images: tuple[PreparedImage, ...] = ()
    mask: PreparedImage | None = None
    #: A transparent PNG drawn over the first image to guide the edit (GPT Image 2.5's
    #: ``markup``); never together with ``mask``.
    markup: PreparedImage | None = None
    force: bool = False
    idem_key: str | None = None
    #: Remarks made while building it (a member's default that did not apply), shown with
    #: the result.
    notes: tuple[Note, ...] = field(default=(), compare=False)

    @property
    def is_edit(self) -> bool:
        return bool(self.images)

    def summary(self) -> dict[str, Any]:
        """A JSON-able description for the job table (no image bytes)."""
        return {
            "prompt": self.prompt,
            "model": self.model,
            "size": self.size,
            "quality": self.quality,
            "n": self.n,
            "background": self.background,
            "moderation": self.moderation,
            "output_format": self.output_format,
            "input_fidelity": self.input_fidelity,
            "edit": self.is_edit,
            "images": len(self.images),
            "mask": self.mask is not None,
            "markup": self.markup is not None,
            "channel_id": self.identity.channel_id,
            "locale": self.identity.locale,
        }


class Stage(enum.StrEnum):
    QUEUED = "queued"
    SUBMITTED = "submitted"
    GENERATING = "generating"
    PARTIAL = "partial"
    DOWNLOADING = "downloading"
    DONE = "done"


@dataclass(frozen=True)
class Progress:
    """One progress event. ``percent`` 0-100 when known; ``preview`` a partial PNG."""

    stage: Stage
    percent: int | None = None
    preview: bytes | None = None
    queue_position: int | None = None


ProgressCallback = Callable[[Progress], Awaitable[None]]


@dataclass(frozen=True)
class Usage:
    """Token usage as the gateway reports it, per kind: text and image input, image output
    (``output_tokens``) and text output (``output_text_tokens``, from the SDK's
    ``usage.output_tokens_details.text_tokens``; 0 when not reported)."""

    text_tokens: int = 0
    image_tokens: int = 0
    output_tokens: int = 0
    output_text_tokens: int = 0

    @property
    def total(self) -> int:
        return self.text_tokens + self.image_tokens + self.output_tokens + self.output_text_tokens


@dataclass(frozen=True)
class GeneratedImage:
    data: bytes
    mime: str = "image/png"
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True)
class ProviderResult:
    """What one upstream call returned."""

    images: tuple[GeneratedImage, ...]
    usage: Usage | None = None


@dataclass(frozen=True)
class QuotaLeft:
    """What remains for a user after a job (None = unlimited)."""

    images_today: int | None = None
    images_month: int | None = None
    usd_today: float | None = None
    usd_month: float | None = None
    community_usd_month: float | None = None


@dataclass(frozen=True)
class ImageResult:
    """A finished job: images, what it cost (micro-dollars), notes for the user."""

    job_id: int
    request: ImageRequest
    images: tuple[GeneratedImage, ...]
    cost_micros: int
    notes: tuple[Note, ...] = ()
    quota_left: QuotaLeft | None = None
    demo: bool = False
    duplicate: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    public_id: str = ""  # what buttons and links carry (never the row id)
    #: The finishing moves this result offers (``core.finishing``: upscale, vary_subtle,
    #: vary_strong); adapters show a button for each.
    moves: tuple[str, ...] = ()

    @property
    def cost_usd(self) -> float:
        return self.cost_micros / 1_000_000


# ---------------------------------------------------------------------------------------------
# what the store reports


class JobState(enum.StrEnum):
    RESERVED = "RESERVED"
    SUBMITTED = "SUBMITTED"
    SUCCEEDED = "SUCCEEDED"
    FAILED_CHARGED = "FAILED_CHARGED"
    UNKNOWN_CHARGED = "UNKNOWN_CHARGED"
    RELEASED = "RELEASED"

    @property
    def terminal(self) -> bool:
        return self not in (JobState.RESERVED, JobState.SUBMITTED)


CHARGED_STATES = (JobState.SUCCEEDED, JobState.FAILED_CHARGED, JobState.UNKNOWN_CHARGED)
LIVE_STATES = (JobState.RESERVED, JobState.SUBMITTED)
QUOTA_KEYS = ("quota.exceeded", "quota.banned", "quota.cooldown")


@dataclass(frozen=True)
class JobView:
    """A job as the service and the adapters see it. Times aware UTC; money in micro-USD."""

    id: int
    idem_key: str
    state: JobState
    user_scope: str
    community_scope: str | None
    model: str
    prompt: str
    cost_micros: int
    worst_cost_micros: int
    images_requested: int
    images_delivered: int
    error: str | None
    result: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime
    request: dict[str, Any] = field(default_factory=dict, compare=False)
    notified: bool = True
    public_id: str = ""
    cost_capped: bool = False
    key_ref: str | None = None  # the community's own key that served it (None: the operator's)

    @property
    def cost_usd(self) -> float:
        return self.cost_micros / MICROS

    def failure(self) -> PixelsmithError | None:
        """The QuotaExceeded this job was refused with (for a duplicate delivery), else None."""
        if self.error not in QUOTA_KEYS or not self.result:
            return None
        params = dict(self.result.get("params") or {})
        if isinstance(params.get("resets_at"), str):
            params["resets_at"] = datetime.fromisoformat(params["resets_at"])
        return QuotaExceeded(self.error, **params)


@dataclass(frozen=True)
class LimitStatus:
    """One limit: ``unit`` images|usd|jobs; ``limit`` None = unlimited (then ``remaining`` None)."""

    name: str
    unit: str
    limit: float | int | None
    used: float | int
    reserved: float | int
    remaining: float | int | None
    resets_at: datetime | None
    granted: float | int = 0


@dataclass(frozen=True)
class QuotaStatus:
    user_scope: str
    community_scope: str | None
    limits: tuple[LimitStatus, ...]
    banned: bool = False
    ban_reason: str | None = None
    cooldown_until: datetime | None = None

    def get(self, name: str) -> LimitStatus | None:
        return next((s for s in self.limits if s.name == name), None)

    def quota_left(self) -> QuotaLeft:
        def left(name: str) -> Any:
            found = self.get(name)
            return None if found is None else found.remaining

        return QuotaLeft(
            images_today=left("user_daily_images"),
            images_month=left("user_monthly_images"),
            usd_today=left("user_daily_usd"),
            usd_month=left("user_monthly_usd"),
            community_usd_month=left("community_monthly_usd"),
        )


@dataclass(frozen=True)
class UsageRow:
    group: str
    jobs: int
    images: int
    cost_micros: int

    @property
    def cost_usd(self) -> float:
        return self.cost_micros / MICROS


@dataclass(frozen=True)
class DailySpend:
    day: date
    group: str
    jobs: int
    cost_micros: int
    images: int = 0

    @property
    def cost_usd(self) -> float:
        return self.cost_micros / MICROS


@dataclass(frozen=True)
class LedgerRow:
    """One ledger entry of a job (reserve, release or capture on one quota bucket)."""

    at: datetime
    job: str  # the job's public id
    user_scope: str
    scope: str
    period: str
    unit: str
    kind: str
    amount: int


@dataclass(frozen=True)
class BanEntry:
    """A ban an admin may lift: ``target`` as the admin names it (a member id in their
    community; the operator sees whole scopes)."""

    target: str
    reason: str | None
    at: datetime


@dataclass(frozen=True)
class AuditEntry:
    """One admin action: who (a user scope, or ``operator``), in which community, what, on
    which scope, the value before and after, when."""

    id: int
    actor: str
    community_scope: str | None
    action: str
    target: str
    before: Any
    after: Any
    at: datetime


@dataclass(frozen=True)
class Attachment:
    """An input file as an adapter received it (already downloaded, size checked)."""

    data: bytes
    name: str
    declared_size: int | None = None
    declared_type: str | None = None
