"""Exact-number accuracy and digit CER of a recognizer on a corpus CSV, overall and per speaker,
and how well its confidence separates right answers from wrong ones.

    python benchmarks/accuracy.py data/corpus/test.csv [--model states/recognizer.pt] [--beam 4]

Digit CER: edit distance between the digit strings of the reference and the prediction,
summed over clips, divided by the reference digits (in %). Unreadable files count as wrong.
Coverage table: accuracy of the most confident answers, and the confidence threshold
(--min-confidence) that keeps that share. --json-out writes the figures with the command, model
and test set (benchmarks/record.py; benchmarks/report.py renders them) and every clip's answer,
to break the figures down later (--no-json-clips: not); --by COLUMN does it now.
"""
import sys
from pathlib import Path

import click
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import seq2seq_asr  # noqa: E402
from normalizer.table import CsvError, number_column, parse_number, read_csv  # noqa: E402
from benchmarks import record  # noqa: E402
from seq2seq_asr.cli import search_options  # noqa: E402
from seq2seq_asr.transcribe import DEFAULT_GENDER_MODEL, DEFAULT_MODEL  # noqa: E402

COVERAGES = (1.0, 0.99, 0.95, 0.9, 0.8)


def edit_distance(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


def score(pairs) -> dict:
    """pairs: [(reference int, predicted int or None)] -> clips, exact %, digit CER %."""
    edits = sum(edit_distance(str(r), str(p) if p is not None else "") for r, p in pairs)
    digits = sum(len(str(r)) for r, _ in pairs)
    return {"clips": len(pairs), "exact": 100 * sum(r == p for r, p in pairs) / len(pairs),
            "cer": 100 * edits / digits}


def breakdown(pairs, values: list[str]) -> dict:
    """pairs as in score, values: each clip's value of one column -> {value: score of its clips}."""
    return {v: score([p for p, x in zip(pairs, values) if x == v]) for v in sorted(set(values))}


def print_scores(column: str, scores: dict) -> None:
    print(f"| {column} | clips | exact % | digit CER % |\n|---|---|---|---|")
    for name, s in scores.items():
        print(f"| {name} | {s['clips']} | {s['exact']:.2f} | {s['cer']:.2f} |")


def roc_auc(scores_right: list[float], scores_wrong: list[float]) -> float | None:
    """P(a right answer is more confident than a wrong one), ties count half."""
    if not scores_right or not scores_wrong:
        return None
    wins = sum((r > w) + 0.5 * (r == w) for r in scores_right for w in scores_wrong)
    return wins / (len(scores_right) * len(scores_wrong))


def coverage_table(confidences: list[float], right: list[bool]) -> list[dict]:
    """For each share of the answers kept (most confident first): accuracy and the threshold."""
    order = sorted(range(len(right)), key=lambda i: -confidences[i])
    rows = []
    for share in COVERAGES:
        kept = order[:max(1, round(share * len(order)))]
        rows.append({"coverage": share, "accuracy": 100 * sum(right[i] for i in kept) / len(kept),
                     "threshold": confidences[kept[-1]]})
    return rows


@click.command()
@click.argument("csv_path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--model", "model_path", default=DEFAULT_MODEL, type=click.Path(path_type=Path))
@click.option("--beam", default=4, show_default=True)
@click.option("--ctc-weight", default=0.3, show_default=True)
@search_options
@click.option("--limit", default=0, help="Only the first N clips (0: all).")
@click.option("--gender", is_flag=True, help="Also score the gender classifier (needs a gender column).")
@click.option("--gender-model", default=DEFAULT_GENDER_MODEL, type=click.Path(path_type=Path))
@click.option("--by", "by_columns", multiple=True, metavar="COLUMN",
              help="Also break the figures down by this column of the CSV (samplerate, ext, style, ...); "
                   "repeatable.")
@click.option("--json-out", type=click.Path(path_type=Path), help="Also write the figures as JSON.")
@click.option("--json-clips/--no-json-clips", default=True, show_default=True,
              help="Keep every clip's answer in --json-out.")
def main(csv_path, model_path, beam, ctc_weight, tempos, warps, high_voice_hz, limit, gender, gender_model,
         by_columns, json_out, json_clips):
    torch.set_num_threads(2)
    try:
        table = read_csv(csv_path, required=("filename", *by_columns))
    except CsvError as e:
        raise click.ClickException(str(e)) from None
    rows = range(min(limit, len(table)) if limit else len(table))
    refs = [parse_number(x) for x in table.column(number_column(table))[:len(rows)]]
    speakers = table.column("spk_id")[:len(rows)] if "spk_id" in table.columns else ["all"] * len(rows)
    model = seq2seq_asr.load(model_path, gender=gender_model if gender else False, beam=beam,
                             ctc_weight=ctc_weight, tempos=tempos, warps=warps, high_voice_hz=high_voice_hz)
    paths = [csv_path.parent / f for f in table.column("filename")[:len(rows)]]
    results = list(model.stream(paths))
    pairs = [(r, res.number) for r, res in zip(refs, results)]
    overall = score(pairs)
    per_speaker = breakdown(pairs, speakers)
    print(f"model {model_path}, {csv_path}, beam {beam}, ctc weight {ctc_weight}, "
          f"tempos {','.join(map(str, tempos)) or 'none'}, warps {','.join(map(str, warps)) or 'none'}, "
          f"high voices lowered: {f'above {high_voice_hz:g} Hz' if high_voice_hz else 'no'}\n")
    print_scores("speaker", per_speaker | {"**all**": overall})
    by = {column: breakdown(pairs, table.column(column)[:len(rows)]) for column in by_columns}
    for column, scores in by.items():
        print()
        print_scores(column, scores)
    failed = sum(r.error is not None for r in results)
    if failed:
        print(f"\n{failed} files could not be read (counted as wrong)")

    right = [ref == res.number for ref, res in zip(refs, results)]
    conf = [res.confidence if res.confidence is not None else 0.0 for res in results]
    auc = roc_auc([c for c, ok in zip(conf, right) if ok], [c for c, ok in zip(conf, right) if not ok])
    coverage = coverage_table(conf, right)
    print("\n| answers kept (most confident) | exact % | --min-confidence |\n|---|---|---|")
    for row in coverage:
        print(f"| {100 * row['coverage']:.0f} % | {row['accuracy']:.2f} | {row['threshold']:.3f} |")
    print(f"\nconfidence ROC AUC (right vs wrong): {auc:.3f}" if auc is not None else "")
    report = {"overall": overall, "per_speaker": per_speaker, "by": by, "coverage": coverage, "auc": auc,
              "unreadable": failed}
    if json_clips:
        report["clips"] = [{"filename": f, "reference": r, "prediction": res.number, "confidence": c}
                           for f, r, res, c in zip(table.column("filename"), refs, results, conf)]
    if gender:
        g_right = [r.gender == g for r, g in zip(results, table.column("gender"))]
        by_speaker = {s: [x for x, t in zip(g_right, speakers) if t == s] for s in sorted(set(speakers))}
        report["gender_accuracy"] = 100 * sum(g_right) / len(g_right)
        print(f"\ngender accuracy ({gender_model}): {report['gender_accuracy']:.2f} % of {len(g_right)} "
              "clips; per speaker: " + ", ".join(f"{s} {100 * sum(v) / len(v):.0f}"
                                                 for s, v in by_speaker.items()))
    if json_out:
        reading = {"beam": beam, "ctc_weight": ctc_weight, "tempos": list(tempos), "warps": list(warps),
                   "high_voice_hz": high_voice_hz}
        record.write(json_out, report, record.provenance(model_path, record.relative(csv_path), reading))


if __name__ == "__main__":
    main()
