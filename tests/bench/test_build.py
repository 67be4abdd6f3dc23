"""The bench starts the ``carebook`` of its own checkout, whatever else is first on the paths.

A ``carebook`` script of another checkout first on PATH, or another build's package first on
PYTHONPATH (an editable install of another worktree behaves the same), must not be what the
bench measures: here both are builds that cannot start, so the server only answers if the
bench started its own.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import httpx
import pytest
from bench.run import SRC, carebook_command, carebook_env, free_port, server


def _other_build(root: Path) -> tuple[Path, Path]:
    """A ``carebook`` script and a ``carebook`` package that both exit at once."""
    scripts = root / "bin"
    scripts.mkdir()
    script = scripts / "carebook"
    script.write_text("#!/bin/sh\necho 'the other build' >&2\nexit 3\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    package = root / "other-src" / "carebook"
    (package / "cli").mkdir(parents=True)
    (package / "__init__.py").write_text("raise SystemExit('the other build')\n")
    (package / "cli" / "__init__.py").write_text("")
    (package / "cli" / "main.py").write_text("raise SystemExit('the other build')\n")
    return scripts, package.parent


def test_the_bench_starts_its_own_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scripts, other_src = _other_build(tmp_path)
    monkeypatch.setenv("PATH", f"{scripts}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("PYTHONPATH", str(other_src))
    url = f"sqlite+aiosqlite:///{tmp_path / 'build.db'}"
    port = free_port()
    with server(carebook_command(url, 1, port), carebook_env(), port, "build-test") as pid:
        assert httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
        # The interpreter running the bench, importing this checkout's source first.
        arguments = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        assert arguments[0].decode() == sys.executable
        environment = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        assert f"PYTHONPATH={SRC}{os.pathsep}{other_src}".encode() in environment


def test_another_build_is_put_first(tmp_path: Path) -> None:
    first = carebook_env(tmp_path)["PYTHONPATH"].split(os.pathsep)[0]
    assert first == str(tmp_path.resolve())
