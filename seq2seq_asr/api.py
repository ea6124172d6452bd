"""The public door: load a recognizer once, transcribe anything.

    import seq2seq_asr
    model = seq2seq_asr.load()                        # the shipped model (or a path)
    model.transcribe("call.wav").number               # 231547
    model.transcribe(["a.wav", "b.mp3"])              # [Result, Result], batched
    model.transcribe(samples, sample_rate=8000)       # numpy/torch (time,) or (time, channels)
    for r in model.stream(many_paths): ...            # flat memory for any number of files
    seq2seq_asr.save_ensemble("ens.pt", ["a.pt", "b.pt"])  # several recognizers read as one
"""
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from . import checkpoint
from .audio import HIGH_VOICE_HZ, MAX_SECONDS
from .transcribe import (DEFAULT_GENDER_MODEL, DEFAULT_MODEL, TEMPO_RANGE, TEMPOS, WARP_RANGE, WARPS,
                         Array, Options, Result, Source, read_features, results_from_features, stream)


class Model:
    """A loaded recognizer (and optionally a gender classifier) with its decoding options."""

    def __init__(self, recognizer, vocab, gender_classifier=None, options: Options | None = None,
                 path: str | Path | None = None):
        self.recognizer, self.vocab, self.gender_classifier = recognizer, vocab, gender_classifier
        self.options = options or Options()
        self.path = Path(path) if path else None

    def transcribe(self, audio, sample_rate: int | None = None, *, beam: int | None = None,
                   min_confidence: float | None = None, batch_size: int | None = None
                   ) -> Result | list[Result]:
        """audio: a path, bytes of an audio file, a numpy/torch array of samples (then
        `sample_rate` is required), or a list of any of these (-> a list of Results, in order).
        A Result never raises for bad audio: its `error` says why and `number` is None."""
        single = not isinstance(audio, (list, tuple))
        sources = [self._source(a, sample_rate) for a in ([audio] if single else audio)]
        results = list(self.stream(sources, beam=beam, min_confidence=min_confidence,
                                   batch_size=batch_size))
        return results[0] if single else results

    def stream(self, sources: Sequence[Source], *, beam: int | None = None,
               min_confidence: float | None = None, batch_size: int | None = None,
               workers: int | None = None) -> Iterator[Result]:
        """Results one by one in input order, reading ahead in worker processes; memory stays
        flat however long `sources` is."""
        options = replace(
            self.options, beam=self.options.beam if beam is None else beam,
            batch_size=batch_size or self.options.batch_size,
            min_confidence=self.options.min_confidence if min_confidence is None else min_confidence)
        return stream(self.recognizer, self.vocab, sources, options, self.gender_classifier, workers)

    def features(self, audio, sample_rate: int | None = None, max_seconds: float = MAX_SECONDS
                 ) -> tuple[torch.Tensor | None, str | None]:
        """One input -> ((frames, n_mels), None) or (None, why it cannot be transcribed).
        With decode(), the two halves of transcribe() for callers that batch themselves."""
        return read_features(self._source(audio, sample_rate), max_seconds,
                             self.recognizer.config.floor_db)

    def decode(self, names: list[str], feats: list[torch.Tensor], audio: list | None = None,
               sample_rate: int | None = None) -> list[Result]:
        """Features from features() -> Results, decoded together in batches. audio: the inputs
        the features came from, for a doubtful high voice to be heard lowered (high_voice_hz)."""
        sources = None if audio is None else [self._source(a, sample_rate) for a in audio]
        return results_from_features(self.recognizer, self.vocab, names, feats, [None] * len(feats),
                                     self.options, self.gender_classifier, sources)

    @staticmethod
    def _source(audio, sample_rate: int | None) -> Source:
        if isinstance(audio, (np.ndarray, torch.Tensor)):
            if sample_rate is None:
                raise TypeError("samples given as an array need sample_rate=...")
            return Array(audio, int(sample_rate))
        if isinstance(audio, (str, Path, bytes, bytearray, Array)):
            return audio
        raise TypeError(f"cannot transcribe a {type(audio).__name__}: give a path, bytes, "
                        "or an array with sample_rate")


def save_ensemble(path: str | Path, members: Sequence[str | Path]) -> None:
    """Write the recognizer checkpoints `members` as one ensemble checkpoint that load() reads
    like any other: every decoding step takes the mean of their log-probabilities (model.Ensemble).
    Raises CheckpointError when a member is unusable or they do not share vocabulary and features."""
    checkpoint.save_ensemble(path, list(members))


def load(path: str | Path | None = None, *, gender: bool | str | Path = False,
         beam: int = 4, ctc_weight: float = 0.3, min_confidence: float = 0.0,
         tempos: Sequence[float] = TEMPOS, warps: Sequence[float] = WARPS,
         high_voice_hz: float = HIGH_VOICE_HZ, threads: int | None = None) -> Model:
    """A ready Model: the shipped recognizer by default or the checkpoint at `path`;
    gender=True adds the shipped gender classifier (or give its path). A doubtful clip is read
    again at each of `tempos` (0.8: slowed to 0.8 times its speed), then at each of the vocal
    tract `warps` (1.1: formants 10 % higher) with every tempo, until a reading is sure, the
    surest reading kept; tempos=() and warps=() for a single reading. A doubtful clip whose voice
    is pitched above high_voice_hz (audio.HIGH_VOICE_HZ, 300 Hz) is first heard lowered, its
    formants kept (audio.lower_high_voice); high_voice_hz=0: never.
    Raises CheckpointError (a ValueError) with a one-line reason for an unusable file."""
    if threads:
        torch.set_num_threads(threads)
    recognizer, vocab, _ = checkpoint.load(path or DEFAULT_MODEL)
    classifier = None
    if gender:
        gender_path = DEFAULT_GENDER_MODEL if gender is True else gender
        classifier = checkpoint.load_gender(gender_path)[0]
        if classifier.config.floor_db != recognizer.config.floor_db:  # both read the same features
            raise checkpoint.CheckpointError(
                f"{gender_path}: made for features floored at {classifier.config.floor_db:g} dB, "
                f"the recognizer {path or DEFAULT_MODEL} for {recognizer.config.floor_db:g} dB "
                "(audio.log_mel): use a gender classifier trained with the recognizer's --floor-db")
    for name, factors, (low, high) in (("tempos", tempos, TEMPO_RANGE), ("warps", warps, WARP_RANGE)):
        if any(not low <= f <= high for f in factors):
            raise ValueError(f"{name} must lie within {low:g}..{high:g}, not {tuple(factors)}")
    if high_voice_hz < 0:
        raise ValueError(f"high_voice_hz must be 0 (never) or a pitch in Hz, not {high_voice_hz}")
    options = Options(beam=beam, ctc_weight=ctc_weight, min_confidence=min_confidence,
                      tempos=tuple(map(float, tempos)), warps=tuple(map(float, warps)),
                      high_voice_hz=float(high_voice_hz))
    return Model(recognizer, vocab, classifier, options, path or DEFAULT_MODEL)
