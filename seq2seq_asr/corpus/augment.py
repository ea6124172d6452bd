"""Waveform augmentations for corpus generation. Every function takes and returns a mono
float32 tensor of shape (time,) and is driven by an explicit numpy Generator, so a clip
is the same for the same seed whatever process makes it.

What a recipe can do, spanning how people speak and how their audio arrives: a new voice made
from the engine's through the WORLD vocoder (pitch level, intonation range, formants and
breathiness changed, and the engine's own excitation replaced by WORLD's), a whisper (WORLD
with no voicing), speed (tempo and pitch together), tempo alone (0.6-1.7, phase vocoder), pitch
alone, random EQ and spectral tilt, noise, a synthetic room, babble (other clips mixed low;
generate.py supplies them), telephone band at 8 kHz, a random low-pass, leading/trailing silence, and the codec the file is
stored with (generate.py writes it): PCM, G.711 mu-law or A-law, GSM 06.10, mp3 at 8-64 kbit/s,
or Opus.
"""
from dataclasses import asdict, dataclass, field

import numpy as np
import pyworld
import torch
import torchaudio.functional as AF

from ..audio import world_analysis

SAMPLE_RATES = [8000, 16000, 22050, 24000, 48000]


def resample_to(x: torch.Tensor, sr: int, target: int) -> torch.Tensor:
    """(time,) at sr -> (time',) at target."""
    return x if sr == target else AF.resample(x, sr, target)


def revoice(x: torch.Tensor, sr: int, pitch: float = 1.0, intonation: float = 1.0,
            formant: float = 1.0, breath: float = 1.0, whisper: bool = False,
            frame_ms: float = 5.0) -> torch.Tensor:
    """Another speaker saying the same thing: analyse x with WORLD (F0, spectral envelope,
    aperiodicity every `frame_ms`) and resynthesize it with F0 `pitch` times higher, its log-F0
    swings around the mean `intonation` times wider (0: monotone), the envelope stretched
    `formant` times up the frequency axis (> 1: a shorter vocal tract) and the aperiodicity
    raised to 1 / `breath` (> 1: breathier); `whisper`: no voicing at all, every frame excited
    by WORLD's noise through the same envelope. Same length and rate, peak 0.9."""
    audio = x.double().numpy()
    f0, envelope, aperiodicity = world_analysis(audio, sr, frame_ms)  # (frames,), (frames, bins) x 2
    voiced = f0 > 0
    if voiced.any():
        log_f0 = np.log(f0[voiced])
        mean = log_f0.mean()
        f0[voiced] = np.exp(mean + np.log(pitch) + intonation * (log_f0 - mean))
    bins = np.arange(envelope.shape[1])
    source = np.clip(bins / formant, 0, bins[-1])
    envelope = np.stack([np.interp(source, bins, frame) for frame in envelope])
    aperiodicity = np.clip(aperiodicity, 1e-6, 1.0) ** (1 / breath)
    if whisper:
        f0 = np.zeros_like(f0)
    y = pyworld.synthesize(f0, envelope, aperiodicity, sr, frame_period=frame_ms)[: len(audio)]
    y = np.pad(y, (0, len(audio) - len(y)))
    return torch.from_numpy(y / max(np.abs(y).max(), 1e-9) * 0.9).float()


def speed(x: torch.Tensor, factor: float) -> torch.Tensor:
    """Play `factor` times faster (tempo and pitch together), same sample rate."""
    return AF.resample(x, round(100 * factor), 100)


def vocoder_fft(sr: int) -> int:
    """The phase vocoder's STFT size at `sr`: 512 samples (21-32 ms at 16-24 kHz), fewer where
    512 would last longer than 32 ms (256 at ru_tts's 10 kHz): a longer window smears every
    consonant, which no other engine's clips suffered."""
    n_fft = 512
    while n_fft > 0.032 * sr + 1e-6:
        n_fft //= 2
    return n_fft


def _vocoded(x: torch.Tensor, sr: int, rate: float) -> torch.Tensor:
    """(time,) -> (about time / rate,): a phase vocoder playing `rate` times faster, pitch kept."""
    n_fft = vocoder_fft(sr)
    hop = n_fft // 4
    window = torch.hann_window(n_fft)
    spec = torch.stft(x, n_fft, hop, window=window, return_complex=True)
    advance = torch.linspace(0, torch.pi * hop, spec.shape[0])[:, None]
    return torch.istft(AF.phase_vocoder(spec, rate, advance), n_fft, hop, window=window)


def pitch(x: torch.Tensor, sr: int, semitones: float) -> torch.Tensor:
    """Shift pitch by `semitones`, keeping the tempo: stretch in time with a phase vocoder,
    then resample back to the original length. The ratio is rounded to 1/50 so the resampling
    kernel stays small (torchaudio's pitch_shift builds a huge one for most ratios)."""
    ratio = max(round(2 ** (semitones / 12) * 50), 1)
    return AF.resample(_vocoded(x, sr, 50 / ratio), ratio, 50)


def tempo(x: torch.Tensor, sr: int, factor: float) -> torch.Tensor:
    """Speak `factor` times faster without changing pitch or formants (phase vocoder)."""
    return _vocoded(x, sr, factor)


def equalize(x: torch.Tensor, sr: int, bands: list[tuple[float, float, float]], tilt_db: float
             ) -> torch.Tensor:
    """Peaking filters (centre Hz, gain dB, Q) and a spectral tilt: a treble shelf of +tilt_db
    with a bass shelf of -tilt_db (a bright or a muffled microphone)."""
    for freq, gain_db, q in bands:
        x = AF.equalizer_biquad(x, sr, min(freq, sr / 2 * 0.9), gain_db, q)
    if tilt_db:
        x = AF.bass_biquad(AF.treble_biquad(x, sr, tilt_db, 2000.0), sr, -tilt_db, 300.0)
    return x / x.abs().max().clamp_min(1e-6) * 0.9


def babble(x: torch.Tensor, others: list[torch.Tensor], level_db: float,
           rng: np.random.Generator) -> torch.Tensor:
    """Mix other speech under x, each `level_db` below it, at random offsets."""
    power = x.pow(2).mean().clamp_min(1e-10)
    out = x.clone()
    for o in others:
        if len(o) == 0:
            continue
        start = int(rng.integers(0, max(len(x) - len(o), 0) + 1))
        piece = o[: len(x) - start]
        scale = torch.sqrt(power / piece.pow(2).mean().clamp_min(1e-10) / 10 ** (level_db / 10))
        out[start:start + len(piece)] += piece * scale
    return out


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
    """What is done to one clip; drawn by `draw_recipe` (and `draw_revoice`), applied by `apply`."""

    revoice: bool = False  # through the WORLD vocoder with the five settings below
    voice_pitch: float = 1.0
    voice_intonation: float = 1.0
    voice_formant: float = 1.0
    voice_breath: float = 1.0
    voice_whisper: bool = False
    speed: float = 1.0
    tempo: float = 1.0
    semitones: float = 0.0
    eq: list = field(default_factory=list)  # [(centre Hz, gain dB, Q)]
    tilt_db: float = 0.0
    babble: int = 0  # how many other clips to mix under this one
    babble_db: float = 15.0  # ... each this far below it
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
    codec: str = "pcm"  # pcm, ulaw, alaw, gsm (8 kHz), mp3, opus
    bitrate: int = 0  # kbit/s for mp3
    def to_dict(self):
        return asdict(self)


CODECS_8K = ("ulaw", "alaw", "gsm")


def draw_recipe(rng: np.random.Generator, strength: float = 1.0) -> Recipe:
    """A random recipe; `strength` 0 gives clean audio at a random rate, 1 the full mix."""
    r = Recipe()
    p = lambda q: rng.random() < q * strength  # noqa: E731
    if p(0.5):
        r.speed = float(rng.uniform(0.8, 1.25))
    if p(0.45):
        r.tempo = float(np.exp(rng.uniform(np.log(0.6), np.log(1.7))))
    if p(0.25):
        r.semitones = float(rng.uniform(-3, 3))
    if p(0.4):
        r.eq = [(float(np.exp(rng.uniform(np.log(150), np.log(6000)))), float(rng.uniform(-12, 12)),
                 float(rng.uniform(0.5, 2.5))) for _ in range(int(rng.integers(1, 4)))]
    if p(0.3):
        r.tilt_db = float(rng.uniform(-10, 10))
    r.gain_db = float(rng.uniform(-12, 4)) if p(0.7) else 0.0
    if p(0.45):
        r.snr_db = float(rng.choice([5, 10, 15, 20, 30]))
        r.noise_color = str(rng.choice(["white", "pink", "brown"]))
    if p(0.15):
        r.babble, r.babble_db = int(rng.integers(1, 4)), float(rng.uniform(8, 20))
    if p(0.3):
        r.rt60, r.reverb_wet = float(rng.uniform(0.15, 0.7)), float(rng.uniform(0.2, 0.6))
    if p(0.3):
        r.telephone = True
    elif p(0.15):
        r.lowpass_hz = float(rng.uniform(2500, 6000))
    r.lead_s, r.trail_s = float(rng.uniform(0, 0.6)), float(rng.uniform(0, 0.6))
    r.sample_rate = 8000 if r.telephone else int(rng.choice(SAMPLE_RATES))
    if p(0.4):
        r.codec = str(rng.choice(["ulaw", "alaw", "gsm", "mp3", "mp3", "opus"]))
        if r.codec in CODECS_8K:
            r.sample_rate = 8000
        elif r.codec == "opus" and r.sample_rate not in (8000, 16000, 24000, 48000):
            r.sample_rate = 16000
        elif r.codec == "mp3":
            r.bitrate = int(rng.choice([8, 16, 24, 32])) if r.sample_rate <= 16000 else \
                int(rng.choice([32, 48, 64]))
    return r


def draw_revoice(r: Recipe, rng: np.random.Generator, share: float) -> Recipe:
    """With probability `share`, make r speak in a new WORLD voice: pitch 0.7-1.5x, intonation
    range 0.3-1.8x, formants 0.85-1.2x, breathiness 0.6-2.5x. Drawn from a generator of its own,
    so that the rest of the recipe is the same with or without it."""
    if rng.random() < share:
        r.revoice = True
        r.voice_pitch = float(np.exp(rng.uniform(np.log(0.7), np.log(1.5))))
        r.voice_intonation = float(rng.uniform(0.3, 1.8))
        r.voice_formant = float(np.exp(rng.uniform(np.log(0.85), np.log(1.2))))
        r.voice_breath = float(np.exp(rng.uniform(np.log(0.6), np.log(2.5))))
    return r


def draw_whisper(r: Recipe, rng: np.random.Generator, share: float) -> Recipe:
    """With probability `share`, make r whispered (WORLD with no voicing; any new voice that
    draw_revoice gave is kept). Drawn from a generator of its own, like draw_revoice."""
    if rng.random() < share:
        r.revoice = r.voice_whisper = True
    return r


def apply(x: torch.Tensor, sr: int, r: Recipe, rng: np.random.Generator,
          others: list[torch.Tensor] = ()) -> torch.Tensor:
    """Apply a recipe to (time,) audio at `sr`; returns (time,) audio at r.sample_rate.
    others: speech at `sr` for the babble (at least r.babble clips)."""
    if r.revoice:
        x = revoice(x, sr, r.voice_pitch, r.voice_intonation, r.voice_formant, r.voice_breath,
                    r.voice_whisper)
    if r.speed != 1.0:
        x = speed(x, r.speed)
    if r.tempo != 1.0:
        x = tempo(x, sr, r.tempo)
    if r.semitones:
        x = pitch(x, sr, r.semitones)
    if r.eq or r.tilt_db:
        x = equalize(x, sr, r.eq, r.tilt_db)
    if r.babble and others:
        x = babble(x, others, r.babble_db, rng)
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
