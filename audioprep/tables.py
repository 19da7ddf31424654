"""CSV/TSV indexes and label files read row by row, every problem named as `PATH:LINE: what is wrong`.

Dataset indexes (FSD50K's vocabulary and ground truth, Common Voice's validated.tsv) and label
lists are read streaming, a line at a time, so a bad byte, a missing column or a bad value deep in a
large index stops the command with the line to look at instead of a traceback.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from audioprep.errors import BadFileError


def at_line(path, line: int, what: str) -> BadFileError:
    """The error for line `line` (1-based) of `path`."""
    return BadFileError(f"{path}:{line}", what)


def _text_lines(path: Path, fh) -> Iterator[str]:
    """The file's lines decoded as UTF-8 (a byte-order mark at the start is dropped)."""
    for number, raw in enumerate(fh, 1):
        try:
            text = raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as err:
            raise at_line(path, number, f"not UTF-8 text (byte {err.start + 1} of the line is {raw[err.start]:#04x})") from None
        yield text


@dataclass(frozen=True)
class Row:
    """One record of a table: its values by column name and the line it ends on."""

    path: Path
    line: int
    values: dict[str, str]

    def __getitem__(self, column: str) -> str:
        return self.values[column]

    def get(self, column: str, default: str | None = None) -> str | None:
        return self.values.get(column, default)

    def bad(self, what: str) -> BadFileError:
        """The error naming this row's line, for a value the caller cannot use."""
        return at_line(self.path, self.line, what)

    def integer(self, column: str) -> int:
        value = self[column]
        try:
            return int(value)
        except ValueError:
            raise self.bad(f"{column} {value!r} is not an integer") from None


def read_rows(path, required: Sequence[str] = (), columns: Sequence[str] | None = None, delimiter: str = ",",
              quoting: int = csv.QUOTE_MINIMAL) -> Iterator[Row]:
    """The table's records, skipping blank lines. The column names come from the first line, or are
    `columns` for a file without a header line; every record must have a value for each `required`
    column. BadFileError `PATH:LINE: ...` for a byte that is not UTF-8, a missing column or value,
    or a line the csv module cannot parse."""
    path = Path(path)
    with path.open("rb") as fh:
        reader = csv.reader(_text_lines(path, fh), delimiter=delimiter, quoting=quoting, strict=True)
        try:
            names = list(columns) if columns is not None else next(reader, None)
            if names is None:
                raise at_line(path, 1, "empty file, expected a header line")
            names = [name.strip() for name in names]
            missing = [c for c in required if c not in names]
            if missing:
                raise at_line(path, 1, f"no {', '.join(map(repr, missing))} column (columns: {', '.join(names)})")
            for fields in reader:
                if not any(field.strip() for field in fields):
                    continue
                values = dict(zip(names, fields, strict=False))
                row = Row(path, reader.line_num, values)
                empty = [c for c in required if not values.get(c, "").strip()]
                if empty:
                    what = "no value" if len(fields) >= len(names) else f"{len(fields)} of {len(names)} fields, no value"
                    raise row.bad(f"{what} for {', '.join(map(repr, empty))}")
                yield row
        except csv.Error as err:
            raise at_line(path, reader.line_num, f"not a valid {'TSV' if delimiter == chr(9) else 'CSV'} line ({err})") from None


def read_lines(path) -> list[str]:
    """A label file: one name per line, UTF-8; BadFileError naming the line of a bad byte."""
    path = Path(path)
    with path.open("rb") as fh:
        return [line.rstrip("\r\n") for line in _text_lines(path, fh)]
