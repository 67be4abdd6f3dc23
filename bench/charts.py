"""The charts of docs/performance.md, drawn from the latest full runs' results documents.

Three PNG files, each comparing SQLite and PostgreSQL where both runs are there:
- throughput.png: requests per second of every operation through GraphQL;
- latency.png: median and p99 latency of every operation through GraphQL;
- offset.png: median latency of a `users` page against its offset, GraphQL and bare.

matplotlib draws them without a display (the Agg backend), so the charts come out the same on a
server as on a laptop.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # after use(): the backend is chosen before pyplot loads
from matplotlib.axes import Axes
from matplotlib.figure import Figure

NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
COLOURS = {"sqlite": "#4c72b0", "postgresql": "#dd8452"}
FILES = ("throughput.png", "latency.png", "offset.png")


def _graphql(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The GraphQL layer's results of one run, by operation."""
    return {r["operation"]: r for r in document["results"] if r["layer"] == "graphql"}


def _operations(runs: dict[str, dict[str, Any]]) -> list[tuple[str, str]]:
    """(name, label) of every operation measured in any run, in the runs' order."""
    seen: dict[str, str] = {}
    for document in runs.values():
        measured = _graphql(document)
        for name in document["operations"]:
            if name in measured:
                seen.setdefault(name, document["labels"].get(name, name).replace("`", ""))
    return list(seen.items())


def _bars(axes: Axes, runs: dict[str, dict[str, Any]], key: str, **style: Any) -> None:
    """Horizontal bars of one measure per operation, one bar per database."""
    operations = _operations(runs)
    height = 0.8 / max(len(runs), 1)
    for index, (database, document) in enumerate(runs.items()):
        measured = _graphql(document)
        values = [measured[name][key] if name in measured else 0 for name, _ in operations]
        positions = [row + index * height for row in range(len(operations))]
        axes.barh(
            positions, values, height, label=NAMES[database], color=COLOURS[database], **style
        )
    axes.set_yticks([row + 0.4 - height / 2 for row in range(len(operations))])
    axes.set_yticklabels([label for _, label in operations])
    axes.invert_yaxis()
    axes.grid(axis="x", alpha=0.3)


def _subtitle(runs: dict[str, dict[str, Any]]) -> str:
    first = next(iter(runs.values()))
    config = first["config"]
    return (
        f"{first['patients']:,} patients, carebook serve --workers {config['workers']}, "
        f"concurrency {config['concurrency']}"
    )


def throughput(runs: dict[str, dict[str, Any]]) -> Figure:
    """Requests per second of every operation, SQLite against PostgreSQL."""
    figure, axes = plt.subplots(figsize=(10, 0.35 * len(_operations(runs)) + 1.8))
    _bars(axes, runs, "rps")
    axes.set_xlabel("requests per second (GraphQL over HTTP; higher is better)")
    axes.set_title(f"Throughput\n{_subtitle(runs)}", fontsize=11)
    axes.legend(loc="lower right")
    figure.tight_layout()
    return figure


def latency(runs: dict[str, dict[str, Any]]) -> Figure:
    """Median (solid) and p99 (faint) latency of every operation, per database."""
    figure, axes = plt.subplots(figsize=(10, 0.35 * len(_operations(runs)) + 1.8))
    _bars(axes, runs, "p99_ms", alpha=0.35)
    _bars(axes, runs, "median_ms")
    axes.set_xlabel("milliseconds (solid: median, faint: p99; lower is better)")
    axes.set_title(f"Latency\n{_subtitle(runs)}", fontsize=11)
    handles, labels = axes.get_legend_handles_labels()
    axes.legend(handles[len(runs) :], labels[len(runs) :], loc="lower right")
    figure.tight_layout()
    return figure


def offset_points(document: dict[str, Any], layer: str) -> list[tuple[int, float]]:
    """(offset, median ms) of the run's `users` pages in one layer, by offset."""
    offsets: dict[str, int] = document.get("offsets", {})
    points = [
        (offsets[r["operation"]], float(r["median_ms"]))
        for r in document["results"]
        if r["layer"] == layer and r["operation"] in offsets
    ]
    return sorted(points)


def offset(runs: dict[str, dict[str, Any]]) -> Figure:
    """Median latency of a `users` page against its offset, GraphQL (solid) and bare (dashed)."""
    figure, axes = plt.subplots(figsize=(8, 4.5))
    for database, document in runs.items():
        for layer, line in (("graphql", "-"), ("bare", "--")):
            points = offset_points(document, layer)
            if points:
                axes.plot(
                    [max(o, 1) for o, _ in points],
                    [ms for _, ms in points],
                    line,
                    marker="o",
                    color=COLOURS[database],
                    label=f"{NAMES[database]}, {'GraphQL' if layer == 'graphql' else 'bare'}",
                )
    axes.set_xscale("log")
    axes.set_xlabel("offset (log scale; the first page is drawn at 1)")
    axes.set_ylabel("median milliseconds")
    axes.set_ylim(bottom=0)
    axes.set_title(f"users page of 10 against its offset\n{_subtitle(runs)}", fontsize=11)
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    return figure


def write(runs: dict[str, dict[str, Any]], folder: Path) -> list[Path]:
    """Draw the three charts of these runs into folder; returns the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, draw in zip(FILES, (throughput, latency, offset), strict=True):
        figure = draw(runs)
        path = folder / name
        figure.savefig(path, dpi=100)
        plt.close(figure)
        written.append(path)
    return written
