"""Is a wrong answer ever sure? Confidence on clips that are not a number at all, beside the
confidence of right answers on a corpus split.

    python benchmarks/confidence.py data/corpus/test.csv [--limit 1000]

Not-a-number clips are made here, reproducibly: white and brown noise, tones, click trains,
and Russian words and phrases that are not numbers, spoken by espeak-ng (three voices).
Reports, for a few --min-confidence thresholds, the share of right answers kept and the share
of not-a-number clips that would still get a number.
"""
import subprocess
import sys
import tempfile
from pathlib import Path

import click
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import seq2seq_asr  # noqa: E402
from normalizer.table import number_column, parse_number, read_csv  # noqa: E402
from seq2seq_asr.transcribe import Array  # noqa: E402

PHRASES = ["привет", "да", "нет", "алло", "спасибо большое", "как дела", "здравствуйте меня зовут иван",
           "оператор", "повторите пожалуйста", "хорошо", "соедините с менеджером", "до свидания"]
THRESHOLDS = (0.3, 0.5, 0.6, 0.7, 0.8)


def not_numbers(folder: Path) -> list:
    rng = np.random.default_rng(0)
    t = np.arange(32000) / 16000
    out = []
    for k in range(10):
        out.append(Array(rng.normal(0, 0.1, 16000 * (1 + k % 3)).astype(np.float32), 16000, f"white{k}"))
        brown = np.cumsum(rng.normal(0, 0.01, 32000)).astype(np.float32)
        out.append(Array(brown - brown.mean(), 16000, f"brown{k}"))
        out.append(Array((0.3 * np.sin(2 * np.pi * (50 + 100 * k) * t)).astype(np.float32), 16000, f"tone{k}"))
        clicks = rng.normal(0, 0.002, 32000).astype(np.float32)
        clicks[rng.integers(0, 32000, 20)] = 0.9
        out.append(Array(clicks, 16000, f"clicks{k}"))
    for i, phrase in enumerate(PHRASES):
        for voice in ("ru", "ru+f3", "ru+m3"):
            path = folder / f"phrase{i}-{voice}.wav"
            subprocess.run(["espeak-ng", "-v", voice, "-w", str(path), phrase], check=True)
            out.append(path)
    return out


@click.command()
@click.argument("csv_path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--limit", default=1000, show_default=True, help="Clips of the split to score.")
def main(csv_path, limit):
    torch.set_num_threads(2)
    model = seq2seq_asr.load()
    table = read_csv(csv_path)
    refs = [parse_number(x) for x in table.column(number_column(table))[:limit]]
    results = list(model.stream([csv_path.parent / f for f in table.column("filename")[:limit]]))
    right = [r.confidence for r, ref in zip(results, refs) if r.number == ref]
    with tempfile.TemporaryDirectory() as tmp:
        others = model.transcribe(not_numbers(Path(tmp)))
    refused = sum(r.error is not None for r in others)
    sure = [r.confidence for r in others if r.number is not None]
    print(f"{len(right)} right answers of {len(refs)} clips of {csv_path}; {len(others)} not-a-number "
          f"clips, {refused} refused outright (too short / no speech)\n")
    print(f"highest confidence on a not-a-number clip: {max(sure):.3f}\n")
    print("| --min-confidence | right answers kept % | not-a-number clips still answered % |\n|---|---|---|")
    for th in THRESHOLDS:
        print(f"| {th} | {100 * np.mean([c >= th for c in right]):.1f} | "
              f"{100 * sum(c >= th for c in sure) / len(others):.1f} |")


if __name__ == "__main__":
    main()
