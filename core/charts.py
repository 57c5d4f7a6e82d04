"""Usage charts: daily spend per group as a stacked bar chart (PNG).

Adapters and the CLI call ``spend_chart_png(await service.daily_spend(since, by), ...)``.
matplotlib is imported lazily (start-up stays fast) and used without pyplot, on the Agg canvas,
in a worker thread: nothing global is switched and the event loop never waits on drawing.
"""

from __future__ import annotations

import asyncio
import io
import threading
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from core import messages
from core.types import DailySpend

MAX_GROUPS = 8  # more than this many groups: the smallest are summed as "other"
MAX_LABEL = 32
_CJK_FONTS = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "PingFang SC",
    "Microsoft YaHei",
    "SimHei",
)
# matplotlib's font cache and text layout are not thread-safe: draw one chart at a time.
_LOCK = threading.Lock()


async def spend_chart_png(
    rows: Sequence[DailySpend], *, title: str, by: str, locale: str = "en"
) -> bytes:
    """Daily spend (USD) per group, stacked; an empty ``rows`` draws a chart saying "no spend"."""
    return await asyncio.to_thread(_render, list(rows), title, by, locale)


def chart_title(by: str, since: date | None, locale: str = "en") -> str:
    """The default title: "Daily spend by community since 2026-11-01"."""
    by_word = _by_word(by, locale)
    since_text = messages.text("chart.since", locale, date=since.isoformat()) if since else ""
    return messages.text("chart.title", locale, by=by_word, since=since_text)


def _by_word(by: str, locale: str) -> str:
    keys = {"community": "chart.by_community", "model": "chart.by_model", "user": "chart.by_user"}
    return messages.text(keys[by], locale) if by in keys else by


def _series(rows: list[DailySpend], other: str) -> tuple[list[date], dict[str, list[float]]]:
    """Every day from the first to the last (gaps as zero) and one list of USD per group."""
    first, last = min(r.day for r in rows), max(r.day for r in rows)
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    totals: dict[str, int] = defaultdict(int)
    for r in rows:
        totals[r.group] += r.cost_micros
    ranked = sorted(totals, key=lambda g: (-totals[g], g))
    keep = set(ranked if len(ranked) <= MAX_GROUPS else ranked[: MAX_GROUPS - 1])
    index = {d: i for i, d in enumerate(days)}
    series: dict[str, list[float]] = {}
    for g in ranked:
        if g in keep:
            series[g] = [0.0] * len(days)
    if len(keep) < len(ranked):
        series[other] = [0.0] * len(days)
    for r in rows:
        name = r.group if r.group in keep else other
        series[name][index[r.day]] += r.cost_micros / 1_000_000
    return days, series


def _label(group: str) -> str:
    return group if len(group) <= MAX_LABEL else group[: MAX_LABEL - 1] + "…"


def _font_family(locale: str) -> tuple[list[str], str]:
    """Fonts to draw with, and the locale to use: English when no CJK font is installed."""
    from matplotlib import font_manager

    if messages.lang(locale) != "zh":
        return ["DejaVu Sans"], "en"
    for name in _CJK_FONTS:
        try:
            font_manager.findfont(name, fallback_to_default=False)
        except ValueError:
            continue
        return [name, "DejaVu Sans"], "zh"
    return ["DejaVu Sans"], "en"


def _render(rows: list[DailySpend], title: str, by: str, locale: str) -> bytes:
    with _LOCK:
        return _draw(rows, title, by, locale)


def _draw(rows: list[DailySpend], title: str, by: str, locale: str) -> bytes:
    import matplotlib
    from matplotlib import dates as mdates
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    families, loc = _font_family(locale)
    if loc != messages.lang(locale) and any(ord(ch) >= 0x2E80 for ch in title):
        title = chart_title(by, None, loc)  # no CJK font here: better English than boxes
    with matplotlib.rc_context({"font.family": families, "font.size": 10}):
        fig = Figure(figsize=(10, 5.5), dpi=100, layout="constrained")
        FigureCanvasAgg(fig)
        ax: Any = fig.add_subplot()
        ax.set_title(title, fontsize=13)
        ax.set_ylabel(messages.text("chart.y_axis", loc))
        ax.set_xlabel(messages.text("chart.x_axis", loc))
        if not rows or all(r.cost_micros == 0 for r in rows):
            ax.text(
                0.5,
                0.5,
                messages.text("chart.empty", loc),
                transform=ax.transAxes,
                ha="center",
                va="center",
                fontsize=18,
                color="#777777",
            )
            ax.set_xticks([])
            ax.set_yticks([])
        else:
            days, series = _series(rows, messages.text("chart.other", loc))
            bottom = [0.0] * len(days)
            palette = matplotlib.colormaps["tab10"]
            for i, (group, values) in enumerate(series.items()):
                ax.bar(
                    days,
                    values,
                    width=0.8,
                    bottom=bottom,
                    label=_label(group),
                    color=palette(i % 10),
                )
                bottom = [b + v for b, v in zip(bottom, values, strict=True)]
            top = max(bottom)
            ax.set_ylim(0, top * 1.08)
            decimals = 2 if top >= 0.05 else 4
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"${v:,.{decimals}f}"))
            # one tick per day (bar centres) up to ~2 months, then whatever reads best
            locator: Any = (
                mdates.DayLocator(interval=max(1, len(days) // 12))
                if len(days) <= 62
                else mdates.AutoDateLocator(maxticks=12)
            )
            ax.xaxis.set_major_locator(locator)
            ax.xaxis.set_major_formatter(
                mdates.DateFormatter("%Y-%m-%d")
                if len(days) == 1
                else mdates.ConciseDateFormatter(locator)
            )
            pad = timedelta(hours=16)  # dates have no hours: pad as datetimes
            ax.set_xlim(
                datetime.combine(days[0], time()) - pad, datetime.combine(days[-1], time()) + pad
            )
            ax.grid(axis="y", alpha=0.3)
            ax.set_axisbelow(True)
            ax.legend(
                title=_by_word(by, loc),
                loc="upper left",
                bbox_to_anchor=(1.01, 1.0),
                fontsize=9,
                title_fontsize=10,
                frameon=False,
            )
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
    return buf.getvalue()
