"""Why does a voice fail? Exact % per speaker after warping the input's formants (VTLP on the
log-mel), shifting its pitch (torchaudio pitch_shift, formants move with it), flooring the
features at another level than the model's (audio.normalize) or giving a whisper a voice (WORLD:
its frames that are loud and carry more energy below 3 kHz than above 4 kHz resynthesized
voiced at a fixed pitch), nothing retrained.

    python benchmarks/voice_probe.py data/cross_engine/eval-rutts-clean/test.csv \
        --model MODEL --speakers rutts-female-b,rutts-female-d,rutts-male-b --clips 40
    python benchmarks/voice_probe.py CSV --model MODEL --clips 1000 --alphas "" --semitones "" --floors 60,55,50,45
    python benchmarks/voice_probe.py data/cross_engine/eval-espeak-clean/test.csv --model MODEL \
        --speakers espeak-ru-whisper,espeak-ru-whisperf,espeak-ru-lv-whisper,espeak-ru-lv-whisperf \
        --alphas "" --semitones 0 --voiced 120,150,200
"""
import sys
from pathlib import Path

import click
import numpy as np
import pandas as pd
import pyworld
import torch
import torchaudio.functional as AF

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import seq2seq_asr  # noqa: E402
from seq2seq_asr.audio import SAMPLE_RATE, load_audio, log_mel, log_mel_power, normalize, vtlp  # noqa: E402


def give_voice(audio: torch.Tensor, f0_hz: float, tilt_db: float = 5.0) -> torch.Tensor:
    """(time,) whispered speech at 16 kHz -> the same with a voice: WORLD's envelope and
    aperiodicity of it taken unvoiced, and every loud frame (within 35 dB of the loudest) whose
    envelope holds tilt_db more energy at 150-3000 Hz than above 4 kHz (a vowel or a sonorant,
    not a fricative) resynthesized at f0_hz with its aperiodicity lowered below 5 kHz."""
    x = audio.double().numpy()
    times = np.arange(0, len(x) / SAMPLE_RATE, 0.005)
    f0 = np.zeros(len(times))
    envelope = pyworld.cheaptrick(x, f0, times, SAMPLE_RATE, fft_size=1024)
    aperiodicity = pyworld.d4c(x, f0, times, SAMPLE_RATE, fft_size=1024)
    hz = np.linspace(0, SAMPLE_RATE / 2, envelope.shape[1])
    energy = envelope.sum(1)
    low = envelope[:, (hz > 150) & (hz < 3000)].sum(1)
    high = envelope[:, hz > 4000].sum(1) + 1e-12
    voice = (energy > energy.max() * 10 ** -3.5) & (10 * np.log10(low / high) > tilt_db)
    aperiodicity[voice] = np.minimum(aperiodicity[voice], np.clip((hz / 5000) ** 2, 1e-3, 1.0))
    y = pyworld.synthesize(np.where(voice, f0_hz, 0.0), envelope, aperiodicity, SAMPLE_RATE, 5.0)
    return torch.from_numpy(y / max(np.abs(y).max(), 1e-9) * 0.5).float()


@click.command()
@click.argument("csv_path", type=click.Path(exists=True, dir_okay=False))
@click.option("--model", default=None, help="A recognizer checkpoint (default: the shipped one).")
@click.option("--speakers", default="", help="Comma-separated spk_id values (default: all).")
@click.option("--clips", default=40, show_default=True, help="First N clips of each speaker.")
@click.option("--alphas", default="0.8,0.88,0.94,1.0,1.06", show_default=True)
@click.option("--semitones", default="-6,-3,0,3", show_default=True)
@click.option("--floors", default="", help="Feature floors to try, dB (e.g. 60,50,45).")
@click.option("--voiced", default="", help="Pitches to voice a whisper at, Hz (e.g. 120,150).")
def main(csv_path, model, speakers, clips, alphas, semitones, floors, voiced):
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
    for hz in [float(h) for h in voiced.split(",") if h]:
        score(f"voiced at {hz:g} Hz", [log_mel(give_voice(a, hz), floor) for a in audio])


if __name__ == "__main__":
    main()
