"""Every route of the web companion, with what it requires, and a proof per route.

``ROUTES`` lists each (method, path) the aiohttp app serves with its rule: who may call it
(``public``, a one-time ``link``, a ``member`` session, an ``admin`` session), whether it needs
the session's CSRF token (every state change does), and its tenancy (a ``job`` id checked
against the caller's community and channel, a ``task`` owned by the session's member, the
admin's own ``community``). A route the app serves that is missing here fails the first test, so
a new route cannot ship without its rule. Then every protected route is called, with concrete
ids, without a session, with a forged, an expired and a replayed session, from another
community, without (or with another session's) CSRF token: each is 403 with the forbidden page
and no cookie, while the genuine caller is not refused.
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass
from typing import Any

import pytest

from bots.web.app import build_app
from bots.web.backend import KeptImage
from bots.web.links import Grant, Signer
from core.config import Settings
from tests.web.conftest import ALICE, MALLORY, SECRET, Web, make_job
from tests.web.test_pages import png
from tests.web.test_security import FORBIDDEN_TEXT

COOKIE = "pixelsmith_session"


@dataclass(frozen=True)
class Rule:
    auth: str  # public | link | member | admin
    csrf: bool = False
    tenancy: str = "none"  # none | job | task | community


ROUTES: dict[tuple[str, str], Rule] = {
    ("GET", "/healthz"): Rule("public"),
    ("GET", "/static"): Rule("public"),
    ("GET", "/l/{token}"): Rule("link"),
    ("POST", "/l/{token}"): Rule("link"),  # the exchange: Origin checked, the link used once
    ("GET", "/edit/{job}"): Rule("member", tenancy="job"),
    ("GET", "/img/{job}/{index}"): Rule("member", tenancy="job"),
    ("POST", "/api/edit/{job}"): Rule("member", csrf=True, tenancy="job"),
    ("GET", "/gallery"): Rule("member"),
    ("POST", "/api/redeliver/{job}"): Rule("member", csrf=True, tenancy="job"),
    ("POST", "/api/reroll/{job}"): Rule("member", csrf=True, tenancy="job"),
    # the session's own member and community: nobody else can be named
    ("POST", "/api/settings"): Rule("member", csrf=True),
    ("GET", "/api/tasks/{task}"): Rule("member", tenancy="task"),
    ("GET", "/api/tasks/{task}/{index}"): Rule("member", tenancy="task"),
    ("GET", "/dashboard"): Rule("admin", tenancy="community"),
    ("GET", "/api/dashboard/daily"): Rule("admin", tenancy="community"),
    ("GET", "/dashboard/spend.csv"): Rule("admin", tenancy="community"),
    ("GET", "/dashboard/ledger.csv"): Rule("admin", tenancy="community"),
    ("POST", "/api/dashboard/limits"): Rule("admin", csrf=True, tenancy="community"),
    ("POST", "/api/dashboard/grant"): Rule("admin", csrf=True, tenancy="community"),
    ("POST", "/api/dashboard/ban"): Rule("admin", csrf=True, tenancy="community"),
    ("POST", "/api/dashboard/unban"): Rule("admin", csrf=True, tenancy="community"),
}
PROTECTED = [key for key, rule in ROUTES.items() if rule.auth in ("member", "admin")]


def test_every_route_of_the_app_has_its_rule_listed() -> None:
    settings = Settings.model_validate({"web": {"port": 0, "secret_key": SECRET}})
    app = build_app(None, settings)  # type: ignore[arg-type]  # routes only: nothing is called
    served = {
        (route.method, route.resource.canonical)
        for route in app.router.routes()
        if route.method != "HEAD" and route.resource is not None  # HEAD mirrors each GET
    }
    assert served == set(ROUTES)


def session(identity: Any, *, admin: bool = False, expires_in: int = 600) -> Grant:
    return Grant(
        platform=identity.platform,
        user_id=identity.user_id,
        community_id=identity.community_id,
        purpose="dashboard" if admin else "gallery",
        expires=int(time.time()) + expires_in,
        admin=admin,
        channel_id=identity.channel_id,
    )


def forge(token: str, claims: dict[str, Any]) -> str:
    """The same session token with its claims changed (the MAC no longer matches)."""
    payload, mac = token.split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data.update(claims)
    raw = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    return f"{raw}.{mac}"


@dataclass
class Ids:
    job: str  # Alice's, kept
    theirs: str  # Mallory's (another community), kept
    task: str  # Alice's
    their_task: str  # Mallory's


@pytest.fixture
async def ids(webapp: Web) -> Ids:
    signer = Signer(SECRET)
    job = await make_job(webapp.service, ALICE, "a harbour")
    theirs = await make_job(webapp.service, MALLORY, "their harbour")
    for j in (job, theirs):
        webapp.kept[j] = [KeptImage(png())]
    tasks = []
    for who, j in ((ALICE, job), (MALLORY, theirs)):
        grant = session(who)
        use(webapp, signer.seal("session", grant))
        answer = await webapp.client.post(
            f"/api/reroll/{j}",
            headers={"X-CSRF-Token": signer.csrf(grant), "X-Form-Id": f"route-table-{who.user_id}"},
        )
        assert answer.status == 202, await answer.text()
        tasks.append((await answer.json())["task"])
    webapp.client.session.cookie_jar.clear()
    return Ids(job, theirs, *tasks)


def use(webapp: Web, token: str | None) -> None:
    jar = webapp.client.session.cookie_jar
    jar.clear()
    if token is not None:
        jar.update_cookies({COOKIE: token})


def concrete(path: str, ids: Ids, *, theirs: bool = False) -> str:
    return (
        path.replace("{job}", ids.theirs if theirs else ids.job)
        .replace("{task}", ids.their_task if theirs else ids.task)
        .replace("{index}", "0")
    )


async def call(webapp: Web, method: str, path: str, csrf: str | None) -> tuple[int, str, bool]:
    headers = {"X-CSRF-Token": csrf} if csrf is not None else {}
    kw: dict[str, Any] = {"json": {}} if method == "POST" else {}
    answer = await webapp.client.request(method, path, headers=headers, allow_redirects=False, **kw)
    body = (await answer.read()).decode("utf-8", "replace")  # images are bytes
    return answer.status, body, "Set-Cookie" in answer.headers


async def refused(webapp: Web, method: str, path: str, csrf: str | None = None) -> None:
    status, text, cookie = await call(webapp, method, path, csrf)
    assert status == 403, (method, path, status)
    assert FORBIDDEN_TEXT in text and not cookie


@pytest.mark.parametrize(("method", "template"), PROTECTED, ids=[f"{m} {p}" for m, p in PROTECTED])
async def test_each_protected_route_refuses_everyone_but_its_caller(
    webapp: Web, ids: Ids, method: str, template: str
) -> None:
    rule = ROUTES[(method, template)]
    signer = Signer(SECRET)
    admin = rule.auth == "admin"
    mine = session(ALICE, admin=admin)
    token, csrf = signer.seal("session", mine), signer.csrf(mine)
    path = concrete(template, ids)

    # the genuine caller is not refused (so each 403 below is the check's doing)
    use(webapp, token)
    status, _, _ = await call(webapp, method, path, csrf)
    assert status != 403, (method, path)

    # no session; a forged one (someone else, another community, made admin, longer life)
    use(webapp, None)
    await refused(webapp, method, path, csrf)
    for claims in ({"u": "222"}, {"c": "777"}, {"a": True}, {"exp": 4102444800}):
        use(webapp, forge(token, claims))
        await refused(webapp, method, path, csrf)
    use(webapp, signer.seal("link", mine))  # a link token is no session
    await refused(webapp, method, path, csrf)
    other_key = Signer("another-secret-0123456789abcdefghijkl")
    use(webapp, other_key.seal("session", mine))
    await refused(webapp, method, path, other_key.csrf(mine))
    # an expired session
    stale = session(ALICE, admin=admin, expires_in=-1)
    use(webapp, signer.seal("session", stale))
    await refused(webapp, method, path, signer.csrf(stale))
    # a replayed link: its first exchange worked, the second gives no session
    link = webapp.link(ALICE, "dashboard" if admin else "gallery", admin=admin)
    use(webapp, None)
    assert (await webapp.client.post(link, allow_redirects=False)).status == 303
    use(webapp, None)
    assert (await webapp.client.post(link, allow_redirects=False)).status == 403
    await refused(webapp, method, path, csrf)

    if admin:  # a member's session is no admin's
        member = session(ALICE)
        use(webapp, signer.seal("session", member))
        await refused(webapp, method, path, signer.csrf(member))
    if rule.tenancy in ("job", "task"):
        # another community's member: Alice's job or task is not theirs to see or use
        them = session(MALLORY)
        use(webapp, signer.seal("session", them))
        await refused(webapp, method, path, signer.csrf(them))
        # and Alice cannot reach theirs
        use(webapp, token)
        await refused(webapp, method, concrete(template, ids, theirs=True), csrf)
    if rule.csrf:
        use(webapp, token)
        await refused(webapp, method, path, None)
        await refused(webapp, method, path, "nope")
        someone = session(ALICE, admin=admin)  # another session of the same member
        await refused(webapp, method, path, signer.csrf(someone))


async def test_public_routes_need_nothing_and_set_no_cookie(webapp: Web) -> None:
    for path in ("/healthz", "/static/pixelsmith.css"):
        answer = await webapp.client.get(path)
        assert answer.status == 200 and "Set-Cookie" not in answer.headers
