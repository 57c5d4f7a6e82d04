"""The fake gateway's per-model rules and strict mode, each shown rejecting through the real SDK.

Every rule is one published by OpenAI (the SDK's docstrings) or the gateway; see
``tests/fakes/gateway_rules.py`` for the citation of each.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import openai
import pytest
from openai import AsyncOpenAI

from tests.fakes.gateway import FakeGateway
from tests.fakes.images import mask_png, solid_png

KEY = "sk-test-0123456789abcdWXYZ"
PNG = ("a.png", solid_png(32, 32), "image/png")


@pytest.fixture
async def gw() -> AsyncIterator[FakeGateway]:
    async with FakeGateway() as gateway:
        yield gateway


@pytest.fixture
async def client(gw: FakeGateway) -> AsyncIterator[AsyncOpenAI]:
    c = AsyncOpenAI(base_url=gw.base_url, api_key=KEY, max_retries=0)
    yield c
    await c.close()


async def rejected(call: Any) -> openai.BadRequestError:
    with pytest.raises(openai.BadRequestError) as caught:
        await call
    err = caught.value
    assert err.status_code == 400
    assert err.type == "invalid_request_error"
    return err


# -- generations ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "size"),
    [
        ("gpt-image-2", "16x16"),  # below the 655,360-pixel minimum
        ("gpt-image-2", "1008x640"),  # 645,120 pixels
        ("gpt-image-2", "1000x1000"),  # not divisible by 16
        ("gpt-image-2", "3072x1008"),  # aspect beyond 3:1
        ("gpt-image-2", "3840x2176"),  # above 3840x2160
        ("gpt-image-2.5-flare", "4096x1536"),  # edge above 3840
        ("gpt-image-2.6-sunburst", "1536x864"),  # no flexible sizes documented
        ("gpt-image-1.5", "1536x864"),
        ("gpt-image-2", "auto"),  # the gateway: no explicit "auto"
    ],
)
async def test_sizes_outside_the_model_rules(client: AsyncOpenAI, model: str, size: str) -> None:
    err = await rejected(client.images.generate(model=model, prompt="p", size=size))
    assert err.param == "size" and err.code == "size_not_supported"


@pytest.mark.parametrize(
    ("model", "size"),
    [
        ("gpt-image-2", "1024x640"),
        ("gpt-image-2", "3840x2160"),
        ("gpt-image-2.5-sunburst-2026-09-08", "1536x864"),
        ("gpt-image-2.6-flare", "1536x1024"),
    ],
)
async def test_sizes_within_the_model_rules(client: AsyncOpenAI, model: str, size: str) -> None:
    r = await client.images.generate(model=model, prompt="p", size=size)
    assert r.data and r.size == size


async def test_xhigh_and_max_only_on_the_2_5_models(client: AsyncOpenAI) -> None:
    r = await client.images.generate(model="gpt-image-2.5-sunburst", prompt="p", quality="max")
    assert r.data
    for model in ("gpt-image-2", "gpt-image-2.6-sunburst", "chatgpt-image-latest"):
        err = await rejected(client.images.generate(model=model, prompt="p", quality="xhigh"))
        assert err.param == "quality" and err.code == "invalid_value"


async def test_reverse_models_take_no_quality(client: AsyncOpenAI) -> None:
    err = await rejected(client.images.generate(model="gpt-4o-image", prompt="p", quality="high"))
    assert err.param == "quality" and err.code == "unsupported_parameter"
    r = await client.images.generate(model="gpt-4o-image-vip", prompt="p", size="1024x1536")
    assert r.data and r.usage is None  # the gateway: usage is not supported


async def test_transparent_background_needs_png_or_webp(client: AsyncOpenAI) -> None:
    err = await rejected(
        client.images.generate(
            model="gpt-image-2", prompt="p", background="transparent", output_format="jpeg"
        )
    )
    assert err.param == "background"
    r = await client.images.generate(
        model="gpt-image-2", prompt="p", background="transparent", output_format="webp"
    )
    assert r.data


async def test_output_compression_only_with_jpeg_or_webp(client: AsyncOpenAI) -> None:
    err = await rejected(
        client.images.generate(model="gpt-image-2", prompt="p", output_compression=50)
    )
    assert err.param == "output_compression"


async def test_response_format_is_unsupported_for_gpt_image_models(client: AsyncOpenAI) -> None:
    err = await rejected(
        client.images.generate(model="gpt-image-2", prompt="p", response_format="url")
    )
    assert err.param == "response_format"


async def test_strict_mode_rejects_unknown_body_parameters(
    gw: FakeGateway, client: AsyncOpenAI
) -> None:
    err = await rejected(
        client.images.generate(model="gpt-image-2", prompt="p", extra_body={"seed": 7})
    )
    assert err.param == "seed" and err.code == "unknown_parameter"
    gw.strict = False
    assert (
        await client.images.generate(model="gpt-image-2", prompt="p", extra_body={"seed": 7})
    ).data


async def test_strict_mode_on_chat_completions(client: AsyncOpenAI) -> None:
    err = await rejected(
        client.chat.completions.create(
            model="gpt-4o-image",
            messages=[{"role": "user", "content": "a fox"}],
            stream=True,
            extra_body={"quality": "high"},
        )
    )
    assert err.param == "quality"


# -- edits ----------------------------------------------------------------------------------


async def test_input_fidelity_must_be_omitted_for_gpt_image_2(client: AsyncOpenAI) -> None:
    err = await rejected(
        client.images.edit(model="gpt-image-2", prompt="p", image=PNG, input_fidelity="low")
    )
    assert err.param == "input_fidelity" and err.code == "unsupported_parameter"
    assert (await client.images.edit(model="gpt-image-2", prompt="p", image=PNG)).data


async def test_gpt_image_1_mini_takes_only_low_fidelity(client: AsyncOpenAI) -> None:
    err = await rejected(
        client.images.edit(model="gpt-image-1-mini", prompt="p", image=PNG, input_fidelity="high")
    )
    assert err.param == "input_fidelity" and err.code == "unsupported_value"
    ok = await client.images.edit(
        model="gpt-image-1-mini", prompt="p", image=PNG, input_fidelity="low"
    )
    assert ok.data
    both = await client.images.edit(
        model="gpt-image-1.5", prompt="p", image=PNG, input_fidelity="high"
    )
    assert both.data


async def test_markup_only_on_the_2_5_models_and_never_with_a_mask(client: AsyncOpenAI) -> None:
    markup = ("markup.png", mask_png(32, 32), "image/png")
    err = await rejected(
        client.images.edit(model="gpt-image-2", prompt="p", image=PNG, markup=markup)
    )
    assert err.param == "markup"
    ok = await client.images.edit(model="gpt-image-2.5-flare", prompt="p", image=PNG, markup=markup)
    assert ok.data
    both = client.images.edit(
        model="gpt-image-2.5-flare",
        prompt="p",
        image=PNG,
        markup=markup,
        mask=("mask.png", mask_png(32, 32), "image/png"),
    )
    assert (await rejected(both)).param == "markup"


async def test_at_most_16_input_images(client: AsyncOpenAI) -> None:
    err = await rejected(client.images.edit(model="gpt-image-2", prompt="p", image=[PNG] * 17))
    assert err.param == "image"
    assert (await client.images.edit(model="gpt-image-2", prompt="p", image=[PNG] * 16)).data


async def test_moderation_is_not_an_edit_parameter(client: AsyncOpenAI) -> None:
    err = await rejected(
        client.images.edit(
            model="gpt-image-2", prompt="p", image=PNG, extra_body={"moderation": "low"}
        )
    )
    assert err.param == "moderation"


async def test_models_list_names_every_model_the_rules_know(client: AsyncOpenAI) -> None:
    ids = {m.id async for m in client.models.list()}
    assert {"gpt-image-2", "gpt-image-2.5-sunburst", "gpt-image-2.6-flare"} <= ids
    assert {"chatgpt-image-latest", "gpt-4o-image"} <= ids
