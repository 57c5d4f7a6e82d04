"""Secrets at rest: seal (encrypt and authenticate) and open them with ``PIXELSMITH_SECRET_KEY``.

What is sealed: secrets Pixelsmith keeps in its database for later use (a community's own gateway
key, Slack OAuth bot tokens). A sealed value is a Fernet token (AES-128-CBC + HMAC-SHA256, from
``cryptography``): tampering or a wrong key makes opening fail, never return garbage.

The key material is ``PIXELSMITH_SECRET_KEY`` (``web.secret_key`` in the file; the environment
wins): one or more comma-separated secrets of at least 32 random characters each. The FIRST seals;
every one opens, so a key is rotated by putting the new one first and keeping the old one after
it until ``reseal`` (``pixelsmith keys rotate``) has re-sealed every stored value. Each secret is
stretched into its Fernet key with HKDF-SHA256 under a purpose label, so the same variable can
also sign web links (a different label, a different key) without the two uses ever sharing a key.

Errors never carry a secret or a sealed value: a missing or weak variable is a
:class:`core.errors.ConfigError` naming ``PIXELSMITH_SECRET_KEY``; a value that no configured key
opens is :class:`Unsealable`.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from core.errors import ConfigError, PixelsmithError

if TYPE_CHECKING:
    from core.config import Settings

ENV_VAR = "PIXELSMITH_SECRET_KEY"
MIN_SECRET_CHARS = 32
MAX_SECRETS = 8
PURPOSE = b"pixelsmith sealed v1"
# Values sealed by this module start with this (Fernet's version byte, base64): a cheap
# plausibility check before a stored value is handed to ``open``.
TOKEN_PREFIX = "gAAAAA"


class Unsealable(PixelsmithError):
    """A stored secret cannot be opened with any key in ``PIXELSMITH_SECRET_KEY`` (the key was
    changed without keeping the old one, or the stored value was altered). ``params['what']``
    names the stored thing (never its value)."""

    key = "sealed.unsealable"
    exit_code = 2


def _missing(problem: str) -> ConfigError:
    return ConfigError("config.invalid", key=ENV_VAR, problem=problem, path_or_env=ENV_VAR)


def split_secrets(raw: str | None) -> list[str]:
    """The configured secrets, current first. Raises ConfigError (naming the variable, never the
    value) when none is set or one is too short to be a key."""
    parts = [p.strip() for p in (raw or "").split(",")]
    parts = [p for p in parts if p]
    if not parts:
        raise _missing(
            f"not set; Pixelsmith needs it to encrypt stored keys and tokens: {MIN_SECRET_CHARS}+ "
            "random characters (for example the output of "
            "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`)"
        )
    if len(parts) > MAX_SECRETS:
        raise _missing(f"holds {len(parts)} comma-separated keys; at most {MAX_SECRETS}")
    for index, part in enumerate(parts, start=1):
        if len(part) < MIN_SECRET_CHARS:
            which = "the key" if len(parts) == 1 else f"key {index} of {len(parts)}"
            raise _missing(
                f"{which} is shorter than {MIN_SECRET_CHARS} characters; use "
                f"{MIN_SECRET_CHARS}+ random characters"
            )
    return parts


def derive_key(secret: str, purpose: bytes = PURPOSE) -> bytes:
    """The Fernet key for one configured secret and one purpose (HKDF-SHA256, no salt: the
    secret is already random; the purpose label separates the uses)."""
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(
        secret.encode("utf-8")
    )
    return base64.urlsafe_b64encode(raw)


class Sealer:
    """Seals with the current key, opens with any configured key."""

    def __init__(self, secrets: Sequence[str]) -> None:
        if not secrets:
            raise _missing("not set")
        self._fernet = MultiFernet([Fernet(derive_key(s)) for s in secrets])
        self.key_count = len(secrets)

    @classmethod
    def from_value(cls, raw: str | None) -> Sealer:
        """From the variable's value (comma-separated secrets, current first)."""
        return cls(split_secrets(raw))

    def seal(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def open(self, sealed: str, *, what: str = "other") -> str:
        """The plaintext, or :class:`Unsealable` (``what`` names the stored thing)."""
        try:
            return self._fernet.decrypt(sealed.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError, ValueError):
            raise Unsealable(what=what) from None

    def reseal(self, sealed: str, *, what: str = "other") -> str:
        """The same plaintext sealed with the current key (key rotation)."""
        try:
            return self._fernet.rotate(sealed.encode("ascii")).decode("ascii")
        except (InvalidToken, UnicodeError, ValueError):
            raise Unsealable(what=what) from None

    def __repr__(self) -> str:  # never the keys
        return f"Sealer(keys={self.key_count})"


def fingerprint(secret: str) -> str:
    """A short, stable, non-reversible name for a secret (shown instead of it): the first 12 hex
    digits of its SHA-256. Gateway keys and tokens are long random strings, so the fingerprint
    identifies one without helping anyone guess it."""
    return "sha256:" + hashlib.sha256(secret.encode("utf-8")).hexdigest()[:12]


def sealer_for(settings: Settings) -> Sealer:
    """The sealer of this deployment (``PIXELSMITH_SECRET_KEY``, or ``web.secret_key`` in the
    file); ConfigError naming the variable when it is missing or weak."""
    return Sealer.from_value(settings.web.secret_key_value)
