"""`normalize train.csv` -> train_norm.csv with a `words` column beside every input column."""
import sys
from pathlib import Path

import click

from .table import CsvError, add_words, number_column, read_csv


@click.command()
@click.argument("csv_path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write (default: NAME_norm.csv next to the input).")
@click.option("--column", help="Column with the integers (default: transcription or number).")
def main(csv_path: Path, output: Path | None, column: str | None):
    """Spell the integers of CSV_PATH as Russian words.

    Every row and column is kept; bad rows (empty, not an integer, outside 1..999999)
    get an empty `words` cell, are listed on stderr and make the exit code 1.
    """
    try:
        table = read_csv(csv_path, required=(column,) if column else ())
        column = column or number_column(table, csv_path)
    except CsvError as e:
        raise click.ClickException(str(e)) from None
    table, bad = add_words(table, column)
    output = output or csv_path.with_name(csv_path.stem + "_norm.csv")
    table.to_csv(output, index=False)
    for row, why in bad:
        click.echo(f"{csv_path}: row {row}: {why}", err=True)
    click.echo(f"{output}: {len(table)} rows, {len(table) - len(bad)} normalized, {len(bad)} bad",
               err=True)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
