"""Audio in, log-mel features out.

load_audio:   a file path, bytes or a binary file object in any format soundfile reads (wav, flac,
              ogg, mp3, ...), or an Array of samples; any rate, mono or not -> (time,) float32
              at 16 kHz
from_array:   samples (time,) or (time, channels) and their rate -> (time,) float32 at 16 kHz
log_mel:      (time,) -> (frames, n_mels), 100 frames a second, normalized per utterance,
              optionally floored a fixed number of dB under the clip's loudest point
              (= normalize(log_mel_power(audio), floor_db))
spec_augment: (frames, n_mels) -> the same with random time and frequency bands masked
vtlp:         (frames, n_mels) -> the same as a vocal tract `alpha` times longer or shorter would give
stretch:      (frames, n_mels) -> (frames / rate, n_mels), the same speech `rate` times faster
smooth_bands: (frames, n_mels) -> the same blurred across mel bands (pitch harmonics fade)
mix_under:    (frames, n_mels) log mel power and others' -> the others talking quietly under it
dio_track:    (time,) -> it at 8 kHz and its pitch (F0) every 10 ms, Hz
median_f0:    (time,) -> the median pitch of its voiced frames, Hz
subharmonic_ratio: (time,) and its F0 track -> how loud the voice is between its harmonics
clearly_high: that ratio -> high, low, or unsure (then Harvest decides)
lower_high_voice: (time,) -> the same, a voice pitched higher than the corpus's resynthesized
              lower through the WORLD vocoder, formants and timing kept
lowered_features: audio -> (frames, n_mels) of it so lowered, or None when its voice is not high

Whatever cannot be transcribed raises AudioError with a plain reason. The length is checked
from the file header before anything is decoded, at most MAX_SECONDS are ever read, and
resampling takes time and memory in proportion to the audio for any pair of rates.
"""
import io
import math
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyworld
import soundfile as sf
import soxr
import torch
import torch.nn.functional as F
import torchaudio.functional as AF
import torchaudio.transforms as T

SAMPLE_RATE = 16000
HOP = 160  # 10 ms
N_FFT = 400  # 25 ms
N_MELS = 64
MAX_SECONDS = 20.0
MIN_SECONDS = 0.15  # the shortest number word ("два", "сто") said fast still lasts longer
MIN_RATE, MAX_RATE = 4000, 768000  # Hz
MAX_SINC_RATIO = 1000  # see resample()
SILENCE_PEAK = 1e-3  # a clip whose loudest sample (after removing DC) is below this is silent
SOUND_FRAME = 320  # 20 ms frames for the speech check
SOUND_FLOOR_DB = 35.0  # a frame "has sound" within this many dB of the loudest frame ...
MIN_SOUND_SECONDS = 0.08  # ... and a clip needs at least this much of such frames (clicks don't)
# A voice whose median pitch is above HIGH_VOICE_HZ is higher than 90 % of the corpus's clips
# (half are below 170 Hz); it is heard lowered to LOWERED_VOICE_HZ, the median of the corpus's
# female clips (lower_high_voice; docs/experiments.md, "High voices heard lower").
HIGH_VOICE_HZ = 300.0
LOWERED_VOICE_HZ = 220.0
# DIO reads some low voices an octave or a twelfth up; subharmonic_ratio tells: below
# CLEARLY_HIGH the pitch DIO found is the voice's, above CLEARLY_LOW it is a harmonic of a lower
# voice; in between Harvest decides (docs/experiments.md, "A cheaper check of high voices").
CLEARLY_HIGH, CLEARLY_LOW = 0.10, 0.35


class AudioError(ValueError):
    """Audio that cannot be transcribed; the message says why in plain words."""


class Array:
    """Samples in memory as an input: (time,) or (time, channels), numpy or torch."""

    def __init__(self, samples, sample_rate: int, name: str = "<array>"):
        self.samples, self.sample_rate, self.name = samples, sample_rate, name

    def __str__(self) -> str:
        return self.name


AudioSource = str | Path | bytes | BinaryIO | Array


def _check_rate(rate: int) -> None:
    if not MIN_RATE <= rate <= MAX_RATE:
        raise AudioError(f"unsupported sample rate {rate} Hz (accepted: {MIN_RATE}-{MAX_RATE})")


def _open(source: AudioSource) -> sf.SoundFile:
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise AudioError("file not found" if not path.exists() else "not a file")
        if path.stat().st_size == 0:
            raise AudioError("file is empty (0 bytes)")
        source = str(path)
    elif isinstance(source, (bytes, bytearray)):
        if not source:
            raise AudioError("no audio data (0 bytes)")
        source = io.BytesIO(source)
    try:
        return sf.SoundFile(source)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as e:
        why = str(e).strip()
        if why.startswith("Error opening"):  # "Error opening <path or object>: Format not recognised."
            why = why.split(": ", 1)[-1]
        raise AudioError(f"not a readable audio file ({why or type(e).__name__})") from None


def load_audio(source: AudioSource, max_seconds: float = MAX_SECONDS) -> torch.Tensor:
    """Read audio -> (time,) float32 mono at 16 kHz; AudioError says what is wrong."""
    if isinstance(source, Array):
        return from_array(source.samples, source.sample_rate, max_seconds)
    with _open(source) as f:
        rate = f.samplerate
        _check_rate(rate)  # before the header's length is divided by it
        if f.frames > max_seconds * rate:  # from the header: nothing decoded yet
            raise AudioError(f"too long: {f.frames / rate:.1f} s (the limit is {max_seconds:g} s)")
        try:
            data = f.read(frames=int(max_seconds * rate) + 1, dtype="float32", always_2d=True)
        except (sf.LibsndfileError, RuntimeError) as e:
            raise AudioError(f"not a readable audio file ({str(e).strip()})") from None
    if len(data) > max_seconds * rate:  # a header that under-stated the length
        raise AudioError(f"too long: more than {max_seconds:g} s (the limit is {max_seconds:g} s)")
    return from_array(data, rate, max_seconds)


def from_array(samples, sample_rate: int, max_seconds: float = MAX_SECONDS) -> torch.Tensor:
    """(time,) or (time, channels) numpy/torch samples at `sample_rate` -> (time,) float32 mono
    at 16 kHz, checked: finite, long enough, not silent, more than a click."""
    data = samples.detach().cpu().numpy() if isinstance(samples, torch.Tensor) else np.asarray(samples)
    if data.ndim == 2:
        data = data.mean(axis=1)
    if data.ndim != 1 or not np.issubdtype(data.dtype, np.number):
        raise AudioError(f"expected (time,) or (time, channels) numbers, got shape {data.shape}")
    _check_rate(sample_rate)
    if len(data) == 0:
        raise AudioError("audio has no samples")
    if len(data) / sample_rate > max_seconds:
        raise AudioError(f"too long: {len(data) / sample_rate:.1f} s (the limit is {max_seconds:g} s)")
    if len(data) < MIN_SECONDS * sample_rate:
        raise AudioError(f"too short: {1000 * len(data) / sample_rate:.0f} ms "
                         f"(the minimum is {1000 * MIN_SECONDS:.0f} ms)")
    data = data.astype(np.float64)
    if not np.isfinite(data).all():
        raise AudioError("audio holds NaN or infinite samples")
    if np.abs(data - data.mean()).max() < SILENCE_PEAK:  # a DC offset alone is silence too
        raise AudioError("audio is silent")
    peak = np.abs(data).max()
    audio = torch.from_numpy((data / max(peak, 1.0)).astype(np.float32))  # huge samples -> full scale
    audio = resample(audio, sample_rate)
    _check_sound(audio.numpy())
    return audio


def resample(audio: torch.Tensor, rate: int) -> torch.Tensor:
    """(time,) at `rate` -> (time',) at 16 kHz. torchaudio's windowed sinc (what the shipped
    models were trained on) where its kernel stays small, i.e. the reduced ratio of the rates
    is at most MAX_SINC_RATIO (8, 22.05, 24, 44.1, 48 kHz ...); soxr for odd rates such as
    44101 Hz, whose sinc kernel would grow with the ratio (gigabytes, a minute)."""
    if rate == SAMPLE_RATE:
        return audio
    g = math.gcd(rate, SAMPLE_RATE)
    if max(rate, SAMPLE_RATE) // g <= MAX_SINC_RATIO:
        return AF.resample(audio, rate, SAMPLE_RATE)
    return torch.from_numpy(soxr.resample(audio.numpy(), rate, SAMPLE_RATE, quality="HQ"))


def _check_sound(audio: np.ndarray) -> None:
    """AudioError when less than MIN_SOUND_SECONDS of the clip is anywhere near its loudest
    20 ms: a click, a pop or a tone burst rather than speech."""
    n = len(audio) // SOUND_FRAME
    if n == 0:
        return
    energy = (audio[:n * SOUND_FRAME].astype(np.float64).reshape(n, SOUND_FRAME) ** 2).mean(1)
    loud = energy > energy.max() * 10 ** (-SOUND_FLOOR_DB / 10)
    if loud.sum() * SOUND_FRAME < MIN_SOUND_SECONDS * SAMPLE_RATE:
        raise AudioError(f"no speech: only {1000 * loud.sum() * SOUND_FRAME / SAMPLE_RATE:.0f} ms "
                         f"of sound (a click or a pop?)")


@lru_cache(maxsize=1)
def _mel() -> T.MelSpectrogram:
    return T.MelSpectrogram(SAMPLE_RATE, n_fft=N_FFT, hop_length=HOP, n_mels=N_MELS)


def world_analysis(audio: np.ndarray, rate: int, frame_ms: float = 5.0
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(time,) float64 -> the WORLD vocoder's view of it, a frame every frame_ms: F0 (frames,)
    in Hz, 0 where unvoiced; spectral envelope and aperiodicity (frames, bins)."""
    f0, times = pyworld.dio(audio, rate, frame_period=frame_ms)
    f0 = pyworld.stonemask(audio, f0, times, rate)
    return f0, pyworld.cheaptrick(audio, f0, times, rate), pyworld.d4c(audio, f0, times, rate)


def dio_track(audio: torch.Tensor, rate: int = 8000, frame_ms: float = 10.0
              ) -> tuple[torch.Tensor, np.ndarray]:
    """(time,) at 16 kHz -> (the audio at `rate`, WORLD DIO's F0 (frames,) in Hz every frame_ms,
    0 where unvoiced)."""
    x = AF.resample(audio, SAMPLE_RATE, rate)
    f0, _ = pyworld.dio(x.double().numpy(), rate, frame_period=frame_ms)
    return x, f0


def voiced_median(f0: np.ndarray) -> float:
    """An F0 track (frames,) in Hz, 0 where unvoiced -> its median over the voiced frames, 0 when
    fewer than 5 are voiced."""
    voiced = f0[f0 > 0]
    return float(np.median(voiced)) if len(voiced) >= 5 else 0.0


def median_f0(audio: torch.Tensor, careful: bool = False) -> float:
    """(time,) at 16 kHz -> the median F0 of its voiced frames in Hz, 0 when fewer than 5 are
    voiced. WORLD's DIO on the audio at 8 kHz, 10 ms frames: a few ms a second of audio, but a
    low voice whose fundamental a telephone band removed may read an octave or two high.
    careful=True: WORLD's Harvest at 4 kHz, 20 ms frames, 60-600 Hz, which is not misled so,
    about 20 times slower."""
    if not careful:
        return voiced_median(dio_track(audio)[1])
    x = AF.resample(audio, SAMPLE_RATE, 4000).double().numpy()
    f0, _ = pyworld.harvest(x, 4000, frame_period=20.0, f0_floor=60.0, f0_ceil=600.0)
    return voiced_median(f0)


def subharmonic_ratio(x: torch.Tensor, f0: np.ndarray, rate: int = 8000, frame_ms: float = 10.0) -> float:
    """(time,) at `rate` and an F0 track over it (frames,) in Hz, a frame every frame_ms, 0 where
    unvoiced -> how loud the spectrum is at F0 / d and its multiples that are not harmonics of
    F0, against the first four harmonics: the mean spectral peak (within 3 % of each frequency)
    at the one to the mean at the other, its median over the voiced frames; the larger for
    d = 2 and d = 3.
    Low where F0 is the voice's pitch, since nothing sounds between its harmonics (0.02-0.33 on
    the clips measured, most under 0.15); high where F0 is the second or third harmonic of a
    lower voice, as DIO misreads some low voices (0.12-1.05, most over 0.35). 0 when nothing is
    voiced."""
    n_fft, hop = 512, round(rate * frame_ms / 1000)
    spectrum = torch.stft(x.float(), n_fft, hop, window=torch.hann_window(n_fft),
                          return_complex=True).abs().numpy()  # (bins, frames), frame j at j * hop
    frames = np.nonzero(f0[: spectrum.shape[1]] > 0)[0]
    if len(frames) == 0:
        return 0.0
    bin_hz, top = rate / n_fft, spectrum.shape[0] - 1

    def peaks(freqs: np.ndarray) -> np.ndarray:
        """(voiced frames, k) Hz -> the largest magnitude within 3 % of each, per frame."""
        lo = np.floor(freqs * 0.97 / bin_hz).astype(int)
        hi = np.minimum(np.ceil(freqs * 1.03 / bin_hz).astype(int), top)
        offsets = np.arange(int((hi - lo).max()) + 1)
        bins = np.minimum(lo[..., None] + offsets, top)  # (voiced frames, k, window)
        values = spectrum[bins, frames[:, None, None]]
        return np.where(lo[..., None] + offsets <= hi[..., None], values, 0.0).max(-1)

    ratios = []
    for d in (2, 3):
        k = np.arange(1, 4 * d + 1)
        heard = peaks(f0[frames, None] * k / d)  # (voiced frames, 4 d)
        between, harmonics = heard[:, k % d != 0], heard[:, k % d == 0]
        ratios.append(float(np.median(between.mean(1) / (harmonics.mean(1) + 1e-9))))
    return max(ratios)


def clearly_high(ratio: float) -> bool | None:
    """A subharmonic_ratio -> True: the pitch DIO found is the voice's; False: it is a harmonic of
    a lower voice; None: unsure (Harvest decides)."""
    if ratio > CLEARLY_LOW:
        return False
    return True if ratio < CLEARLY_HIGH else None


def lower_high_voice(audio: torch.Tensor, above_hz: float = HIGH_VOICE_HZ,
                     to_hz: float = LOWERED_VOICE_HZ) -> torch.Tensor:
    """(time,) at 16 kHz -> the same tensor, or, when its median F0 is above `above_hz`, the
    same speech resynthesized through WORLD with every F0 scaled by to_hz / median (intonation
    kept), the spectral envelope (formants), aperiodicity, timing and peak as they were.
    The pitch is DIO's, checked against a low voice read an octave or a twelfth up
    (subharmonic_ratio); where that check is unsure, Harvest's (median_f0(careful=True))."""
    x8, f0 = dio_track(audio)
    median = voiced_median(f0)
    if median <= above_hz:
        return audio
    verdict = clearly_high(subharmonic_ratio(x8, f0))
    if verdict is False:
        return audio
    if verdict is None:
        median = median_f0(audio, careful=True)
        if median <= above_hz:
            return audio
    x = audio.double().numpy()
    f0, envelope, aperiodicity = world_analysis(x, SAMPLE_RATE)
    y = pyworld.synthesize(f0 * (to_hz / median), envelope, aperiodicity, SAMPLE_RATE, frame_period=5.0)
    y = np.pad(y[: len(x)], (0, max(len(x) - len(y), 0)))
    return torch.from_numpy(y / max(np.abs(y).max(), 1e-9) * np.abs(x).max()).float()


def log_mel_power(audio: torch.Tensor) -> torch.Tensor:
    """(time,) at 16 kHz -> (frames, n_mels) natural log of the mel power (+1e-10), nothing
    normalized: what normalize() floors and normalizes, kept raw where the floor is drawn anew
    for every training clip (data.load_split(raw=True))."""
    with torch.no_grad():
        return (_mel()(audio) + 1e-10).log().T


def normalize(log_power: torch.Tensor, floor_db: float) -> torch.Tensor:
    """(frames, n_mels) log mel power -> the same raised to its loudest value less floor_db dB
    (0: as it is), then each mel band with zero mean and unit variance."""
    feats = torch.maximum(log_power, log_power.max() - floor_db * math.log(10) / 10) if floor_db else log_power
    return (feats - feats.mean(0)) / (feats.std(0) + 1e-5)


def log_mel(audio: torch.Tensor, floor_db: float = 0.0) -> torch.Tensor:
    """(time,) at 16 kHz -> (frames, n_mels), each mel band with zero mean and unit variance.
    floor_db > 0: first raise every mel power to the clip's loudest one less floor_db dB, so
    that digital silence, a band a low sample rate left empty and a quiet noise floor all look
    alike (0: only a fixed floor of 1e-6, as the first models were trained).
    AudioError if the result is not finite."""
    with torch.no_grad():
        log_power = log_mel_power(audio) if floor_db else (_mel()(audio) + 1e-6).log().T
        return _finite(normalize(log_power, floor_db))


def _finite(feats: torch.Tensor) -> torch.Tensor:
    if not torch.isfinite(feats).all():
        raise AudioError("the features are not finite (NaN or infinity)")
    return feats


def features(source: AudioSource, max_seconds: float = MAX_SECONDS, floor_db: float = 0.0,
             raw: bool = False) -> torch.Tensor:
    """Audio -> (frames, n_mels): log_mel, or with raw=True log_mel_power."""
    audio = load_audio(source, max_seconds)
    return _finite(log_mel_power(audio)) if raw else log_mel(audio, floor_db)


def features_or_error(source: AudioSource, max_seconds: float = MAX_SECONDS, floor_db: float = 0.0,
                      raw: bool = False) -> tuple[torch.Tensor | None, str | None]:
    """Audio -> ((frames, n_mels), None), or (None, why it cannot be used)."""
    try:
        return features(source, max_seconds, floor_db, raw), None
    except AudioError as e:
        return None, str(e)
    except MemoryError:
        return None, "out of memory while reading"


def lowered_features(source: AudioSource, max_seconds: float = MAX_SECONDS, floor_db: float = 0.0,
                     above_hz: float = HIGH_VOICE_HZ) -> torch.Tensor | None:
    """Audio -> (frames, n_mels) log_mel of it with its voice lowered (lower_high_voice), or None
    when the voice is not pitched above `above_hz` or the audio cannot be read."""
    try:
        audio = load_audio(source, max_seconds)
        lowered = lower_high_voice(audio, above_hz)
        return None if lowered is audio else log_mel(lowered, floor_db)
    except (AudioError, MemoryError):
        return None


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


@lru_cache(maxsize=8)
def _mel_centres() -> torch.Tensor:
    """(n_mels,) centre frequency of each mel band in Hz (HTK mel scale, as MelSpectrogram)."""
    mel = torch.linspace(0, 2595 * math.log10(1 + SAMPLE_RATE / 2 / 700), N_MELS + 2)[1:-1]
    return 700 * (10 ** (mel / 2595) - 1)


def vtlp(feats: torch.Tensor, alpha: float) -> torch.Tensor:
    """Vocal tract length perturbation on log-mel frames (frames, n_mels): band k takes the
    value the spectrum had at centre_k / alpha (alpha > 1: a shorter tract, higher formants),
    linearly interpolated between bands; the top band's value holds beyond the range."""
    centres = _mel_centres()
    source = (centres / alpha).clamp(centres[0], centres[-1])
    index = torch.searchsorted(centres, source).clamp(1, len(centres) - 1)
    lo, hi = centres[index - 1], centres[index]
    w = ((source - lo) / (hi - lo)).clamp(0, 1)
    return feats[:, index - 1] * (1 - w) + feats[:, index] * w


def smooth_bands(feats: torch.Tensor, sigma: float) -> torch.Tensor:
    """(frames, n_mels) -> the same blurred across mel bands by a Gaussian of `sigma` bands
    (edges repeated): the spectral envelope stays, the harmonics of the pitch fade, as in a
    whisper or a voice whose pitch the model never heard."""
    radius = max(1, math.ceil(3 * sigma))
    x = torch.arange(-radius, radius + 1, dtype=feats.dtype)
    kernel = torch.exp(-0.5 * (x / sigma) ** 2)
    padded = F.pad(feats[:, None], (radius, radius), mode="replicate")  # (frames, 1, n_mels + 2r)
    return F.conv1d(padded, (kernel / kernel.sum())[None, None])[:, 0]


def mix_under(log_power: torch.Tensor, others: list[torch.Tensor], levels_db: list[float],
              generator: torch.Generator) -> torch.Tensor:
    """Babble in the feature domain: (frames, n_mels) log mel power (log_mel_power) -> the same
    with each of `others` (frames_i, n_mels), log mel power too, added in power `levels_db[i]`
    dB under it (mean over frames and bands, as augment.babble measures a waveform), at a random
    offset: a shorter one placed anywhere within the clip, a longer one cut to a random stretch
    of the clip's length. Powers add as they would for two independent voices."""
    mean_db = lambda x: 10 / math.log(10) * float(x.exp().mean().clamp_min(1e-10).log())  # noqa: E731
    target = mean_db(log_power)
    out = log_power.clone()
    frames = len(log_power)

    def offset(high: int) -> int:
        return int(torch.randint(0, max(high, 0) + 1, (1,), generator=generator))

    for other, level in zip(others, levels_db):
        if len(other) > frames:
            other = other[(s := offset(len(other) - frames)):s + frames]
        start = offset(frames - len(other))
        shift = (target - level - mean_db(other)) * math.log(10) / 10  # natural-log gain
        window = out[start:start + len(other)]
        out[start:start + len(other)] = torch.logaddexp(window, other + shift)
    return out


def stretch(feats: torch.Tensor, rate: float) -> torch.Tensor:
    """(frames, n_mels) -> (round(frames / rate), n_mels): the same speech `rate` times faster
    (rate > 1: fewer frames), linearly interpolated along time."""
    frames = max(1, round(len(feats) / rate))
    return F.interpolate(feats.T[None], size=frames, mode="linear", align_corners=True)[0].T


def perturb(feats: torch.Tensor, generator: torch.Generator, vtlp_range: float = 0.12,
            stretch_range: float = 0.0, smooth_share: float = 0.0) -> torch.Tensor:
    """Training-time feature augmentation, drawn anew for every clip in every epoch: a random
    VTLP warp in 1 +- vtlp_range (half the clips), a blur across 1-3 mel bands (smooth_bands;
    smooth_share of the clips), a tempo change in 1 +- stretch_range (every clip; 0: none),
    then SpecAugment."""
    def uniform(half_width: float) -> float:
        return 1 + half_width * (2 * float(torch.rand((), generator=generator)) - 1)

    if float(torch.rand((), generator=generator)) < 0.5:
        feats = vtlp(feats, uniform(vtlp_range))
    if smooth_share and float(torch.rand((), generator=generator)) < smooth_share:
        feats = smooth_bands(feats, uniform(0.5) * 2)  # sigma 1-3 bands
    if stretch_range:
        feats = stretch(feats, uniform(stretch_range))
    return spec_augment(feats, generator)
