"""Is a voice high? The cheap check against Harvest, on the clips where it matters.

    python benchmarks/pitch_check.py data/cross_engine/eval-rutts-clean/test.csv [more CSVs] [--clips 400]

A doubtful clip is heard lowered when its voice is pitched above HIGH_VOICE_HZ (audio.lower_high_voice).
DIO says so first; on the clips it puts above, the subharmonic ratio decides the clear cases and
Harvest the rest. Here every clip DIO puts above is also given to Harvest, and the two verdicts are
compared: how many clips the ratio sends to Harvest, how many verdicts differ (each listed with its
pitches), and the seconds each step takes per second of these clips' audio.
"""
import sys
import time
from pathlib import Path

import click

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from normalizer.table import read_csv  # noqa: E402
from seq2seq_asr import audio  # noqa: E402


def timed(fn, *args):
    start = time.perf_counter()
    return fn(*args), time.perf_counter() - start


@click.command()
@click.argument("csvs", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--clips", default=400, show_default=True, help="The first N clips of each CSV.")
def main(csvs, clips):
    print("| CSV | clips DIO puts above | Harvest: high | sent to Harvest | verdicts differ |\n|---|---|---|---|---|")
    differ, seconds = [], {"audio": 0.0, "dio": 0.0, "ratio": 0.0, "harvest": 0.0}
    for csv in csvs:
        flagged = high = unsure = wrong = 0
        for name in read_csv(csv).column("filename")[:clips]:
            x = audio.load_audio(csv.parent / name)
            (x8, f0), t_dio = timed(audio.dio_track, x)
            dio = audio.voiced_median(f0)
            if dio <= audio.HIGH_VOICE_HZ:
                continue
            ratio, t_ratio = timed(audio.subharmonic_ratio, x8, f0)
            harvest, t_harvest = timed(audio.median_f0, x, True)
            seconds["audio"] += len(x) / audio.SAMPLE_RATE
            for key, t in (("dio", t_dio), ("ratio", t_ratio), ("harvest", t_harvest)):
                seconds[key] += t
            flagged += 1
            high += harvest > audio.HIGH_VOICE_HZ
            verdict = audio.clearly_high(ratio)
            if verdict is None:
                unsure += 1
            elif verdict != (harvest > audio.HIGH_VOICE_HZ):
                wrong += 1
                differ.append(f"{csv.parent / name}: DIO {dio:.0f} Hz, Harvest {harvest:.0f} Hz, ratio {ratio:.3f}")
        print(f"| {csv} | {flagged} | {high} | {unsure} | {wrong} |")
    for line in differ:
        print(line)
    per = {k: v / max(seconds["audio"], 1e-9) for k, v in seconds.items() if k != "audio"}
    print(f"\nseconds per second of the flagged clips' audio: DIO {per['dio']:.4f}, "
          f"ratio {per['ratio']:.4f}, Harvest {per['harvest']:.4f}")


if __name__ == "__main__":
    main()
