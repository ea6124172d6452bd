"""`normalize train.csv` -> train_norm.csv with a `words` column beside every input column.

Exit codes: 0 every row normalized, 1 some rows bad (listed on stderr, kept with an empty
`words` cell), 2 unusable arguments or CSV (nothing written), 130 interrupted (nothing written).
"""
import sys
from pathlib import Path

import click

from .table import CsvError, atomic_csv, check_output, number_column, read_csv, spell_column

EXIT_OK, EXIT_SOME_FAILED, EXIT_UNUSABLE, EXIT_INTERRUPTED = 0, 1, 2, 130


class Unusable(click.ClickException):
    """Arguments, a CSV or a checkpoint that cannot be used at all: one line, exit code 2."""
    exit_code = EXIT_UNUSABLE


@click.command()
@click.argument("csv_path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write (default: NAME_norm.csv next to the input).")
@click.option("--column", help="Column with the integers (default: transcription or number).")
@click.option("--force", is_flag=True, help="Overwrite the output file if it exists.")
def main(csv_path: Path, output: Path | None, column: str | None, force: bool):
    """Spell the integers of CSV_PATH as Russian words.

    Every row and column is kept; bad rows (empty, not an integer, outside 1..999999,
    ragged, not UTF-8) get an empty `words` cell, are listed on stderr and make the exit
    code 1. Exit 2: unusable arguments or CSV; 130: interrupted.
    """
    output = output or csv_path.with_name(csv_path.stem + "_norm.csv")
    try:
        table = read_csv(csv_path, required=(column,) if column else ())
        column = column or number_column(table)
        check_output(output, (csv_path,), force)
    except CsvError as e:
        raise Unusable(str(e)) from None
    words, bad = spell_column(table, column)
    try:
        with atomic_csv(output, table.columns + ["words"]) as out:
            for row, w in zip(table.rows, words):
                out.write(row + [w])
    except KeyboardInterrupt:
        click.echo("interrupted; nothing written", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except OSError as e:
        raise Unusable(f"{output}: cannot be written ({e.strerror})") from None
    for i, why in bad.items():
        click.echo(f"{csv_path}: row {table.row_number(i)}: {why}", err=True)
    click.echo(f"{output}: {len(table)} rows, {len(table) - len(bad)} normalized, {len(bad)} bad",
               err=True)
    sys.exit(EXIT_SOME_FAILED if bad else EXIT_OK)


if __name__ == "__main__":
    main()
