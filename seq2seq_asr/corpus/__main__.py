"""python -m seq2seq_asr.corpus DIR: synthesize a train/dev/test spoken-number corpus."""
import time
from pathlib import Path

import click

from .generate import generate
from .voices import ENGINES


@click.command()
@click.argument("root", type=click.Path(file_okay=False, path_type=Path))
@click.option("--train", default=17000, show_default=True, help="Clips in the train split.")
@click.option("--dev", default=1000, show_default=True, help="Clips in dev (train voices).")
@click.option("--test", default=2000, show_default=True, help="Clips in test (held-out voices).")
@click.option("--seed", default=0, show_default=True)
@click.option("--jobs", default=2, show_default=True, help="Worker processes.")
@click.option("--strength", default=1.0, show_default=True,
              help="Augmentation strength: 0 clean, 1 the full mix.")
@click.option("--revoice", default=0.0, show_default=True,
              help="Share of clips said in a new voice made through the WORLD vocoder (0..1).")
@click.option("--high-pitch", default=0.0, show_default=True,
              help="Share of clips said in a raised voice, the engine's own pitch setting turned "
                   "up (0..1; festival and kokoro have none).")
@click.option("--whisper", default=0.0, show_default=True,
              help="Share of clips whispered: resynthesized through the WORLD vocoder with no "
                   "voicing (0..1).")
@click.option("--engines", default=",".join(ENGINES), show_default=True,
              help="Comma-separated engines to use.")
@click.option("--test-voices", type=click.Choice(["held-out", "all"]), default="held-out",
              show_default=True, help="The test split's voices: the held-out ones, or every voice "
                                      "of the engines (to score an engine left out of training).")
def main(root: Path, train: int, dev: int, test: int, seed: int, jobs: int, strength: float,
         engines: str, test_voices: str, revoice: float, high_pitch: float, whisper: float):
    """Synthesize spoken Russian numbers into ROOT/{train,dev,test}.csv and audio folders."""
    start = time.time()
    chosen = tuple(e.strip() for e in engines.split(",") if e.strip())
    unknown = set(chosen) - set(ENGINES)
    if unknown or not chosen:
        raise click.BadParameter(f"unknown engine(s) {', '.join(sorted(unknown))}; "
                                 f"choose from {', '.join(ENGINES)}", param_hint="--engines")
    try:
        paths = generate(root, {"train": train, "dev": dev, "test": test}, seed, jobs, strength,
                         engines=chosen, held_out_test=test_voices == "held-out", revoice=revoice,
                         high_pitch=high_pitch, whisper=whisper)
    except RuntimeError as e:
        raise click.ClickException(str(e)) from None
    total = train + dev + test
    click.echo(f"{total} clips in {time.time() - start:.0f} s: " + ", ".join(map(str, paths.values())))


if __name__ == "__main__":
    main()
