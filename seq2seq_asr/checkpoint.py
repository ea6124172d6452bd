"""Checkpoints: one torch file holding the weights, the model config and the vocabulary
(plus, for training checkpoints, the optimizer and progress). Loaded with
weights_only=True, so a file can carry no code; a bad file fails with CheckpointError.
"""
from pathlib import Path

import torch

from normalizer import vocab_from_dict

from .model import ModelConfig, Recognizer

FORMAT = "seq2seq_asr.recognizer/1"


class CheckpointError(ValueError):
    """A checkpoint that cannot be used; the message says which file and why."""


def save(path: str | Path, model: Recognizer, vocab, extra: dict | None = None) -> None:
    """Write atomically (a temporary file, then rename) so a stopped run leaves no half file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"format": FORMAT, "config": model.config.to_dict(), "vocab": vocab.to_dict(),
               "model": model.state_dict(), **(extra or {})}
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(payload, tmp)
    tmp.replace(path)


def read(path: str | Path, expected_format: str = FORMAT) -> dict:
    """The raw payload, checked to be a checkpoint of the expected kind."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises many kinds for a damaged or foreign file
        raise CheckpointError(f"{path}: not a readable checkpoint ({type(e).__name__}: "
                              f"{str(e).splitlines()[0][:200] if str(e) else ''})") from None
    if not isinstance(payload, dict) or payload.get("format") != expected_format:
        found = payload.get("format") if isinstance(payload, dict) else type(payload).__name__
        raise CheckpointError(f"{path}: not a {expected_format} checkpoint (found {found!r})")
    return payload


def load(path: str | Path) -> tuple[Recognizer, object, dict]:
    """-> (model in eval mode, vocabulary, the whole payload)."""
    payload = read(path)
    try:
        vocab = vocab_from_dict(payload["vocab"])
        model = Recognizer(ModelConfig(**payload["config"]))
        model.load_state_dict(payload["model"])
    except (KeyError, TypeError, RuntimeError, ValueError) as e:
        raise CheckpointError(f"{path}: damaged checkpoint ({type(e).__name__}: "
                              f"{str(e).splitlines()[0][:200]})") from None
    return model.eval(), vocab, payload
