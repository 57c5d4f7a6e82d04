"""The web companion's sentences: its Fluent catalog in ``bots/web/locales`` (en, zh-CN).

Templates call ``t("key")``; the page's JavaScript reads the few texts it needs from ``data-``
attributes the template fills in, so nothing user-facing lives in a script.
"""

from __future__ import annotations

from typing import Any

from core import messages


def text(key: str, locale: str | None = "en", **params: Any) -> str:
    return messages.text(key, locale, **params)
