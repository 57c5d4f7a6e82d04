"""Links to the web companion: private (ephemeral), bound to the clicker's own workspace, and
only offered when the companion is configured."""

from __future__ import annotations

import re
from typing import Any

from bots.web.links import Signer
from tests.fakes.slack_requests import CHANNEL_ID, TEAM_ID, USER_ID, block_actions, slash_command
from tests.slack.conftest import ADMIN_ID, Harness, button
from tests.slack.test_tenancy import MALLORY, OTHER_CHANNEL, from_other_team

SECRET_KEY = "k" * 40
WEB = {"port": 8765, "secret_key": SECRET_KEY, "public_url": "https://px.example"}
LINK = re.compile(r"https://px\.example/l/(\S+)")


def grant_of(text: str) -> Any:
    match = LINK.search(text)
    assert match, text
    return Signer(SECRET_KEY).open("link", match.group(1))


async def test_edit_region_button_gives_the_clicker_a_private_link(closing: Any) -> None:
    harness: Harness = await closing(web=WEB)
    await harness.send(slash_command("a cat", response_url=harness.fake.response_url()))
    controls = (await harness.wait(harness.controls))[0]
    ref = button(controls, "edit_region")["value"]
    assert ref == button(controls, "reroll")["value"]
    url = harness.fake.response_url()
    await harness.send(block_actions("edit_region", ref, response_url=url))
    (hint,) = await harness.wait(harness.ephemerals)
    assert hint.user == USER_ID and "within 15 minutes" in (hint.text or "")
    grant = grant_of(hint.text or "")
    assert (grant.purpose, grant.job, grant.user_id) == ("edit", ref, USER_ID)
    assert (grant.community_id, grant.channel_id) == (TEAM_ID, CHANNEL_ID)
    assert grant.admin is False
    # the same button from another workspace: no link
    await harness.send(from_other_team(block_actions("edit_region", ref, response_url=url)))
    await harness.wait(lambda: len(harness.ephemerals()) == 2)
    other = harness.ephemerals()[-1]
    assert (other.user, other.channel) == (MALLORY, OTHER_CHANNEL)
    assert "no longer valid" in (other.text or "") and "px.example" not in (other.text or "")


async def test_without_the_web_companion_there_is_no_region_button(harness: Harness) -> None:
    await harness.send(slash_command("a cat", response_url=harness.fake.response_url()))
    controls = (await harness.wait(harness.controls))[0]
    actions = [b for b in controls.blocks or [] if b.get("type") == "actions"]
    ids = [e["action_id"] for e in actions[0]["elements"]]
    assert ids[:2] == ["reroll", "edit"] and "edit_region" not in ids
    await harness.send(
        slash_command("", command="/imagine-gallery", response_url=harness.fake.response_url())
    )
    (hint,) = await harness.wait(harness.ephemerals)
    assert "not set up" in (hint.text or "")


async def test_gallery_and_dashboard_links(closing: Any) -> None:
    harness: Harness = await closing(web=WEB)
    fake = harness.fake
    await harness.send(
        slash_command("", command="/imagine-gallery", response_url=fake.response_url())
    )
    (gallery,) = await harness.wait(harness.ephemerals)
    assert grant_of(gallery.text or "").purpose == "gallery"
    assert grant_of(gallery.text or "").admin is False

    async def admin(user: str) -> str:
        before = len(harness.ephemerals())
        await harness.send(
            slash_command(
                "dashboard",
                command="/imagine-admin",
                user_id=user,
                response_url=fake.response_url(),
            )
        )
        await harness.wait(lambda: len(harness.ephemerals()) > before)
        return harness.ephemerals()[-1].text or ""

    dashboard = grant_of(await admin(ADMIN_ID))
    assert (dashboard.purpose, dashboard.admin, dashboard.user_id) == ("dashboard", True, ADMIN_ID)
    assert dashboard.community_id == TEAM_ID
    assert "px.example" not in await admin(USER_ID)  # not an admin: no link
