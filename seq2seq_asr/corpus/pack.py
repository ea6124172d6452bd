"""Pack corpus CSVs small enough to move: every clip re-encoded as Ogg Opus at 16 kHz mono.

    python -m seq2seq_asr.corpus.pack data/packed/corpus5 data/corpus5/train.csv data/corpus5/dev.csv \\
        --kbps 16 --part-mb 45 --jobs 2

Writes OUT/train.csv, OUT/dev.csv ... (one per input, same rows and columns; `filename`, `ext` and
`samplerate` rewritten) and the clips in OUT/part0/, OUT/part1/ ..., each folder holding at most
--part-mb megabytes, so that a limited transfer can carry one folder at a time. Speech at 16 kbps
keeps the band the features use (to 8 kHz) at about a tenth of the WAV size; the codec is lossy,
so a model trained on a packed corpus has heard every clip through it (a mild, uniform
augmentation, but not the same corpus: compare such models with each other).
"""
import io
from functools import partial
from pathlib import Path

import click
import numpy as np
import pandas as pd
import soundfile as sf

from .. import workers
from ..audio import SAMPLE_RATE, AudioError, load_audio
from .mix import read_table

MAX_KBPS, MIN_KBPS = 256.0, 6.0  # libsndfile's Opus bitrate at compression level 0 and 1


def opus_bytes(audio: np.ndarray, kbps: float) -> bytes:
    """(time,) float32 at 16 kHz -> an Ogg Opus file (variable bitrate about `kbps`)."""
    level = (MAX_KBPS - kbps) / (MAX_KBPS - MIN_KBPS)  # libsndfile maps the level linearly
    out = io.BytesIO()
    sf.write(out, audio, SAMPLE_RATE, format="OGG", subtype="OPUS", compression_level=level)
    return out.getvalue()


def encode(path: Path, kbps: float) -> bytes | str:
    """One clip -> its Ogg Opus bytes, or why it cannot be read."""
    try:
        return opus_bytes(load_audio(path).numpy(), kbps)
    except AudioError as e:
        return str(e)


def pack(out: Path, csvs: list[Path], kbps: float = 16.0, part_mb: float = 45.0,
         jobs: int = 1) -> list[pd.DataFrame]:
    """Re-encode every clip of `csvs` under `out` (see the module doc) with `jobs` worker
    processes; returns the new tables. A clip that cannot be read is dropped with its CSV, row
    and reason printed. The parts are filled in row order, whatever the number of workers."""
    if not MIN_KBPS <= kbps <= MAX_KBPS:
        raise click.BadParameter(f"--kbps must be within {MIN_KBPS:g}-{MAX_KBPS:g}")
    part, used, tables = 0, 0, []
    with workers.pool(jobs) as pool:
        for csv in csvs:
            table = read_table(csv)
            paths = [csv.parent / name for name in table["filename"]]
            encoded = pool.imap(partial(encode, kbps=kbps), paths, chunksize=16)
            packed, part, used = _write(out, csv, table, encoded, part, used, part_mb)
            tables.append(packed)
    return tables


def _write(out: Path, csv: Path, table: pd.DataFrame, encoded, part: int, used: int,
           part_mb: float) -> tuple[pd.DataFrame, int, int]:
    """Write one CSV's encoded clips into the part folders and its table as OUT/NAME.csv;
    returns the table, the part folder in use and the bytes already in it."""
    keep, names = [], []
    for row, (name, data) in enumerate(zip(table["filename"], encoded), start=2):  # row 1: header
        if isinstance(data, str):
            click.echo(f"{csv}, row {row} ({name}): {data}; left out", err=True)
            continue
        if used and used + len(data) > part_mb * 1e6:
            part, used = part + 1, 0
        target = Path(f"part{part}", f"{csv.stem}-{row - 2:06d}.ogg")
        (out / target).parent.mkdir(parents=True, exist_ok=True)
        (out / target).write_bytes(data)
        used += len(data)
        keep.append(row - 2)
        names.append(str(target))
    packed = table.iloc[keep].assign(filename=names)
    for column, value in (("ext", "ogg"), ("samplerate", str(SAMPLE_RATE))):
        if column in packed.columns:
            packed[column] = value
    packed.to_csv(out / f"{csv.stem}.csv", index=False)
    return packed, part, used


@click.command()
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@click.argument("csvs", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--kbps", default=16.0, show_default=True, help="Opus bitrate, kbit/s (6-256).")
@click.option("--part-mb", default=45.0, show_default=True, help="Megabytes of clips per part folder.")
@click.option("--jobs", default=2, show_default=True, help="Worker processes.")
def main(out, csvs, kbps, part_mb, jobs):
    """Re-encode the clips of CSVS as Ogg Opus under OUT (CSVs of the same names beside them)."""
    if len({c.stem for c in csvs}) < len(csvs):
        raise click.UsageError("the CSVs need different names (each is written as OUT/NAME.csv)")
    tables = pack(out, list(csvs), kbps, part_mb, jobs)
    for csv, table in zip(csvs, tables):
        click.echo(f"{out / (csv.stem + '.csv')}: {len(table)} clips")
    for folder in sorted(out.glob("part*")):
        click.echo(f"{folder}: {sum(f.stat().st_size for f in folder.iterdir()) / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
