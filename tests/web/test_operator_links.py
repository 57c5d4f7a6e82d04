"""The links the terminal hands out: ``pixelsmith dashboard-link`` (the operator, as a
subprocess) and the console's ``/gallery``; each one opens its page once in the web companion."""

from __future__ import annotations

import asyncio
import io
import re
from pathlib import Path

from bots.console import gallery_line, handle_line
from bots.web.links import Signer
from core.types import Identity
from tests.conftest import make_settings
from tests.test_cli import pixelsmith, write_config
from tests.web.conftest import MALLORY, SECRET, Web, make_job

URL = re.compile(r"^http://web\.test(/l/\S+)$")
WEB = f"""
[web]
port = 8080
public_url = "http://web.test"
secret_key = "{SECRET}"
"""


async def _opens(webapp: Web, path: str) -> str:
    """Exchange a link like the browser does; where it led."""
    assert (await webapp.client.get(path)).status == 200
    done = await webapp.client.post(path, allow_redirects=False)
    assert done.status == 303, await done.text()
    return done.headers["Location"]


async def test_dashboard_link_opens_one_communitys_dashboard_once(
    tmp_path: Path, webapp: Web
) -> None:
    await make_job(webapp.service, MALLORY, "a kite over the bay")  # community 777
    config = write_config(tmp_path / "on", "http://127.0.0.1:9/v1", extra=WEB)
    off = write_config(tmp_path / "off", "http://127.0.0.1:9/v1")
    good, bad, not_on = await asyncio.gather(
        pixelsmith(tmp_path, "dashboard-link", "discord:777", config=config),
        pixelsmith(tmp_path, "dashboard-link", "777", config=config),
        pixelsmith(tmp_path, "dashboard-link", "discord:777", config=off),
    )
    assert good.code == 0, good.err
    [line] = good.lines
    found = URL.match(line)
    assert found is not None, line
    assert "15 minutes" in good.err and "once" in good.err
    grant = Signer(SECRET).open("link", found[1].removeprefix("/l/"))
    assert grant is not None and grant.admin and grant.purpose == "dashboard"
    assert (grant.platform, grant.community_id) == ("discord", "777")

    assert await _opens(webapp, found[1]) == "/dashboard"
    page = await webapp.client.get("/dashboard")
    assert page.status == 200
    days = (await (await webapp.client.get("/api/dashboard/daily")).json())["days"]
    assert sum(d["jobs"] for d in days) == 1  # community 777's job, and only that community's
    assert (await webapp.client.get(found[1])).status == 403  # used up

    assert (bad.code, bad.out) == (2, "")
    assert "discord:<server id>" in bad.err
    assert (not_on.code, not_on.out) == (2, "")
    assert "web.port" in not_on.err and "PIXELSMITH_SECRET_KEY" in not_on.err


async def test_the_consoles_gallery_prints_a_link_to_my_images(tmp_path: Path, webapp: Web) -> None:
    me = Identity("console", "bob", locale="en", is_admin=True)
    out, err = io.StringIO(), io.StringIO()
    for line in ("/imagine a lighthouse at dusk", "/gallery"):
        assert await handle_line(line, webapp.service, me, tmp_path / "shots", out, err)
    await make_job(webapp.service, Identity("console", "eve"), "eve's own picture")
    [link] = [w for w in out.getvalue().split() if w.startswith("http://web.test/l/")]
    assert "15 minutes" in out.getvalue()
    assert await _opens(webapp, link.removeprefix("http://web.test")) == "/gallery"
    page = await (await webapp.client.get("/gallery")).text()
    assert "a lighthouse at dusk" in page and "eve&#39;s own picture" not in page
    assert re.search(r"\beve\b", page.split("<main>")[1]) is None  # nothing of eve's


def test_the_consoles_gallery_says_when_the_web_companion_is_off(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, web={"secret_key": SECRET})  # no web.port
    for locale in ("en", "zh"):
        line = gallery_line(settings, Identity("console", "bob", locale=locale))
        assert "web.port" in line and "/l/" not in line
