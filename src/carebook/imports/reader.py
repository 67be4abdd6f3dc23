"""Reading an import file: CSV or NDJSON, checked as a whole before any row is written.

:func:`open_source` decodes the whole file once (a wrong encoding is a :class:`FileProblem`
naming the line, before anything is written), checks the CSV header, and counts the rows for the
progress bar; :meth:`Source.rows` then yields each row's given fields. An empty cell is a field
not given: a re-run never blanks what a previous run set.
"""

from __future__ import annotations

import codecs
import csv
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from carebook.errors import FieldMessage
from carebook.imports.columns import (
    BOOLEAN_FIELDS,
    IGNORED,
    MULTILINE_FIELDS,
    FileProblem,
    field_of,
    resolve_headers,
)

FORMATS = ("csv", "ndjson")
_CHUNK = 1 << 20
_TRUE = frozenset({"true", "yes", "y", "1"})
_FALSE = frozenset({"false", "no", "n", "0"})
Value = str | bool


@dataclass(frozen=True, slots=True)
class SourceRow:
    """One row: its number as the file shows it, its given fields, or why it cannot be read."""

    number: int
    fields: dict[str, Value] = field(default_factory=dict)
    problems: tuple[FieldMessage, ...] = ()


@dataclass(frozen=True, slots=True)
class Source:
    """A checked import file."""

    path: Path
    format: str
    encoding: str
    mapping: Mapping[str, str]
    total: int

    def rows(self) -> Iterator[SourceRow]:
        """Every data row, in file order."""
        with self.path.open(encoding=self.encoding, newline="") as handle:
            if self.format == "csv":
                yield from _csv_rows(handle, self.mapping)
            else:
                yield from _ndjson_rows(handle, self.mapping)


def format_of(path: Path, given: str | None) -> str:
    """The file's format: as given, else from its extension (.ndjson/.jsonl, else CSV)."""
    if given is not None:
        if given not in FORMATS:
            raise FileProblem(f"unknown format {given!r} (use csv or ndjson)")
        return given
    return "ndjson" if path.suffix.lower() in (".ndjson", ".jsonl") else "csv"


def open_source(
    path: Path, *, format: str | None, encoding: str, mapping: Mapping[str, str]
) -> Source:
    """Check the file (readable, decodable, a known header) and count its rows."""
    kind = format_of(path, format)
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise FileProblem(f"unknown encoding {encoding!r}") from None
    _check_decodes(path, encoding)
    with path.open(encoding=encoding, newline="") as handle:
        if kind == "csv":
            records = _records(handle)
            header = next(records, None)
            if header is None:
                raise FileProblem("the file is empty: a CSV file starts with a header row")
            resolve_headers(header.cells, mapping)
            total = sum(1 for record in records if any(cell.strip() for cell in record.cells))
        else:
            total = sum(1 for line in handle if line.strip())
    return Source(path, kind, encoding, mapping, total)


def _check_decodes(path: Path, encoding: str) -> None:
    """Decode the whole file once; the first bad byte is a FileProblem naming its line."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    line = 1
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                try:
                    text = decoder.decode(chunk)
                except UnicodeDecodeError as error:
                    line += chunk[: error.start].count(b"\n")
                    raise FileProblem(
                        f"line {line} is not valid {encoding} (byte 0x{chunk[error.start]:02x}):"
                        " save the file as UTF-8, or name its encoding with --encoding"
                        " (e.g. cp1252 for Excel on Windows)"
                    ) from None
                line += text.count("\n")
            decoder.decode(b"", final=True)
    except OSError as error:
        raise FileProblem(f"cannot read {path}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise FileProblem(f"the file ends inside a character: it is not valid {encoding}") from None


@dataclass(frozen=True, slots=True)
class _Record:
    """One CSV record and the lines of the file it spans (a quoted cell may hold line breaks)."""

    cells: list[str]
    first_line: int
    last_line: int


def _records(handle: Any) -> Iterator[_Record]:
    """The file's CSV records; one the csv module cannot read is a FileProblem naming the line
    it starts on (a stray quote makes a cell run on until the module's size limit)."""
    reader = csv.reader(handle)
    while True:
        first = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise FileProblem(
                f"line {first} cannot be read as CSV ({error}): a quote opens a cell there that"
                " does not close (a stray quote?)"
            ) from None
        yield _Record(cells, first, reader.line_num)


def _csv_rows(handle: Any, mapping: Mapping[str, str]) -> Iterator[SourceRow]:
    records = _records(handle)
    columns = resolve_headers(next(records).cells, mapping)
    # Rows are numbered as a spreadsheet shows them: the header is row 1.
    for number, record in enumerate(records, start=2):
        cells = record.cells
        if not any(cell.strip() for cell in cells):
            continue
        problem = _shape_problem(record, columns)
        if problem is not None:
            yield SourceRow(number, problems=(problem,))
            continue
        yield _row(number, zip(columns, cells, strict=False))


def _shape_problem(record: _Record, columns: list[str]) -> FieldMessage | None:
    """Too many cells, or a line break in a one-line field: the rows after a stray quote ran
    into this one's cell (they would otherwise go in silently as one value)."""
    cells = record.cells
    if len(cells) > len(columns):
        return FieldMessage(None, f"the row has {len(cells)} cells and the header {len(columns)}")
    for name, cell in zip(columns, cells, strict=False):
        if name and name not in MULTILINE_FIELDS and ("\n" in cell or "\r" in cell):
            return FieldMessage(
                name,
                f"a quoted cell runs from line {record.first_line} to line {record.last_line}"
                " (a stray quote?): this field is one line",
            )
    return None


def _ndjson_rows(handle: Any, mapping: Mapping[str, str]) -> Iterator[SourceRow]:
    for number, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError:
            item = None
        except RecursionError:  # "[[[[..." thousands deep: the decoder's stack runs out
            yield SourceRow(number, problems=(FieldMessage(None, "the line nests too deeply"),))
            continue
        if not isinstance(item, dict):
            yield SourceRow(number, problems=(FieldMessage(None, "the line is not a JSON object"),))
            continue
        unknown = [key for key in item if field_of(str(key), mapping) is None]
        if unknown:
            names = ", ".join(repr(str(key)[:40]) for key in unknown)
            yield SourceRow(number, problems=(FieldMessage(None, f"unknown field(s) {names}"),))
            continue
        pairs = ((field_of(str(key), mapping) or IGNORED, value) for key, value in item.items())
        yield _row(number, pairs)


def _row(number: int, pairs: Any) -> SourceRow:
    given: dict[str, Value] = {}
    problems: list[FieldMessage] = []
    for name, raw in pairs:
        if name == IGNORED or raw is None:
            continue
        value = _value(name, raw)
        if value is None:
            problems.append(FieldMessage(name, f"'{str(raw)[:40]}' is not true or false"))
        elif value != "":
            given[name] = value
    return SourceRow(number, given, tuple(problems))


def _value(name: str, raw: Any) -> Value | None:
    """A cell as the field's rules take it: text, or a flag; None: not a flag."""
    if name not in BOOLEAN_FIELDS:
        text = raw if isinstance(raw, str) else json.dumps(raw)
        return text if text.strip() else ""
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if not text:
        return ""
    if text in _TRUE:
        return True
    return False if text in _FALSE else None
