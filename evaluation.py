"""Transcribe every file listed in a CSV with the shipped (or a chosen) recognizer.

    python evaluation.py in.csv out.csv [--model states/recognizer.pt] [--resume] [--keep-columns]

in.csv needs a `filename` column (paths relative to the CSV's folder). out.csv gets
filename,transcription,confidence in the same order, one row per input row (plus
gender,gender_probability with --gender, and the input's other columns with --keep-columns).
Rows are streamed to a temporary file beside out.csv that replaces it at the end, so an old
out.csv is never left half-written. A row that cannot be transcribed is reported on stderr as
`in.csv: row N: 'name': why` and keeps an empty transcription.

Exit codes: 0 every row transcribed; 1 some rows failed; 2 unusable arguments, CSV, checkpoint
or output path (nothing done); 130 interrupted (the rows done so far are in out.csv: rerun with
--resume to finish).
"""
import sys
from pathlib import Path

import click
from tqdm import tqdm

from normalizer.cli import EXIT_INTERRUPTED, EXIT_OK, EXIT_SOME_FAILED, Unusable
from normalizer.table import CsvError, CsvWriter, Table, check_output, read_csv
from seq2seq_asr.cli import load_model, model_options
from seq2seq_asr.transcribe import Result

OUTPUT = ["filename", "transcription", "confidence"]
GENDER = ["gender", "gender_probability"]


def output_header(table: Table, gender: bool, keep_columns: bool) -> list[str]:
    header = OUTPUT + (GENDER if gender else [])
    if keep_columns:  # an input column named like an output one is kept as NAME_in
        header += [c if c not in header else f"{c}_in" for c in table.columns if c != "filename"]
    return header


def previous_rows(out_csv: Path) -> dict[str, list[dict]]:
    """Rows of an earlier out.csv that have a transcription: {filename: [row, ...]} in order."""
    done: dict[str, list[dict]] = {}
    try:
        table = read_csv(out_csv, required=("filename", "transcription"))
    except CsvError as e:
        raise Unusable(f"--resume: {e}") from None
    for i, row in enumerate(table.rows):
        record = dict(zip(table.columns, row))
        if i not in table.errors and record["transcription"]:
            done.setdefault(record["filename"], []).append(record)
    return done


def result_cells(r: Result, gender: bool) -> dict[str, str]:
    cells = {"transcription": "" if r.number is None else str(r.number),
             "confidence": "" if r.number is None else f"{r.confidence:.4f}"}
    if gender:
        cells["gender"] = r.gender or "" if r.number is not None else ""
        cells["gender_probability"] = f"{r.gender_probability:.4f}" if cells["gender"] else ""
    return cells


@click.command()
@click.argument("in_csv", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("out_csv", type=click.Path(dir_okay=False, path_type=Path))
@model_options
@click.option("--batch-size", default=32, show_default=True, type=click.IntRange(1, 4096))
@click.option("--ctc-weight", default=0.3, show_default=True, type=click.FloatRange(0, 1),
              help="Weight of the CTC score when rescoring the beam (0 disables).")
@click.option("--keep-columns", is_flag=True, help="Carry the input's other columns into out.csv.")
@click.option("--resume", is_flag=True,
              help="Keep the rows an earlier out.csv already transcribed; do only the rest.")
@click.option("--workers", default=None, type=click.IntRange(0, 64),
              help="Processes reading audio while decoding (default: 1 for more than a batch).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def main(in_csv, out_csv, model_path, beam, min_confidence, tempos, warps, high_voice_hz, gender, gender_model,
         threads, batch_size, ctc_weight, keep_columns, resume, workers, quiet):
    """Write the integer said in each file of IN_CSV to OUT_CSV."""
    try:
        table = read_csv(in_csv, required=("filename",))
        check_output(out_csv, (in_csv,))
    except CsvError as e:
        raise Unusable(str(e)) from None
    model = load_model(model_path, gender, gender_model, beam=beam, ctc_weight=ctc_weight,
                       min_confidence=min_confidence, tempos=tempos, warps=warps,
                       high_voice_hz=high_voice_hz, threads=threads or None)
    done = previous_rows(out_csv) if resume and out_csv.exists() else {}
    header = output_header(table, gender, keep_columns)

    # Each row is settled now (a CSV problem, or done in an earlier run) or sent to the model.
    names = table.column("filename")
    settled: dict[int, dict | str] = {}
    for i, name in enumerate(names):
        if i in table.errors:
            settled[i] = table.errors[i]
        elif not name:
            settled[i] = "no file name"
        elif done.get(name):
            settled[i] = done[name].pop(0)
    todo = [i for i in range(len(names)) if i not in settled]
    results = model.stream([in_csv.parent / names[i] for i in todo], batch_size=batch_size,
                           workers=workers)

    def line(i: int, cells: dict) -> list[str]:
        if keep_columns:
            cells = {**cells, **{c if c not in OUTPUT + GENDER else f"{c}_in": v
                                 for c, v in zip(table.columns, table.rows[i]) if c != "filename"}}
        return [names[i] if h == "filename" else cells.get(h, "") for h in header]

    failed, reused = [], sum(isinstance(s, dict) for s in settled.values())
    out, i = CsvWriter(out_csv, header), 0
    try:
        for i in tqdm(range(len(names)), desc="transcribing", unit="file", disable=quiet,
                      file=sys.stderr, mininterval=2):
            if isinstance(settled.get(i), dict):
                out.write(line(i, settled[i]))
                continue
            r = next(results) if i not in settled else Result(names[i], error=settled[i])
            if r.error:
                failed.append((i, r.error))
            out.write(line(i, result_cells(r, gender)))
        out.commit()
    except KeyboardInterrupt:
        done_now = out.rows
        for k in range(i, len(names)):  # keep what the earlier out.csv had for the rest, too
            if isinstance(settled.get(k), dict):
                out.write(line(k, settled[k]))
        out.commit()
        _report(in_csv, table, names, failed)
        click.echo(f"interrupted at row {table.row_number(i)}: {out.rows} of {len(names)} rows "
                   f"kept in {out_csv} ({done_now} in order); rerun with --resume to finish", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except OSError as e:
        out.discard()
        raise Unusable(f"{out_csv}: cannot be written ({e.strerror}); an earlier {out_csv.name}, "
                       "if any, is untouched") from None
    except BaseException:
        out.discard()
        raise
    _report(in_csv, table, names, failed)
    kept = f" ({reused} kept from the earlier out.csv)" if resume else ""
    click.echo(f"{out_csv}: {len(names)} rows, {len(names) - len(failed)} transcribed{kept}, "
               f"{len(failed)} failed", err=True)
    sys.exit(EXIT_SOME_FAILED if failed else EXIT_OK)


def _report(in_csv, table, names, failed) -> None:
    for i, why in failed:
        click.echo(f"{in_csv}: row {table.row_number(i)}: {names[i]!r}: {why}", err=True)


if __name__ == "__main__":
    main()
