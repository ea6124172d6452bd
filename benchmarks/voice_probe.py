"""Why does a voice fail? Exact % per speaker after warping the input's formants (VTLP on the
log-mel), shifting its pitch (torchaudio pitch_shift, formants move with it) or flooring the
features at another level than the model's (audio.normalize), nothing retrained.

    python benchmarks/voice_probe.py data/cross_engine/eval-rutts-clean/test.csv \
        --model MODEL --speakers rutts-female-b,rutts-female-d,rutts-male-b --clips 40
    python benchmarks/voice_probe.py CSV --model MODEL --clips 1000 --alphas "" --semitones "" --floors 60,55,50,45
"""
import sys
from pathlib import Path

import click
import pandas as pd
import torchaudio.functional as AF

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import seq2seq_asr  # noqa: E402
from seq2seq_asr.audio import SAMPLE_RATE, load_audio, log_mel, log_mel_power, normalize, vtlp  # noqa: E402


@click.command()
@click.argument("csv_path", type=click.Path(exists=True, dir_okay=False))
@click.option("--model", default=None, help="A recognizer checkpoint (default: the shipped one).")
@click.option("--speakers", default="", help="Comma-separated spk_id values (default: all).")
@click.option("--clips", default=40, show_default=True, help="First N clips of each speaker.")
@click.option("--alphas", default="0.8,0.88,0.94,1.0,1.06", show_default=True)
@click.option("--semitones", default="-6,-3,0,3", show_default=True)
@click.option("--floors", default="", help="Feature floors to try, dB (e.g. 60,50,45).")
def main(csv_path, model, speakers, clips, alphas, semitones, floors):
    m = seq2seq_asr.load(model)
    table = pd.read_csv(csv_path)
    if speakers:
        table = table[table.spk_id.isin(speakers.split(","))]
    table = pd.concat([g.head(clips) for _, g in table.groupby("spk_id")])
    audio = [load_audio(Path(csv_path).parent / f) for f in table.filename]

    def score(label, feats):
        results = m.decode(list(table.filename), feats)
        right = pd.Series([r.number == n for r, n in zip(results, table.transcription)], index=table.index)
        per = right.groupby(table.spk_id).mean().mul(100).round(1).to_dict()
        print(f"{label}: {100 * right.mean():.1f} % | {per}", flush=True)

    floor = m.recognizer.config.floor_db
    plain = [log_mel(a, floor) for a in audio]
    for alpha in [float(a) for a in alphas.split(",") if a]:
        score(f"vtlp {alpha}", [vtlp(f, alpha) for f in plain])
    for db in [float(f) for f in floors.split(",") if f]:
        score(f"floor {db:g} dB (model: {floor:g})", [normalize(log_mel_power(a), db) for a in audio])
    for st in [int(s) for s in semitones.split(",") if s]:
        score(f"pitch {st:+d} semitones", [log_mel(AF.pitch_shift(a[None], SAMPLE_RATE, st)[0], floor) if st else f
                                           for a, f in zip(audio, plain)])


if __name__ == "__main__":
    main()
