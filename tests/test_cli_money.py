"""The terminal adapters under an unlucky operator: what is paid for is kept, nothing breaks.

Each case is an observation from a run on the old code (paid, then thrown away; one typo that
locks a user out; a crash on odd input), now a subprocess run of ``pixelsmith`` with the exit
code the command contract publishes (2: invalid input or config, nothing sent). After each:
the ledger reconciles (``store.check() == []``), at most one upstream call per job.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from core.store import Store
from core.types import JobState
from tests.fakes.gateway import Behavior, FakeGateway
from tests.test_cli import Run, pixelsmith, write_config


async def ledger(folder: Path) -> Store:
    return await Store.open(f"sqlite:///{(folder / 'px.db').as_posix()}")


async def assert_reconciled(folder: Path) -> None:
    store = await ledger(folder)
    try:
        assert await store.check() == []
    finally:
        await store.close()


def one_line(run: Run) -> str:
    lines = run.err.strip().splitlines()
    assert len(lines) == 1, run.err
    return lines[0]


# -- know you can deliver before you pay --------------------------------------------------------


async def test_unusable_output_folder_is_refused_before_the_call(
    tmp_path: Path, gateway: FakeGateway
) -> None:
    cfg = tmp_path / "cfg"
    config = write_config(cfg, gateway.base_url)
    work = tmp_path / "work"
    work.mkdir()
    (work / "afile").write_text("not a folder")
    afile, proc = await asyncio.gather(
        pixelsmith(work, "imagine", "a fox", "--out", "afile", config=config),
        pixelsmith(work, "imagine", "a fox", "--out", "/proc/nope", config=config),
    )
    assert afile.code == 2 and "afile" in one_line(afile) and "is a file" in afile.err
    assert proc.code == 2 and "/proc/nope" in one_line(proc)
    assert "Nothing was sent or charged" in afile.err + proc.err
    assert afile.out == proc.out == ""
    assert gateway.calls == []
    await assert_reconciled(cfg)


async def test_missing_output_folder_is_created(tmp_path: Path, gateway: FakeGateway) -> None:
    config = write_config(tmp_path / "cfg", gateway.base_url)
    run = await pixelsmith(tmp_path, "imagine", "a fox", "--out", "new/deep", config=config)
    assert run.code == 0, run.err
    assert (tmp_path / "new" / "deep" / "pixelsmith_0.png").exists()
    assert len(gateway.calls) == 1


# -- one limit language ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ("user_daily_usd = inf", "quota.user_daily_usd"),
        ("user_daily_usd = 1e300", "quota.user_daily_usd"),
        ("user_daily_images = 1e30", "quota.user_daily_images"),
        ("user_monthly_usd = 1e309", "quota.user_monthly_usd"),
        ('user_daily_usd = "inf"', "quota.user_daily_usd"),
        (
            '[quota.communities."G"]\nuser_daily_images = -1',
            "quota.communities.G.user_daily_images",
        ),
    ],
)
async def test_config_limits_outside_the_language_exit_2(
    tmp_path: Path, gateway: FakeGateway, line: str, key: str
) -> None:
    section = "" if line.startswith("[") else "[quota]\n"
    config = write_config(tmp_path / "cfg", gateway.base_url, f"{section}{line}\n")
    imagine, doctor = await asyncio.gather(
        pixelsmith(tmp_path, "imagine", "a fox", config=config),
        pixelsmith(tmp_path, "doctor", config=config),
    )
    for run in (imagine, doctor):
        assert run.code == 2, run.err
        text = one_line(run)
        assert key in text and "1,000,000,000" in text and "unlimited" in text
    assert gateway.calls == []


async def test_a_typo_in_quota_set_is_refused_and_locks_nobody_out(
    tmp_path: Path, gateway: FakeGateway
) -> None:
    cfg = tmp_path / "cfg"
    config = write_config(cfg, gateway.base_url)
    runs = await asyncio.gather(
        *(
            pixelsmith(tmp_path, "quota", "set", "bob", flag, value, config=config)
            for flag, value in (
                ("--daily-usd", "inf"),
                ("--daily-usd", "1e300"),
                ("--daily-images", "1e30"),
                ("--monthly-usd", "1e309"),
                ("--daily-images", "2.5"),
            )
        )
    )
    for run in runs:
        assert run.code == 2, run.err
        assert "1,000,000,000" in one_line(run)
    show = await pixelsmith(tmp_path, "quota", "show", "bob", config=config)
    assert show.code == 0, show.err
    assert "override" not in show.out  # nothing was stored
    ok = await pixelsmith(tmp_path, "imagine", "a fox", "--as", "bob", config=config)
    assert ok.code == 0, ok.err
    unlimited = await pixelsmith(
        tmp_path, "quota", "set", "bob", "--daily-usd", "unlimited", config=config
    )
    assert unlimited.code == 0 and "user_daily_usd=unlimited" in unlimited.out
    assert len(gateway.calls) == 1
    await assert_reconciled(cfg)


async def test_grant_amounts_use_the_language(tmp_path: Path, gateway: FakeGateway) -> None:
    config = write_config(tmp_path / "cfg", gateway.base_url)
    bad = await asyncio.gather(
        *(
            pixelsmith(tmp_path, "quota", "grant", "bob", amount, config=config)
            for amount in ("1e30", "inf", "0", "2.5")
        )
    )
    for run in bad:
        assert run.code == 2 and "not a valid grant" in one_line(run)


# -- errors with the right face --------------------------------------------------------------


async def test_history_limit_out_of_range(tmp_path: Path, gateway: FakeGateway) -> None:
    config = write_config(tmp_path / "cfg", gateway.base_url)
    run = await pixelsmith(
        tmp_path, "history", "bob", "--limit", "99999999999999999999", config=config
    )
    assert run.code == 2 and "1 to 1000" in one_line(run)


async def test_history_escapes_control_and_bidi_characters(
    tmp_path: Path, gateway: FakeGateway
) -> None:
    cfg = tmp_path / "cfg"
    config = write_config(cfg, gateway.base_url)
    prompt = "a fox \x1b[2J\x07 in \u202esnow"
    run = await pixelsmith(tmp_path, "imagine", prompt, "--as", "bob", config=config)
    assert run.code == 0, run.err
    history = await pixelsmith(tmp_path, "history", "bob", config=config)
    assert history.code == 0, history.err
    for raw in ("\x1b", "\x07", "\u202e"):
        assert raw not in history.out
    assert "\\x1b[2J\\x07" in history.out and "\\u202e" in history.out
    console = await pixelsmith(
        tmp_path,
        "console",
        "--as",
        "bob",
        "--out",
        "shots",
        config=config,
        stdin=f"/imagine {prompt}\n/history\n/quit\n",
    )
    assert console.code == 0, console.err
    (line,) = [line for line in console.lines if "SUCCEEDED" in line]
    assert "\\x1b[2J\\x07" in line and "\\u202e" in line
    assert "\x1b" not in console.out and "\u202e" not in console.out


async def test_input_files_missing_or_endless(tmp_path: Path, gateway: FakeGateway) -> None:
    config = write_config(tmp_path / "cfg", gateway.base_url, "[images]\nmax_input_bytes = 65536\n")
    missing, endless = await asyncio.gather(
        pixelsmith(tmp_path, "edit", "a hat", "--image", "nope.png", config=config),
        pixelsmith(tmp_path, "edit", "a hat", "--image", "/dev/zero", config=config),
    )
    assert missing.code == 2 and "nope.png" in one_line(missing)
    assert endless.code == 2 and "limit" in one_line(endless)
    assert gateway.calls == []


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("mysql://u@h/db", "database.url"),
        ("nonsense", "database.url"),
        ("sqlite:////proc/nope/px.db", "database.url"),
        ("postgresql+psycopg://nobody:secretpw@127.0.0.1:1/none", "database.url"),
        ("CORRUPT", "database.url"),
    ],
)
async def test_database_problems_are_config_errors(
    tmp_path: Path, gateway: FakeGateway, url: str, key: str
) -> None:
    if url == "CORRUPT":
        bad = tmp_path / "corrupt.db"
        bad.write_bytes(b"this is not sqlite " * 100)
        url = f"sqlite:///{bad.as_posix()}"
    config = tmp_path / "db.toml"
    config.write_text(
        f'[provider]\nbase_url = "{gateway.base_url}"\n[database]\nurl = "{url}"\n',
        encoding="utf-8",
    )
    imagine, show = await asyncio.gather(
        pixelsmith(tmp_path, "imagine", "a fox", config=config),
        pixelsmith(tmp_path, "quota", "show", "bob", config=config),
    )
    for run in (imagine, show):
        assert run.code == 2, run.err
        text = one_line(run)  # no "Unclosed client session" either
        assert key in text and "secretpw" not in text
    assert gateway.calls == []


async def test_the_console_survives_any_line(tmp_path: Path, gateway: FakeGateway) -> None:
    config = write_config(tmp_path / "cfg", gateway.base_url)
    lines = [
        '/edit "unterminated -- p',
        "/edit --mask m.png -- p",
        "/edit --mask -- p",
        "/edit -- p",
        "/edit nope.png -- p",
        "/imagine --n",
        "/imagine a fox --q low",
        "/quit",
    ]
    run = await pixelsmith(
        tmp_path, "console", "--out", "shots", config=config, stdin="\n".join(lines) + "\n"
    )
    assert run.code == 0, run.err
    assert run.err.count("Usage: /edit") == 4
    assert "nope.png" in run.err
    assert "`--n 2`" in run.err and "--n 2:3" not in run.err
    assert (tmp_path / "shots" / "pixelsmith_0.png").exists()
    assert len(gateway.calls) == 1


async def test_bare_n_flag_hint(tmp_path: Path, gateway: FakeGateway) -> None:
    config = write_config(tmp_path / "cfg", gateway.base_url)
    run = await pixelsmith(tmp_path, "imagine", "a fox --n", config=config)
    assert run.code == 2 and "`--n 2`" in one_line(run) and "2:3" not in run.err


async def test_jobs_settle_once(tmp_path: Path, gateway: FakeGateway) -> None:
    cfg = tmp_path / "cfg"
    config = write_config(cfg, gateway.base_url)
    run = await pixelsmith(tmp_path, "imagine", "a fox", "--as", "bob", config=config)
    assert run.code == 0
    store = await ledger(cfg)
    try:
        (job,) = await store.history("user:cli:bob")
        assert job.state == JobState.SUCCEEDED
        assert await store.check() == []
    finally:
        await store.close()


# -- deliver what was paid for -----------------------------------------------------------------


async def test_history_deliver_hands_a_kept_result_over_again_free(
    tmp_path: Path, gateway: FakeGateway
) -> None:
    cfg = tmp_path / "cfg"
    config = write_config(cfg, gateway.base_url)
    made = await pixelsmith(tmp_path, "imagine", "a fox", "--as", "bob", config=config)
    assert made.code == 0, made.err
    assert (cfg / "px-results").is_dir()  # the default: next to the SQLite file
    listing = await pixelsmith(tmp_path, "history", "bob", config=config)
    job_id = listing.lines[2].split()[0]
    again, stranger, unknown = await asyncio.gather(
        pixelsmith(
            tmp_path, "history", "bob", "--deliver", job_id, "--out", "again", config=config
        ),
        pixelsmith(tmp_path, "history", "alice", "--deliver", job_id, config=config),
        pixelsmith(tmp_path, "history", "bob", "--deliver", "../../1", config=config),
    )
    assert again.code == 0, again.err
    assert again.lines[0] == str(Path("again") / "pixelsmith_0.png")
    assert "free" in again.lines[1]
    original = (tmp_path / made.lines[0]).read_bytes()
    assert (tmp_path / "again" / "pixelsmith_0.png").read_bytes() == original
    for run in (stranger, unknown):
        assert run.code == 2 and "no job" in one_line(run).lower()
    assert len(gateway.calls) == 1  # re-delivery never calls the gateway
    console = await pixelsmith(
        tmp_path,
        "console",
        "--as",
        "bob",
        "--out",
        "shots",
        config=config,
        stdin="/imagine a hare --q low\n/history\n/history 424242\n/quit\n",
    )
    assert console.code == 0, console.err
    (row,) = [line for line in console.lines if "a hare" in line]
    redo = await pixelsmith(
        tmp_path,
        "console",
        "--as",
        "bob",
        "--out",
        "shots",
        config=config,
        stdin=f"/history {row.split()[0]}\n/quit\n",
    )
    assert redo.code == 0 and (tmp_path / "shots" / "pixelsmith_1.png").exists(), redo.err
    assert "no job" in console.err.lower()  # /history 424242: told, session went on
    assert len(gateway.calls) == 2
    await assert_reconciled(cfg)


async def test_a_capped_cost_is_listed_by_usage_check(tmp_path: Path, gateway: FakeGateway) -> None:
    config = write_config(tmp_path / "cfg", gateway.base_url)
    absurd = {"input_tokens": 10, "output_tokens": 10**18, "total_tokens": 0}
    gateway.script(Behavior(usage_override=absurd))
    made = await pixelsmith(tmp_path, "imagine", "a fox", "--quality", "low", config=config)
    assert made.code == 0 and made.lines[0].endswith(".png"), made.err  # the user got the image
    assert "sanity bound" in made.err  # and was told why the cost is what it is
    check = await pixelsmith(tmp_path, "usage", "--check", config=config)
    assert check.code == 0, check.out  # the counters agree with the ledger
    assert "1 job to look at" in check.out and "sanity bound" in check.out
    assert "every counter matches" in check.out
