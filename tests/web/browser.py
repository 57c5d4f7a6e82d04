"""A real headless Chromium (Debian's ``chromium`` + ``chromium-driver``) driven by Selenium, and
the web companion on a real loopback port for it.

Selenium's calls block, so every one runs in a worker thread (``Browser.run``) while the test's
event loop keeps serving the web companion, the service and the fakes. Screenshots go to
``$PIXELSMITH_SCREENSHOTS`` when set (the README's pictures come from such a run), else to the
test's temporary folder.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser")) if p), None)
DRIVER = shutil.which("chromedriver")
SKIP_REASON = (
    "no headless Chromium here: the browser tests need Debian's chromium and chromium-driver "
    "(`apt-get install chromium chromium-driver`, which .ci/run does when it can)"
)
WAIT_S = 30.0  # fail-only


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def serving(app: web.Application, port: int) -> AsyncIterator[str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


class Browser:
    """One Chromium window; async wrappers around the blocking WebDriver calls."""

    def __init__(self, driver: Any, shots: Path) -> None:
        self.driver = driver
        self.shots = shots

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.to_thread(fn, *args)

    async def get(self, url: str) -> None:
        await self.run(self.driver.get, url)

    async def js(self, script: str, *args: Any) -> Any:
        return await self.run(self.driver.execute_script, script, *args)

    async def wait_for(self, script: str, *args: Any) -> Any:
        """Poll ``script`` (a JS expression returning a truthy value when ready)."""
        deadline = time.monotonic() + WAIT_S
        while True:
            value = await self.js(f"return ({script});", *args)
            if value:
                return value
            if time.monotonic() > deadline:
                where = await self.js("return [location.href, document.body.innerText];")
                raise AssertionError(f"timed out waiting for {script} at {where}")
            await asyncio.sleep(0.1)

    async def find(self, css: str) -> Any:
        from selenium.webdriver.common.by import By

        return await self.run(self.driver.find_element, By.CSS_SELECTOR, css)

    async def text(self, css: str) -> str:
        return str(await self.js("return document.querySelector(arguments[0]).textContent;", css))

    async def click(self, css: str) -> None:
        element = await self.find(css)
        await self.run(element.click)

    async def type(self, css: str, value: str) -> None:
        element = await self.find(css)
        await self.run(element.clear)
        await self.run(element.send_keys, value)

    async def screenshot(self, name: str) -> Path:
        self.shots.mkdir(parents=True, exist_ok=True)
        path = self.shots / f"{name}.png"
        await self.run(self.driver.save_screenshot, str(path))
        return path


@contextlib.asynccontextmanager
async def launched(shots: Path) -> AsyncIterator[Browser]:
    """A headless Chromium window; skips the test (with the reason) where there is none."""
    if CHROMIUM is None or DRIVER is None:
        pytest.skip(SKIP_REASON)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1280,1100",
        "--force-device-scale-factor=1",
        "--lang=en-US",
    ):
        options.add_argument(arg)
    driver = await asyncio.to_thread(webdriver.Chrome, options=options, service=Service(DRIVER))
    try:
        yield Browser(driver, Path(os.environ.get("PIXELSMITH_SCREENSHOTS") or shots))
    finally:
        await asyncio.to_thread(driver.quit)
