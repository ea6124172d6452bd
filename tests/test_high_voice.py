"""A voice pitched above the corpus's is heard lowered, its formants kept (audio.lower_high_voice),
in every door that is asked to (transcribe.Options.high_voice_hz)."""
import io
from types import SimpleNamespace

import numpy as np
import pytest
import soundfile as sf
import torch
import torchaudio

import seq2seq_asr
from conftest import vowel
from seq2seq_asr import audio
from seq2seq_asr.transcribe import Options

SR = audio.SAMPLE_RATE


def _centroid(x: torch.Tensor) -> float:
    power = torch.fft.rfft(x).abs() ** 2
    return float((torch.fft.rfftfreq(len(x), 1 / SR) * power).sum() / power.sum())


def _on_a_phone_line(x: torch.Tensor) -> torch.Tensor:
    """The fundamental and the next harmonics of a low voice filtered out, as a phone line does."""
    for _ in range(4):
        x = torchaudio.functional.highpass_biquad(x, SR, 400.0)
    return x


@pytest.mark.parametrize("careful", [False, True])
def test_median_f0_finds_the_pitch(careful):
    assert audio.median_f0(vowel(SR, 120.0), careful) == pytest.approx(120, rel=0.05)
    assert audio.median_f0(vowel(SR, 380.0), careful) == pytest.approx(380, rel=0.05)
    assert audio.median_f0(torch.zeros(SR), careful) == 0.0


def test_a_low_voice_on_a_telephone_line_is_not_taken_for_a_high_one():
    low = _on_a_phone_line(vowel(SR, 100.0, seconds=1.0))
    assert audio.median_f0(low) > 300  # DIO alone is misled
    assert audio.median_f0(low, careful=True) < 150
    assert audio.lower_high_voice(low) is low


def _track(x: torch.Tensor, hz: float) -> tuple[torch.Tensor, np.ndarray]:
    """x at 8 kHz and an F0 track of `hz` wherever DIO hears voice."""
    x8, f0 = audio.dio_track(x)
    return x8, (f0 > 0) * hz


def test_the_subharmonic_ratio_tells_a_high_voice_from_a_harmonic_of_a_low_one():
    high = vowel(SR, 380.0, seconds=1.0)
    assert audio.subharmonic_ratio(*_track(high, 380.0)) < audio.CLEARLY_HIGH
    low = vowel(SR, 130.0, seconds=1.0)
    for harmonic in (2, 3):  # DIO's misreading, told to the ratio: the pitch said to be 260, 390 Hz
        assert audio.subharmonic_ratio(*_track(low, 130.0 * harmonic)) > audio.CLEARLY_LOW
    assert audio.subharmonic_ratio(*_track(torch.zeros(SR), 380.0)) == 0.0


def test_a_clearly_high_voice_is_lowered_without_harvest(monkeypatch):
    """Harvest is the slow check: a voice the ratio is sure of does not pay for it."""
    def harvest(*args, **kwargs):
        raise AssertionError("Harvest was asked")

    monkeypatch.setattr(audio.pyworld, "harvest", harvest)
    high = vowel(SR, 380.0, seconds=1.0)
    assert audio.lower_high_voice(high) is not high
    low = _on_a_phone_line(vowel(SR, 100.0, seconds=1.0))
    assert audio.lower_high_voice(low) is low


def test_where_the_ratio_is_unsure_harvest_decides(monkeypatch):
    monkeypatch.setattr(audio, "subharmonic_ratio", lambda *a: (audio.CLEARLY_HIGH + audio.CLEARLY_LOW) / 2)
    asked = []
    real = audio.median_f0
    monkeypatch.setattr(audio, "median_f0", lambda x, careful=False: asked.append(careful) or real(x, careful))
    low = _on_a_phone_line(vowel(SR, 100.0, seconds=1.0))
    assert audio.lower_high_voice(low) is low and asked == [True]
    high = vowel(SR, 380.0, seconds=1.0)
    assert audio.lower_high_voice(high) is not high and asked == [True, True]


def test_a_high_voice_is_lowered_with_its_formants_and_length_kept():
    high = vowel(SR, 380.0, seconds=1.0)
    lowered = audio.lower_high_voice(high)
    assert lowered.shape == high.shape and torch.isfinite(lowered).all()
    assert audio.median_f0(lowered) == pytest.approx(audio.LOWERED_VOICE_HZ, rel=0.08)
    assert float(lowered.abs().max()) == pytest.approx(float(high.abs().max()), rel=1e-3)
    assert _centroid(lowered) == pytest.approx(_centroid(high), rel=0.25)


def test_a_voice_within_the_corpus_range_is_left_alone():
    low = vowel(SR, 200.0)
    assert audio.lower_high_voice(low) is low
    high = vowel(SR, 380.0)
    assert audio.lower_high_voice(high, above_hz=400.0) is high


def _wav(x: torch.Tensor) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, x.numpy(), SR, format="WAV")
    return buffer.getvalue()


def test_lowered_features_only_for_a_high_voice():
    high, low = _wav(vowel(SR, 380.0, seconds=1.0)), _wav(vowel(SR, 150.0, seconds=1.0))
    lowered = audio.lowered_features(high, floor_db=60.0)
    plain = audio.features(high, floor_db=60.0)
    assert lowered.shape == plain.shape and not torch.allclose(lowered, plain, atol=1e-3)
    assert audio.lowered_features(low, floor_db=60.0) is None
    assert audio.lowered_features(b"not audio") is None


def test_a_doubtful_high_voice_is_read_lowered_and_a_sure_one_is_not(monkeypatch):
    """decode_features reads a source again only for doubtful clips, unless high_voice_hz is 0,
    and keeps the surer reading; later readings start from the lowered features."""
    from seq2seq_asr import transcribe
    from seq2seq_asr.decoding import Hypothesis

    def fake(model, vocab, feats, options):  # confidence: the features' first value
        return [Hypothesis(["один"], 1, float(f[0, 0]), 0.0) for f in feats]

    monkeypatch.setattr(transcribe, "_decode_batched", fake)
    feats = [torch.full((50, 64), 0.3), torch.full((50, 64), 0.95), torch.full((50, 64), 0.3)]
    asked = []

    def lowered(source, *_):
        asked.append(source)
        return torch.full((50, 64), 0.9) if source == 0 else None

    monkeypatch.setattr(transcribe, "lowered_features", lowered)
    model = SimpleNamespace(config=SimpleNamespace(floor_db=60.0))
    out = transcribe.decode_features(model, None, feats, Options(tempos=(), warps=()), [0, 1, 2])
    assert asked == [0, 2] and [h.confidence for h in out] == pytest.approx([0.9, 0.95, 0.3])
    asked.clear()
    off = Options(tempos=(), warps=(), high_voice_hz=0)
    transcribe.decode_features(model, None, feats, off, [0, 1, 2])
    assert asked == []


def test_the_doors_hear_a_doubtful_high_voice_lowered_by_default(monkeypatch):
    from seq2seq_asr import transcribe
    assert Options().high_voice_hz == audio.HIGH_VOICE_HZ
    asked = []
    real = transcribe.lowered_features
    monkeypatch.setattr(transcribe, "lowered_features", lambda s, *a: asked.append(s) or real(s, *a))
    high = _wav(vowel(SR, 380.0, seconds=1.0))  # no number in it: the model is not sure of it
    seq2seq_asr.load(tempos=(), warps=(), high_voice_hz=0).transcribe(high)
    assert asked == []
    model = seq2seq_asr.load(tempos=(), warps=())
    assert model.transcribe(high).ok and asked == [high]
    feats = model.features(high)[0]
    model.decode(["a"], [feats], audio=[high])  # the door the HTTP service uses
    assert asked == [high, high]
    with pytest.raises(ValueError, match="high_voice_hz"):
        seq2seq_asr.load(high_voice_hz=-1)
