"""The ``pixelsmith`` console script: :func:`bots.cli.main`, imported without the cyclic collector.

Importing the command builds ~116,000 long-lived objects (the SDK's models, SQLAlchemy,
pydantic schemas) and, on the way, CPython's collector runs ~270 times over the survivors; a
one-shot command spent a quarter of its CPU walking objects that can never be garbage (median
CPU of ``pixelsmith imagine`` in ``bench/cli_startup.py``: 2.34 s with the collector, 1.81 s
without, on the same machine the same morning). The
collector is off while the command's modules load; what they built is then frozen (a full
collection never walks it again) and the collector comes back on for the command's own work.
``pixelsmith run`` later freezes its pre-loaded providers and adapters the same way
(:mod:`bots.runner`). ``python -m bots.cli`` runs the same command without this.
"""

from __future__ import annotations

import gc


def main() -> int:
    gc.disable()
    try:
        from bots.cli import main as command
    finally:
        gc.freeze()
        gc.enable()
    return command()
