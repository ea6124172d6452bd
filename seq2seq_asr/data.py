"""Corpus CSVs -> feature tensors and padded batches for training.

A split is read once (features computed on all cores) and cached under the cache folder,
keyed by the CSV's path, size and modification time and by every audio file's size and
modification time, so a resumed run starts at once and a changed clip is noticed. The cache
is written atomically, so a run killed while writing it leaves nothing half-written.
Rows that cannot be used (bad number, unreadable or too short audio, non-finite features)
are reported by row number and reason, and skipped.
"""
import hashlib
import os
import sys
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import torch

from normalizer import spoken_forms, to_words
from normalizer.table import number_column, parse_number, read_csv

from . import workers
from .audio import N_MELS, features_or_error, mix_under, normalize, perturb


@dataclass
class Example:
    feats: torch.Tensor  # (frames, n_mels) float16: normalized features, or log mel power (raw)
    number: int
    speaker: str
    gender: str
    words: tuple[str, ...] = ()  # what the clip says, one of spoken_forms(number)
    path: str = ""  # the audio file, as the CSV's folder joined with its filename cell
    teacher: torch.Tensor | None = None  # (teacher frames, teacher dim) float16, for --distil (teacher.py)


def said(number: int, cell: str | None) -> tuple[str, ...]:
    """The words a clip says: the CSV's `words` cell when it has one (it must be one of the
    spoken forms of the number), else the number's canonical spelling."""
    if not cell:
        return tuple(to_words(number))
    words = cell.split()
    if words not in spoken_forms(number):
        raise ValueError(f"words {cell!r} are not a way of saying {number}")
    return tuple(words)


def _features(path: str, floor_db: float = 0.0, raw: bool = False):
    """-> ((frames, n_mels) float16 numpy array, None) or (None, why). Numpy, not tensors: a
    worker's tensors travel as file descriptors and thousands of them exhaust the limit."""
    torch.set_num_threads(1)  # one thread per worker process
    feats, error = features_or_error(path, floor_db=floor_db, raw=raw)
    if feats is not None and not torch.isfinite(feats := feats.half()).all():
        return None, "the features do not fit in float16"
    return (feats.numpy() if feats is not None else None), error


def cache_key(csv_path: Path, paths: list[Path], tag: str) -> str:
    """16 hex digits naming what was computed (tag) from a CSV and its audio files, as they are
    now: their paths, sizes and modification times."""
    key = hashlib.sha1(f"{csv_path.resolve()}|{tag}".encode())
    for p in [csv_path, *paths]:
        try:
            st = p.stat()
            key.update(f"{p}|{st.st_size}|{st.st_mtime_ns};".encode())
        except OSError:
            key.update(f"{p}|missing;".encode())
    return key.hexdigest()[:16]


def _cache_key(csv_path: Path, paths: list[Path], floor_db: float, raw: bool) -> str:
    floor = "|raw" if raw else f"|floor{floor_db:g}" if floor_db else ""  # older caches keep their keys
    return cache_key(csv_path, paths, f"{N_MELS}|words{floor}")


def load_split(csv_path: str | Path, cache_dir: str | Path | None = "data/cache",
               jobs: int = 2, floor_db: float = 0.0, raw: bool = False) -> list[Example]:
    """Read every usable row of a corpus CSV, features floored at floor_db (audio.log_mel), or
    with raw=True the log mel power, for collate() to floor and normalize (audio.log_mel_power);
    unusable rows are reported on stderr and skipped."""
    csv_path = Path(csv_path)
    table = read_csv(csv_path, required=("filename",))
    column = number_column(table)
    columns = {c: table.column(c) if c in table.columns else [""] * len(table)
               for c in ("filename", column, "spk_id", "gender", "words")}
    rows = []
    for i in range(len(table)):
        try:
            if i in table.errors:
                raise ValueError(table.errors[i])
            if not columns["filename"][i]:
                raise ValueError("no file name")
            number = parse_number(columns[column][i])
            rows.append((i, csv_path.parent / columns["filename"][i], number,
                         columns["spk_id"][i] or "unknown", columns["gender"][i] or "unknown",
                         said(number, columns["words"][i])))
        except ValueError as e:
            print(f"{csv_path}: row {table.row_number(i)}: {e}; skipped", file=sys.stderr)
    cache = None
    if cache_dir:
        cache = Path(cache_dir) / f"{csv_path.stem}-{_cache_key(csv_path, [r[1] for r in rows], floor_db, raw)}.pt"
    if cache and cache.is_file():
        try:
            saved = torch.load(cache, weights_only=True)
            return [Example(f, n, s, g, tuple(w), p) for f, n, s, g, w, p in zip(
                saved["feats"], saved["number"], saved["speaker"], saved["gender"], saved["words"],
                saved["path"], strict=True)]
        except Exception as e:  # noqa: BLE001 - a damaged (or pre-"path") cache is rebuilt, never fatal
            print(f"{cache}: unreadable feature cache ({type(e).__name__}: {e}); rebuilding", file=sys.stderr)
    with workers.pool(jobs) as pool:
        feats = pool.map(partial(_features, floor_db=floor_db, raw=raw), [str(r[1]) for r in rows], chunksize=64)
    examples = []
    for (i, path, number, speaker, gender, words), (f, error) in zip(rows, feats):
        if error:
            print(f"{csv_path}: row {table.row_number(i)}: {path.name}: {error}; skipped",
                  file=sys.stderr)
            continue
        examples.append(Example(torch.from_numpy(f), number, speaker, gender, words, str(path)))
    if cache:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(f".{os.getpid()}.tmp")
        torch.save({"feats": [e.feats for e in examples], "number": [e.number for e in examples],
                    "speaker": [e.speaker for e in examples], "gender": [e.gender for e in examples],
                    "words": [list(e.words) for e in examples], "path": [e.path for e in examples]},
                   tmp)
        tmp.replace(cache)
    return examples


def speaker_weights(examples: list[Example], balance: float) -> torch.Tensor:
    """Sampling weight per example: count(speaker) ** -balance (0: as is, 1: every speaker equal)."""
    counts: dict[str, int] = {}
    for e in examples:
        counts[e.speaker] = counts.get(e.speaker, 0) + 1
    return torch.tensor([counts[e.speaker] ** -balance for e in examples], dtype=torch.float64)


def epoch_batches(examples: list[Example], batch_size: int, weights: torch.Tensor,
                  generator: torch.Generator) -> list[list[int]]:
    """One epoch of len(examples) draws by weight, grouped into batches of similar length."""
    draws = torch.multinomial(weights, len(examples), replacement=True, generator=generator).tolist()
    batches = []
    window = batch_size * 32
    for start in range(0, len(draws), window):
        chunk = sorted(draws[start:start + window], key=lambda i: len(examples[i].feats))
        batches += [chunk[i:i + batch_size] for i in range(0, len(chunk), batch_size)]
    order = torch.randperm(len(batches), generator=generator).tolist()
    return [batches[i] for i in order]


def pad_feats(feats: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """[(frames_i, n_mels)] -> (B, T, n_mels) float32 zero-padded, (B,) lengths."""
    lengths = torch.tensor([len(f) for f in feats])
    return torch.nn.utils.rnn.pad_sequence([f.float() for f in feats], batch_first=True), lengths


def pad_teacher(frames: list[torch.Tensor | None]) -> tuple[torch.Tensor, torch.Tensor]:
    """[(Tt_i, E) teacher frames or None] -> (B, max Tt, E) float32 zero-padded, (B,) lengths
    (0 for a clip without teacher frames, which distil.distil_loss leaves out)."""
    width = next(f.shape[1] for f in frames if f is not None)
    frames = [f if f is not None else torch.zeros(0, width) for f in frames]
    lengths = torch.tensor([len(f) for f in frames])
    return torch.nn.utils.rnn.pad_sequence([f.float() for f in frames], batch_first=True), lengths


BABBLE_VOICES = (1, 3)  # how many other clips talk under a babbled one ...
BABBLE_DB = (8.0, 20.0)  # ... each this far below it (augment.draw_recipe's babble)


def babble_batch(raw: list[torch.Tensor], share: float, generator: torch.Generator) -> list[torch.Tensor]:
    """[(frames_i, n_mels) log mel power] -> the same, a share of them with 1-3 others of the
    list (the batch: any speaker, any engine) mixed under them, 8-20 dB down (audio.mix_under).
    Drawn anew every epoch, where the corpus's babble is fixed in each clip and comes from one
    or two engines."""
    out = []
    for i, f in enumerate(raw):
        rest = [j for j in range(len(raw)) if j != i]
        if not rest or float(torch.rand((), generator=generator)) >= share:
            out.append(f)
            continue
        n = int(torch.randint(BABBLE_VOICES[0], BABBLE_VOICES[1] + 1, (1,), generator=generator))
        picks = torch.randperm(len(rest), generator=generator)[:n].tolist()
        levels = (BABBLE_DB[0] + (BABBLE_DB[1] - BABBLE_DB[0]) * torch.rand(len(picks), generator=generator)).tolist()
        out.append(mix_under(f, [raw[rest[k]] for k in picks], levels, generator))
    return out


def collate(batch: list[Example], vocab, generator: torch.Generator | None = None,
            vtlp: float = 0.12, stretch: float = 0.0, floors: tuple[float, float] | None = None,
            smooth: float = 0.0, babble: float = 0.0) -> dict:
    """Examples -> padded tensors; with a generator, each clip perturbed (VTLP within 1 +- vtlp,
    tempo within 1 +- stretch, a share `smooth` blurred across bands, SpecAugment: see
    audio.perturb). With floors (lowest, highest) dB the examples are raw (load_split(raw=True))
    and each clip is floored at a level drawn between the two (the middle without a generator;
    audio.normalize), so the model learns not to mind where the floor lies; before that, with a
    generator, a share `babble` of them get other clips of the batch mixed under them
    (babble_batch). Examples with teacher frames add "teacher" (B, Tt, E) and "teacher_lengths"
    (pad_teacher)."""
    if babble and not floors:
        raise ValueError("babble mixes raw features: it needs floors")
    feats = [e.feats.float() for e in batch]
    if floors:
        if generator and babble:
            feats = babble_batch(feats, babble, generator)
        lo, hi = floors
        draws = torch.rand(len(feats), generator=generator).tolist() if generator else [0.5] * len(feats)
        feats = [normalize(f, lo + (hi - lo) * u) for f, u in zip(feats, draws)]
    if generator:
        feats = [perturb(f, generator, vtlp, stretch, smooth) for f in feats]
    feats, lengths = pad_feats(feats)
    labels = [torch.tensor(vocab.encode(list(e.words) or to_words(e.number))) for e in batch]
    pad = lambda xs: torch.nn.utils.rnn.pad_sequence(xs, batch_first=True)  # noqa: E731
    teacher = {}
    if any(e.teacher is not None for e in batch):  # training with --distil
        teacher = dict(zip(("teacher", "teacher_lengths"), pad_teacher([e.teacher for e in batch])))
    return teacher | {
        "feats": feats, "lengths": lengths,
        "inputs": pad([torch.cat([torch.tensor([vocab.sos]), x]) for x in labels]),
        "targets": pad([torch.cat([x, torch.tensor([vocab.eos])]) for x in labels]),
        "labels": pad(labels), "label_lengths": torch.tensor([len(x) for x in labels]),
        "numbers": [e.number for e in batch],
    }
