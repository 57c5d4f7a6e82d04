"""The fake gateway, driven by the real ``openai`` SDK (AsyncOpenAI over httpx2, loopback only).

These tests pin the wire format the fake speaks *and* how the SDK surfaces each answer, which is
what the image provider has to handle.
"""

from __future__ import annotations

import base64
import json
import re
import ssl
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import openai
import pytest
from openai import AsyncOpenAI

from tests.fakes.gateway import (
    ERRORS,
    Behavior,
    ChatVariant,
    FakeGateway,
    Fault,
    FileMode,
    GatewayError,
)
from tests.fakes.images import jpeg_bytes, mask_png, sniff, solid_png

KEY = "sk-test-0123456789abcdWXYZ"

# Building an SSL context is ~35 ms per client; nothing here uses TLS, so share one.
_SSL = ssl.create_default_context()


def make_client(gw: FakeGateway, api_key: str = KEY, **kwargs: object) -> AsyncOpenAI:
    return AsyncOpenAI(
        base_url=gw.base_url,
        api_key=api_key,
        max_retries=0,
        http_client=openai.DefaultAsyncHttpxClient(verify=_SSL, timeout=10),
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.fixture
async def gw() -> AsyncIterator[FakeGateway]:
    async with FakeGateway() as gateway:
        yield gateway


@pytest.fixture
async def client(gw: FakeGateway) -> AsyncIterator[AsyncOpenAI]:
    c = make_client(gw)
    yield c
    await c.close()


def decode(b64: str | None) -> tuple[str, int, int]:
    assert b64
    info = sniff(base64.b64decode(b64))
    assert info is not None
    return info


async def fetch(url: str) -> tuple[int, str, bytes, dict[str, str]]:
    async with (
        aiohttp.ClientSession() as s,
        s.get(url, allow_redirects=False) as r,
    ):
        return r.status, r.content_type, await r.read(), dict(r.headers)


async def chat_text(
    client: AsyncOpenAI, model: str = "gpt-4o-image", prompt: str = "a cat, 2:3"
) -> str:
    stream = await client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": [{"type": "text", "text": prompt}]}],
        stream=True,
    )
    text = ""
    async for chunk in stream:
        assert chunk.object == "chat.completion.chunk"
        if chunk.choices and chunk.choices[0].delta.content:
            text += chunk.choices[0].delta.content
    return text


IMAGE_LINK = re.compile(r"!\[([^\]]*)\]\(\s*(\S+?)\s*\)")

# ------------------------------------------------------------------------------------------
# success
# ------------------------------------------------------------------------------------------


async def test_generate_returns_png_of_requested_size_and_usage(
    gw: FakeGateway, client: AsyncOpenAI
) -> None:
    r = await client.images.generate(
        model="gpt-image-1", prompt="a red fox", size="1024x1536", quality="high"
    )
    assert r.data and len(r.data) == 1
    assert decode(r.data[0].b64_json) == ("PNG", 1024, 1536)
    assert r.usage is not None
    assert r.usage.output_tokens == 6240
    assert r.usage.input_tokens == r.usage.input_tokens_details.text_tokens > 0
    assert r.usage.input_tokens_details.image_tokens == 0
    assert r.usage.total_tokens == r.usage.input_tokens + r.usage.output_tokens
    assert r.size == "1024x1536" and r.quality == "high"

    call = gw.calls_to("/v1/images/generations")[0]
    assert call.json == {
        "model": "gpt-image-1",
        "prompt": "a red fox",
        "size": "1024x1536",
        "quality": "high",
    }
    assert call.stream is False and call.status == 200
    assert call.has_key and call.key_last4 == "WXYZ"
    assert "Authorization" not in call.headers and "authorization" not in call.headers
    assert KEY not in repr(gw.calls)


@pytest.mark.parametrize(
    ("quality", "size", "tokens"),
    [
        ("low", "1024x1024", 272),
        ("low", "1024x1536", 408),
        ("low", "1536x1024", 400),
        ("medium", "1024x1024", 1056),
        ("medium", "1024x1536", 1584),
        ("medium", "1536x1024", 1568),
        ("high", "1024x1024", 4160),
        ("high", "1024x1536", 6240),
        ("high", "1536x1024", 6208),
        ("auto", "1024x1024", 1056),
        (None, None, 1056),
    ],
)
async def test_output_tokens_per_quality_and_size(
    client: AsyncOpenAI, quality: str | None, size: str | None, tokens: int
) -> None:
    kwargs: dict[str, Any] = {"quality": quality, "size": size}
    kwargs = {k: v for k, v in kwargs.items() if v is not None}
    r = await client.images.generate(model="gpt-image-1", prompt="p", n=2, **kwargs)
    assert r.usage is not None and r.usage.output_tokens == 2 * tokens
    assert r.data is not None and len(r.data) == 2
    w, h = (int(x) for x in (size or "1024x1024").split("x"))
    assert decode(r.data[1].b64_json) == ("PNG", w, h)


async def test_fewer_images_than_asked(gw: FakeGateway, client: AsyncOpenAI) -> None:
    gw.script(Behavior(return_n=2))
    r = await client.images.generate(model="gpt-image-1", prompt="p", n=4)
    assert r.data is not None and len(r.data) == 2
    assert r.usage is not None and r.usage.output_tokens == 2 * 1056
    # the queue is consumed: the next call is back to the default
    r = await client.images.generate(model="gpt-image-1", prompt="p", n=4)
    assert r.data is not None and len(r.data) == 4


async def test_blocked_terms_refuse_single_and_thin_out_multi(client: AsyncOpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as ei:
        await client.images.generate(model="gpt-image-1", prompt="in the style of Hayao Miyazaki")
    assert ei.value.code == "moderation_blocked"
    r = await client.images.generate(model="gpt-image-1", prompt="Hayao Miyazaki style", n=3)
    assert r.data is not None and len(r.data) == 2


async def test_url_mode_for_reverse_models(gw: FakeGateway, client: AsyncOpenAI) -> None:
    gw.script(Behavior(response_format="url"))
    r = await client.images.generate(model="gpt-4o-image-vip", prompt="p", size="1536x1024")
    assert r.usage is None and r.data is not None
    assert r.data[0].b64_json is None and r.data[0].url
    assert r.data[0].url.startswith(gw.origin + "/files/")
    status, ctype, body, _ = await fetch(r.data[0].url)
    assert (status, ctype) == (200, "image/png")
    assert sniff(body) == ("PNG", 1536, 1024)
    # reverse models through the images API: b64 but no usage by default
    r = await client.images.generate(model="gpt-4o-image", prompt="p")
    assert r.usage is None and r.data is not None and r.data[0].b64_json


async def test_big_payload(gw: FakeGateway, client: AsyncOpenAI) -> None:
    gw.script(Behavior(big=True))
    r = await client.images.generate(model="gpt-image-1", prompt="p")
    assert r.data is not None
    raw = base64.b64decode(r.data[0].b64_json or "")
    assert len(raw) > 3_000_000
    assert sniff(raw) == ("PNG", 1024, 1024)


async def test_latency_behaviour_still_answers(gw: FakeGateway, client: AsyncOpenAI) -> None:
    gw.default = Behavior(latency_s=0.05)
    r = await client.images.generate(model="gpt-image-1", prompt="p")
    assert r.data


# ------------------------------------------------------------------------------------------
# streaming images
# ------------------------------------------------------------------------------------------


async def test_generate_stream_partials_then_completed(
    gw: FakeGateway, client: AsyncOpenAI
) -> None:
    stream = await client.images.generate(
        model="gpt-image-1",
        prompt="p",
        stream=True,
        partial_images=2,
        size="1536x1024",
        quality="low",
        safety_identifier="u-hash",
    )
    events = [e async for e in stream]
    assert [e.type for e in events] == [
        "image_generation.partial_image",
        "image_generation.partial_image",
        "image_generation.completed",
    ]
    first, second, done = events
    assert isinstance(first, openai.types.ImageGenPartialImageEvent)
    assert isinstance(second, openai.types.ImageGenPartialImageEvent)
    assert (first.partial_image_index, second.partial_image_index) == (0, 1)
    assert first.size == "1536x1024" and first.quality == "low" and first.output_format == "png"
    assert isinstance(done, openai.types.ImageGenCompletedEvent)
    assert decode(done.b64_json) == ("PNG", 1536, 1024)
    assert done.usage.output_tokens == 400
    assert done.safety_identifier == "u-hash"
    call = gw.last_call
    assert call.stream is True and call.json["partial_images"] == 2


async def test_stream_with_zero_partials_sends_only_completed(client: AsyncOpenAI) -> None:
    stream = await client.images.generate(model="gpt-image-1", prompt="p", stream=True)
    assert [e.type async for e in stream] == ["image_generation.completed"]


async def test_stream_unsupported_then_plain_fallback(gw: FakeGateway, client: AsyncOpenAI) -> None:
    gw.script(Behavior(fault=Fault.STREAM_UNSUPPORTED), Behavior(fault=Fault.STREAM_UNSUPPORTED))
    with pytest.raises(openai.BadRequestError) as ei:
        await client.images.generate(model="gpt-image-1", prompt="p", stream=True)
    assert ei.value.param == "stream" and ei.value.code == "unknown_parameter"
    # the behaviour only bites when a stream is asked for
    r = await client.images.generate(model="gpt-image-1", prompt="p")
    assert r.data
    assert [c.stream for c in gw.calls] == [True, False]


async def test_stream_ignored_by_gateway_yields_no_events(
    gw: FakeGateway, client: AsyncOpenAI
) -> None:
    """A gateway that answers JSON to stream=true: the SDK's SSE parser yields nothing, no error."""
    gw.script(Behavior(fault=Fault.STREAM_IGNORED))
    stream = await client.images.generate(model="gpt-image-1", prompt="p", stream=True)
    assert [e async for e in stream] == []


async def test_error_event_inside_stream_is_a_bare_api_error(
    gw: FakeGateway, client: AsyncOpenAI
) -> None:
    gw.script(Behavior(fault=Fault.STREAM_ERROR, error=ERRORS["moderation_blocked_output"]))
    stream = await client.images.generate(
        model="gpt-image-1", prompt="p", stream=True, partial_images=1
    )
    seen: list[str] = []
    with pytest.raises(openai.APIError) as ei:
        async for e in stream:
            seen.append(e.type)  # noqa: PERF401 - the events before the error are the point
    assert seen == ["image_generation.partial_image"]
    err = ei.value
    assert not isinstance(err, openai.APIStatusError)  # no status_code on an in-stream error
    assert err.code == "moderation_blocked"
    assert isinstance(err.body, dict)
    assert err.body["moderation_details"]["moderation_stage"] == "output"


async def test_stream_cut_is_a_connection_error(gw: FakeGateway, client: AsyncOpenAI) -> None:
    gw.script(Behavior(fault=Fault.STREAM_CUT))
    stream = await client.images.generate(
        model="gpt-image-1", prompt="p", stream=True, partial_images=1
    )
    seen: list[str] = []
    with pytest.raises(openai.APIConnectionError):
        async for e in stream:
            seen.append(e.type)  # noqa: PERF401 - the events before the error are the point
    assert seen == ["image_generation.partial_image"]


# ------------------------------------------------------------------------------------------
# edits
# ------------------------------------------------------------------------------------------


async def test_edit_several_images_and_mask(gw: FakeGateway, client: AsyncOpenAI) -> None:
    r = await client.images.edit(
        model="gpt-image-1",
        prompt="merge them",
        image=[
            ("a.png", solid_png(64, 48), "image/png"),
            ("b.jpg", jpeg_bytes(32, 32), "image/jpeg"),
        ],
        mask=("mask.png", mask_png(64, 48), "image/png"),
        size="1024x1024",
        quality="low",
        input_fidelity="high",
    )
    assert r.data is not None and decode(r.data[0].b64_json) == ("PNG", 1024, 1024)
    assert r.usage is not None
    assert r.usage.input_tokens_details.image_tokens > 0
    assert r.usage.output_tokens == 272

    call = gw.calls_to("/v1/images/edits")[0]
    assert [
        (f.field, f.filename, f.content_type, f.format, f.width, f.height) for f in call.files
    ] == [
        ("image[]", "a.png", "image/png", "PNG", 64, 48),
        ("image[]", "b.jpg", "image/jpeg", "JPEG", 32, 32),
        ("mask", "mask.png", "image/png", "PNG", 64, 48),
    ]
    assert all(f.size > 0 for f in call.files)
    assert call.form == {
        "model": "gpt-image-1",
        "prompt": "merge them",
        "size": "1024x1024",
        "quality": "low",
        "input_fidelity": "high",
    }
    assert call.params is call.form and call.stream is False


async def test_edit_single_image_uses_plain_field_name(
    gw: FakeGateway, client: AsyncOpenAI
) -> None:
    await client.images.edit(
        model="gpt-image-1", prompt="p", image=("x.png", solid_png(16, 16), "image/png")
    )
    assert [f.field for f in gw.last_call.files] == ["image"]


async def test_edit_mask_size_mismatch_is_rejected(client: AsyncOpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as ei:
        await client.images.edit(
            model="gpt-image-1",
            prompt="p",
            image=("x.png", solid_png(64, 64), "image/png"),
            mask=("m.png", mask_png(32, 32), "image/png"),
        )
    assert ei.value.param == "mask"


async def test_edit_stream(gw: FakeGateway, client: AsyncOpenAI) -> None:
    stream = await client.images.edit(
        model="gpt-image-1",
        prompt="p",
        image=[("a.png", solid_png(20, 20), "image/png")],
        stream=True,
        partial_images=1,
    )
    events = [e async for e in stream]
    assert [e.type for e in events] == ["image_edit.partial_image", "image_edit.completed"]
    assert isinstance(events[-1], openai.types.ImageEditCompletedEvent)
    assert decode(events[-1].b64_json) == ("PNG", 1024, 1024)
    assert gw.last_call.stream is True and gw.last_call.form["stream"] == "true"


async def test_edit_rejects_moderation_param(client: AsyncOpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as ei:
        await client.images.edit(
            model="gpt-image-1",
            prompt="p",
            image=("a.png", solid_png(8, 8), "image/png"),
            extra_body={"moderation": "low"},
        )
    assert ei.value.param == "moderation"


# ------------------------------------------------------------------------------------------
# errors
# ------------------------------------------------------------------------------------------

EXC_BY_STATUS = {
    400: openai.BadRequestError,
    401: openai.AuthenticationError,
    403: openai.PermissionDeniedError,
    404: openai.NotFoundError,
    429: openai.RateLimitError,
    500: openai.InternalServerError,
    502: openai.InternalServerError,
    503: openai.InternalServerError,
}


@pytest.mark.parametrize("name", sorted(ERRORS))
async def test_every_named_error_surfaces_in_the_sdk(
    gw: FakeGateway, client: AsyncOpenAI, name: str
) -> None:
    err = ERRORS[name]
    gw.script(Behavior(error=err))
    with pytest.raises(openai.APIStatusError) as ei:
        await client.images.generate(model="gpt-image-x", prompt="p")
    e = ei.value
    assert type(e) is EXC_BY_STATUS[err.status]
    assert e.status_code == err.status
    assert e.code == err.code
    if err.raw_body is not None:
        assert e.body == err.raw_body.decode()  # non-JSON error: body is the text
        assert str(e) == f"Error code: {err.status}"
    else:
        assert e.body == err.error_object("gpt-image-x")
        assert e.type == err.type and e.param == err.param
        assert str(e) == f"Error code: {err.status} - {err.error_object('gpt-image-x')['message']}"
        assert "{model}" not in e.message
    for header, value in err.headers.items():
        assert e.response.headers[header] == value
    assert gw.last_call.status == err.status


def test_error_table_rows_are_all_present() -> None:
    codes = {e.code for e in ERRORS.values()}
    for code in (
        "moderation_blocked",
        "content_policy_violation",
        "prompt_too_long",
        "size_not_supported",
        "n_not_within_range",
        "prompt_missing",
        "invalid_value",
        "billing_hard_limit_reached",
        "insufficient_user_quota",
        "model_not_found",
        "insufficient_quota",
        "rate_limit_exceeded",
        "input_moderation",
    ):
        assert code in codes
    statuses = {(e.status, e.code is None) for e in ERRORS.values()}
    for row in [
        (400, True),
        (401, False),
        (403, True),
        (429, True),
        (500, True),
        (502, False),
        (503, True),
    ]:
        assert row in statuses
    assert any(e.extra.get("moderation_details") for e in ERRORS.values())
    assert ERRORS["model_not_found_503"].status == 503
    for e in ERRORS.values():
        if e.raw_body is None:
            assert list(e.body()["error"])[:4] == ["message", "type", "param", "code"]


async def test_error_body_shape_on_the_wire(gw: FakeGateway) -> None:
    gw.fail_next("moderation_blocked")
    async with (
        aiohttp.ClientSession() as s,
        s.post(gw.base_url + "/images/generations", json={"prompt": "p"}) as r,
    ):
        assert r.status == 400
        assert await r.json() == {
            "error": {
                "message": ERRORS["moderation_blocked"].message,
                "type": "user_error",
                "param": None,
                "code": "moderation_blocked",
            }
        }


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"size": "auto"}, "size_not_supported"),
        ({"size": "800x600"}, "size_not_supported"),
        ({"n": 11}, "n_not_within_range"),
        ({"prompt": ""}, "prompt_missing"),
        ({"prompt": "x" * 32001}, "prompt_too_long"),
        ({"quality": "ultra"}, "invalid_value"),
    ],
)
async def test_validation_like_the_gateway(
    client: AsyncOpenAI, kwargs: dict[str, Any], code: str
) -> None:
    args = {"model": "gpt-image-1", "prompt": "p", **kwargs}
    with pytest.raises(openai.BadRequestError) as ei:
        await client.images.generate(**args)
    assert ei.value.code == code


async def test_newer_models_accept_arbitrary_sizes(client: AsyncOpenAI) -> None:
    r = await client.images.generate(model="gpt-image-2", prompt="p", size="1536x864")
    assert r.data is not None and decode(r.data[0].b64_json) == ("PNG", 1536, 864)


async def test_unknown_model_only_when_configured(gw: FakeGateway, client: AsyncOpenAI) -> None:
    r = await client.images.generate(model="anything-goes", prompt="p")
    assert r.data
    gw.served_models = {"gpt-image-2"}
    with pytest.raises(openai.NotFoundError) as ei:
        await client.images.generate(model="gpt-image-1", prompt="p")
    assert ei.value.code == "model_not_found" and "gpt-image-1" in ei.value.message
    gw.unknown_model_error = ERRORS["model_not_found_503"]
    with pytest.raises(openai.InternalServerError) as ei2:
        await client.images.generate(model="gpt-image-1", prompt="p")
    assert ei2.value.status_code == 503 and ei2.value.code == "model_not_found"
    models = [m.id async for m in client.models.list()]
    assert models == ["gpt-image-2"]


async def test_models_default_list(client: AsyncOpenAI) -> None:
    ids = [m.id async for m in client.models.list()]
    assert "gpt-image-1" in ids and "gpt-4o-image-vip" in ids


async def test_wrong_key_when_a_key_is_configured(gw: FakeGateway, client: AsyncOpenAI) -> None:
    gw.api_key = "sk-the-right-one"
    with pytest.raises(openai.AuthenticationError) as ei:
        await client.images.generate(model="gpt-image-1", prompt="p")
    assert ei.value.code == "invalid_api_key"
    good = make_client(gw, api_key="sk-the-right-one")
    assert (await good.images.generate(model="gpt-image-1", prompt="p")).data
    await good.close()


async def test_custom_error_with_extras(gw: FakeGateway, client: AsyncOpenAI) -> None:
    custom = GatewayError(418, "teapot", "short and stout", type="odd", extra={"hint": [1, 2]})
    gw.script(Behavior(error=custom))
    with pytest.raises(openai.APIStatusError) as ei:
        await client.images.generate(model="m", prompt="p")
    assert ei.value.status_code == 418 and ei.value.body == {
        "message": "short and stout",
        "type": "odd",
        "param": None,
        "code": "teapot",
        "hint": [1, 2],
    }


# ------------------------------------------------------------------------------------------
# malformed answers and transport faults
# ------------------------------------------------------------------------------------------


async def test_garbage_json_body_raises_a_plain_value_error(
    gw: FakeGateway, client: AsyncOpenAI
) -> None:
    """SDK surprise: a 200 'application/json' body that is not JSON is json.JSONDecodeError,
    NOT an openai.OpenAIError. Providers must catch ValueError too."""
    gw.script(Behavior(fault=Fault.GARBAGE))
    with pytest.raises(json.JSONDecodeError):
        await client.images.generate(model="gpt-image-1", prompt="p")


async def test_garbage_html_body_is_returned_as_str(gw: FakeGateway, client: AsyncOpenAI) -> None:
    """SDK surprise: a 200 text/html body is returned as a str instead of an ImagesResponse."""
    gw.script(Behavior(fault=Fault.GARBAGE_HTML))
    r = await client.images.generate(model="gpt-image-1", prompt="p")
    assert isinstance(r, str) and "<html>" in r


async def test_strict_client_turns_garbage_into_validation_error(gw: FakeGateway) -> None:
    strict = make_client(gw, _strict_response_validation=True)
    gw.script(Behavior(fault=Fault.GARBAGE_HTML))
    with pytest.raises(openai.APIResponseValidationError):
        await strict.images.generate(model="gpt-image-1", prompt="p")
    await strict.close()


@pytest.mark.parametrize("fault", [Fault.EMPTY_DATA, Fault.NO_DATA])
async def test_empty_or_missing_data(gw: FakeGateway, client: AsyncOpenAI, fault: str) -> None:
    gw.script(Behavior(fault=fault))
    r = await client.images.generate(model="gpt-image-1", prompt="p")
    assert not r.data


@pytest.mark.parametrize("fault", [Fault.DROP, Fault.RESET_MID_BODY])
async def test_dropped_or_reset_connection(
    gw: FakeGateway, client: AsyncOpenAI, fault: str
) -> None:
    gw.script(Behavior(fault=fault))
    with pytest.raises(openai.APIConnectionError) as ei:
        await client.images.generate(model="gpt-image-1", prompt="p")
    assert not isinstance(ei.value, openai.APITimeoutError)
    # the call reached the gateway (and is billed): it is recorded
    assert len(gw.calls_to("/v1/images/generations")) == 1


async def test_hang_gives_client_timeout(gw: FakeGateway, client: AsyncOpenAI) -> None:
    gw.script(Behavior(fault=Fault.HANG))
    with pytest.raises(openai.APITimeoutError):
        await client.images.generate(model="gpt-image-1", prompt="p", timeout=0.2)
    assert gw.last_call.status is None
    # the fake still serves other calls
    assert (await client.images.generate(model="gpt-image-1", prompt="p")).data


# ------------------------------------------------------------------------------------------
# chat completions (reverse models)
# ------------------------------------------------------------------------------------------


async def test_chat_stream_normal(gw: FakeGateway, client: AsyncOpenAI) -> None:
    text = await chat_text(client)
    assert text.startswith("```json\n")
    echoed = json.loads(text.split("```json\n", 1)[1].split("\n```", 1)[0])
    assert echoed == {"prompt": "a cat, 2:3", "ratio": "2:3"}
    for marker in (
        ">🕐 Queuing.",
        ">⚡ Generating.....",
        ">🏃 Progress 11",
        "> ✅ Generation complete",
    ):
        assert marker in text
    assert "[Click to download](" in text
    after = text.split("Generation complete", 1)[1]
    links = IMAGE_LINK.findall(after)
    assert len(links) == 1 and links[0][0].startswith("gen_")
    status, ctype, body, _ = await fetch(links[0][1])
    assert (status, ctype) == (200, "image/png") and sniff(body) == ("PNG", 1024, 1536)
    # the preview link in the progress line is a different, small image
    preview = re.search(r"\[100\]\((\S+)\)", text)
    assert preview and preview.group(1) != links[0][1]
    call = gw.calls_to("/v1/chat/completions")[0]
    assert call.stream is True and call.model == "gpt-4o-image"


async def test_chat_stream_vip_has_two_images(client: AsyncOpenAI) -> None:
    text = await chat_text(client, model="gpt-4o-image-vip")
    assert "64...." in text or "64..." in text
    assert len(IMAGE_LINK.findall(text.split("Generation complete", 1)[1])) == 2


async def test_chat_stream_split_deltas_concatenate_to_same_shape(
    gw: FakeGateway, client: AsyncOpenAI
) -> None:
    gw.script(Behavior(chat=ChatVariant.SPLIT))
    text = await chat_text(client)
    assert "> ✅ Generation complete" in text
    assert len(IMAGE_LINK.findall(text.split("Generation complete", 1)[1])) == 1


async def test_chat_stream_whitespace_variant(gw: FakeGateway, client: AsyncOpenAI) -> None:
    gw.script(Behavior(chat=ChatVariant.WHITESPACE))
    text = await chat_text(client)
    assert "\r\n" in text and "Generation complete" in text
    links = IMAGE_LINK.findall(text.split("Generation complete", 1)[1])
    assert len(links) == 1
    status, _, body, _ = await fetch(links[0][1])
    assert status == 200 and sniff(body) is not None


@pytest.mark.parametrize(
    ("variant", "needle"),
    [
        (ChatVariant.NO_IMAGE, "Generation complete"),
        (ChatVariant.INPUT_MODERATION, "input_moderation"),
        (ChatVariant.FAILED_CN, "生成失败"),
    ],
)
async def test_chat_stream_failures_as_text(
    gw: FakeGateway, client: AsyncOpenAI, variant: str, needle: str
) -> None:
    gw.script(Behavior(chat=variant))
    text = await chat_text(client)
    assert needle in text
    assert not IMAGE_LINK.findall(text)


async def test_chat_blocked_term_becomes_input_moderation(client: AsyncOpenAI) -> None:
    text = await chat_text(client, prompt="portrait by Makoto Shinkai")
    assert "input_moderation" in text and not IMAGE_LINK.findall(text)


async def test_chat_stream_error_chunk_is_api_error(gw: FakeGateway, client: AsyncOpenAI) -> None:
    gw.script(Behavior(chat=ChatVariant.INPUT_MODERATION_ERROR))
    with pytest.raises(openai.APIError) as ei:
        await chat_text(client)
    assert not isinstance(ei.value, openai.APIStatusError)
    assert ei.value.code == "input_moderation"


async def test_chat_stream_image_url_serves_html(gw: FakeGateway, client: AsyncOpenAI) -> None:
    gw.script(Behavior(chat=ChatVariant.HTML_IMAGE))
    text = await chat_text(client)
    url = IMAGE_LINK.findall(text.split("Generation complete", 1)[1])[0][1]
    assert url.endswith(".png")
    status, ctype, body, _ = await fetch(url)
    assert status == 200 and ctype == "text/html" and sniff(body) is None


async def test_chat_stream_stall_times_out(gw: FakeGateway, client: AsyncOpenAI) -> None:
    gw.script(Behavior(chat=ChatVariant.STALL))
    stream = await client.chat.completions.create(
        model="gpt-4o-image",
        messages=[{"role": "user", "content": "p"}],
        stream=True,
        timeout=0.3,
    )
    text = ""
    with pytest.raises(openai.APITimeoutError):
        async for chunk in stream:
            text += chunk.choices[0].delta.content or ""
    assert "Queuing" in text and "Generation complete" not in text


async def test_chat_stream_without_done_ends_quietly_or_errors(
    gw: FakeGateway, client: AsyncOpenAI
) -> None:
    gw.script(Behavior(chat=ChatVariant.NO_DONE))
    text = ""
    with pytest.raises(openai.APIConnectionError):
        stream = await client.chat.completions.create(
            model="gpt-4o-image", messages=[{"role": "user", "content": "p"}], stream=True
        )
        async for chunk in stream:
            text += chunk.choices[0].delta.content or ""
    assert "Generation complete" in text


async def test_chat_non_streaming(client: AsyncOpenAI) -> None:
    r = await client.chat.completions.create(
        model="gpt-4o-image", messages=[{"role": "user", "content": "p"}]
    )
    content = r.choices[0].message.content or ""
    assert "Generation complete" in content and IMAGE_LINK.search(content)


# ------------------------------------------------------------------------------------------
# /files modes
# ------------------------------------------------------------------------------------------


async def test_file_modes(gw: FakeGateway, client: AsyncOpenAI) -> None:
    urls: dict[str, str] = {}
    for mode in (FileMode.REDIRECT, FileMode.HUGE, FileMode.NOT_FOUND):
        gw.script(Behavior(response_format="url", file_mode=mode, huge_bytes=5_000_000))
        r = await client.images.generate(model="gpt-4o-image", prompt="p")
        assert r.data and r.data[0].url
        urls[mode] = r.data[0].url

    status, _, _, headers = await fetch(urls[FileMode.REDIRECT])
    assert status == 302 and headers["Location"].startswith(gw.origin)
    assert not any("redirected" in h for h in gw.file_hits)  # not followed

    async with aiohttp.ClientSession() as s, s.get(urls[FileMode.HUGE]) as resp:
        assert resp.status == 200 and resp.content_length == 5_000_000
        head = await resp.content.read(8)
        assert head == b"\x89PNG\r\n\x1a\n"

    status, _, _, _ = await fetch(urls[FileMode.NOT_FOUND])
    assert status == 404
