"""Outside evaluation on a recorded human voice: the Russian number prompts of Asterisk's
phone-system sound pack, joined the way a phone menu plays them. For evaluation only: this
voice is never used to train or tune anything.

    sudo apt-get install asterisk-core-sounds-ru-wav
    python benchmarks/outside_human.py [--model states/recognizer.pt] [--clips 300]

The pack has the words for 1-19, the tens, "сто" and "тысяча" (not 200-900 nor тысячи/тысяч),
so the numbers are 1..199 and 1000..1199. Each clip joins the word recordings (8 kHz) with
30-150 ms pauses; the numbers and pauses are drawn from --seed.
"""
import sys
from pathlib import Path

import click
import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import seq2seq_asr  # noqa: E402
from benchmarks import record  # noqa: E402
from benchmarks.accuracy import score  # noqa: E402
from seq2seq_asr.cli import search_options  # noqa: E402
from seq2seq_asr.transcribe import DEFAULT_MODEL, Array  # noqa: E402

PACK = Path("/usr/share/asterisk/sounds/ru_RU_f_IvrvoiceRU/digits")
SET_NAME = f"Asterisk's Russian phone prompts ({PACK.parent.name}), joined as a phone menu plays them"


def prompts(n: int) -> list[str]:
    """The prompt files that say n (1..199 or 1000..1199)."""
    names = []
    if n >= 1000:
        names.append("thousand")
        n -= 1000
    if n >= 100:
        names.append("hundred")
        n -= 100
    if n >= 20:
        names.append(str(n // 10 * 10))
        n %= 10
    if n:
        names.append(str(n))
    return names


def phone_menu(clips: int, seed: int) -> tuple[list[int], list[Array]]:
    """-> (the numbers, the clips that say them: the pack's recordings joined with pauses)."""
    if not PACK.is_dir():
        raise click.ClickException(f"{PACK} not found: sudo apt-get install asterisk-core-sounds-ru-wav")
    rng = np.random.default_rng(seed)
    numbers = [int(rng.choice([rng.integers(1, 200), rng.integers(1000, 1200)])) for _ in range(clips)]
    sources = []
    for n in numbers:
        pieces = []
        for name in prompts(n):
            audio, rate = sf.read(PACK / f"{name}.wav", dtype="float32")
            pieces += [audio, np.zeros(int(rng.uniform(0.03, 0.15) * rate), np.float32)]
        sources.append(Array(np.concatenate(pieces[:-1]), rate, f"{n}"))
    return numbers, sources


def report(name, numbers: list[int], heard: list) -> dict:
    """Prints and returns the scores of all clips and of each range."""
    pairs = list(zip(numbers, heard))
    figures = {}
    for part_name, part in [("all", pairs), ("<1000", [p for p in pairs if p[0] < 1000]),
                            (">=1000", [p for p in pairs if p[0] >= 1000])]:
        s = figures[part_name] = score(part)
        print(f"{name} {part_name}: {s['clips']} clips, exact {s['exact']:.1f} %, digit CER {s['cer']:.1f} %")
    wrong = [(n, h) for n, h in pairs if h != n][:12]
    print("some errors (said -> heard):", ", ".join(f"{a}->{b}" for a, b in wrong))
    return {"overall": figures["all"], "range": {k: figures[k] for k in ("<1000", ">=1000")}}


@click.command()
@click.option("--model", "model_path", default=DEFAULT_MODEL, type=click.Path(path_type=Path))
@click.option("--clips", default=300, show_default=True)
@click.option("--seed", default=0, show_default=True)
@search_options
@click.option("--json-out", type=click.Path(path_type=Path),
              help="Also write the figures as JSON (benchmarks/record.py).")
def main(model_path, clips, seed, tempos, warps, high_voice_hz, json_out):
    numbers, sources = phone_menu(clips, seed)
    model = seq2seq_asr.load(model_path, tempos=tempos, warps=warps, high_voice_hz=high_voice_hz)
    results = model.transcribe(sources)
    figures = report(model_path, numbers, [r.number for r in results])
    if json_out:
        reading = {"tempos": list(tempos), "warps": list(warps), "high_voice_hz": high_voice_hz}
        record.write(json_out, figures, record.provenance(model_path, SET_NAME, reading))


if __name__ == "__main__":
    main()
