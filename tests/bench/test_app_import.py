"""bench/app_import.py: the application's import timed as a worker does it, for the build named."""

import json
from pathlib import Path

import pytest

from bench import app_import

# A stand-in build: its app module records how it was imported, then takes a known time.
_APP = """
import gc, json, os, sys, time
time.sleep(0.2)
with open(os.environ["BENCH_TEST_MARKER"], "w") as out:
    json.dump({"gc_enabled": gc.isenabled(), "package": sys.modules["carebook"].__file__,
               "dont_write": os.environ.get("PYTHONDONTWRITEBYTECODE")}, out)
"""
_GC_PAUSES = "import gc\n\ndef quiet_startup():\n    gc.disable()\n"


def _build(folder: Path, app: str) -> Path:
    package = folder / "src" / "carebook"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "gc_pauses.py").write_text(_GC_PAUSES)
    (package / "app.py").write_text(app)
    return folder / "src"


def test_it_imports_the_named_build_as_a_worker_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = _build(tmp_path, _APP)
    marker, cache = tmp_path / "marker.json", tmp_path / "pycache"
    monkeypatch.setenv("BENCH_TEST_MARKER", str(marker))
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")  # as on this machine

    measured = app_import.measure(src, rounds=2, cache=cache)

    seen = json.loads(marker.read_text())
    assert seen["package"] == str(src / "carebook" / "__init__.py")
    assert seen["gc_enabled"] is False  # held off, as carebook.cli.worker does
    assert seen["dont_write"] is None
    assert list(cache.rglob("app*.pyc")), "the bytecode was not cached"
    assert measured["rounds"] == 2
    assert measured["wall_s"] >= 0.2  # the stand-in's sleep is inside the timed import
    assert "importing the app" in app_import.line(measured)


def test_a_build_that_cannot_be_imported_is_an_error(tmp_path: Path) -> None:
    src = _build(tmp_path, "raise ImportError('no such thing')\n")
    with pytest.raises(RuntimeError, match="no such thing"):
        app_import.import_once(src, cache=tmp_path / "pycache")
