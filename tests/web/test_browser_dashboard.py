"""The dashboard's limits in a real headless Chromium: a limit changed on the page is enforced on
the next /imagine of that community (and no other); a value outside the limit language is refused
on the page; a job whose outcome is unknown is listed for attention; Unban on a banned member's
row lifts the ban through the audited service call."""

from __future__ import annotations

from dataclasses import replace

import pytest

from core.errors import PixelsmithError, QuotaExceeded
from tests.fakes.gateway import Behavior, Fault
from tests.web.browser import Browser
from tests.web.conftest import ALICE, MALLORY, Live, make_job

pytestmark = pytest.mark.browser


async def test_a_limit_changed_on_the_dashboard_is_enforced(browser: Browser, live: Live) -> None:
    for prompt in ("a kite", "a drum"):
        await make_job(live.service, MALLORY, prompt)  # another community's spend: not shown
    await browser.get(live.link(ALICE, "dashboard", admin=True))
    await browser.wait_for("document.getElementById('dashboard').dataset.chartsReady")
    await browser.js(
        "document.querySelector('#limits-form select[name=key]').value = 'user_daily_images';"
    )
    await browser.type("#limits-form input[name=value]", "2")
    await browser.click("#limits-form button[type=submit]")
    await browser.wait_for("document.querySelector('#limits-form .status.ok')")
    for prompt in ("a lantern", "a bridge"):
        await make_job(live.service, ALICE, prompt)
    with pytest.raises(QuotaExceeded):
        await make_job(live.service, ALICE, "one too many")
    await make_job(live.service, MALLORY, "still fine elsewhere")
    # a value outside the limit language is refused on the page, nothing stored
    await browser.type("#limits-form input[name=value]", "1e309")
    await browser.click("#limits-form button[type=submit]")
    await browser.wait_for("document.querySelector('#limits-form .status.bad')")
    # a job whose connection dropped after it was sent, and a banned member
    live.gateway.script(Behavior(fault=Fault.DROP))
    with pytest.raises(PixelsmithError):
        await make_job(live.service, replace(MALLORY, community_id="900"), "a dropped kite")
    admin = replace(ALICE, is_admin=True)
    await live.service.admin_ban(admin, "222", "spamming the channel")
    await browser.get(live.link(ALICE, "dashboard", admin=True))
    await browser.wait_for("document.getElementById('dashboard').dataset.chartsReady")
    assert "Outcome unknown" in await browser.text("#attention")
    assert "spamming the channel" in await browser.text("#bans")
    height = await browser.js("return document.documentElement.scrollHeight")
    await browser.run(browser.driver.set_window_size, 1280, min(int(height) + 140, 4000))
    await browser.screenshot("dashboard")  # the whole page, bans and audit log included
    await browser.click('#bans tr[data-member="222"] button[type=submit]')
    await browser.wait_for("!document.getElementById('bans')")  # the page reloads without it
    assert await live.service.admin_bans(admin) == []
    [entry, *_] = await live.service.audit(admin)
    assert (entry.action, entry.target) == ("unban", "member:discord:900:222")
