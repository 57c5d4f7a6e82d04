"""Admin commands of the ``pixelsmith`` CLI: quota show/set/grant/ban/unban, usage, audit, history.

``add_admin_commands(subparsers)`` registers them on the CLI's sub-parsers; each parser gets
``admin_handler``: ``async def handler(args, *, service, out, err) -> int`` (the exit code).
Handlers go through :class:`core.service.ImageService` only, like every adapter.
USER is ``platform:user_id`` (``discord:1234``) or a bare id meaning the local CLI user
(``cli:<id>``). Wrong input prints one friendly line on ``err`` and returns 2; nothing is changed.

The handlers live in :mod:`bots.cli_admin_quota` (``quota ...``) and :mod:`bots.cli_admin_reports`
(``usage``, ``audit``, ``history``); what they share in :mod:`bots.cli_admin_io`.
"""

from __future__ import annotations

from typing import Any

from bots.cli_admin_io import (
    OPERATOR,
    InputError,
    community_scope,
    guarded,
    positive_int,
    say,
    table,
    when,
)
from bots.cli_admin_quota import quota_ban, quota_grant, quota_set, quota_show, quota_unban
from bots.cli_admin_reports import audit, history, usage

# Imported from here before the split (bots/cli_keys.py now takes them from bots.cli_admin_io).
__all__ = [
    "OPERATOR",
    "InputError",
    "add_admin_commands",
    "community_scope",
    "guarded",
    "say",
    "table",
    "when",
]


def add_admin_commands(subparsers: Any) -> None:
    """Register ``quota``, ``usage`` and ``history`` on the CLI's ``add_subparsers()`` action."""
    quota = subparsers.add_parser("quota", help="show and change quotas (admin)")
    qsub = quota.add_subparsers(dest="quota_command", metavar="{show,set,grant,ban,unban}")
    qsub.required = True

    show = qsub.add_parser("show", help="a user's limits, use and reset times")
    show.add_argument("user", metavar="USER", help="platform:id, or a bare id for the local user")
    show.add_argument("--community", metavar="C", help="the community the user is in")
    show.set_defaults(admin_handler=guarded(quota_show))

    set_ = qsub.add_parser("set", help="override limits for a user or a community")
    set_.add_argument("user", metavar="USER", nargs="?")
    set_.add_argument("--community", metavar="C")
    set_.add_argument("--daily-images", metavar="N")
    set_.add_argument("--monthly-images", metavar="N")
    set_.add_argument("--daily-usd", metavar="X")
    set_.add_argument("--monthly-usd", metavar="X")
    set_.add_argument("--budget-usd", metavar="X", help="community monthly budget")
    set_.add_argument("--concurrent-jobs", metavar="N")
    set_.add_argument("--clear", action="store_true", help="remove the override")
    set_.set_defaults(admin_handler=guarded(quota_set))

    grant = qsub.add_parser("grant", help="give a user extra allowance for this period")
    grant.add_argument("user", metavar="USER")
    grant.add_argument("amount", metavar="AMOUNT")
    grant.add_argument("--unit", choices=["images", "usd"], default="images")
    grant.add_argument("--period", choices=["day", "month"], default="month")
    grant.set_defaults(admin_handler=guarded(quota_grant))

    ban = qsub.add_parser("ban", help="stop a user from generating")
    ban.add_argument("user", metavar="USER")
    ban.add_argument("--reason", metavar="R")
    ban.set_defaults(admin_handler=guarded(quota_ban))

    unban = qsub.add_parser("unban", help="lift a ban")
    unban.add_argument("user", metavar="USER")
    unban.set_defaults(admin_handler=guarded(quota_unban))

    use = subparsers.add_parser("usage", help="spend report; --check reconciles with the ledger")
    use.add_argument("--since", metavar="DATE", help="YYYY-MM-DD (UTC, inclusive)")
    use.add_argument(
        "--by",
        choices=["user", "community", "model", "key"],
        default="user",
        help="key: who paid (your key, or a community's own key by its fingerprint)",
    )
    use.add_argument("--csv", action="store_true", help="CSV for spreadsheets")
    use.add_argument(
        "--check", action="store_true", help="counters vs. ledger; exit 1 on a difference"
    )
    use.add_argument(
        "--chart", metavar="FILE.png", help="write a PNG of daily spend per group (stacked bars)"
    )
    use.set_defaults(admin_handler=guarded(usage))

    aud = subparsers.add_parser("audit", help="who changed which limit, grant or ban (admin)")
    aud.add_argument("--community", metavar="COMMUNITY", help="platform:id, e.g. discord:1234")
    aud.add_argument("--limit", type=positive_int, default=50, metavar="N")
    aud.set_defaults(admin_handler=guarded(audit))

    hist = subparsers.add_parser("history", help="a user's recent jobs")
    hist.add_argument("user", metavar="USER")
    hist.add_argument("--limit", type=positive_int, default=10, metavar="N")
    hist.add_argument(
        "--deliver", metavar="JOB", help="save the kept images of JOB again (free) into --out"
    )
    hist.add_argument("--out", default=".", help="folder for --deliver (default: .)")
    hist.add_argument("--stem", default="pixelsmith", help="file name stem for --deliver")
    hist.set_defaults(admin_handler=guarded(history))
