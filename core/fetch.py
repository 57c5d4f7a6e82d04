"""Safe download of an image URL (platform attachments, reverse-model result links).

Contract:

- Only ``http``/``https`` URLs without credentials in them; the host must be one of
  ``allowed_hosts`` (an exact match or a subdomain of an entry). ``allowed_hosts=None`` allows
  any public host, but never a loopback/private/link-local address (SSRF), unless
  ``allow_private=True`` (tests, local fakes).
- Redirects are never followed: a 3xx is a refusal. So ``headers`` (a bearer token, say) go to
  the given URL only, and are never echoed in params or logs.
- ``Content-Length`` is checked against ``max_bytes`` before reading; the body is read in chunks
  with the cap enforced while reading (also after transparent decompression).
- ``text/html`` answers are refused as ``image.html_page`` (Slack serves its login page when the
  token lacks ``files:read``).
- Every failure is an :class:`core.errors.InvalidImage` whose params are plain data: the host
  (never the path or query, which may be signed), an HTTP status, a reason token.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import socket
from collections.abc import Collection, Mapping
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver
from yarl import URL

from core.errors import InvalidImage

__all__ = ["FETCH_KEYS", "PrivateAddressError", "PublicOnlyResolver", "fetch_bytes", "host_allowed"]

log = logging.getLogger(__name__)

FETCH_KEYS: frozenset[str] = frozenset(
    {
        # every key also carries ``name`` (the caller's, or None); never the URL
        "image.bad_url",  # name
        "image.foreign_host",  # name, host
        "image.redirected",  # name, host, status
        "image.download_failed",  # name, host, reason (timeout|connection|status), status|None
        "image.too_large",  # name, size_mb, limit_mb, size_known (False: "at least size_mb")
        "image.html_page",  # name, host
        "image.unsupported_type",  # name, detected (the served content type)
        "image.empty",  # name
    }
)

_CHUNK = 64 * 1024
_MB = 1024 * 1024
_NOT_IMAGES = ("application/json", "application/xml", "application/pdf", "application/javascript")


def _normalize_host(host: str) -> str:
    return host.strip().lower().rstrip(".").lstrip(".")


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _is_public(addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return addr.is_global and not addr.is_multicast


def host_allowed(host: str, allowed_hosts: Collection[str] | None) -> bool:
    """Exact match or subdomain of an entry; IP addresses only by exact match."""
    if allowed_hosts is None:
        return True
    host = _normalize_host(host)
    is_ip = _ip(host) is not None
    for raw in allowed_hosts:
        entry = _normalize_host(raw)
        if not entry:
            continue
        if host == entry or (not is_ip and host.endswith("." + entry)):
            return True
    return False


def _check_url(
    url: str, allowed_hosts: Collection[str] | None, allow_private: bool
) -> tuple[URL, str]:
    try:
        parsed = URL(url)
    except (ValueError, TypeError):
        raise InvalidImage("image.bad_url") from None
    if parsed.scheme not in ("http", "https") or not parsed.raw_host:
        raise InvalidImage("image.bad_url")
    if parsed.user is not None or parsed.password is not None:
        raise InvalidImage("image.bad_url")
    host = _normalize_host(parsed.raw_host)
    if not host_allowed(host, allowed_hosts):
        raise InvalidImage("image.foreign_host", host=host)
    if allowed_hosts is None and not allow_private:
        addr = _ip(host)
        local_name = host == "localhost" or host.endswith(".localhost")
        if local_name or (addr is not None and not _is_public(addr)):
            raise InvalidImage("image.foreign_host", host=host)
    return parsed, host


class PrivateAddressError(OSError):
    """Raised by :class:`PublicOnlyResolver` when a name resolves to no public address."""


class PublicOnlyResolver(AbstractResolver):
    """A resolver that drops loopback/private/link-local answers (SSRF protection, no TOCTOU).

    Use it for sessions that fetch from any host (``allowed_hosts=None``)::

        aiohttp.ClientSession(connector=aiohttp.TCPConnector(resolver=PublicOnlyResolver()))
    """

    def __init__(self, inner: AbstractResolver | None = None) -> None:
        self._inner = inner if inner is not None else DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        answers = await self._inner.resolve(host, port, family)
        public = [a for a in answers if (ip := _ip(a["host"])) is not None and _is_public(ip)]
        if not public:
            raise PrivateAddressError(f"{host} has no public address")
        return public

    async def close(self) -> None:
        await self._inner.close()


def _peer_is_public(resp: aiohttp.ClientResponse) -> bool | None:
    conn = resp.connection
    transport = conn.transport if conn is not None else None
    if transport is None:
        # A small body may already be read and the connection back in the pool: the protocol
        # still knows its transport (aiohttp has no public accessor for it).
        protocol = getattr(resp, "_protocol", None)
        transport = getattr(protocol, "transport", None)
    peer: Any = transport.get_extra_info("peername") if transport is not None else None
    if not peer:
        return None
    if transport is not None:
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family not in (socket.AF_INET, socket.AF_INET6):
            return None
    addr = _ip(str(peer[0]))
    return None if addr is None else _is_public(addr)


def _too_large(name: str | None, size: int, max_bytes: int, *, known: bool) -> InvalidImage:
    # Without a Content-Length the size is "at least what was read": rounded up, so it never
    # prints as equal to the limit.
    return InvalidImage(
        "image.too_large",
        name=name,
        size_mb=math.ceil(size / _MB * 10) / 10,
        limit_mb=round(max_bytes / _MB, 1),
        size_known=known,
    )


async def fetch_bytes(
    session: aiohttp.ClientSession,
    url: str,
    *,
    allowed_hosts: Collection[str] | None,
    max_bytes: int,
    timeout_s: float,
    headers: Mapping[str, str] | None = None,
    expect_image: bool = True,
    name: str | None = None,
    allow_private: bool = False,
) -> bytes:
    """Download ``url`` under the rules in the module docstring and return the body.

    ``name`` (the attachment's name, for messages) is put in the params of size/type refusals.
    The session is the caller's (its connector, proxy and resolver settings apply); with a
    proxy (``session.trust_env``) the peer-address check of ``allowed_hosts=None`` is skipped.
    """
    try:
        parsed, host = _check_url(url, allowed_hosts, allow_private)
    except InvalidImage as exc:
        exc.params = {"name": name, **exc.params}
        raise
    timeout = aiohttp.ClientTimeout(total=timeout_s)
    try:
        async with session.get(
            parsed,
            headers=dict(headers) if headers else None,
            allow_redirects=False,
            timeout=timeout,
        ) as resp:
            # A public name may resolve to a private address: check where we actually landed
            # (the request has gone out, but nothing is read or returned).
            check_peer = allowed_hosts is None and not allow_private and not session.trust_env
            if check_peer and _peer_is_public(resp) is False:
                raise InvalidImage("image.foreign_host", name=name, host=host)
            if 300 <= resp.status < 400:
                log.info("fetch refused a redirect from %s (status %s)", host, resp.status)
                raise InvalidImage("image.redirected", name=name, host=host, status=resp.status)
            if resp.status != 200:
                log.info("fetch from %s failed with status %s", host, resp.status)
                raise InvalidImage(
                    "image.download_failed",
                    name=name,
                    host=host,
                    reason="status",
                    status=resp.status,
                )
            ctype = (resp.content_type or "").lower()
            if ctype in ("text/html", "application/xhtml+xml"):
                raise InvalidImage("image.html_page", name=name, host=host)
            if expect_image and (ctype.startswith("text/") or ctype in _NOT_IMAGES):
                raise InvalidImage("image.unsupported_type", name=name, detected=ctype)
            if resp.content_length is not None and resp.content_length > max_bytes:
                raise _too_large(name, resp.content_length, max_bytes, known=True)
            body = bytearray()
            async for chunk in resp.content.iter_chunked(_CHUNK):
                body += chunk
                if len(body) > max_bytes:
                    raise _too_large(name, len(body), max_bytes, known=False)
    except InvalidImage:
        raise
    except TimeoutError:
        log.info("fetch from %s timed out after %.1fs", host, timeout_s)
        raise InvalidImage(
            "image.download_failed", name=name, host=host, reason="timeout", status=None
        ) from None
    except aiohttp.ClientConnectorError as exc:
        if isinstance(exc.os_error, PrivateAddressError):
            raise InvalidImage("image.foreign_host", name=name, host=host) from None
        log.info("fetch from %s failed: %s", host, type(exc).__name__)
        raise InvalidImage(
            "image.download_failed", name=name, host=host, reason="connection", status=None
        ) from None
    except (aiohttp.ClientError, OSError, ValueError) as exc:
        # The class name only: exception text can contain the URL (and its signature).
        log.info("fetch from %s failed: %s", host, type(exc).__name__)
        raise InvalidImage(
            "image.download_failed", name=name, host=host, reason="connection", status=None
        ) from None
    if not body:
        raise InvalidImage("image.empty", name=name)
    return bytes(body)
