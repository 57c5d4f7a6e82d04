"""``pixelsmith keys``: the operator's view of communities' own gateway keys.

``set COMMUNITY [--base-url URL] [--key-env VAR]`` reads the key from standard input (a prompt
that does not echo on a terminal), or from the environment variable ``VAR``: never from the
command line, where other users of the machine could read it in the process list.
``list`` shows fingerprints, never keys; ``test`` asks each key's gateway ``GET /models``
(free) and exits 1 when one is not accepted; ``remove`` follows ``byok.fallback_to_operator``
unless ``--forget``; ``rotate`` re-seals every key with the first ``PIXELSMITH_SECRET_KEY``.
COMMUNITY is ``discord:<server id>`` or ``slack:<team id>``.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from typing import Any, TextIO

from bots.cli_admin_io import OPERATOR, InputError, community_scope, guarded, say, table, when
from core.service import ImageService

OK_CHECKS = ("ok",)


def _read_key(args: argparse.Namespace, err: TextIO) -> str:
    if args.key_env:
        value = os.environ.get(args.key_env)
        if not value:
            raise InputError("cli.keys_env_empty", var=args.key_env)
        return value
    if sys.stdin.isatty():
        return getpass.getpass(say("cli.keys_prompt"), stream=err)
    return sys.stdin.readline()


async def keys_set(
    args: argparse.Namespace, *, service: ImageService, out: TextIO, err: TextIO
) -> int:
    scope = community_scope(args.community)
    key = _read_key(args, err)
    shown = await service.admin_set_key(OPERATOR, key, args.base_url, community=scope)
    info = await service.admin_key(OPERATOR, community=scope)
    base_url = (info.base_url if info else None) or service.settings.provider.base_url
    out.write(say("cli.keys_set", community=scope, fingerprint=shown, base_url=base_url) + "\n")
    if not service.settings.byok.enabled:
        err.write(say("cli.keys_byok_off") + "\n")
    group = await service.key_group(OPERATOR, scope)
    if group is not None:
        shown = group.removeprefix("community:")
        err.write(say("cli.keys_in_group", community=scope, group=shown) + "\n")
    return 0


async def keys_list(
    args: argparse.Namespace, *, service: ImageService, out: TextIO, err: TextIO
) -> int:
    keys = await service.community_keys(OPERATOR)
    if not keys:
        out.write(say("cli.keys_none") + "\n")
        return 0
    default = service.settings.provider.base_url
    rows: list[list[Any]] = [
        [
            k.community_scope,
            k.fingerprint or say("cli.keys_removed"),
            k.base_url or default,
            say("cli.keys_opens_yes" if k.opens or k.fingerprint is None else "cli.keys_opens_no"),
            f"{k.check} {when(k.checked_at)}" if k.check else "-",
            f"{k.set_by} {when(k.set_at)}",
        ]
        for k in keys
    ]
    table(rows, ["community", "key", "gateway", "readable", "last test", "set by"], out)
    if not service.settings.byok.enabled:
        err.write(say("cli.keys_byok_off") + "\n")
    return 0


async def keys_test(
    args: argparse.Namespace, *, service: ImageService, out: TextIO, err: TextIO
) -> int:
    if args.community:
        scopes = [community_scope(args.community)]
    else:
        scopes = [k.community_scope for k in await service.community_keys(OPERATOR)]
    failed = 0
    for scope in scopes:
        outcome = await service.test_key(OPERATOR, community=scope)
        if outcome not in OK_CHECKS:
            failed += 1
        out.write(say("cli.keys_tested", community=scope, outcome=outcome) + "\n")
    if not scopes:
        out.write(say("cli.keys_none") + "\n")
    return 1 if failed else 0


async def keys_remove(
    args: argparse.Namespace, *, service: ImageService, out: TextIO, err: TextIO
) -> int:
    scope = community_scope(args.community)
    outcome = await service.admin_remove_key(OPERATOR, community=scope, forget=args.forget)
    out.write(say(f"cli.keys_remove_{outcome}", community=scope) + "\n")
    return 0


async def keys_rotate(
    args: argparse.Namespace, *, service: ImageService, out: TextIO, err: TextIO
) -> int:
    keys, installs = await service.rotate_keys(OPERATOR)
    out.write(say("cli.keys_rotated", count=keys, installs=installs) + "\n")
    return 0


def add_keys_commands(subparsers: Any) -> None:
    """Register ``keys`` on the CLI's ``add_subparsers()`` action."""
    keys = subparsers.add_parser("keys", help="communities' own gateway keys (operator)")
    ksub = keys.add_subparsers(dest="keys_command", metavar="{set,list,test,remove,rotate}")
    ksub.required = True
    where = "discord:<server id> or slack:<team id>"

    set_ = ksub.add_parser("set", help="store a community's own key (read from stdin)")
    set_.add_argument("community", metavar="COMMUNITY", help=where)
    set_.add_argument("--base-url", metavar="URL", help="its gateway (default: provider.base_url)")
    set_.add_argument("--key-env", metavar="VAR", help="read the key from this variable")
    set_.set_defaults(admin_handler=guarded(keys_set))

    list_ = ksub.add_parser("list", help="stored keys by fingerprint (never the key)")
    list_.set_defaults(admin_handler=guarded(keys_list))

    test = ksub.add_parser("test", help="ask each key's gateway for its models (free)")
    test.add_argument("community", metavar="COMMUNITY", nargs="?", help=where)
    test.set_defaults(admin_handler=guarded(keys_test))

    remove = ksub.add_parser("remove", help="remove a community's key")
    remove.add_argument("community", metavar="COMMUNITY", help=where)
    remove.add_argument(
        "--forget",
        action="store_true",
        help="also let it back on your key when byok.fallback_to_operator is false",
    )
    remove.set_defaults(admin_handler=guarded(keys_remove))

    rotate = ksub.add_parser("rotate", help="re-seal every key with the first secret key")
    rotate.set_defaults(admin_handler=guarded(keys_rotate))
