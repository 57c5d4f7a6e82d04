"""The web companion's security model over HTTP: links, sessions, CSRF, headers, tenancy."""

from __future__ import annotations

import base64
import json
import time
from dataclasses import replace
from typing import Any

import aiohttp
import pytest

from bots.web.links import Grant, Signer
from core.config import Settings
from core.errors import ConfigError
from tests.web.conftest import ALICE, MALLORY, SECRET, Web, make_job

FORBIDDEN_TEXT = "This link cannot be used"
MEMBER_PAGES = ["/gallery", "/edit/1", "/img/1/0", "/api/tasks/abc", "/dashboard"]


def _tamper(path: str, claims: dict[str, Any]) -> str:
    """The same link with its claims changed (the MAC no longer matches)."""
    token = path.removeprefix("/l/")
    payload, mac = token.split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data.update(claims)
    raw = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    return f"/l/{raw}.{mac}"


async def _is_forbidden(webapp: Web, method: str, path: str, **kw: Any) -> None:
    answer = await webapp.client.request(method, path, allow_redirects=False, **kw)
    assert answer.status == 403, (path, answer.status)
    assert "Set-Cookie" not in answer.headers
    assert FORBIDDEN_TEXT in await answer.text()


async def test_a_link_opens_once_and_sets_a_strict_session_cookie(webapp: Web) -> None:
    path = webapp.link(ALICE, "gallery")
    page = await webapp.client.get(path)
    assert page.status == 200
    assert "Set-Cookie" not in page.headers  # a link preview's GET uses nothing up
    assert 'method="post"' in await page.text()
    done = await webapp.client.post(path, allow_redirects=False)
    assert done.status == 303 and done.headers["Location"] == "/gallery"
    cookie = done.headers["Set-Cookie"]
    assert cookie.startswith("pixelsmith_session=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain http in development; see the https test
    assert (await webapp.client.get("/gallery")).status == 200
    # the same link again, either way: 403 and nothing else
    await _is_forbidden(webapp, "GET", path)
    await _is_forbidden(webapp, "POST", path)


async def test_behind_https_the_cookie_is_secure_and_host_only(web_factory: Any) -> None:
    webapp = await web_factory(web={"public_url": "https://px.example.org"})
    done = await webapp.client.post(webapp.link(ALICE), allow_redirects=False)
    cookie = done.headers["Set-Cookie"]
    assert cookie.startswith("__Host-pixelsmith=")
    assert "Secure" in cookie and "HttpOnly" in cookie and "Domain" not in cookie
    assert done.headers["Strict-Transport-Security"].startswith("max-age=")


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda w: _tamper(w.link(ALICE), {"u": "222"}), id="other-user"),
        pytest.param(lambda w: _tamper(w.link(ALICE), {"c": "777"}), id="other-community"),
        pytest.param(lambda w: _tamper(w.link(ALICE), {"a": True}), id="made-admin"),
        pytest.param(lambda w: _tamper(w.link(ALICE), {"exp": 4102444800}), id="longer-life"),
        pytest.param(
            lambda w: w.link(ALICE, secret="another-secret-0123456789abcdefghij"), id="other-key"
        ),
        pytest.param(lambda w: w.link(ALICE, minutes=-1), id="expired"),
        pytest.param(lambda w: w.link(ALICE, now=time.time() - 16 * 60), id="expired-15min"),
        pytest.param(lambda w: w.link(ALICE)[:-3] + "AAA", id="bad-mac"),
        pytest.param(lambda w: w.link(ALICE).replace(".", ""), id="no-dot"),
        pytest.param(lambda w: "/l/" + "A" * 3000 + ".B", id="oversized"),
        pytest.param(lambda w: "/l/%C3%A9%C3%A9.%C3%A9", id="non-ascii"),
        pytest.param(lambda w: "/l/..", id="empty-parts"),
        pytest.param(
            lambda w: "/l/bm90LWpzb24." + Signer(SECRET)._mac("link", "bm90LWpzb24"),
            id="signed-junk",
        ),
    ],
)
async def test_forged_expired_and_malformed_links_get_403(webapp: Web, make: Any) -> None:
    path = make(webapp)
    await _is_forbidden(webapp, "GET", path)
    await _is_forbidden(webapp, "POST", path)
    await _is_forbidden(webapp, "GET", "/gallery")  # and no session came of it


async def test_a_session_token_is_not_a_link_and_a_link_is_not_a_session(webapp: Web) -> None:
    grant = Grant("discord", "111", "900", "gallery", expires=int(time.time()) + 600)
    session_token = Signer(SECRET).seal("session", grant)
    await _is_forbidden(webapp, "GET", f"/l/{session_token}")
    link_token = webapp.link(ALICE).removeprefix("/l/")
    webapp.client.session.cookie_jar.update_cookies({"pixelsmith_session": link_token})
    await _is_forbidden(webapp, "GET", "/gallery")


async def test_an_expired_session_gets_403(webapp: Web) -> None:
    grant = Grant("discord", "111", "900", "gallery", expires=int(time.time()) - 1)
    webapp.client.session.cookie_jar.update_cookies(
        {"pixelsmith_session": Signer(SECRET).seal("session", grant)}
    )
    await _is_forbidden(webapp, "GET", "/gallery")


@pytest.mark.parametrize("path", MEMBER_PAGES)
async def test_every_page_needs_a_session(webapp: Web, path: str) -> None:
    await _is_forbidden(webapp, "GET", path)


async def test_login_from_a_foreign_origin_is_refused(webapp: Web) -> None:
    path = webapp.link(ALICE)
    await _is_forbidden(webapp, "POST", path, headers={"Origin": "https://evil.example"})
    # ...and the link was not used up by the refused attempt
    assert (await webapp.client.post(path, allow_redirects=False)).status == 303


async def test_state_changes_need_the_sessions_csrf_token(webapp: Web) -> None:
    job = await make_job(webapp.service, ALICE)
    await webapp.login(ALICE, "edit", job=str(job))
    token = await webapp.csrf()
    url = f"/api/edit/{job}"
    await _is_forbidden(webapp, "POST", url, data={"prompt": "x"})
    await _is_forbidden(webapp, "POST", url, headers={"X-CSRF-Token": "nope"})
    other = Signer(SECRET).csrf(Grant("discord", "111", "900", "gallery", expires=1, nonce="n"))
    await _is_forbidden(webapp, "POST", url, headers={"X-CSRF-Token": other})
    foreign = {"X-CSRF-Token": token, "Origin": "https://evil.example"}
    await _is_forbidden(webapp, "POST", url, headers=foreign)
    # with the right token the request is read (and answered for what it is: no mask)
    answer = await webapp.client.post(url, headers={"X-CSRF-Token": token}, data={"prompt": "x"})
    assert answer.status == 400


async def test_pages_carry_a_csp_without_inline_scripts(webapp: Web) -> None:
    await webapp.login(ALICE)
    for path in ("/gallery", "/l/nope", "/static/painter.js"):
        answer = await webapp.client.get(path)
        csp = answer.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert answer.headers["Referrer-Policy"] == "same-origin"
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
    html = await (await webapp.client.get("/gallery")).text()
    assert "<script>" not in html and "onclick" not in html and "<style" not in html


async def test_the_dashboard_needs_an_admin_link(webapp: Web) -> None:
    assert await webapp.login(ALICE, "dashboard") == "/gallery"  # a member link is no admin link
    await _is_forbidden(webapp, "GET", "/dashboard")
    await _is_forbidden(webapp, "GET", "/api/dashboard/daily")
    assert await webapp.login(ALICE, "dashboard", admin=True) == "/dashboard"
    assert (await webapp.client.get("/dashboard")).status == 200


async def test_a_job_of_another_community_is_403(webapp: Web) -> None:
    theirs = await make_job(webapp.service, MALLORY, "a secret plan")
    mine = await make_job(webapp.service, ALICE)
    await webapp.login(ALICE, "edit", job=str(mine))
    assert (await webapp.client.get(f"/edit/{mine}")).status == 200
    for path in (f"/edit/{theirs}", f"/img/{theirs}/0", "/edit/99999", "/edit/" + "9" * 40):
        await _is_forbidden(webapp, "GET", path)
    token = await webapp.csrf()
    await _is_forbidden(webapp, "POST", f"/api/edit/{theirs}", headers={"X-CSRF-Token": token})
    # a link minted for another community's job opens nothing either
    assert await webapp.login(ALICE, "edit", job=str(theirs)) == f"/edit/{theirs}"
    await _is_forbidden(webapp, "GET", f"/edit/{theirs}")


async def test_bodies_are_bounded(webapp: Web) -> None:
    job = await make_job(webapp.service, ALICE)
    await webapp.login(ALICE, "edit", job=str(job))
    token = await webapp.csrf()
    form = aiohttp.FormData()
    form.add_field("mask", b"\0" * (7 * 1024 * 1024), filename="mask.png")
    answer = await webapp.client.post(
        f"/api/edit/{job}", headers={"X-CSRF-Token": token}, data=form
    )
    assert answer.status == 413


def test_the_web_companion_refuses_to_start_without_a_strong_secret(tmp_path: Any) -> None:
    from bots.web.app import signer_for

    for secret in (None, "short"):
        settings = Settings.model_validate({"web": {"port": 0, "secret_key": secret}})
        with pytest.raises(ConfigError) as caught:
            signer_for(settings)
        assert caught.value.params["key"] == "web.secret_key"


def test_the_operators_dashboard_link_binds_one_community() -> None:
    from bots.web.links import operator_dashboard_link

    settings = Settings.model_validate(
        {"web": {"port": 8080, "secret_key": SECRET, "public_url": "https://px.example.org"}}
    )
    url = operator_dashboard_link(settings, "discord:900")
    assert url is not None and url.startswith("https://px.example.org/l/")
    grant = Signer(SECRET).open("link", url.rsplit("/", 1)[1])
    assert grant is not None and grant.admin and grant.purpose == "dashboard"
    assert (grant.platform, grant.community_id) == ("discord", "900")
    for bad in ("900", "irc:900", "discord:", "discord:9 00", "discord:" + "9" * 200):
        with pytest.raises(ValueError):
            operator_dashboard_link(settings, bad)
    off = Settings.model_validate({"web": {"secret_key": SECRET}})
    assert operator_dashboard_link(off, "discord:900") is None


async def test_another_members_job_only_from_the_channel_it_was_posted_in(webapp: Web) -> None:
    from tests.web.conftest import BOB

    here = await make_job(webapp.service, BOB, "posted here")  # Bob's, channel 5001
    private = await make_job(
        webapp.service, replace(BOB, channel_id="5999"), "a private channel's picture"
    )
    await webapp.login(ALICE, "edit", job=str(here))  # Alice's link comes from channel 5001
    assert (await webapp.client.get(f"/edit/{here}")).status == 200
    await _is_forbidden(webapp, "GET", f"/edit/{private}")
    await _is_forbidden(webapp, "GET", f"/img/{private}/0")
    for odd in ("\uff11\uff12", "0x1", "-1", " 1"):  # full-width digits too
        await _is_forbidden(webapp, "GET", f"/edit/{odd}")


async def test_static_assets_are_served_and_nothing_else(webapp: Web) -> None:
    for name, kind in (("painter.js", "javascript"), ("pixelsmith.css", "css")):
        answer = await webapp.client.get(f"/static/{name}")
        assert answer.status == 200 and kind in answer.content_type
    for path in ("/static/../app.py", "/static/%2e%2e/app.py", "/static/", "/static/nope.js"):
        answer = await webapp.client.get(path)
        assert answer.status in (403, 404), (path, answer.status)
        assert "def build_app" not in await answer.text()
