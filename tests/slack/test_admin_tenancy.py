"""/imagine-admin acts only inside the workspace it is run in (two workspaces, one bot).

The attacks of the trust-boundary issue, Slack side: an admin of workspace B sets a limit on,
bans, or reads the usage of a member of workspace A — none of it reaches A; the audit log of
each workspace shows only its own actions; a limit out of range is refused by name.
"""

from __future__ import annotations

from tests.fakes.slack_requests import TEAM_ID, USER_ID, slash_command
from tests.slack.conftest import ADMIN_ID, Harness

OTHER_TEAM = "T0OTHER02"
OTHER_CHANNEL = "C0OTHER01"


async def admin(harness: Harness, text: str, *, team: str = TEAM_ID) -> str:
    before = len(harness.ephemerals())
    channel = OTHER_CHANNEL if team == OTHER_TEAM else "C0CHAN001"
    await harness.send(
        slash_command(
            text,
            command="/imagine-admin",
            user_id=ADMIN_ID,
            channel_id=channel,
            team_id=team,
            response_url=harness.fake.response_url(),
        )
    )
    await harness.wait(lambda: len(harness.ephemerals()) > before)
    return harness.ephemerals()[-1].text or ""


async def imagine_in_a(harness: Harness, prompt: str) -> str:
    """Alice asks in workspace A; returns what she sees (the result, or her hint)."""
    before_controls, before_hints = len(harness.controls()), len(harness.ephemerals())
    await harness.send(slash_command(prompt, response_url=harness.fake.response_url()))
    await harness.wait(
        lambda: (
            len(harness.controls()) > before_controls or len(harness.ephemerals()) > before_hints
        )
    )
    await harness.settle()
    if len(harness.controls()) > before_controls:
        return "result"
    return harness.ephemerals()[-1].text or ""


async def test_ban_and_limits_from_another_workspace_do_not_reach_a(harness: Harness) -> None:
    assert "can no longer generate" in await admin(harness, f"ban <@{USER_ID}>", team=OTHER_TEAM)
    assert "user_daily_images=0" in await admin(
        harness, f"limits <@{USER_ID}> user_daily_images=0", team=OTHER_TEAM
    )
    assert await imagine_in_a(harness, "a fox") == "result"  # Alice in A is untouched
    # the same ban in A does stop her there
    assert "can no longer generate" in await admin(harness, f"ban <@{USER_ID}>")
    assert "not allowed" in await imagine_in_a(harness, "a second fox")


async def test_usage_and_audit_show_only_the_callers_workspace(harness: Harness) -> None:
    assert await imagine_in_a(harness, "a lamp") == "result"
    usage_b = await admin(harness, "usage", team=OTHER_TEAM)
    assert "No charged jobs" in usage_b and USER_ID not in usage_b
    assert USER_ID in await admin(harness, "usage")
    assert TEAM_ID not in await admin(harness, "usage community", team=OTHER_TEAM)

    await admin(harness, f"ban <@{USER_ID}> spam", team=OTHER_TEAM)
    await admin(harness, f"limits <@{USER_ID}> user_daily_images=3")
    audit_a = await admin(harness, "audit")
    audit_b = await admin(harness, "audit", team=OTHER_TEAM)
    assert "limits" in audit_a and "ban" not in audit_a
    assert "ban" in audit_b and "limits" not in audit_b
    assert f"<@{ADMIN_ID}>" in audit_a and "user_daily_images=3" in audit_a


async def test_out_of_range_limits_are_refused_by_name(harness: Harness) -> None:
    for raw in ("inf", "1e309", "-1", "nan", "1e30"):
        reply = await admin(harness, f"limits <@{USER_ID}> user_daily_images={raw}")
        assert raw in reply and "limits for" not in reply.lower(), reply
    assert "No admin actions" in await admin(harness, "audit")  # nothing was stored
    assert await imagine_in_a(harness, "a boat") == "result"


async def test_community_default_and_a_daily_grant(harness: Harness) -> None:
    assert "user_daily_images=0" in await admin(harness, "limits everyone user_daily_images=0")
    assert "reached" in (await imagine_in_a(harness, "a kite")).lower()
    assert "Granted 1 image" in await admin(harness, f"grant <@{USER_ID}> 1 images day")
    assert await imagine_in_a(harness, "a kite again") == "result"
