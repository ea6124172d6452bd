"""Waveform augmentations for corpus generation. Every function takes and returns a mono
float32 tensor of shape (time,) and is driven by an explicit numpy Generator, so a clip
is the same for the same seed whatever process makes it.
"""
from dataclasses import asdict, dataclass

import numpy as np
import torch
import torchaudio.functional as AF

SAMPLE_RATES = [8000, 16000, 22050, 24000, 48000]


def speed(x: torch.Tensor, factor: float) -> torch.Tensor:
    """Play `factor` times faster (tempo and pitch together), same sample rate."""
    return AF.resample(x, round(100 * factor), 100)


def pitch(x: torch.Tensor, semitones: float) -> torch.Tensor:
    """Shift pitch by `semitones`, keeping the tempo: stretch in time with a phase vocoder,
    then resample back to the original length. The ratio is rounded to 1/50 so the resampling
    kernel stays small (torchaudio's pitch_shift builds a huge one for most ratios)."""
    ratio = max(round(2 ** (semitones / 12) * 50), 1)
    n_fft, hop = 512, 128
    window = torch.hann_window(n_fft)
    spec = torch.stft(x, n_fft, hop, window=window, return_complex=True)
    advance = torch.linspace(0, torch.pi * hop, spec.shape[0])[:, None]
    stretched = AF.phase_vocoder(spec, 50 / ratio, advance)
    y = torch.istft(stretched, n_fft, hop, window=window)
    return AF.resample(y, ratio, 50)


def gain(x: torch.Tensor, db: float) -> torch.Tensor:
    y = x * 10 ** (db / 20)
    peak = y.abs().max()
    return y / peak * 0.99 if peak > 0.99 else y


def noise(x: torch.Tensor, snr_db: float, color: str, rng: np.random.Generator) -> torch.Tensor:
    """Add white, pink (1/f) or brown (1/f^2) noise at the given signal-to-noise ratio."""
    n = torch.from_numpy(rng.standard_normal(len(x)).astype(np.float32))
    if color != "white":
        spectrum = torch.fft.rfft(n)
        f = torch.arange(1, len(spectrum) + 1, dtype=torch.float32)
        spectrum /= f ** (0.5 if color == "pink" else 1.0)
        n = torch.fft.irfft(spectrum, n=len(x))
    signal_power = x.pow(2).mean().clamp_min(1e-10)
    noise_power = n.pow(2).mean().clamp_min(1e-10)
    return x + n * torch.sqrt(signal_power / noise_power / 10 ** (snr_db / 10))


def reverb(x: torch.Tensor, sr: int, rt60: float, wet: float, rng: np.random.Generator) -> torch.Tensor:
    """Simple room: convolve with exponentially decaying noise (rt60 seconds to -60 dB)."""
    t = np.arange(int(rt60 * sr)) / sr
    ir = rng.standard_normal(len(t)) * np.exp(-6.9 * t / rt60)
    ir[0] = 1.0
    ir = torch.from_numpy((ir / np.abs(ir).sum() * 4).astype(np.float32))
    wet_signal = AF.fftconvolve(x, ir)[: len(x)]
    y = (1 - wet) * x + wet * wet_signal
    return y / y.abs().max().clamp_min(1e-6) * x.abs().max()


def lowpass(x: torch.Tensor, sr: int, cutoff: float) -> torch.Tensor:
    return AF.lowpass_biquad(x, sr, cutoff)


def telephone(x: torch.Tensor, sr: int) -> torch.Tensor:
    """Telephone band: 300-3400 Hz."""
    return AF.lowpass_biquad(AF.highpass_biquad(x, sr, 300.0), sr, 3400.0)


def pad_silence(x: torch.Tensor, sr: int, lead: float, trail: float) -> torch.Tensor:
    return torch.cat([torch.zeros(int(lead * sr)), x, torch.zeros(int(trail * sr))])


@dataclass
class Recipe:
    """What is done to one clip; drawn by `draw_recipe`, applied by `apply`."""

    speed: float = 1.0
    semitones: float = 0.0
    gain_db: float = 0.0
    snr_db: float | None = None
    noise_color: str = "white"
    rt60: float | None = None
    reverb_wet: float = 0.0
    lowpass_hz: float | None = None
    telephone: bool = False
    lead_s: float = 0.0
    trail_s: float = 0.0
    sample_rate: int = 16000
    mp3: bool = False

    def to_dict(self):
        return asdict(self)


def draw_recipe(rng: np.random.Generator, strength: float = 1.0) -> Recipe:
    """A random recipe; `strength` 0 gives clean audio at a random rate, 1 the full mix."""
    r = Recipe()
    p = lambda q: rng.random() < q * strength  # noqa: E731
    if p(0.6):
        r.speed = float(rng.uniform(0.85, 1.15))
    if p(0.3):
        r.semitones = float(rng.uniform(-3, 3))
    r.gain_db = float(rng.uniform(-12, 4)) if p(0.7) else 0.0
    if p(0.5):
        r.snr_db = float(rng.choice([5, 10, 15, 20, 30]))
        r.noise_color = str(rng.choice(["white", "pink", "brown"]))
    if p(0.3):
        r.rt60, r.reverb_wet = float(rng.uniform(0.15, 0.7)), float(rng.uniform(0.2, 0.6))
    if p(0.15):
        r.telephone = True
    elif p(0.15):
        r.lowpass_hz = float(rng.uniform(2500, 6000))
    r.lead_s, r.trail_s = float(rng.uniform(0, 0.6)), float(rng.uniform(0, 0.6))
    r.sample_rate = 8000 if r.telephone else int(rng.choice(SAMPLE_RATES))
    r.mp3 = bool(p(0.25))
    return r


def apply(x: torch.Tensor, sr: int, r: Recipe, rng: np.random.Generator) -> torch.Tensor:
    """Apply a recipe to (time,) audio at `sr`; returns (time,) audio at r.sample_rate."""
    if r.speed != 1.0:
        x = speed(x, r.speed)
    if r.semitones:
        x = pitch(x, r.semitones)
    if r.rt60:
        x = reverb(x, sr, r.rt60, r.reverb_wet, rng)
    x = pad_silence(x, sr, r.lead_s, r.trail_s)
    if r.telephone:
        x = telephone(x, sr)
    elif r.lowpass_hz:
        x = lowpass(x, sr, min(r.lowpass_hz, sr / 2 - 100))
    if r.snr_db is not None:
        x = noise(x, r.snr_db, r.noise_color, rng)
    x = gain(x, r.gain_db)
    if r.sample_rate != sr:
        x = AF.resample(x, sr, r.sample_rate)
    return x.clamp(-1, 1)
