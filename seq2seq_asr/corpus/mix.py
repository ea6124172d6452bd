"""Mix corpus CSVs into one, without copying audio: each file name is rewritten relative to
the new CSV's folder, and each input may be cut to a seeded random sample of its rows.

    python -m seq2seq_asr.corpus.mix data/mix/train.csv data/corpus4/train.csv data/corpusR/train.csv:3000

`CSV:N` keeps N rows of that CSV drawn with --seed (all rows when N is left out); the rows keep
their order. The columns are the union of the inputs' (missing cells empty).
"""
import os
import sys
from pathlib import Path

import click
import numpy as np
import pandas as pd


def read_table(csv: Path) -> pd.DataFrame:
    """A corpus CSV as text cells (nothing parsed as numbers or NaN); it must name its clips."""
    table = pd.read_csv(csv, dtype=str, keep_default_na=False)
    if "filename" not in table.columns:
        raise click.ClickException(f"{csv}: no `filename` column")
    return table


def mix(out: Path, sources: list[tuple[Path, int | None]], seed: int = 0) -> pd.DataFrame:
    """[(csv, rows to keep or None for all)] -> the mixed table, written to `out`."""
    parts = []
    for k, (csv, keep) in enumerate(sources):
        table = read_table(csv)
        if keep is not None:
            if keep > len(table):
                raise click.ClickException(f"{csv}: {keep} rows asked for, it has {len(table)}")
            rows = np.sort(np.random.default_rng([seed, k]).choice(len(table), keep, replace=False))
            table = table.iloc[rows]
        where = os.path.relpath(csv.resolve().parent, out.resolve().parent)
        table = table.assign(filename=[str(Path(where, f)) for f in table["filename"]])
        parts.append(table)
    mixed = pd.concat(parts, ignore_index=True).fillna("")
    out.parent.mkdir(parents=True, exist_ok=True)
    mixed.to_csv(out, index=False)
    return mixed


def parse_source(text: str) -> tuple[Path, int | None]:
    path, _, keep = text.rpartition(":")
    if not keep.isdigit():  # no row count: the whole CSV
        path, keep = text, ""
    if not Path(path).is_file():
        raise click.BadParameter(f"{path}: no such CSV")
    return Path(path), int(keep) if keep else None


@click.command()
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("sources", nargs=-1, required=True)
@click.option("--seed", default=0, show_default=True)
def main(out, sources, seed):
    """Write OUT: the rows of every SOURCE CSV (CSV or CSV:N), file names pointing at their audio."""
    mixed = mix(out, [parse_source(s) for s in sources], seed)
    print(f"{out}: {len(mixed)} rows", file=sys.stderr)


if __name__ == "__main__":
    main()
