"""The ``pixelsmith`` command.

Exit codes: 0 ok · 2 invalid input or config (nothing sent) · 3 refused
(pre-flight or safety system) · 4 quota or budget exhausted · 5 upstream, account or network
failure. Errors are one friendly line on stderr: never a traceback, never a secret.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, TextIO

from bots.terminal import (
    TerminalProgress,
    local_identity,
    output_folder,
    preferences_owner,
    read_file,
    safe,
    save_images,
    tell_reaped,
    terminal_locale,
)
from core import incidents, messages
from core.config import Settings, load_settings
from core.errors import ConfigError, PixelsmithError
from core.request import Options
from core.service import ImageService

EXIT_OK, EXIT_INVALID, EXIT_REFUSED, EXIT_QUOTA, EXIT_UPSTREAM = 0, 2, 3, 4, 5


class _Parser(argparse.ArgumentParser):
    """argparse that exits with code 2 and one line, as every other invalid input does."""

    def error(self, message: str) -> Any:
        self.exit(
            EXIT_INVALID,
            f"pixelsmith: {message} (see `pixelsmith {self.prog.split()[-1]} --help`)\n",
        )


def _generation_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("prompt", help="what to draw; flags like --ar 2:3 may also be typed inside")
    p.add_argument("--model", help="model name from the catalog (default: provider.default_model)")
    size = p.add_mutually_exclusive_group()
    size.add_argument("--size", help="WxH, e.g. 1024x1536 (default: auto)")
    size.add_argument("--aspect", help="1:1, 2:3 or 3:2")
    p.add_argument("--quality", help="low, medium, high or auto")
    p.add_argument("-n", type=int, dest="n", help="number of images (1-10)")
    p.add_argument("--background", help="transparent, opaque or auto")
    p.add_argument("--moderation", help="low or auto (generation only)")
    p.add_argument("--format", dest="output_format", help="png, jpeg or webp")
    p.add_argument("--out", default=".", help="folder for the images (default: .)")
    p.add_argument("--stem", default="pixelsmith", help="file name stem (default: pixelsmith)")
    p.add_argument(
        "--force", action="store_true", help="send even if the pre-flight check expects a refusal"
    )
    p.add_argument("--as", dest="as_user", help="charge this user (default: the local user)")
    p.add_argument("--community", help="charge this community too")
    p.add_argument("--lang", help="en or zh (default: from LANG)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="pixelsmith",
        description="Image generation for Discord and Slack "
        "communities, with quotas and an honest cost ledger.",
    )
    parser.add_argument(
        "--config",
        help="TOML config file (default: $PIXELSMITH_CONFIG, "
        "else ./config.toml, else built-in defaults)",
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    imagine = sub.add_parser("imagine", help="generate images")
    _generation_options(imagine)
    edit = sub.add_parser("edit", help="edit images")
    _generation_options(edit)
    edit.add_argument(
        "--image",
        action="append",
        required=True,
        metavar="FILE",
        help="input image (repeat for several)",
    )
    edit.add_argument("--mask", metavar="FILE", help="PNG mask: transparent = area to change")
    edit.add_argument("--fidelity", dest="input_fidelity", help="input fidelity: high or low")
    console = sub.add_parser("console", help="a terminal chat through the same core")
    console.add_argument("--out", help="folder for the images")
    console.add_argument("--as", dest="as_user")
    console.add_argument("--lang")
    sub.add_parser("run", help="run every configured platform (Discord, Slack) in one process")
    sub.add_parser("doctor", help="check config, database, gateway, Discord and Slack")
    sub.add_parser("models", help="the gateway's image models beside the catalog")
    dash = sub.add_parser(
        "dashboard-link", help="a signed one-time link to one community's admin dashboard"
    )
    dash.add_argument(
        "community", metavar="COMMUNITY", help="discord:<server id> or slack:<team id>"
    )
    try:
        from bots.cli_admin import add_admin_commands
    except ImportError:  # pragma: no cover - admin commands ship with the store
        pass
    else:
        from bots.cli_keys import add_keys_commands

        add_admin_commands(sub)
        add_keys_commands(sub)
    for command in sub.choices.values():
        command.add_argument("--config", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    return parser


def _locale(args: argparse.Namespace, settings: Settings) -> str:
    return terminal_locale(getattr(args, "lang", None), settings.console.locale)


async def _generate(args: argparse.Namespace, settings: Settings, out: TextIO, err: TextIO) -> int:
    locale = _locale(args, settings)
    # What can be checked about input and delivery is checked before anything is reserved or
    # sent: the input files (bounded reads) and the output folder.
    files, mask_file = [], None
    if args.command == "edit":
        limit = settings.images.max_input_bytes
        files = [read_file(p, limit) for p in args.image]
        mask_file = read_file(args.mask, limit) if args.mask else None
    folder = output_folder(args.out)
    service = await ImageService.create(settings, allow_demo_fallback=True)
    try:
        identity = local_identity(args, locale)
        # The terminal user's defaults (console /settings) fill what no flag says; an explicit
        # --lang beats the stored language.
        prefs = await service.preferences(preferences_owner(identity))
        if prefs.language and not getattr(args, "lang", None):
            locale = prefs.language
            identity = replace(identity, locale=messages.lang(locale))
        await tell_reaped(service, identity, err)
        options = Options(
            model=args.model,
            size=args.size,
            aspect=args.aspect,
            quality=args.quality,
            n=args.n,
            background=args.background,
            moderation=args.moderation,
            output_format=args.output_format,
            input_fidelity=getattr(args, "input_fidelity", None),
            force=args.force or None,
        )
        images: tuple[Any, ...] = ()
        mask = None
        if files:
            images = await service.prepare_images(files)
            if mask_file is not None:
                mask = await service.prepare_mask(mask_file, images[0])
        request = service.build(
            args.prompt, identity, options=options, images=images, mask=mask, prefs=prefs
        )
        result = await service.run(request, TerminalProgress(err, locale, request.model))
        for path in save_images(result, folder, args.stem):
            out.write(f"{safe(path)}\n")
        for item in result.notes:
            err.write(messages.note(item, locale) + "\n")
        cost = messages.text(
            "result.cost_demo" if result.demo else "result.cost", locale, cost=result.cost_usd
        )
        out.write(f"{cost}\n")
        return EXIT_OK
    finally:
        await service.close()


async def _dispatch(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    settings = load_settings(args.config)
    args._base_url = settings.provider.base_url  # for admin hints rendered by main()
    _configure_logging(settings, serving=args.command == "run")
    if args.command in ("imagine", "edit"):
        return await _generate(args, settings, out, err)
    if args.command == "console":
        from bots.console import run_console

        return await run_console(settings, args, sys.stdin, out, err)
    if args.command == "run":
        from bots.runner import run_platforms

        return await run_platforms(settings, out, err)
    if args.command == "doctor":
        from bots.doctor import run_doctor

        return await run_doctor(settings, out, err)
    if args.command == "models":
        from bots.models_cmd import run_models

        return await run_models(settings, out, err, locale=_locale(args, settings))
    if args.command == "dashboard-link":
        return dashboard_link(args, settings, out, err)
    handler = getattr(args, "admin_handler", None)
    if handler is not None:
        service = await ImageService.create(settings, offline=True)
        try:
            code: int = await handler(args, service=service, out=out, err=err)
            return code
        finally:
            await service.close()
    return EXIT_INVALID


def dashboard_link(args: argparse.Namespace, settings: Settings, out: TextIO, err: TextIO) -> int:
    """The operator's way into a community's dashboard: the link on stdout (nothing is stored
    or sent; the web companion of ``pixelsmith run`` with the same secret opens it)."""
    from bots.web.links import operator_dashboard_link

    locale = os.environ.get("LANG", "en")
    try:
        url = operator_dashboard_link(settings, args.community)
    except ValueError:
        err.write(messages.text("cli.bad_web_community", locale, value=safe(args.community)) + "\n")
        return EXIT_INVALID
    if url is None:
        err.write(messages.text("cli.web_off", locale) + "\n")
        return EXIT_INVALID
    out.write(url + "\n")
    minutes = round(settings.web.link_minutes)
    err.write(messages.text("cli.dashboard_link", locale, minutes=minutes) + "\n")
    return EXIT_OK


async def _one_shot(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """A one-shot command that SIGINT or SIGTERM ends cleanly: the command is cancelled, so a
    job in flight is settled by the money rules (released if nothing was sent, else charged as
    unknown) before the process exits with 128 + the signal number (130, 143)."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    inner = asyncio.ensure_future(_dispatch(args, out, err))
    got: list[int] = []

    def on_signal(number: int) -> None:
        if not got:  # a second signal waits for the settle the first one started
            got.append(number)
            inner.cancel()

    handled = []
    for number in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(number, on_signal, int(number))
            handled.append(number)
        except (NotImplementedError, RuntimeError):  # pragma: no cover - not on this platform
            pass
    try:
        return await inner
    except asyncio.CancelledError:
        if not got:
            raise
        locale = getattr(args, "lang", None) or os.environ.get("LANG", "en")
        err.write("\n" + messages.text("cli.interrupted", locale) + "\n")
        return 128 + got[0]
    finally:
        for number in handled:
            loop.remove_signal_handler(number)


def _configure_logging(settings: Settings, *, serving: bool) -> None:
    from core.logs import setup_logging

    redactor = setup_logging(settings)
    if serving:
        incidents.log_incidents_with_everything()
    else:
        incidents.log_incidents_to_file(redactor)
        # One-shot commands speak through stdout/stderr lines; the per-job log lines are for
        # the long-running bot (`run`), so only warnings reach a terminal user here.
        root = logging.getLogger()
        root.setLevel(max(root.level, logging.WARNING))
    # Alembic logs every migration step at INFO: noise on stderr on each fresh database.
    logging.getLogger("alembic").setLevel(logging.WARNING)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    out, err = sys.stdout, sys.stderr
    locale = getattr(args, "lang", None) or os.environ.get("LANG", "en")
    if args.command != "run":  # until the config is read: token-shaped text is still redacted
        from core.logs import RedactingFilter

        incidents.log_incidents_to_file(RedactingFilter())
    try:
        if args.command == "run":  # the runner drains on SIGTERM/SIGINT itself
            return asyncio.run(_dispatch(args, out, err))
        return asyncio.run(_one_shot(args, out, err))
    except PixelsmithError as exc:
        if isinstance(exc, ConfigError):
            params = exc.params
            exc.params = {**params, "path_or_env": params.get("path") or "config.toml"}
        base_url = getattr(args, "_base_url", "")
        err.write(messages.render(exc, locale, admin=True, base_url=base_url) + "\n")
        return exc.exit_code
    except KeyboardInterrupt:
        err.write("\n")
        return 130
    except Exception as exc:
        # The traceback goes to the incident log (redacted); the person gets the incident id.
        err.write(incidents.incident_text(exc, locale, f"pixelsmith {args.command}") + "\n")
        return EXIT_UPSTREAM


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
