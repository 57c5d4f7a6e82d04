"""The dashboard's limits in a real headless Chromium: a limit changed on the page is enforced on
the next /imagine of that community (and no other); a value outside the limit language is refused
on the page."""

from __future__ import annotations

import pytest

from core.errors import QuotaExceeded
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
    await browser.get(live.link(ALICE, "dashboard", admin=True))
    await browser.wait_for("document.getElementById('dashboard').dataset.chartsReady")
    await browser.screenshot("dashboard")
