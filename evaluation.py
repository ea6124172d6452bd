"""Transcribe every file listed in a CSV with the shipped (or a chosen) recognizer.

    python evaluation.py in.csv out.csv [--model states/recognizer.pt]

in.csv needs a `filename` column (paths relative to the CSV's folder). out.csv gets
filename,transcription,confidence in the same order (and gender,gender_probability
with --gender). Files that cannot be read are
reported by row and name on stderr, keep an empty transcription, and make the exit code 1.
"""
import sys
from pathlib import Path

import click
import pandas as pd
import torch

from normalizer.table import CsvError, read_csv
from seq2seq_asr import checkpoint
from seq2seq_asr.transcribe import DEFAULT_GENDER_MODEL, DEFAULT_MODEL, transcribe


@click.command()
@click.argument("in_csv", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("out_csv", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--model", "model_path", type=click.Path(dir_okay=False, path_type=Path),
              default=DEFAULT_MODEL, show_default=True, help="Recognizer checkpoint.")
@click.option("--batch-size", default=32, show_default=True)
@click.option("--beam", default=4, show_default=True, help="Beam width; 1 is greedy.")
@click.option("--ctc-weight", default=0.3, show_default=True,
              help="Weight of the CTC score when rescoring the beam (0 disables).")
@click.option("--gender", is_flag=True, help="Add gender and gender_probability columns.")
@click.option("--gender-model", type=click.Path(dir_okay=False, path_type=Path),
              default=DEFAULT_GENDER_MODEL, show_default=True, help="Gender classifier checkpoint.")
@click.option("--threads", default=0, help="CPU threads (0: torch's default).")
@click.option("--quiet", is_flag=True, help="No progress bars.")
def main(in_csv, out_csv, model_path, batch_size, beam, ctc_weight, gender, gender_model, threads,
         quiet):
    """Write the integer said in each file of IN_CSV to OUT_CSV."""
    if threads:
        torch.set_num_threads(threads)
    try:
        table = read_csv(in_csv, required=("filename",))
        model, vocab, _ = checkpoint.load(model_path)
        gender_classifier = checkpoint.load_gender(gender_model)[0] if gender else None
    except (CsvError, checkpoint.CheckpointError) as e:
        raise click.ClickException(str(e)) from None
    paths = [in_csv.parent / f if f.strip() else in_csv.parent for f in table["filename"]]
    results = transcribe(model, vocab, paths, batch_size, beam, ctc_weight, progress=not quiet,
                         gender_model=gender_classifier)
    out = pd.DataFrame({
        "filename": table["filename"],
        "transcription": [r.number if r.number is not None else "" for r in results],
        "confidence": [f"{r.confidence:.4f}" if r.confidence is not None else "" for r in results],
    })
    if gender:
        out["gender"] = [r.gender or "" for r in results]
        out["gender_probability"] = [f"{r.gender_probability:.4f}" if r.gender else "" for r in results]
    out.to_csv(out_csv, index=False)
    failed = [(i, r) for i, r in enumerate(results) if r.error]
    for i, r in failed:
        click.echo(f"{in_csv}: row {i + 2}: {table['filename'].iloc[i]!r}: {r.error}", err=True)
    click.echo(f"{out_csv}: {len(results)} rows, {len(results) - len(failed)} transcribed, "
               f"{len(failed)} failed", err=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
