"""Interaction state in the database (table ``interaction``), on SQLite and PostgreSQL: what a
click or a modal submit needs is found by another store on the same database (another process,
or a restart), for its owner only, until it expires; expired rows are swept; images are kept
byte for byte and bounded; an edit's kept inputs make its Re-roll send the same images."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from core.config import Settings
from core.errors import InvalidRequest
from core.providers.routing import OfflineProvider
from core.rooms import interactions
from core.service import ImageService
from core.store import EffectiveLimits, Store
from core.types import Identity, PreparedImage
from tests.fakes.images import mask_png, sketch_png, solid_png

ALICE = Identity("discord", "111", "A")
BOB = Identity("discord", "222", "A")
ALICE_IN_B = Identity("discord", "111", "B")
ALICE_IN_DM = Identity("discord", "111")
ALICE_IN_GRID = Identity("slack", "111", "A", org_id="E1")
KIND = "test_kind"


def image(data: bytes, name: str = "image.png") -> PreparedImage:
    return PreparedImage(data, "image/png", 64, 48, name, 64, 48)


IMAGES = (image(solid_png(64, 48)), image(solid_png(64, 48, (9, 9, 9)), "second.png"))
MASK, SKETCH = image(mask_png(64, 48), "mask.png"), image(sketch_png(64, 48), "sketch.png")


def service(store: Store) -> ImageService:
    return ImageService(Settings(), store=store, provider=OfflineProvider())


@pytest.fixture
async def other(db_url: str, store: Store) -> AsyncIterator[ImageService]:
    """A second store on the same database: another process, or the same after a restart."""
    second = await Store.open(db_url)
    try:
        yield service(second)
    finally:
        await second.close()


async def test_remembered_state_is_found_by_another_store_byte_for_byte(
    store: Store, other: ImageService
) -> None:
    payload = {"prompt": "a hat", "nested": {"n": 2, "list": ["x", None]}}
    token = await service(store).remember(
        ALICE, KIND, payload, ttl_s=3600, images=IMAGES, mask=MASK, markup=SKETCH
    )
    assert token is not None and len(token) == 32 and int(token, 16) >= 0
    found = await other.recall(ALICE, KIND, token)
    assert found is not None and found.payload == payload and found.kind == KIND
    assert found.images == IMAGES and found.mask == MASK and found.markup == SKETCH
    assert found.expires_at > datetime.now(UTC) + timedelta(minutes=59)


async def test_only_its_owner_in_its_community_finds_it(store: Store, other: ImageService) -> None:
    mine = service(store)
    token = await mine.remember(ALICE, KIND, {"p": 1}, ttl_s=3600)
    grid = await mine.remember(ALICE_IN_GRID, KIND, {"p": 2}, ttl_s=3600)
    assert token is not None and grid is not None
    for caller in (BOB, ALICE_IN_B, ALICE_IN_DM, Identity("slack", "111", "A")):
        assert await other.recall(caller, KIND, token) is None
    assert await other.recall(ALICE, "another_kind", token) is None
    assert await other.recall(Identity("slack", "111", "A2", org_id="E2"), KIND, grid) is None
    assert await other.recall(Identity("slack", "111", "W9", org_id="E1"), KIND, grid)
    assert await other.recall(ALICE, KIND, token) is not None


@pytest.mark.parametrize(
    "forged",
    [
        "",
        "0" * 32,
        "f" * 31,
        "F" * 32,
        "g" * 32,
        "0" * 33,
        f"{interactions.INPUTS_KIND}:1",
        None,
        7,
    ],
)
async def test_a_forged_token_finds_nothing(store: Store, forged: object) -> None:
    svc = service(store)
    await svc.remember(ALICE, KIND, {}, ttl_s=3600)
    assert await svc.recall(ALICE, KIND, forged) is None


async def test_expired_state_is_not_found_and_is_swept(store: Store, other: ImageService) -> None:
    svc = service(store)
    gone = await svc.remember(ALICE, KIND, {"p": "old"}, ttl_s=-1, images=IMAGES)
    kept = await svc.remember(ALICE, KIND, {"p": "new"}, ttl_s=3600)
    assert gone is not None and kept is not None
    assert await other.recall(ALICE, KIND, gone) is None
    assert await other.sweep_interactions() == 1
    assert await store.load_interaction(gone, now=datetime(2000, 1, 1, tzinfo=UTC)) is None
    assert await other.recall(ALICE, KIND, kept) is not None
    later = datetime.now(UTC) + timedelta(hours=2)
    assert await store.load_interaction(kept, now=later) is None
    assert await store.sweep_interactions(now=later) == 1


async def test_images_beyond_the_cap_are_not_kept(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    svc = service(store)
    monkeypatch.setattr(interactions, "MAX_KEPT_BYTES", len(IMAGES[0].data))
    assert await svc.remember(ALICE, KIND, {}, ttl_s=60, images=IMAGES[:1]) is not None
    assert await svc.remember(ALICE, KIND, {}, ttl_s=60, images=IMAGES) is None


async def test_an_edit_rerolled_from_another_store_sends_the_same_inputs(
    store: Store, other: ImageService
) -> None:
    svc = service(store)
    request = svc.build("a hat --model gpt-image-2", ALICE, images=IMAGES, mask=MASK)
    claim = await store.begin_job(
        idem_key="edit-1", identity=ALICE, request=request.summary(), model=request.model,
        images=1, worst_cost_micros=1, limits=EffectiveLimits(),
    )  # fmt: skip
    assert await svc.keep_inputs(claim.job.id, request)
    again = await other.reroll(claim.job, BOB, idem_key="reroll-1")  # anyone who sees the job
    assert again.images == IMAGES and again.mask == MASK and again.prompt == "a hat"
    assert again.identity == BOB and again.idem_key == "reroll-1"
    changed = await other.reroll(claim.job, BOB, idem_key="reroll-2", prompt="a cap")
    assert changed.prompt == "a cap" and changed.images == IMAGES
    # a click can never name a job's kept inputs as if they were a token
    assert await other.recall(ALICE, interactions.INPUTS_KIND, f"inputs:{claim.job.id}") is None


async def test_reroll_of_an_edit_whose_inputs_are_gone_is_refused(store: Store) -> None:
    svc = service(store)
    request = svc.build("a hat", ALICE, images=IMAGES)
    claim = await store.begin_job(
        idem_key="edit-2", identity=ALICE, request=request.summary(), model=request.model,
        images=1, worst_cost_micros=1, limits=EffectiveLimits(),
    )  # fmt: skip
    with pytest.raises(InvalidRequest) as refused:
        await svc.reroll(claim.job, ALICE, idem_key="reroll-3")
    assert refused.value.key == "finish.inputs_gone" and refused.value.params["hours"] == 6
    assert await svc.keep_inputs(claim.job.id, svc.build("no images", ALICE)) is False


async def test_a_refusal_that_cannot_be_kept_comes_without_buttons_not_an_error(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database failing while a refusal's request is kept: no token (the adapters then show
    the refusal without its buttons), never an exception that would lose the refusal itself."""
    mine = service(store)
    request = mine.build("a red fox", ALICE)
    kept = await mine.remember_refused(request, KIND, ttl_s=60, suggestion="a fox")
    assert kept is not None and (await mine.recall(ALICE, KIND, kept)) is not None

    async def broken(*_: object, **__: object) -> bool:
        raise ConnectionError("database gone")

    monkeypatch.setattr(type(mine), "_save", broken)
    assert await mine.remember_refused(request, KIND, ttl_s=60, suggestion="a fox") is None
