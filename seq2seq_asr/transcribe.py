"""The transcription core every door uses (Python API, evaluation.py, console script, HTTP
service): audio in, one Result per input, in input order, streamed.

Inputs are read by DataLoader workers while the main process decodes, a chunk at a time, so
memory stays flat however many inputs there are. Nothing an input holds can stop the stream:
an unreadable file, audio that is too short or has no speech, features that are not finite or
a model that fails on it becomes a Result with `error` set, and every other input is decoded.
"""
import math
import signal
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch.utils.data import DataLoader, Dataset

from .audio import HIGH_VOICE_HZ, MAX_SECONDS, Array, features_or_error, lowered_features, stretch, vtlp
from .data import pad_feats
from .decoding import beam_search, greedy_decode

STATES = Path(__file__).resolve().parent.parent / "states"
DEFAULT_MODEL = STATES / "recognizer.pt"
DEFAULT_GENDER_MODEL = STATES / "gender.pt"
LOW_CONFIDENCE = "low confidence"
# A doubtful clip is read again at each of these tempos (0.8: slowed to 0.8 times its speed) and
# vocal tract warps (audio.vtlp; 1.1: formants 10 % higher), each warp at every tempo too, in the
# order of `readings`: voices faster than or unlike the corpus's are read far better so. Chosen on
# the dev sets of the leave-one-engine-out folds (docs/experiments.md, "Reading doubtful clips
# again" and "Reading again until sure").
TEMPOS = (0.9, 0.8, 0.7, 0.6, 1.15)
WARPS = (1.1, 0.9)
TEMPO_RANGE, WARP_RANGE = (0.25, 4.0), (0.5, 2.0)  # what a caller may ask for


@dataclass
class Result:
    """What was heard in one input. `number` is None exactly when `error` says why."""
    source: str  # the file path, "-" for stdin, "<array>" for samples given in memory
    number: int | None = None
    words: str | None = None  # the number as the recognizer heard it, e.g. "двести один"
    confidence: float | None = None  # 0..1
    error: str | None = None
    gender: str | None = None  # "female" / "male", when a gender model was given
    gender_probability: float | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Options:
    """How to decode: beam 1 is greedy; ctc_weight rescores the beam with the CTC head;
    a clip read with a confidence below retry_below is read again at each of `tempos` (its
    features slowed down or sped up, audio.stretch), each of `warps` (its formants moved,
    audio.vtlp) and each pair of the two, in the order of `readings`, until a reading is as
    sure as retry_below, and the most confident reading kept (() and () turn this off); answers
    with a confidence below min_confidence then become a "low confidence" error. A doubtful
    clip whose voice is pitched above high_voice_hz is first heard lowered, and read from there
    on so (audio.lower_high_voice; 0: never)."""
    beam: int = 4
    ctc_weight: float = 0.3
    batch_size: int = 32
    min_confidence: float = 0.0
    tempos: tuple[float, ...] = TEMPOS
    warps: tuple[float, ...] = WARPS
    retry_below: float = 0.8
    high_voice_hz: float = HIGH_VOICE_HZ  # 300 Hz, above 90 % of the corpus's voices


Source = str | Path | bytes | Array
# One input -> ((frames, n_mels), None) or (None, why it cannot be used); a module name of its
# own so that tests can watch what the stream reads.
read_features = features_or_error


class _Inputs(Dataset):
    def __init__(self, sources: Sequence[Source], floor_db: float):
        self.sources, self.floor_db = sources, floor_db

    def __len__(self) -> int:
        return len(self.sources)

    def __getitem__(self, i: int):
        return (i, *read_features(self.sources[i], MAX_SECONDS, self.floor_db))


def _as_list(items):
    return items


def _worker_init(_) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle


def _name(source: Source) -> str:
    return "<bytes>" if isinstance(source, (bytes, bytearray)) else str(source)


def readings(options: Options) -> list[tuple[float, float]]:
    """The (tempo, warp) pairs a doubtful clip is read again at, in order: every tempo at the
    clip's own vocal tract, then every tempo, its own too, at each warp in turn."""
    return [(t, w) for w in (1.0, *options.warps) for t in (1.0, *options.tempos) if (t, w) != (1.0, 1.0)]


@torch.no_grad()
def decode_features(model, vocab, feats: list[torch.Tensor], options: Options = Options(),
                    sources: Sequence[Source] | None = None) -> list:
    """[(frames, n_mels)] -> [Hypothesis, or an error string]. A clip whose reading is less
    confident than options.retry_below is read again at each pair of `readings(options)` in turn
    until one reading is as sure as retry_below, and the most confident of its readings kept.
    sources, the inputs the features came from, when given and options.high_voice_hz is set: a
    doubtful clip whose voice is pitched higher is read again from its source with the voice
    lowered (audio.lowered_features), that reading first, and every later reading starts from it."""
    out = _decode_batched(model, vocab, feats, options)
    doubtful = [i for i, h in enumerate(out) if not isinstance(h, str) and h.confidence < options.retry_below]
    if sources is not None and options.high_voice_hz and doubtful:
        feats = list(feats)
        lowered = [(i, f) for i in doubtful
                   if (f := lowered_features(sources[i], MAX_SECONDS, model.config.floor_db,
                                             options.high_voice_hz)) is not None]
        again = _decode_batched(model, vocab, [f for _, f in lowered], options)
        for (i, f), h in zip(lowered, again):
            feats[i] = f
            if not isinstance(h, str) and h.confidence > out[i].confidence:
                out[i] = h
        doubtful = [i for i in doubtful if out[i].confidence < options.retry_below]
    for tempo, warp in readings(options):
        if not doubtful:
            break
        again = _decode_batched(model, vocab, [_changed(feats[i], tempo, warp) for i in doubtful], options)
        for i, h in zip(doubtful, again):
            if not isinstance(h, str) and h.confidence > out[i].confidence:
                out[i] = h
        doubtful = [i for i in doubtful if out[i].confidence < options.retry_below]
    return out


def _changed(feats: torch.Tensor, tempo: float, warp: float) -> torch.Tensor:
    """(frames, n_mels) -> the same said `tempo` times as fast, by a vocal tract giving formants
    `warp` times as high: (round(frames / tempo), n_mels)."""
    if tempo != 1:
        feats = stretch(feats, tempo)
    return vtlp(feats, warp) if warp != 1 else feats


def _decode_batched(model, vocab, feats: list[torch.Tensor], options: Options) -> list:
    """[(frames, n_mels)] -> [Hypothesis, or an error string], batched by similar length.
    A batch the model fails on is retried clip by clip, so one bad clip fails alone."""
    order = sorted(range(len(feats)), key=lambda i: len(feats[i]))
    out: list = [None] * len(feats)
    for start in range(0, len(order), options.batch_size):
        batch = order[start:start + options.batch_size]
        try:
            hyps = _decode_batch(model, vocab, [feats[i] for i in batch], options)
        except Exception:  # noqa: BLE001 - narrowed below, clip by clip
            hyps = [_decode_one(model, vocab, feats[i], options) for i in batch]
        for i, h in zip(batch, hyps):
            out[i] = h
    return out


def _decode_batch(model, vocab, feats, options):
    x, lengths = pad_feats(feats)
    if options.beam > 1:
        hyps = beam_search(model, x, lengths, vocab, options.beam, options.ctc_weight)
    else:
        hyps = greedy_decode(model, x, lengths, vocab)
    for h in hyps:
        if not math.isfinite(h.confidence):
            raise FloatingPointError("the model's scores are not finite")
    return hyps


def _decode_one(model, vocab, feats, options):
    try:
        return _decode_batch(model, vocab, [feats], options)[0]
    except Exception as e:  # noqa: BLE001 - any model failure is this clip's error
        return f"the model failed on this clip ({type(e).__name__}: {str(e)[:120]})"


@torch.no_grad()
def predict_gender(model, feats: list[torch.Tensor], batch_size: int = 64) -> list[tuple[str, float]]:
    """[(frames, n_mels)] -> [(label, probability)]."""
    out = []
    for start in range(0, len(feats), batch_size):
        out += model.predict(*pad_feats(feats[start:start + batch_size]))
    return out


def results_from_features(model, vocab, names: list[str], feats: list, errors: list,
                          options: Options = Options(), gender_model=None,
                          sources: Sequence[Source] | None = None) -> list[Result]:
    """Per input its name, (frames, n_mels) features or None, and the error that made them None
    -> Results in the same order, the features decoded in batches. sources: the inputs
    themselves, read again where a doubtful clip's voice is to be heard lowered."""
    results = [Result(name, error=e) for name, e in zip(names, errors)]
    good = [k for k, f in enumerate(feats) if f is not None]
    feats = [feats[k] for k in good]
    kept = None if sources is None else [sources[k] for k in good]
    for k, h in zip(good, decode_features(model, vocab, feats, options, kept)):
        r = results[k]
        if isinstance(h, str):
            r.error = h
        elif h.confidence < options.min_confidence:
            r.confidence = h.confidence
            r.error = f"{LOW_CONFIDENCE} ({h.confidence:.2f} < {options.min_confidence:g})"
        else:
            r.number, r.words, r.confidence = h.number, " ".join(h.words), h.confidence
    if gender_model is not None and good:
        for k, (label, p) in zip(good, predict_gender(gender_model, feats)):
            results[k].gender, results[k].gender_probability = label, p
    return results


def stream(model, vocab, sources: Sequence[Source], options: Options = Options(), gender_model=None,
           workers: int | None = None, chunk: int = 256) -> Iterator[Result]:
    """Every input -> a Result, yielded in input order, `chunk` inputs decoded at a time.
    workers: processes reading and computing features while the main one decodes
    (None: one when there are more than a batch of inputs, else none)."""
    if workers is None:
        workers = 1 if len(sources) > options.batch_size else 0
    per_load = 16
    loader = DataLoader(_Inputs(sources, model.config.floor_db), batch_size=per_load, collate_fn=_as_list,
                        worker_init_fn=_worker_init, num_workers=workers,
                        prefetch_factor=max(chunk // per_load, 2) if workers else None)
    buffer: list = []
    for items in loader:
        buffer += items
        if len(buffer) >= chunk:
            yield from _decode_items(model, vocab, sources, buffer, options, gender_model)
            buffer = []
    if buffer:
        yield from _decode_items(model, vocab, sources, buffer, options, gender_model)


def _decode_items(model, vocab, sources, items, options, gender_model) -> list[Result]:
    """items [(index into sources, feats or None, error or None)] -> Results in that order."""
    return results_from_features(model, vocab, [_name(sources[i]) for i, _, _ in items],
                                 [f for _, f, _ in items], [e for _, _, e in items], options,
                                 gender_model, [sources[i] for i, _, _ in items])
