"""``pixelsmith usage``, ``audit`` and ``history``: the operator's reports. ``usage`` is the spend
per user, community, model or key (a table, CSV or a PNG chart; ``--check`` reconciles the
counters with the ledger and exits 1 on a difference), ``audit`` the admin audit log (tab
separated), ``history`` a user's recent jobs (``--deliver JOB`` saves a job's kept images again,
for free).

Handlers: ``async def handler(args, *, service, out, err) -> int``; :mod:`bots.cli_admin`
registers them, wrapped in :func:`bots.cli_admin_io.guarded`.
"""

from __future__ import annotations

import argparse
import csv
import json
from typing import Any, TextIO

from bots.cli_admin_io import (
    OPERATOR,
    community_scope,
    parse_date,
    say,
    table,
    usd,
    user_identity,
    when,
)
from bots.terminal import output_folder, safe, save_images
from core.service import ImageService
from core.types import Identity, JobView


async def usage(
    args: argparse.Namespace, *, service: ImageService, out: TextIO, err: TextIO
) -> int:
    if args.check:
        problems = await service.check()
        look = [line for line in await service.attention() if line not in problems]
        if problems:
            out.write(say("cli.check_bad", count=len(problems)) + "\n")
            for problem in problems:
                out.write(f"  {problem}\n")
        else:
            out.write(say("cli.check_ok") + "\n")
        if look:  # consistent, but an admin should look (exit 1 only for a difference)
            out.write(say("cli.check_look", count=len(look)) + "\n")
            for line in look:
                out.write(f"  {line}\n")
        return 1 if problems else 0
    since = parse_date(args.since) if args.since else None
    if getattr(args, "chart", None):
        from pathlib import Path

        from core import messages
        from core.charts import chart_title, spend_chart_png

        daily = await service.daily_spend(OPERATOR, since, args.by)
        png = await spend_chart_png(daily, title=chart_title(args.by, since), by=args.by)
        try:
            Path(args.chart).write_bytes(png)
        except OSError:
            err.write(messages.text("chart.unwritable", "en", path=args.chart) + "\n")
            return 2
        out.write(f"{args.chart}\n")
        return 0
    rows = await service.usage(OPERATOR, since, args.by)
    if args.csv:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([args.by, "jobs", "images", "cost_usd"])
        for r in rows:
            writer.writerow([safe(r.group), r.jobs, r.images, f"{r.cost_usd:.6f}"])
        return 0
    if not rows:
        out.write(say("cli.usage_empty", since=f" since {since}" if since else "") + "\n")
        return 0
    body: list[list[Any]] = [[r.group, r.jobs, r.images, usd(r.cost_usd)] for r in rows]
    body.append(
        [
            say("cli.total"),
            sum(r.jobs for r in rows),
            sum(r.images for r in rows),
            usd(sum(r.cost_usd for r in rows)),
        ]
    )
    table(body, [args.by, "jobs", "images", "cost"], out)
    return 0


async def audit(
    args: argparse.Namespace, *, service: ImageService, out: TextIO, err: TextIO
) -> int:
    """The admin audit log, newest first: every community's (the operator sees all), or one."""
    within = community_scope(args.community) if args.community else None
    entries = await service.audit(OPERATOR, limit=args.limit, community=within)
    writer = csv.writer(out, delimiter="\t", lineterminator="\n")
    writer.writerow(["at", "actor", "community", "action", "target", "before", "after"])
    for e in entries:
        writer.writerow(
            [
                e.at.isoformat(timespec="seconds"),
                safe(e.actor),
                safe(e.community_scope or "-"),
                e.action,
                safe(e.target),
                safe(json.dumps(e.before, sort_keys=True)),
                safe(json.dumps(e.after, sort_keys=True)),
            ]
        )
    return 0


def _history_row(job: JobView) -> list[Any]:
    prompt = job.prompt if len(job.prompt) <= 50 else job.prompt[:49] + "…"
    return [
        job.public_id,
        when(job.created_at),
        job.state.value,
        usd(job.cost_usd),
        f"{job.images_delivered}/{job.images_requested}",
        job.model,
        job.error or "",
        prompt,
    ]


async def history(
    args: argparse.Namespace, *, service: ImageService, out: TextIO, err: TextIO
) -> int:
    identity = user_identity(args.user)
    if args.deliver is not None:
        return await _deliver(args, identity, service, out)
    jobs = await service.history(identity, args.limit)
    if not jobs:
        out.write(say("cli.history_empty", scope=identity.user_scope) + "\n")
        return 0
    table(
        [_history_row(j) for j in jobs],
        ["job", "time", "state", "cost", "images", "model", "error", "prompt"],
        out,
    )
    return 0


async def _deliver(
    args: argparse.Namespace, identity: Identity, service: ImageService, out: TextIO
) -> int:
    """``history USER --deliver JOB``: the kept images of one of USER's jobs, saved again for
    free into ``--out`` (checked first), one path per line."""
    folder = output_folder(args.out)
    result = await service.redeliver(identity, args.deliver, operator=True)
    for path in save_images(result, folder, args.stem):
        out.write(f"{safe(path)}\n")
    out.write(
        say("note.redelivered", cost=result.extra.get("original_cost_micros", 0) / 1e6) + "\n"
    )
    return 0
