"""The console survives any line: property-based over handle_line with the demo provider.

Whatever is typed — broken quotes, flags without values, paths that do not exist, control
characters — the session goes on (handle_line returns True unless the line is /quit), no
exception escapes, and the ledger still reconciles.
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from bots.console import handle_line
from core.service import ImageService
from core.types import Identity
from tests.conftest import make_settings

COMMANDS = ["/edit", "/history", "/quota", "/settings", "/help", "/imagine", "/bogus", ""]
WORDS = st.sampled_from(
    [
        '"',
        "'",
        "--",
        "--mask",
        "--n",
        "--ar",
        "--q",
        "-n",
        "x.png",
        "/dev/zero",
        "\x1b[2J",
        "\u202e",
        "q=high",
        "n=x",
        "=",
        "lang=zh",
    ]
)
LINES = st.builds(
    lambda cmd, parts, tail: " ".join([cmd, *parts, tail]).strip(),
    st.sampled_from(COMMANDS),
    st.lists(WORDS, max_size=5),
    st.text(max_size=20),
)


@settings(max_examples=40, deadline=None)
@given(st.lists(LINES, min_size=1, max_size=4))
async def test_any_line_keeps_the_session(lines: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        service = await ImageService.create(make_settings(folder, provider={"kind": "demo"}))
        identity = Identity("console", "fuzz")
        try:
            for line in lines:
                out, err = io.StringIO(), io.StringIO()
                keep = await handle_line(line, service, identity, folder / "out", out, err)
                assert keep is (line.split(" ", 1)[0] not in ("/quit", "/exit"))
                assert "Traceback" not in out.getvalue() + err.getvalue()
                assert "went wrong" not in err.getvalue(), (line, err.getvalue())
            assert await service.store.check() == []
        finally:
            await service.close()
