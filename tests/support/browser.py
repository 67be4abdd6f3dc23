"""Where the browser tests find Chromium: the `chromium` on PATH (Debian installs it as
/usr/bin/chromium; scripts/test installs it there when it can). Playwright never downloads one.
A missing browser fails those tests rather than skipping them, so a run (CI's above all) cannot
pass without having driven the browser."""

from __future__ import annotations

import shutil

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
