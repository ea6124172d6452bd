"""The user-facing loop: audio files in, integers out, one Result per file in input order.
A file that cannot be read gets a Result with `error` set; the others are still decoded."""
from dataclasses import dataclass
from pathlib import Path

import torch
from tqdm import tqdm

from .audio import features_or_error
from .data import pad_feats
from .decoding import beam_search, greedy_decode

STATES = Path(__file__).resolve().parent.parent / "states"
DEFAULT_MODEL = STATES / "recognizer.pt"
DEFAULT_GENDER_MODEL = STATES / "gender.pt"


@dataclass
class Result:
    path: str
    number: int | None = None
    confidence: float | None = None
    error: str | None = None
    gender: str | None = None
    gender_probability: float | None = None


def read_all(paths: list[str | Path]) -> tuple[list[torch.Tensor | None], list[str | None]]:
    """Features per file, or None and the reason."""
    pairs = [features_or_error(p) for p in paths]
    return [f for f, _ in pairs], [e for _, e in pairs]


@torch.no_grad()
def decode_features(model, vocab, feats: list[torch.Tensor], batch_size: int = 32, beam: int = 1,
                    ctc_weight: float = 0.0, progress: bool = False) -> list:
    """[(frames, n_mels)] -> [Hypothesis], batched by similar length."""
    order = sorted(range(len(feats)), key=lambda i: len(feats[i]))
    out: list = [None] * len(feats)
    batches = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    for batch in tqdm(batches, desc="decoding", unit="batch", disable=not progress):
        x, lengths = pad_feats([feats[i] for i in batch])
        if beam > 1:
            hyps = beam_search(model, x, lengths, vocab, beam, ctc_weight)
        else:
            hyps = greedy_decode(model, x, lengths, vocab)
        for i, h in zip(batch, hyps):
            out[i] = h
    return out


@torch.no_grad()
def predict_gender(model, feats: list[torch.Tensor], batch_size: int = 64) -> list[tuple[str, float]]:
    """[(frames, n_mels)] -> [(label, probability)]."""
    out = []
    for start in range(0, len(feats), batch_size):
        out += model.predict(*pad_feats(feats[start:start + batch_size]))
    return out


def transcribe(model, vocab, paths: list[str | Path], batch_size: int = 32, beam: int = 4,
               ctc_weight: float = 0.3, progress: bool = False, gender_model=None) -> list[Result]:
    """Every file -> a Result, in order; with a gender model, its prediction too."""
    feats, errors = read_all(tqdm(paths, desc="reading", unit="file", disable=not progress))
    good = [i for i, f in enumerate(feats) if f is not None]
    hyps = decode_features(model, vocab, [feats[i] for i in good], batch_size, beam, ctc_weight,
                           progress)
    results = [Result(str(p), error=e) for p, e in zip(paths, errors)]
    for i, h in zip(good, hyps):
        results[i].number, results[i].confidence = h.number, h.confidence
    if gender_model is not None:
        for i, (label, p) in zip(good, predict_gender(gender_model, [feats[i] for i in good])):
            results[i].gender, results[i].gender_probability = label, p
    return results
