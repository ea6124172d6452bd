"""Reading and writing corpus CSVs: one place that knows the column layouts, what a bad
row is, and how an output file is written without ever leaving a half file behind.

Rows are numbered as a spreadsheet shows them: the header is row 1, data starts at row 2.
No row is ever dropped or shifted: a blank line stays a row (with empty cells), a row with
more or fewer fields than the header, or with bytes that are not UTF-8, stays a row too and
is listed in `Table.errors` with the reason.
"""
import csv
import os
import re
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from .words import to_words

NUMBER_COLUMNS = ("transcription", "number")
WORDS_COLUMN = "words"
_INTEGER = re.compile(r"^\s*\+?\d+\s*$")
_UNDECODABLE = re.compile("[\udc80-\udcff]")  # bytes that were not UTF-8, as surrogateescape keeps them


class CsvError(ValueError):
    """A CSV that cannot be used at all (missing, empty, unparsable, no needed column)."""


@dataclass
class Table:
    """A CSV as strings: `rows[i]` has exactly one cell per column and is spreadsheet row i + 2."""
    path: Path
    columns: list[str]
    rows: list[list[str]]
    errors: dict[int, str] = field(default_factory=dict)  # index into rows -> why it is unusable

    def __len__(self) -> int:
        return len(self.rows)

    def column(self, name: str) -> list[str]:
        k = self.columns.index(name)
        return [row[k] for row in self.rows]

    @staticmethod
    def row_number(index: int) -> int:
        return index + 2


def _fields_error(found: int, expected: int) -> str:
    return f"has {found} field{'s' if found != 1 else ''}, the header has {expected}"


def read_csv(path: str | Path, required: tuple[str, ...] = ("filename",)) -> Table:
    """Read a CSV, every cell kept as written (surrounding spaces trimmed); CsvError names what
    makes the whole file unusable, `Table.errors` the rows that are unusable on their own."""
    path = Path(path)
    if not path.is_file():
        raise CsvError(f"{path}: no such file")
    try:
        with open(path, encoding="utf-8-sig", errors="surrogateescape", newline="") as f:
            reader = csv.reader(f, strict=True)
            records = []
            try:
                records.extend(reader)
            except csv.Error as e:
                raise CsvError(f"{path}: line {reader.line_num}: not a readable CSV ({e})") from None
    except OSError as e:
        raise CsvError(f"{path}: cannot be read ({e.strerror})") from None
    if not records or not any(cell.strip() for cell in records[0]):
        raise CsvError(f"{path}: the file is empty" if not records else f"{path}: line 1: no header")
    header = [c.strip() for c in records[0]]
    if any(_UNDECODABLE.search(c) for c in header):
        raise CsvError(f"{path}: line 1: the header is not UTF-8 text")
    missing = [c for c in required if c not in header]
    if missing:
        raise CsvError(f"{path}: missing column(s) {', '.join(missing)}; found {', '.join(header)}")
    rows, errors = [], {}
    for i, record in enumerate(records[1:]):
        cells = [c.strip() for c in record]
        if cells and len(cells) != len(header):
            errors[i] = _fields_error(len(cells), len(header))
        bad = next((m for c in cells for m in _UNDECODABLE.finditer(c)), None)
        if bad:
            errors[i] = f"not UTF-8 text (byte 0x{ord(bad.group()) - 0xDC00:02x})"
            cells = [_UNDECODABLE.sub("\ufffd", c) for c in cells]
        rows.append((cells + [""] * len(header))[:len(header)])
    return Table(path, header, rows, errors)


def number_column(table: Table) -> str:
    """The column holding the integers: 'transcription' or 'number'."""
    for name in NUMBER_COLUMNS:
        if name in table.columns:
            return name
    raise CsvError(f"{table.path}: no number column; expected one of {', '.join(NUMBER_COLUMNS)}, "
                   f"found {', '.join(table.columns)}")


def parse_number(cell: str) -> int:
    """A CSV cell -> int in 1..999999, or ValueError saying why not."""
    if not str(cell).strip():
        raise ValueError("empty number")
    if not _INTEGER.match(str(cell)):
        raise ValueError(f"{cell!r} is not a whole number")
    n = int(cell)
    to_words(n)  # raises for out of range
    return n


def spell_column(table: Table, column: str) -> tuple[list[str], dict[int, str]]:
    """The words for every row of `column` ('' where the row is bad) and {row index: why}."""
    words, bad = [], dict(table.errors)
    for i, cell in enumerate(table.column(column)):
        try:
            words.append(" ".join(to_words(parse_number(cell))) if i not in bad else "")
        except ValueError as e:
            words.append("")
            bad[i] = str(e)
    return words, dict(sorted(bad.items()))


def check_output(path: str | Path, inputs: tuple[str | Path, ...] = (), force: bool = True) -> Path:
    """Refuse an output path before any work is done: -> the path, or CsvError saying why."""
    path = Path(path)
    same = lambda i: path.resolve() == Path(i).resolve() or (  # noqa: E731
        path.exists() and Path(i).exists() and path.samefile(i))
    if any(same(i) for i in inputs):
        raise CsvError(f"{path}: the output would overwrite the input; choose another path")
    if path.is_dir():
        raise CsvError(f"{path}: is a folder; give a file path for the output")
    if not path.parent.is_dir():
        raise CsvError(f"{path.parent}: the output folder does not exist")
    if not os.access(path.parent, os.W_OK | os.X_OK):
        raise CsvError(f"{path.parent}: the output folder is not writable")
    if path.exists() and not force:
        raise CsvError(f"{path}: already exists; pass --force to overwrite it")
    return path


class CsvWriter:
    """Rows go to a hidden temporary file beside `path`; `commit()` renames it over `path`
    (atomic on one file system), `discard()` removes it. An old `path` is untouched until
    commit, so a full disk or a crash never leaves a half-written file under its name."""

    def __init__(self, path: str | Path, header: list[str]):
        self.path = Path(path)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
        self.tmp = Path(tmp)
        self._file = os.fdopen(fd, "w", encoding="utf-8", newline="")
        self._csv = csv.writer(self._file, lineterminator="\n")
        self._csv.writerow(header)
        self.rows = 0

    def write(self, row: list) -> None:
        self._csv.writerow(row)
        self.rows += 1

    def commit(self) -> None:
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        os.chmod(self.tmp, 0o644)
        self.tmp.replace(self.path)

    def discard(self) -> None:
        if not self._file.closed:
            self._file.close()
        self.tmp.unlink(missing_ok=True)


@contextmanager
def atomic_csv(path: str | Path, header: list[str]):
    """`with atomic_csv(out, header) as w: w.write(row)`: committed when the block ends,
    discarded if it raises."""
    writer = CsvWriter(path, header)
    try:
        yield writer
    except BaseException:
        writer.discard()
        raise
    writer.commit()
