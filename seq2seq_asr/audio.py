"""Audio in, log-mel features out.

load_audio:   any file soundfile reads (wav, flac, ogg, mp3), any rate, mono or not
              -> (time,) float32 at 16 kHz, or AudioError saying what is wrong
log_mel:      (time,) -> (frames, n_mels), 100 frames a second, normalized per utterance
spec_augment: (frames, n_mels) -> the same with random time and frequency bands masked
"""
from functools import lru_cache
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
import torchaudio.functional as AF
import torchaudio.transforms as T

SAMPLE_RATE = 16000
HOP = 160  # 10 ms
N_FFT = 400  # 25 ms
N_MELS = 64
MAX_SECONDS = 20.0
SILENCE_PEAK = 1e-3  # a file whose loudest sample is below this is called silent


class AudioError(ValueError):
    """A file that cannot be transcribed; the message says why in plain words."""


def load_audio(path: str | Path, max_seconds: float = MAX_SECONDS) -> torch.Tensor:
    """Read a file -> (time,) float32 mono at 16 kHz."""
    path = Path(path)
    if not path.is_file():
        raise AudioError("file not found")
    if path.stat().st_size == 0:
        raise AudioError("file is empty (0 bytes)")
    try:
        data, sr = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError) as e:
        raise AudioError(f"not a readable audio file ({str(e).strip() or type(e).__name__})") from None
    if len(data) == 0:
        raise AudioError("audio has no samples")
    seconds = len(data) / sr
    if seconds > max_seconds:
        raise AudioError(f"too long: {seconds:.1f} s (the limit is {max_seconds:.0f} s)")
    audio = torch.from_numpy(np.ascontiguousarray(data.mean(axis=1)))
    if not torch.isfinite(audio).all():
        raise AudioError("audio holds NaN or infinite samples")
    if audio.abs().max() < SILENCE_PEAK:
        raise AudioError("audio is silent")
    if sr != SAMPLE_RATE:
        audio = AF.resample(audio, sr, SAMPLE_RATE)
    return audio


@lru_cache(maxsize=1)
def _mel() -> T.MelSpectrogram:
    return T.MelSpectrogram(SAMPLE_RATE, n_fft=N_FFT, hop_length=HOP, n_mels=N_MELS)


def log_mel(audio: torch.Tensor) -> torch.Tensor:
    """(time,) at 16 kHz -> (frames, n_mels), each mel band with zero mean and unit variance."""
    with torch.no_grad():
        feats = (_mel()(audio) + 1e-6).log().T
        return (feats - feats.mean(0)) / (feats.std(0) + 1e-5)


def features(path: str | Path) -> torch.Tensor:
    """A file -> (frames, n_mels)."""
    return log_mel(load_audio(path))


def features_or_error(path: str | Path) -> tuple[torch.Tensor | None, str | None]:
    """A file -> ((frames, n_mels), None), or (None, why it cannot be read)."""
    try:
        return features(path), None
    except AudioError as e:
        return None, str(e)


def spec_augment(feats: torch.Tensor, generator: torch.Generator, freq_masks: int = 2,
                 freq_width: int = 10, time_masks: int = 2, time_width: float = 0.08) -> torch.Tensor:
    """Mask random bands of (frames, n_mels): `freq_width` mels at most, and up to
    `time_width` of the frames, each mask filled with zero (the normalized mean)."""
    feats = feats.clone()
    frames, mels = feats.shape

    def draw(high: int) -> int:
        return int(torch.randint(0, max(high, 1), (1,), generator=generator))

    for _ in range(freq_masks):
        width = draw(freq_width + 1)
        start = draw(mels - width)
        feats[:, start:start + width] = 0
    for _ in range(time_masks):
        width = draw(int(frames * time_width) + 1)
        start = draw(frames - width)
        feats[start:start + width] = 0
    return feats
