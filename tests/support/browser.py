"""Where the browser tests find Chromium: the `chromium` on PATH (Debian installs it as
/usr/bin/chromium; scripts/test installs it there when it can). Playwright never downloads one.
A missing browser fails those tests rather than skipping them, so a run (CI's above all) cannot
pass without having driven the browser."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager

from playwright.sync_api import Browser, sync_playwright

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@contextmanager
def chromium() -> Iterator[Browser]:
    """That Chromium, headless, driven by Playwright; closed on leaving."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()
