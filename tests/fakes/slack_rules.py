"""Slack's published Block Kit and Web API limits, checked the way Slack checks them.

Each violation becomes one line of ``response_metadata.messages`` in Slack's own format,
``[ERROR] <what> [json-pointer:/blocks/0/text/text]``, with ``ok: false`` and the error the method
documents (``invalid_blocks`` for chat.*, ``invalid_arguments`` for views.*). Sources (Slack's
reference on docs.slack.dev), cited per rule below:

* BLOCKS: /reference/block-kit/blocks (up to 50 blocks per message, 100 per modal or Home tab;
  ``block_id`` at most 255 characters) and the page of each block: section (``text`` at most
  3000, ``fields`` at most 10 of at most 2000), header (150), context (10 elements), actions
  (25 elements), image (``image_url`` 3000, ``alt_text`` 2000), input (``label`` and ``hint``
  2000).
* ELEMENTS: /reference/block-kit/block-elements: button (``text`` 75, ``action_id`` 255,
  ``value`` 2000, ``url`` 3000), plain-text input (``min_length``/``max_length`` 0..3000,
  ``placeholder`` 150, ``action_id`` 255), file input (``max_files`` 1..10, ``action_id`` 255).
* VIEWS: /reference/views/modal-views and /reference/views/home-tab-views (modal ``title``,
  ``submit``, ``close`` at most 24 characters, ``submit`` required with an input block;
  ``private_metadata`` at most 3000; ``callback_id`` and ``external_id`` at most 255).
"""

from __future__ import annotations

from typing import Any

MESSAGE_BLOCKS = 50  # BLOCKS: "You can include up to 50 blocks in each message"
SURFACE_BLOCKS = 100  # BLOCKS: "... and 100 blocks in modals or Home tabs"


def _text_of(obj: Any) -> str | None:
    if isinstance(obj, dict) and isinstance(obj.get("text"), str):
        return str(obj["text"])
    return None


class _Checker:
    def __init__(self) -> None:
        self.errors: list[str] = []

    def fail(self, what: str, pointer: str) -> None:
        self.errors.append(f"[ERROR] {what} [json-pointer:{pointer}]")

    def max_len(self, value: Any, limit: int, pointer: str) -> None:
        if isinstance(value, str) and len(value) > limit:
            self.fail(f"must be less than {limit + 1} characters", pointer)

    def text_obj(self, obj: Any, limit: int, pointer: str, *, plain: bool = False) -> None:
        if obj is None:
            return
        if not isinstance(obj, dict) or obj.get("type") not in ("plain_text", "mrkdwn"):
            self.fail("must be a text object", pointer)
            return
        if plain and obj.get("type") != "plain_text":
            self.fail("must be a plain_text text object", f"{pointer}/type")
        text = _text_of(obj)
        if text is None or text == "":
            self.fail("must be more than 0 characters", f"{pointer}/text")
        self.max_len(text, limit, f"{pointer}/text")

    # -- blocks -------------------------------------------------------------------------

    def blocks(self, blocks: Any, limit: int, pointer: str = "/blocks") -> None:
        if not isinstance(blocks, list):
            self.fail("must be an array", pointer)
            return
        if len(blocks) > limit:
            self.fail(f"no more than {limit} items allowed", pointer)
        for i, block in enumerate(blocks):
            self.block(block, f"{pointer}/{i}")

    def block(self, block: Any, p: str) -> None:
        if not isinstance(block, dict):
            self.fail("must be an object", p)
            return
        self.max_len(block.get("block_id"), 255, f"{p}/block_id")  # BLOCKS: block_id 255
        kind = block.get("type")
        if kind == "section":
            # BLOCKS (section): text up to 3000 characters; fields up to 10 items of 2000.
            self.text_obj(block.get("text"), 3000, f"{p}/text")
            fields = block.get("fields")
            if fields is not None:
                if not isinstance(fields, list) or len(fields) > 10:
                    self.fail("no more than 10 items allowed", f"{p}/fields")
                else:
                    for j, f in enumerate(fields):
                        self.text_obj(f, 2000, f"{p}/fields/{j}")
            if block.get("text") is None and not fields:
                self.fail("must provide text or fields", p)
            if block.get("accessory") is not None:
                self.element(block["accessory"], f"{p}/accessory")
        elif kind == "header":
            self.text_obj(block.get("text"), 150, f"{p}/text", plain=True)  # BLOCKS (header)
        elif kind == "context":
            elements = block.get("elements")
            if not isinstance(elements, list) or not 1 <= len(elements) <= 10:
                self.fail("must have 1 to 10 elements", f"{p}/elements")  # BLOCKS (context)
            else:
                for j, e in enumerate(elements):
                    if isinstance(e, dict) and e.get("type") in ("plain_text", "mrkdwn"):
                        self.text_obj(e, 3000, f"{p}/elements/{j}")
        elif kind == "actions":
            elements = block.get("elements")
            if not isinstance(elements, list) or not 1 <= len(elements) <= 25:
                self.fail("must have 1 to 25 elements", f"{p}/elements")  # BLOCKS (actions)
            else:
                for j, e in enumerate(elements):
                    self.element(e, f"{p}/elements/{j}")
        elif kind == "image":
            self.max_len(block.get("image_url"), 3000, f"{p}/image_url")  # BLOCKS (image)
            self.max_len(block.get("alt_text"), 2000, f"{p}/alt_text")
            if not block.get("alt_text"):
                self.fail("must provide alt_text", f"{p}/alt_text")
        elif kind == "input":
            # BLOCKS (input): label and hint plain_text up to 2000 characters; one element.
            self.text_obj(block.get("label"), 2000, f"{p}/label", plain=True)
            if block.get("label") is None:
                self.fail("must provide a label", f"{p}/label")
            self.text_obj(block.get("hint"), 2000, f"{p}/hint", plain=True)
            self.element(block.get("element"), f"{p}/element")
        elif kind not in ("divider", "rich_text", "file", "video", "markdown"):
            self.fail(f"unsupported type: {kind!r}", f"{p}/type")

    # -- elements -----------------------------------------------------------------------

    def element(self, el: Any, p: str) -> None:
        if not isinstance(el, dict):
            self.fail("must be an object", p)
            return
        self.max_len(el.get("action_id"), 255, f"{p}/action_id")  # ELEMENTS: action_id 255
        kind = el.get("type")
        if kind == "button":
            # ELEMENTS (button): text 75, value 2000, url 3000.
            self.text_obj(el.get("text"), 75, f"{p}/text", plain=True)
            self.max_len(el.get("value"), 2000, f"{p}/value")
            self.max_len(el.get("url"), 3000, f"{p}/url")
        elif kind == "plain_text_input":
            # ELEMENTS (plain-text input): min_length/max_length within 0..3000; placeholder 150.
            for key in ("min_length", "max_length"):
                value = el.get(key)
                if value is not None and (not isinstance(value, int) or not 0 <= value <= 3000):
                    self.fail("must be between 0 and 3000", f"{p}/{key}")
            self.text_obj(el.get("placeholder"), 150, f"{p}/placeholder", plain=True)
            self.max_len(el.get("initial_value"), 3000, f"{p}/initial_value")
        elif kind == "file_input":
            # ELEMENTS (file input): "max_files ... Maximum of 10, minimum of 1. Defaults to 10."
            value = el.get("max_files")
            if value is not None and (not isinstance(value, int) or not 1 <= value <= 10):
                self.fail("must be between 1 and 10", f"{p}/max_files")


def check_message(params: dict[str, Any]) -> list[str]:
    """chat.postMessage / chat.update / chat.postEphemeral / response_url bodies."""
    blocks = params.get("blocks")
    if blocks is None:
        return []
    c = _Checker()
    c.blocks(blocks, MESSAGE_BLOCKS)
    return c.errors


def check_view(view: Any) -> list[str]:
    """views.open / views.update / views.push / views.publish ``view`` objects."""
    c = _Checker()
    if not isinstance(view, dict):
        c.fail("must be an object", "/view")
        return c.errors
    kind = view.get("type")
    if kind not in ("modal", "home"):
        c.fail("must be modal or home", "/view/type")
    c.blocks(view.get("blocks"), SURFACE_BLOCKS, "/view/blocks")
    c.max_len(view.get("private_metadata"), 3000, "/view/private_metadata")  # VIEWS
    c.max_len(view.get("callback_id"), 255, "/view/callback_id")
    c.max_len(view.get("external_id"), 255, "/view/external_id")
    if kind == "modal":
        # VIEWS (modal): title, submit and close: plain_text up to 24 characters.
        c.text_obj(view.get("title"), 24, "/view/title", plain=True)
        if view.get("title") is None:
            c.fail("must provide a title", "/view/title")
        c.text_obj(view.get("submit"), 24, "/view/submit", plain=True)
        c.text_obj(view.get("close"), 24, "/view/close", plain=True)
        blocks = view.get("blocks")
        has_input = isinstance(blocks, list) and any(
            isinstance(b, dict) and b.get("type") == "input" for b in blocks
        )
        # VIEWS (modal): "submit ... Required if an input block is within the blocks array."
        if has_input and view.get("submit") is None:
            c.fail("must provide a submit button with input blocks", "/view/submit")
    return c.errors
