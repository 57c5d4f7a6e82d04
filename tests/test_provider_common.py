"""What both providers share, written once: "did it reach the gateway?", the output image reader,
the downloader. Each is driven through both providers where a provider decides with it."""

from __future__ import annotations

import httpx2
import openai
import pytest

from core.errors import Charge, UpstreamError
from core.images import read_output
from core.providers.base import nothing_sent
from core.providers.chat_stream import ChatStreamProvider
from core.providers.images_api import map_sdk_error
from tests.fakes.images import jpeg_bytes, solid_png

REQUEST = httpx2.Request("POST", "http://127.0.0.1:9/v1/images/generations")


def wrapped(cause: BaseException, *, via_context: bool = False) -> openai.APIConnectionError:
    """The SDK's error with the transport error behind it, as the SDK chains it."""
    err = openai.APIConnectionError(request=REQUEST)
    if via_context:
        err.__context__ = cause
    else:
        err.__cause__ = cause
    return err


NOT_SENT = [
    httpx2.ConnectError("refused"),
    httpx2.ConnectTimeout("slow connect"),
    httpx2.PoolTimeout("no free connection"),  # waited for a connection: nothing written
]
SENT = [httpx2.ReadTimeout("no answer"), httpx2.RemoteProtocolError("reset"), OSError("x")]


@pytest.mark.parametrize("cause", NOT_SENT, ids=lambda e: type(e).__name__)
@pytest.mark.parametrize("via_context", [False, True])
def test_not_sent_is_charged_nothing_by_both_providers(
    cause: BaseException, via_context: bool
) -> None:
    err = wrapped(cause, via_context=via_context)
    assert nothing_sent(err)
    assert map_sdk_error(err, model="m", prompt="p").charge == Charge.NONE
    assert ChatStreamProvider._transport_error(err, model="m").charge == Charge.NONE


@pytest.mark.parametrize("cause", SENT, ids=lambda e: type(e).__name__)
def test_sent_is_an_unknown_charge_for_both_providers(cause: BaseException) -> None:
    err = wrapped(cause)
    assert not nothing_sent(err)
    assert map_sdk_error(err, model="m", prompt="p").charge == Charge.UNKNOWN
    assert ChatStreamProvider._transport_error(err, model="m").charge == Charge.UNKNOWN


def test_a_deep_chain_and_a_loop_are_walked_safely() -> None:
    inner = httpx2.PoolTimeout("pool")
    middle = RuntimeError("middle")
    middle.__cause__ = inner
    assert nothing_sent(wrapped(middle))
    looped = RuntimeError("a")
    looped.__context__ = looped
    assert not nothing_sent(looped)


def test_read_output_names_formats_by_content() -> None:
    png = read_output(solid_png(30, 20))
    assert png is not None and (png.mime, png.width, png.height) == ("image/png", 30, 20)
    jpg = read_output(jpeg_bytes(8, 6))
    assert jpg is not None and jpg.mime == "image/jpeg"
    assert read_output(b"GIF89a" + b"\0" * 64) is None  # not an output format
    assert read_output(b"<html>nope</html>") is None
    truncated = solid_png(64, 64)[:-30]
    assert read_output(truncated, decode=True) is None


async def test_download_failures_are_charged_download_failures() -> None:
    from core.providers.base import download_image

    with pytest.raises(UpstreamError) as caught:
        await download_image(
            None, "http://x/a.png", allowed_hosts=None, max_bytes=10, timeout_s=1, model="m"
        )
    assert caught.value.key == "upstream.download_failed"
    assert caught.value.charge == Charge.CHARGED
