"""Real-time factor on one CPU thread, batched: seconds of compute per second of audio.

    python benchmarks/speed.py data/corpus/test.csv [--model states/recognizer.pt] [--clips 300]

Reading + features and decoding are timed separately; the audio is decoded from disk each run.
Each row adds one step to the one above: greedy, beam 4, beam 4 rescored with the CTC head
(one plain reading per clip), doubtful high voices heard lowered (what `--tempos none --warps none`
reads: "read once"), doubtful clips read again at other tempos, and at other warps (the doors).
Time it while nothing else runs on the machine. --json-out writes the figures with the command
and model (benchmarks/record.py; benchmarks/report.py renders them).
"""
import sys
import time
from pathlib import Path

import click
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import seq2seq_asr  # noqa: E402
from benchmarks import record  # noqa: E402
from normalizer.table import read_csv  # noqa: E402
from seq2seq_asr.audio import HIGH_VOICE_HZ, HOP, SAMPLE_RATE  # noqa: E402
from seq2seq_asr.transcribe import DEFAULT_MODEL, TEMPOS, WARPS, Options, decode_features  # noqa: E402


@click.command()
@click.argument("csv_path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--model", "model_path", default=DEFAULT_MODEL, type=click.Path(path_type=Path))
@click.option("--clips", default=300, show_default=True)
@click.option("--batch-size", default=32, show_default=True)
@click.option("--high-voice-hz", default=HIGH_VOICE_HZ, show_default=True,
              help="Doubtful clips pitched above this are heard lowered, as by default (0: never); "
                   "part of the decoding time.")
@click.option("--json-out", type=click.Path(path_type=Path), help="Also write the figures as JSON.")
def main(csv_path, model_path, clips, batch_size, high_voice_hz, json_out):
    torch.set_num_threads(1)
    paths = [csv_path.parent / f for f in read_csv(csv_path).column("filename")[:clips]]
    model = seq2seq_asr.load(model_path, high_voice_hz=high_voice_hz)
    size_mb = model_path.stat().st_size / 2**20
    params = sum(p.numel() for p in model.recognizer.parameters())
    read = lambda path: model.features(path)[0]  # noqa: E731  (frames, n_mels) or None
    warm = [f for f in map(read, paths[:8]) if f is not None]
    decode_features(model.recognizer, model.vocab, warm, Options(batch_size=batch_size, tempos=()))
    start = time.perf_counter()
    kept = [(p, f) for p, f in zip(paths, map(read, paths)) if f is not None]
    sources, feats = [p for p, _ in kept], [f for _, f in kept]
    read_s = time.perf_counter() - start
    audio_s = sum(len(f) for f in feats) * HOP / SAMPLE_RATE
    print(f"model {model_path}: {params / 1e6:.2f} M parameters, {size_mb:.1f} MB; "
          f"{len(feats)} clips, {audio_s:.0f} s of audio, 1 thread, batch {batch_size}\n")
    print("| decoding | RTF features | RTF decoding | RTF total |\n|---|---|---|---|")
    plain, rows = [], {}
    for key, name, beam, ctc, lower, tempos, warps in [
            ("greedy", "greedy", 1, 0.0, 0, (), ()), ("beam", "beam 4", 4, 0.0, 0, (), ()),
            ("plain", "beam 4 + CTC", 4, 0.3, 0, (), ()),
            ("once", "the same, doubtful high voices heard lowered (read once)", 4, 0.3, high_voice_hz,
             (), ()),
            ("tempos", "the same, doubtful clips read again at other tempos (`--warps none`)", 4, 0.3,
             high_voice_hz, TEMPOS, ()),
            ("doors", "the same and at other warps (default)", 4, 0.3, high_voice_hz, TEMPOS, WARPS)]:
        start = time.perf_counter()
        hyps = decode_features(model.recognizer, model.vocab, feats,
                               Options(beam, ctc, batch_size, tempos=tempos, warps=warps,
                                       high_voice_hz=lower),
                               sources)
        dec_s = time.perf_counter() - start
        if key == "plain":
            plain = hyps  # which clips the default reads again
        rows[key] = {"name": name, "rtf_features": read_s / audio_s, "rtf_decoding": dec_s / audio_s,
                     "rtf": (read_s + dec_s) / audio_s}
        print(f"| {name} | {read_s / audio_s:.4f} | {dec_s / audio_s:.4f} | "
              f"{(read_s + dec_s) / audio_s:.4f} |")
    doubtful = sum(h.confidence < Options().retry_below for h in plain if not isinstance(h, str))
    print(f"\n{doubtful} of {len(feats)} clips read under confidence {Options().retry_below} (read again)")
    if json_out:
        figures = {"rtf": rows, "clips": len(feats), "audio_seconds": audio_s, "doubtful": doubtful,
                   "parameters": params, "threads": 1, "batch_size": batch_size}
        record.write(json_out, figures, record.provenance(model_path, record.relative(csv_path),
                                                          {"high_voice_hz": high_voice_hz}))


if __name__ == "__main__":
    main()
