"""My settings on the My images page: the member's own defaults in the session's community,
shown as the catalog's choices and saved through the service's checks; the next job follows
them as the fake gateway receives it. Hostile input: a 400 with the sentence, nothing stored."""

from __future__ import annotations

import re

from core.types import Identity
from tests.fakes.gateway import FakeGateway
from tests.web.conftest import ALICE, MALLORY, Web


async def _save(webapp: Web, body: object, csrf: str) -> tuple[int, dict[str, object]]:
    answer = await webapp.client.post("/api/settings", json=body, headers={"X-CSRF-Token": csrf})
    data: dict[str, object] = await answer.json()
    return answer.status, data


def _selected(html: str, name: str) -> str:
    block = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert block is not None, name
    chosen = re.search(r'<option value="([^"]*)" selected>', block[1])
    assert chosen is not None, name
    return chosen[1]


async def test_the_page_shows_the_settings_and_a_save_is_followed(
    webapp: Web, gateway: FakeGateway
) -> None:
    await webapp.login(ALICE)
    html = await (await webapp.client.get("/gallery")).text()
    assert "My settings here" in html
    assert _selected(html, "quality") == "default"
    for model in webapp.service.catalog.names(enabled_only=True):
        assert f'<option value="{model}"' in html  # every enabled model is offered
    status, data = await _save(
        webapp, {"quality": "low", "size": "2:3", "remix": "on"}, await webapp.csrf()
    )
    assert status == 200 and data["ok"] is True, data
    assert data["saved"] == "Settings saved."
    html = await (await webapp.client.get("/gallery")).text()
    assert (_selected(html, "quality"), _selected(html, "size"), _selected(html, "remix")) == (
        "low",
        "2:3",
        "on",
    )
    # the chat's next job follows them (the fake gateway is the judge of what was sent)
    request = webapp.service.build(
        "a red fox", ALICE, prefs=await webapp.service.preferences(ALICE)
    )
    await webapp.service.run(request)
    sent = gateway.calls_to("/v1/images/generations")[-1].params
    assert (sent["quality"], sent["size"]) == ("low", "1024x1536")
    # "default" clears one again
    status, _ = await _save(webapp, {"quality": "default"}, await webapp.csrf())
    assert status == 200
    assert (await webapp.service.preferences(ALICE)).quality is None


async def test_bad_values_are_refused_with_the_reason_and_nothing_is_stored(webapp: Web) -> None:
    await webapp.login(ALICE)
    csrf = await webapp.csrf()
    before = await webapp.service.preferences(ALICE)
    for body in (
        {"quality": "ultra"},
        {"n": "999"},
        {"model": "no-such-model"},
        {"size": "13x7"},
        {"owner": "someone-else"},  # not a setting: nobody else can be named
        {"quality": "low", "language": "klingon"},  # one bad value: nothing of the rest either
    ):
        status, data = await _save(webapp, body, csrf)
        assert status == 400 and data["ok"] is False, (body, data)
        assert isinstance(data["error"], str) and data["error"], body
        assert "Traceback" not in data["error"]
    for raw in ([1, 2], {"quality": 3}, {"quality": "x" * 201}):
        status, data = await _save(webapp, raw, csrf)
        assert status == 400, raw
    answer = await webapp.client.post(
        "/api/settings", data=b"quality=low", headers={"X-CSRF-Token": csrf}
    )
    assert answer.status == 400
    assert await webapp.service.preferences(ALICE) == before


async def test_settings_stay_in_the_sessions_own_community(webapp: Web) -> None:
    await webapp.login(ALICE)
    status, _ = await _save(webapp, {"quality": "high"}, await webapp.csrf())
    assert status == 200
    assert (await webapp.service.preferences(ALICE)).quality == "high"
    # the same user id in another community, and another member here, are untouched
    elsewhere = Identity(ALICE.platform, ALICE.user_id, MALLORY.community_id)
    assert (await webapp.service.preferences(elsewhere)).quality is None
    assert (await webapp.service.preferences(MALLORY)).quality is None


async def test_private_results_are_offered_only_where_the_platform_has_them(webapp: Web) -> None:
    await webapp.login(ALICE)
    html = await (await webapp.client.get("/gallery")).text()
    assert ('<select name="private"' in html) == (ALICE.platform == "discord")
    slack = Identity("slack", "U0ALICE", "T0ALICE", channel_id="C0ALICE")
    webapp.client.session.cookie_jar.clear()
    await webapp.login(slack)
    html = await (await webapp.client.get("/gallery")).text()
    assert '<select name="private"' not in html and '<select name="remix"' in html
