"""The reverse models' provider: the stream parser on recorded variants, and the provider end to
end through the real ``openai`` SDK against the loopback fake gateway."""

from __future__ import annotations

import base64
import json
import random
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import openai
import pytest
from aiohttp import web
from openai import AsyncOpenAI

from core.catalog import Catalog
from core.errors import Charge, InvalidRequest, Refused, UpstreamError
from core.providers.base import ProviderCall
from core.providers.chat_stream import (
    ChatStreamProvider,
    ReverseStreamParser,
    aspect_hint,
    build_prompt,
)
from core.types import Identity, ImageRequest, PreparedImage, Progress, Stage
from tests.fakes.gateway import Behavior, ChatVariant, FakeGateway, Fault, FileMode
from tests.fakes.images import PALETTE, jpeg_bytes, solid_png

FIXTURES = Path(__file__).parent / "fixtures" / "reverse"
CHAT = "/v1/chat/completions"
_SSL = ssl.create_default_context()
_CATALOG = Catalog.from_settings()
WHO = Identity(platform="cli", user_id="tester")

# --------------------------------------------------------------------------------------------
# The parser on recorded variants
# --------------------------------------------------------------------------------------------

FS = "https://filesystem.site/cdn/"

#: fixture -> (final image URLs, completed, failure seen, moderation, error code, percents)
EXPECTED: dict[str, tuple[list[str], bool, bool, str | None, str | None, list[int]]] = {
    "vip_reference.txt": (
        [
            FS + "20250421/XBCrAs6qvMARG7BkFX0KI3MBs1qoto.png",
            FS + "20250421/tQ62gh0BbdESApNmFJMNzsdUFDflkl.png",
        ],
        True,
        False,
        None,
        None,
        [11, 19, 27, 34, 42, 50, 57, 64, 100],
    ),
    "normal.txt": (
        [FS + "20250422/Fox1aaaaaaaaaaaaaaaaaaaaaaaa.png"],
        True,
        False,
        None,
        None,
        [11, 19, 27, 100],
    ),
    "crlf_whitespace.txt": (
        [FS + "20250501/Lighthouse0001.png"],
        True,
        False,
        None,
        None,
        [11, 19, 27, 64, 100],
    ),
    "chinese_ok.txt": (
        [FS + "20250601/ShanShui0001.png"],
        True,
        False,
        None,
        None,
        [15, 33, 58, 81, 100],
    ),
    "failed_cn.txt": ([], False, True, None, None, [11, 19]),
    "failed_en.txt": ([], False, True, None, None, [11, 19, 27]),
    "input_moderation.txt": ([], False, True, "input", None, []),
    "error_json.txt": ([], False, False, None, "input_moderation", []),
    "no_link.txt": ([], True, False, None, None, [11, 19, 27, 100]),
    "preview_only.txt": ([], False, False, None, None, [11, 19, 27, 34, 100]),
    "echo_traps.txt": ([FS + "20250801/Poster000001.png"], True, False, None, None, [20, 40, 100]),
    "queue_multiline.txt": (
        [FS + "k1.png", FS + "k2.png"],
        True,
        False,
        None,
        None,
        [5, 12, 47, 100],
    ),
}


def _fixture(name: str) -> str:
    return (FIXTURES / name).read_bytes().decode("utf-8")


def _parse(pieces: list[str]) -> tuple[list[Progress], ReverseStreamParser]:
    parser = ReverseStreamParser()
    events: list[Progress] = []
    for piece in pieces:
        events += parser.feed(piece)
    events += parser.close()
    return events, parser


def _chunks(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def _random_chunks(text: str, seed: int) -> list[str]:
    rng = random.Random(seed)
    out, i = [], 0
    while i < len(text):
        n = rng.randint(1, 40)
        out.append(text[i : i + n])
        i += n
    return out


def test_every_fixture_has_an_expectation() -> None:
    assert sorted(p.name for p in FIXTURES.glob("*.txt")) == sorted(EXPECTED)
    assert b"\r\n" in (FIXTURES / "crlf_whitespace.txt").read_bytes()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_parser_on_recorded_variant(name: str) -> None:
    urls, completed, failed, moderation, code, percents = EXPECTED[name]
    events, parser = _parse([_fixture(name)])
    assert parser.result() == urls
    assert parser.completed is completed
    assert (parser.failure is not None) is failed
    assert parser.moderation == moderation
    assert (parser.error_fields or {}).get("code") == code
    assert [e.percent for e in events if e.percent is not None] == percents
    # Stages only move forward: queued, then generating; never a preview link as a result.
    stages = [e.stage for e in events]
    assert stages == sorted(stages, key=[Stage.QUEUED, Stage.GENERATING].index)
    assert all("videos.openai.com" not in u and "/download/" not in u for u in parser.result())


@pytest.mark.parametrize("name", sorted(EXPECTED))
@pytest.mark.parametrize("split", ["1", "2", "3", "7", "11", "64", "rand1", "rand2", "rand3"])
def test_parser_is_independent_of_chunking(name: str, split: str) -> None:
    text = _fixture(name)
    whole_events, whole = _parse([text])
    pieces = (
        _random_chunks(text, int(split[4:]))
        if split.startswith("rand")
        else _chunks(text, int(split))
    )
    events, parser = _parse(pieces)
    assert events == whole_events
    assert parser.result() == whole.result()
    assert (parser.completed, parser.failure, parser.moderation, parser.error_fields) == (
        whole.completed,
        whole.failure,
        whole.moderation,
        whole.error_fields,
    )


def test_parser_crlf_and_lone_cr_give_the_same_result() -> None:
    text = _fixture("normal.txt")
    base_events, base = _parse([text])
    for variant in (text.replace("\n", "\r\n"), text.replace("\n", "\r")):
        for pieces in ([variant], _chunks(variant, 1), _chunks(variant, 5)):
            events, parser = _parse(pieces)
            assert events == base_events
            assert parser.result() == base.result()


def test_parser_percent_split_mid_number_is_not_emitted_early() -> None:
    parser = ReverseStreamParser()
    assert parser.feed(">🏃 Progress 1") == []  # "1" may be the start of "11"
    assert [e.percent for e in parser.feed("1..")] == [11]
    assert parser.feed("..1") == []
    assert [e.percent for e in parser.feed("9...[10")] == [19]
    assert [e.percent for e in parser.feed("0](https://x.example/p.png?a=99)\n")] == [100]
    assert parser.result() == []


def test_parser_image_link_split_mid_url() -> None:
    text = "> ✅ Generation complete\n![gen](https://files.example/cdn/abc.png)\n"
    cut = text.index("cdn")
    _, parser = _parse([text[:cut], text[cut:]])
    assert parser.result() == ["https://files.example/cdn/abc.png"]
    # the last line may arrive without a newline: it counts once the stream ends
    parser = ReverseStreamParser()
    parser.feed(text.rstrip("\n"))
    assert parser.result() == []
    parser.close()
    assert parser.result() == ["https://files.example/cdn/abc.png"]


def test_parser_ignores_links_before_completion_and_non_http_links() -> None:
    text = (
        "![early](https://files.example/early.png)\n> ✅ Generation complete\n"
        "![a](javascript:alert(1)) ![b](file:///etc/passwd) ![c](https://files.example/ok.png)\n"
    )
    _, parser = _parse([text])
    assert parser.result() == ["https://files.example/ok.png"]


def test_parser_failure_words_need_a_status_line() -> None:
    # "error" inside a URL (stripped) or inside the echo is not a failure
    text = (
        '{"prompt": "an error message on a screen", "ratio": "1:1"}\n'
        ">🏃 Progress 50...[100](https://x.example/error/failed.png)\n"
        "> ✅ Generation complete\n![x](https://x.example/moderation-error.png)\n"
    )
    _, parser = _parse([text])
    assert parser.failure is None and parser.moderation is None
    assert parser.result() == ["https://x.example/moderation-error.png"]


def test_parser_percent_on_generating_lines_and_queue_positions() -> None:
    text = ">🕐 排队中，前方 3 人\n>🕐 排队中，前方 3 人\n>⚡ Generating 45%\n>⚡ Generating 80 %\n"
    events, _ = _parse([text])
    assert events == [
        Progress(Stage.QUEUED, None, queue_position=3),
        Progress(Stage.GENERATING, None),
        Progress(Stage.GENERATING, 45),
        Progress(Stage.GENERATING, 80),
    ]


def test_parser_ignores_feed_after_close() -> None:
    parser = ReverseStreamParser()
    parser.feed("> ✅ Generation complete\n")
    parser.close()
    assert parser.feed("![x](https://x.example/late.png)\n") == []
    assert parser.close() == []
    assert parser.result() == []


def test_aspect_hints() -> None:
    assert aspect_hint("1024x1536") == "2:3 portrait"
    assert aspect_hint("1536x1024") == "3:2 landscape"
    assert aspect_hint("1024x1024") == "1:1 square"
    assert aspect_hint(None) is None
    assert aspect_hint("auto") is None
    req = ImageRequest(prompt="a cat", model="gpt-4o-image", identity=WHO, size="1024x1536")
    assert build_prompt(req) == "a cat\n2:3 portrait"
    req = ImageRequest(prompt="a cat, 2:3", model="gpt-4o-image", identity=WHO, size="1024x1536")
    assert build_prompt(req) == "a cat, 2:3"
    assert build_prompt(ImageRequest(prompt="a cat ", model="gpt-4o-image", identity=WHO)) == (
        "a cat"
    )


# --------------------------------------------------------------------------------------------
# The provider, end to end through the real SDK
# --------------------------------------------------------------------------------------------


def make_client(base_url: str, **kwargs: Any) -> AsyncOpenAI:
    timeout = kwargs.pop("timeout", 10)
    return AsyncOpenAI(
        base_url=base_url,
        api_key="sk-test-0123456789abcdWXYZ",
        max_retries=0,
        http_client=openai.DefaultAsyncHttpxClient(verify=_SSL, timeout=timeout),
        **kwargs,
    )


@pytest.fixture
async def gw() -> AsyncIterator[FakeGateway]:
    async with FakeGateway() as gateway:
        yield gateway


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


ProviderFactory = Callable[..., ChatStreamProvider]


@pytest.fixture
async def make_provider(
    gw: FakeGateway, http: aiohttp.ClientSession
) -> AsyncIterator[ProviderFactory]:
    clients: list[AsyncOpenAI] = []

    def factory(
        base_url: str | None = None, client_kwargs: dict[str, Any] | None = None, **kwargs: Any
    ) -> ChatStreamProvider:
        client = make_client(base_url or gw.base_url, **(client_kwargs or {}))
        clients.append(client)
        opts: dict[str, Any] = {
            "download_hosts": ["127.0.0.1"],
            "max_download_bytes": 8 * 1024 * 1024,
            "download_timeout_s": 10.0,
            "progress_interval_s": 0.0,
        }
        opts.update(kwargs)
        return ChatStreamProvider(client, http, **opts)

    yield factory
    for c in clients:
        await c.close()


def make_call(
    prompt: str = "a red fox in the snow",
    *,
    model: str = "gpt-4o-image",
    size: str | None = "1024x1536",
    images: tuple[PreparedImage, ...] = (),
    mask: PreparedImage | None = None,
) -> ProviderCall:
    spec = _CATALOG.get(model)
    assert spec is not None and spec.api == "chat_stream"
    request = ImageRequest(
        prompt=prompt, model=model, identity=WHO, size=size, images=images, mask=mask
    )
    return ProviderCall(request=request, spec=spec)


class Recorder:
    def __init__(self) -> None:
        self.events: list[Progress] = []

    async def __call__(self, progress: Progress) -> None:
        self.events.append(progress)


def sent(gw: FakeGateway) -> dict[str, Any]:
    """The one chat call this run made (exactly one upstream call per run)."""
    calls = gw.calls_to(CHAT)
    assert len(calls) == 1
    assert [c.path for c in gw.calls] == [CHAT]
    body = calls[0].json
    assert isinstance(body, dict)
    return body


def _color(data: bytes) -> tuple[int, int, int]:
    import io

    from PIL import Image

    with Image.open(io.BytesIO(data)) as img:
        px = img.convert("RGB").getpixel((0, 0))
    assert isinstance(px, tuple)
    return (int(px[0]), int(px[1]), int(px[2]))


async def test_normal_stream_gives_decoded_image_and_sends_the_documented_shape(
    gw: FakeGateway, make_provider: ProviderFactory
) -> None:
    rec = Recorder()
    result = await make_provider().run(make_call(), rec)
    assert result.usage is None
    assert len(result.images) == 1
    img = result.images[0]
    assert (img.mime, img.width, img.height) == ("image/png", 1024, 1536)  # the ratio was read
    assert _color(img.data) == PALETTE[0]

    body = sent(gw)
    assert body["model"] == "gpt-4o-image"
    assert body["stream"] is True
    assert "quality" not in body and "n" not in body and "size" not in body
    [message] = body["messages"]
    assert message["role"] == "user"
    assert message["content"] == [{"type": "text", "text": "a red fox in the snow\n2:3 portrait"}]
    # the image came from the ![..](..) link, not from the preview or the download link
    assert [h for h in gw.file_hits if "/download/" in h] == []
    assert len(gw.file_hits) == 1


async def test_progress_is_ordered_and_complete_without_throttling(
    gw: FakeGateway, make_provider: ProviderFactory
) -> None:
    rec = Recorder()
    await make_provider().run(make_call(), rec)
    stages = [e.stage for e in rec.events]
    assert stages[0] == Stage.QUEUED
    assert stages[-2:] == [Stage.DOWNLOADING, Stage.DONE]
    order = [Stage.QUEUED, Stage.GENERATING, Stage.DOWNLOADING, Stage.DONE]
    assert stages == sorted(stages, key=order.index)
    percents = [e.percent for e in rec.events if e.stage == Stage.GENERATING and e.percent]
    assert percents == [11, 19, 27, 100]
    assert rec.events[-1] == Progress(Stage.DONE, 100)


async def test_progress_is_throttled_but_first_and_final_pass(
    gw: FakeGateway, make_provider: ProviderFactory
) -> None:
    rec = Recorder()
    # An hour between events: only the forced first and final events can pass.
    await make_provider(progress_interval_s=3600.0).run(make_call(), rec)
    assert [e.stage for e in rec.events] == [Stage.QUEUED, Stage.DONE]
    # no callback at all is fine too
    gw.reset()
    result = await make_provider().run(make_call(), None)
    assert len(result.images) == 1


async def test_vip_two_images(gw: FakeGateway, make_provider: ProviderFactory) -> None:
    result = await make_provider().run(make_call(model="gpt-4o-image-vip", size="1536x1024"), None)
    assert [(_color(i.data), i.width, i.height) for i in result.images] == [
        (PALETTE[0], 1536, 1024),
        (PALETTE[1], 1536, 1024),
    ]
    assert sent(gw)["model"] == "gpt-4o-image-vip"
    assert sent(gw)["messages"][0]["content"][0]["text"].endswith("\n3:2 landscape")


@pytest.mark.parametrize(
    "variant", [ChatVariant.SPLIT, ChatVariant.WHITESPACE, ChatVariant.NO_DONE]
)
async def test_tolerated_variants(
    gw: FakeGateway, make_provider: ProviderFactory, variant: str
) -> None:
    gw.script(Behavior(chat=variant))
    rec = Recorder()
    result = await make_provider().run(make_call(size="1024x1024"), rec)
    assert [(i.mime, i.width, i.height) for i in result.images] == [("image/png", 1024, 1024)]
    assert rec.events[-1].stage == Stage.DONE
    sent(gw)


async def test_edit_sends_data_urls(gw: FakeGateway, make_provider: ProviderFactory) -> None:
    png = solid_png(64, 48, PALETTE[3])
    jpg = jpeg_bytes(32, 32)
    images = (
        PreparedImage(png, "image/png", 64, 48, "a.png"),
        PreparedImage(jpg, "image/jpeg", 32, 32, "b.jpg"),
    )
    result = await make_provider().run(make_call("make it blue", images=images, size=None), None)
    assert len(result.images) == 1
    content = sent(gw)["messages"][0]["content"]
    assert content[0] == {"type": "text", "text": "make it blue"}  # no size: no hint
    urls = [p["image_url"]["url"] for p in content[1:]]
    assert [p["type"] for p in content[1:]] == ["image_url", "image_url"]
    assert urls[0].startswith("data:image/png;base64,")
    assert urls[1].startswith("data:image/jpeg;base64,")
    assert base64.b64decode(urls[0].split(",", 1)[1]) == png
    assert base64.b64decode(urls[1].split(",", 1)[1]) == jpg
    assert "quality" not in sent(gw)


async def test_mask_is_refused_before_sending(
    gw: FakeGateway, make_provider: ProviderFactory
) -> None:
    png = solid_png(64, 64)
    image = PreparedImage(png, "image/png", 64, 64)
    with pytest.raises(InvalidRequest) as info:
        await make_provider().run(make_call(images=(image,), mask=image), None)
    assert info.value.key == "invalid.mask_unsupported"
    assert info.value.charge == Charge.NONE
    assert gw.calls == []


# ---- failures inside a 200 stream ----------------------------------------------------------


async def test_stall_is_charged(gw: FakeGateway, make_provider: ProviderFactory) -> None:
    gw.script(Behavior(chat=ChatVariant.STALL))
    rec = Recorder()
    with pytest.raises(UpstreamError) as info:
        await make_provider(stall_s=0.2).run(make_call(), rec)
    assert info.value.key == "upstream.stalled"
    assert info.value.charge == Charge.CHARGED
    assert info.value.params["model"] == "gpt-4o-image"
    assert info.value.params["percent"] == 19
    assert [e.percent for e in rec.events if e.percent] == [11, 19]
    sent(gw)


@pytest.mark.parametrize(
    ("variant", "key"),
    [
        (ChatVariant.NO_IMAGE, "upstream.no_image"),
        (ChatVariant.FAILED_CN, "upstream.generation_failed"),
    ],
)
async def test_failures_in_the_stream_are_charged(
    gw: FakeGateway, make_provider: ProviderFactory, variant: str, key: str
) -> None:
    gw.script(Behavior(chat=variant))
    rec = Recorder()
    with pytest.raises(UpstreamError) as info:
        await make_provider().run(make_call(), rec)
    assert info.value.key == key
    assert info.value.charge == Charge.CHARGED
    assert info.value.params["model"] == "gpt-4o-image"
    assert all(e.stage not in (Stage.DOWNLOADING, Stage.DONE) for e in rec.events)
    assert gw.file_hits == []
    sent(gw)


@pytest.mark.parametrize(
    "variant", [ChatVariant.INPUT_MODERATION, ChatVariant.INPUT_MODERATION_ERROR]
)
async def test_input_moderation_in_the_stream_is_a_charged_refusal(
    gw: FakeGateway, make_provider: ProviderFactory, variant: str
) -> None:
    gw.script(Behavior(chat=variant))
    with pytest.raises(Refused) as info:
        await make_provider().run(make_call(), None)
    assert info.value.key == "refused.upstream"
    assert info.value.charge == Charge.CHARGED
    sent(gw)


async def test_refusal_of_a_living_artist_carries_a_suggestion(
    gw: FakeGateway, make_provider: ProviderFactory
) -> None:
    with pytest.raises(Refused) as info:
        await make_provider().run(make_call("a forest in the style of Hayao Miyazaki"), None)
    assert info.value.params["stage"] == "input"
    assert info.value.params["suggestion"]
    assert "Miyazaki" not in info.value.params["suggestion"]
    sent(gw)


@pytest.mark.parametrize(
    ("behavior", "reason"),
    [
        (Behavior(chat=ChatVariant.HTML_IMAGE), "image.html_page"),
        (Behavior(file_mode=FileMode.HUGE, huge_bytes=2 * 1024 * 1024), "image.too_large"),
        (Behavior(file_mode=FileMode.NOT_FOUND), "image.download_failed"),
    ],
)
async def test_download_failures_are_charged(
    gw: FakeGateway, make_provider: ProviderFactory, behavior: Behavior, reason: str
) -> None:
    gw.script(behavior)
    with pytest.raises(UpstreamError) as info:
        await make_provider(max_download_bytes=1024 * 1024).run(make_call(), None)
    assert info.value.key == "upstream.download_failed"
    assert info.value.charge == Charge.CHARGED
    assert info.value.params["reason"] == reason
    sent(gw)


async def test_image_from_a_foreign_host_is_not_fetched(
    gw: FakeGateway, make_provider: ProviderFactory
) -> None:
    with pytest.raises(UpstreamError) as info:
        await make_provider(download_hosts=["files.example"]).run(make_call(), None)
    assert info.value.key == "upstream.download_failed"
    assert info.value.params["reason"] == "image.foreign_host"
    assert gw.file_hits == []
    sent(gw)


# ---- HTTP errors and the network, before the stream ----------------------------------------


@pytest.mark.parametrize(
    ("error", "key", "charge"),
    [
        ("invalid_api_key", "upstream.bad_key", Charge.NONE),
        ("insufficient_user_quota", "upstream.no_balance", Charge.NONE),
        ("model_not_found", "upstream.model_unavailable", Charge.NONE),
        ("rate_limit_exceeded", "upstream.rate_limited", Charge.NONE),
        ("server_error", "upstream.server", Charge.CHARGED),
        ("bad_gateway_html", "upstream.server", Charge.CHARGED),
    ],
)
async def test_http_errors_are_classified(
    gw: FakeGateway, make_provider: ProviderFactory, error: str, key: str, charge: Charge
) -> None:
    gw.fail_next(error)
    with pytest.raises(UpstreamError) as info:
        await make_provider().run(make_call(), None)
    assert (info.value.key, info.value.charge) == (key, charge)
    assert info.value.params["model"] == "gpt-4o-image"
    sent(gw)


async def test_http_input_moderation_is_a_refusal(
    gw: FakeGateway, make_provider: ProviderFactory
) -> None:
    gw.fail_next("input_moderation")
    with pytest.raises(Refused) as info:
        await make_provider().run(make_call(), None)
    assert info.value.charge == Charge.CHARGED
    sent(gw)


async def test_connection_refused_is_not_charged(make_provider: ProviderFactory) -> None:
    with socket.socket() as s:  # a loopback port with nobody listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(UpstreamError) as info:
        await make_provider(base_url=f"http://127.0.0.1:{port}/v1").run(make_call(), None)
    assert (info.value.key, info.value.charge) == ("upstream.network", Charge.NONE)


async def test_dropped_connection_is_unknown(
    gw: FakeGateway, make_provider: ProviderFactory
) -> None:
    gw.script(Behavior(fault=Fault.DROP))
    with pytest.raises(UpstreamError) as info:
        await make_provider().run(make_call(), None)
    assert (info.value.key, info.value.charge) == ("upstream.network", Charge.UNKNOWN)
    sent(gw)


async def test_timeout_before_the_stream_is_unknown(
    gw: FakeGateway, make_provider: ProviderFactory
) -> None:
    gw.script(Behavior(fault=Fault.HANG))
    provider = make_provider(client_kwargs={"timeout": 0.3})
    with pytest.raises(UpstreamError) as info:
        await provider.run(make_call(), None)
    assert (info.value.key, info.value.charge) == ("upstream.timeout", Charge.UNKNOWN)
    sent(gw)


async def test_list_models_and_close(gw: FakeGateway, make_provider: ProviderFactory) -> None:
    provider = make_provider()
    assert provider.demo is False
    models = await provider.list_models()
    assert {"gpt-4o-image", "gpt-4o-image-vip"} <= set(models)
    await provider.close()
    assert not provider._client.is_closed()  # the owner closes the client


# ---- a minimal local SSE server for shapes the fake gateway does not script -----------------

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _chunk(content: str | None = None, finish: str | None = None) -> str:
    delta = {} if content is None else {"content": content}
    obj = {
        "id": "chatcmpl-local",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "gpt-4o-image",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(obj, ensure_ascii=False)}\n\n"


async def _serve(handler: Handler) -> tuple[web.AppRunner, str, list[Any]]:
    calls: list[Any] = []

    async def chat(request: web.Request) -> web.StreamResponse:
        calls.append(await request.json())
        return await handler(request)

    app = web.Application()
    app.router.add_post("/v1/chat/completions", chat)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}/v1", calls


async def _sse(request: web.Request) -> web.StreamResponse:
    resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await resp.prepare(request)
    return resp


async def _cut_mid_stream(request: web.Request) -> web.StreamResponse:
    resp = await _sse(request)
    await resp.write(_chunk(">🕐 Queuing.\n\n>🏃 Progress 11...").encode())
    assert request.transport is not None
    request.transport.abort()
    return resp


async def _error_event(request: web.Request) -> web.StreamResponse:
    resp = await _sse(request)
    await resp.write(_chunk(">🕐 Queuing.\n\n").encode())
    err = {"error": {"message": "upstream busy", "type": "upstream_error", "code": "task_failed"}}
    await resp.write(f"data: {json.dumps(err)}\n\n".encode())
    await resp.write_eof()
    return resp


async def _error_json_text(request: web.Request) -> web.StreamResponse:
    resp = await _sse(request)
    for piece in _chunks(_fixture("error_json.txt"), 9):
        await resp.write(_chunk(piece).encode())
    await resp.write(_chunk(None, "stop").encode())
    await resp.write(b"data: [DONE]\n\n")
    await resp.write_eof()
    return resp


@pytest.mark.parametrize(
    ("handler", "error", "key", "charge"),
    [
        (_cut_mid_stream, UpstreamError, "upstream.network", Charge.CHARGED),
        (_error_event, UpstreamError, "upstream.generation_failed", Charge.CHARGED),
        (_error_json_text, Refused, "refused.upstream", Charge.CHARGED),
    ],
)
async def test_local_stream_shapes(
    make_provider: ProviderFactory,
    handler: Handler,
    error: type[Exception],
    key: str,
    charge: Charge,
) -> None:
    runner, base_url, calls = await _serve(handler)
    try:
        with pytest.raises(error) as info:
            await make_provider(base_url=base_url).run(make_call(), None)
        exc = info.value
        assert isinstance(exc, UpstreamError | Refused)
        assert (exc.key, exc.charge) == (key, charge)
        assert len(calls) == 1
        assert "quality" not in calls[0]
    finally:
        await runner.cleanup()
