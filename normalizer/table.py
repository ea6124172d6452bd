"""Reading corpus CSVs: one place that knows the column layouts and what a bad row is."""
import re
from pathlib import Path

import pandas as pd

from .words import to_words

NUMBER_COLUMNS = ("transcription", "number")
WORDS_COLUMN = "words"
_INTEGER = re.compile(r"^\s*\+?\d+\s*$")


class CsvError(ValueError):
    """A CSV that cannot be used at all (missing, empty, unparsable, no needed column)."""


def read_csv(path: str | Path, required: tuple[str, ...] = ("filename",)) -> pd.DataFrame:
    """Read a CSV as strings, every cell kept as written; CsvError names what is wrong."""
    path = Path(path)
    if not path.is_file():
        raise CsvError(f"{path}: no such file")
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise CsvError(f"{path}: the file is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as e:
        raise CsvError(f"{path}: not a readable CSV ({str(e).strip()})") from None
    table.columns = [str(c).strip() for c in table.columns]
    missing = [c for c in required if c not in table.columns]
    if missing:
        raise CsvError(f"{path}: missing column(s) {', '.join(missing)}; "
                       f"found {', '.join(table.columns)}")
    return table


def number_column(table: pd.DataFrame, path: str | Path = "CSV") -> str:
    """The column holding the integers: 'transcription' or 'number'."""
    for name in NUMBER_COLUMNS:
        if name in table.columns:
            return name
    raise CsvError(f"{path}: no number column; expected one of {', '.join(NUMBER_COLUMNS)}, "
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


def add_words(table: pd.DataFrame, column: str) -> tuple[pd.DataFrame, list[tuple[int, str]]]:
    """Add the words column. Returns the table (all rows kept) and [(row, why)] for bad rows.

    Rows are numbered as a spreadsheet shows them: the header is row 1, data starts at 2.
    """
    words, bad = [], []
    for i, cell in enumerate(table[column]):
        try:
            words.append(" ".join(to_words(parse_number(cell))))
        except ValueError as e:
            words.append("")
            bad.append((i + 2, str(e)))
    table = table.copy()
    table[WORDS_COLUMN] = words
    return table, bad
