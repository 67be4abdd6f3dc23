"""docs/performance.md's charts: drawn from the runs' results, referenced from the page."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.operations import SWEEP_OFFSETS, offset_sweep
from PIL import Image

from bench import charts, report


def _result(operation: str, layer: str, rps: float, median: float) -> dict[str, Any]:
    return {
        "operation": operation,
        "layer": layer,
        "rps": rps,
        "median_ms": median,
        "p99_ms": median * 3,
        "errors": 0,
        "first_error": None,
        "peak_rss_mb": 300.0,
    }


def _run(database: str, scale: float) -> dict[str, Any]:
    offsets = {"users_first": 0, "users_offset_1000": 1_000, "users_deep": 100_000}
    results = [_result("user", "graphql", 1_500 * scale, 2.0)]
    for name, offset in offsets.items():
        median = 2.0 + offset / 10_000
        results += [
            _result(name, "graphql", 400 * scale, median * 2),
            _result(name, "bare", 1_500 * scale, median),
        ]
    results.append(_result("createClient", "graphql", 90 * scale, 40.0))
    return {
        "date": "2026-12-05T00:00:00+00:00",
        "command": f"python -m bench --database {database}",
        "config": {"database": database, "workers": 2, "concurrency": 4, "duration": 5.0,
                   "write_duration": 5.0},
        "machine": {"cores": 2, "cpu": "test", "ram_gb": 24, "python": "3.11",
                    "sqlite": "3", "postgresql": "16"},
        "patients": 1_000_000,
        "generation_seconds": None,
        "counts": {"users": 1_000_000},
        "run_seconds": 200.0,
        "idle_rss_mb": 300.0,
        "operations": ["user", *offsets, "createClient"],
        "labels": {"user": "`user(id)`", "createClient": "`createClient`"},
        "offsets": offsets,
        "results": results,
    }  # fmt: skip


def test_the_offset_curve_follows_the_measured_pages_in_order() -> None:
    run = _run("sqlite", 1.0)

    assert charts.offset_points(run, "graphql") == [(0, 4.0), (1_000, 4.2), (100_000, 24.0)]
    assert charts.offset_points(run, "bare") == [(0, 2.0), (1_000, 2.1), (100_000, 12.0)]


def test_the_sweep_measures_only_offsets_inside_the_list_and_not_the_deep_page_twice() -> None:
    names = [op.name for op in offset_sweep(patients=50_000, deep=25_000)]
    assert names == ["users_offset_1000", "users_offset_10000"]
    deep = [op.offset for op in offset_sweep(patients=1_000_000, deep=10_000)]
    assert 10_000 not in deep and deep == [o for o in SWEEP_OFFSETS if o != 10_000]


def test_docs_reference_charts_drawn_from_both_runs(tmp_path: Path) -> None:
    results = tmp_path / "results"
    results.mkdir()
    for database, scale in (("sqlite", 1.0), ("postgresql", 2.0)):
        (results / f"latest-{database}.json").write_text(json.dumps(_run(database, scale)))
    page = tmp_path / "docs" / "performance.md"
    page.parent.mkdir()

    report.write_docs(page, results)

    text = page.read_text(encoding="utf-8")
    for name in charts.FILES:
        assert f"](performance/{name})" in text
        with Image.open(page.parent / "performance" / name) as image:
            assert image.format == "PNG"
            width, height = image.size
            assert width >= 600 and height >= 300
            # Drawn, not blank: a chart has many colours (bars, text, grid).
            assert len(image.convert("RGB").getcolors(maxcolors=100_000) or []) > 20


def test_no_runs_no_charts(tmp_path: Path) -> None:
    page = tmp_path / "performance.md"

    report.write_docs(page, tmp_path)

    assert "performance/throughput.png" not in page.read_text(encoding="utf-8")
    assert not (tmp_path / "performance").exists()
