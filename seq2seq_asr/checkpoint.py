"""Checkpoints: one torch file holding the weights, the model config and the vocabulary
(plus, for training checkpoints, the optimizer and progress). Loaded with
weights_only=True, so a file can carry no code; a bad file fails with CheckpointError.

An ensemble file holds several recognizers that share one vocabulary (model.Ensemble), each
with its config and its weights in float16 (half the size; loaded as float32).
"""
from pathlib import Path

import torch

from normalizer import vocab_from_dict

from .gender import GenderClassifier, GenderConfig
from .model import Ensemble, ModelConfig, Recognizer

FORMAT = "seq2seq_asr.recognizer/1"
ENSEMBLE_FORMAT = "seq2seq_asr.ensemble/1"
GENDER_FORMAT = "seq2seq_asr.gender/1"


class CheckpointError(ValueError):
    """A checkpoint that cannot be used; the message says which file and why."""


def _write(path: str | Path, payload: dict) -> None:
    """Atomically (a temporary file, then rename), so a stopped run leaves no half file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(payload, tmp)
    tmp.replace(path)


def save(path: str | Path, model, vocab=None, extra: dict | None = None) -> None:
    """Write atomically. A recognizer is saved with its vocabulary, a gender classifier without
    one; the weights are saved on the CPU whatever device the model trains on."""
    payload = {"format": GENDER_FORMAT if isinstance(model, GenderClassifier) else FORMAT,
               "config": model.config.to_dict(), **(extra or {}),
               "model": {k: v.cpu() for k, v in model.state_dict().items()}}  # loads without a GPU
    if vocab is not None:
        payload["vocab"] = vocab.to_dict()
    _write(path, payload)


def read(path: str | Path, expected_format: str | tuple[str, ...] = FORMAT) -> dict:
    """The raw payload, checked to be a checkpoint of the expected kind (or one of them)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises many kinds for a damaged or foreign file
        raise CheckpointError(f"{path}: not a readable checkpoint ({type(e).__name__}: "
                              f"{str(e).splitlines()[0][:200] if str(e) else ''})") from None
    expected = (expected_format,) if isinstance(expected_format, str) else expected_format
    if not isinstance(payload, dict) or payload.get("format") not in expected:
        found = payload.get("format") if isinstance(payload, dict) else type(payload).__name__
        raise CheckpointError(f"{path}: not a {' or '.join(expected)} checkpoint (found {found!r})")
    return payload


def _build(path, payload, make):
    try:
        built = make()
    except (KeyError, TypeError, RuntimeError, ValueError) as e:
        raise CheckpointError(f"{path}: damaged checkpoint ({type(e).__name__}: "
                              f"{str(e).splitlines()[0][:200]})") from None
    model = built[0] if isinstance(built, tuple) else built
    bad = [name for name, t in model.state_dict().items()
           if t.is_floating_point() and not torch.isfinite(t).all()]
    if bad:
        raise CheckpointError(f"{path}: damaged checkpoint (NaN or infinite weights in "
                              f"{', '.join(bad[:3])}{' ...' if len(bad) > 3 else ''})")
    return built


def recognizer_config(payload: dict) -> ModelConfig:
    """The model config a recognizer checkpoint was trained with; one from before the feature
    floor (audio.log_mel) had none."""
    return ModelConfig(**{"floor_db": 0.0, **payload["config"]})


def _half(weights: dict) -> dict:
    """Floating-point tensors in float16 (half the bytes; _recognizer reads them as float32)."""
    return {k: v.half() if v.is_floating_point() else v for k, v in weights.items()}


def save_half(src: str | Path, dst: str | Path) -> None:
    """Copy the recognizer checkpoint at `src` to `dst` (atomically) with its weights in float16:
    half the file, the same answers within rounding, loaded as float32 as before. CheckpointError
    if `src` is not a usable recognizer or a weight is beyond float16's range."""
    payload = read(src)
    _build(src, payload, lambda: _recognizer(payload))
    halved = _half(payload["model"])
    beyond = [k for k, v in halved.items() if v.is_floating_point() and not torch.isfinite(v).all()]
    if beyond:
        raise CheckpointError(f"{src}: weights beyond float16's range in {', '.join(beyond[:3])}: "
                              "keep it in float32")
    _write(dst, {**payload, "model": halved})


def _recognizer(entry: dict) -> Recognizer:
    """A recognizer from a payload or an ensemble member: {"config", "model"}."""
    model = Recognizer(recognizer_config(entry))
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in entry["model"].items()})
    return model


def load(path: str | Path, ensemble: bool = True) -> tuple[Recognizer | Ensemble, object, dict]:
    """-> (recognizer or ensemble in eval mode, vocabulary, the whole payload);
    ensemble=False refuses an ensemble file."""
    payload = read(path, (FORMAT, ENSEMBLE_FORMAT) if ensemble else FORMAT)

    def make():
        vocab = vocab_from_dict(payload["vocab"])
        if payload["format"] == ENSEMBLE_FORMAT:
            model = Ensemble([_recognizer(member) for member in payload["members"]])
        else:
            model = _recognizer(payload)
        return model.eval(), vocab

    model, vocab = _build(path, payload, make)
    return model, vocab, payload


def save_ensemble(path: str | Path, members: list[str | Path]) -> None:
    """Write the recognizers at `members` (checkpoint paths) as one ensemble file, atomically;
    they must share the vocabulary and the features."""
    if len(members) < 2:
        raise CheckpointError("an ensemble needs at least two recognizers")
    loaded = [load(m, ensemble=False) for m in members]  # each read once, checked as any checkpoint
    payloads = [payload for _, _, payload in loaded]
    for m, p in zip(members[1:], payloads[1:]):
        if p["vocab"] != payloads[0]["vocab"]:
            raise CheckpointError(f"{m}: another vocabulary than {members[0]}'s")
    try:
        Ensemble([model for model, _, _ in loaded])
    except ValueError as e:
        raise CheckpointError(f"{', '.join(map(str, members))}: cannot be one ensemble: {e}") from None
    payload = {"format": ENSEMBLE_FORMAT, "vocab": payloads[0]["vocab"],
               "members": [{"config": p["config"], "source": str(m),
                            "model": _half(p["model"])}
                           for m, p in zip(members, payloads)]}
    _write(path, payload)


def gender_config(payload: dict) -> GenderConfig:
    """The config a gender checkpoint was trained with (none before the feature floor had one)."""
    return GenderConfig(**{"floor_db": 0.0, **payload["config"]})


def load_gender(path: str | Path) -> tuple[GenderClassifier, dict]:
    """-> (gender classifier in eval mode, the whole payload)."""
    payload = read(path, GENDER_FORMAT)

    def make():
        model = GenderClassifier(gender_config(payload))
        model.load_state_dict(payload["model"])
        return model.eval()

    return _build(path, payload, make), payload
