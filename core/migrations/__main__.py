"""``python -m core.migrations revision -m MSG [--url URL]`` / ``upgrade [--url URL]``."""

from __future__ import annotations

import argparse

from alembic import command

from core.migrations import alembic_config


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m core.migrations")
    parser.add_argument("action", choices=["revision", "upgrade", "current"])
    parser.add_argument("-m", "--message", default="change")
    parser.add_argument("--url", default="sqlite:///pixelsmith.db")
    args = parser.parse_args()
    cfg = alembic_config(url=args.url)
    if args.action == "revision":
        command.revision(cfg, message=args.message, autogenerate=True)
    elif args.action == "upgrade":
        command.upgrade(cfg, "head")
    else:
        command.current(cfg)


if __name__ == "__main__":
    main()
