"""Exact-number accuracy and digit CER of a recognizer on a corpus CSV, overall and per speaker.

    python benchmarks/accuracy.py data/corpus/test.csv [--model states/recognizer.pt] [--beam 4]

Digit CER: edit distance between the digit strings of the reference and the prediction,
summed over clips, divided by the reference digits (in %). Unreadable files count as wrong.
"""
import json
import sys
from pathlib import Path

import click
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from normalizer.table import number_column, parse_number, read_csv  # noqa: E402
from seq2seq_asr import checkpoint  # noqa: E402
from seq2seq_asr.transcribe import DEFAULT_GENDER_MODEL, DEFAULT_MODEL, transcribe  # noqa: E402


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


@click.command()
@click.argument("csv_path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--model", "model_path", default=DEFAULT_MODEL, type=click.Path(path_type=Path))
@click.option("--beam", default=4, show_default=True)
@click.option("--ctc-weight", default=0.3, show_default=True)
@click.option("--limit", default=0, help="Only the first N clips (0: all).")
@click.option("--gender", is_flag=True, help="Also score the gender classifier (needs a gender column).")
@click.option("--gender-model", default=DEFAULT_GENDER_MODEL, type=click.Path(path_type=Path))
@click.option("--json-out", type=click.Path(path_type=Path), help="Also write the figures as JSON.")
def main(csv_path, model_path, beam, ctc_weight, limit, gender, gender_model, json_out):
    torch.set_num_threads(2)
    table = read_csv(csv_path, required=("filename",))
    if limit:
        table = table.head(limit)
    refs = [parse_number(x) for x in table[number_column(table, csv_path)]]
    speakers = table["spk_id"].tolist() if "spk_id" in table else ["all"] * len(table)
    model, vocab, _ = checkpoint.load(model_path)
    classifier = checkpoint.load_gender(gender_model)[0] if gender else None
    results = transcribe(model, vocab, [csv_path.parent / f for f in table["filename"]],
                         beam=beam, ctc_weight=ctc_weight, progress=True, gender_model=classifier)
    pairs = [(r, res.number) for r, res in zip(refs, results)]
    overall = score(pairs)
    per_speaker = {s: score([p for p, t in zip(pairs, speakers) if t == s]) for s in sorted(set(speakers))}
    print(f"model {model_path}, {csv_path}, beam {beam}, ctc weight {ctc_weight}\n")
    print("| speaker | clips | exact % | digit CER % |\n|---|---|---|---|")
    for name, s in [*per_speaker.items(), ("**all**", overall)]:
        print(f"| {name} | {s['clips']} | {s['exact']:.2f} | {s['cer']:.2f} |")
    failed = sum(r.error is not None for r in results)
    if failed:
        print(f"\n{failed} files could not be read (counted as wrong)")
    report = {"overall": overall, "per_speaker": per_speaker}
    if gender:
        right = [r.gender == g for r, g in zip(results, table["gender"])]
        by_speaker = {s: [x for x, t in zip(right, speakers) if t == s] for s in sorted(set(speakers))}
        report["gender_accuracy"] = 100 * sum(right) / len(right)
        print(f"\ngender accuracy ({gender_model}): {report['gender_accuracy']:.2f} % of {len(right)} clips; "
              "per speaker: " + ", ".join(f"{s} {100 * sum(v) / len(v):.0f}" for s, v in by_speaker.items()))
    if json_out:
        json_out.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
