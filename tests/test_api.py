"""The Python API: one loaded model, every kind of input, Results that never raise."""
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

import seq2seq_asr

FIXTURES = Path(__file__).parent / "fixtures"
CLIP, NUMBER = FIXTURES / "clips" / "espeak-ru-m3.wav", 601


@pytest.fixture(scope="module")
def model():
    return seq2seq_asr.load(gender=True)


def test_path_list_bytes_and_arrays(model):
    one = model.transcribe(CLIP)
    assert isinstance(one, seq2seq_asr.Result) and one.ok
    assert one.number == NUMBER and one.words == "шестьсот один" and 0.5 < one.confidence <= 1
    assert one.gender == "male" and 0.5 <= one.gender_probability <= 1
    samples, rate = sf.read(CLIP, dtype="float32")
    many = model.transcribe([str(CLIP), CLIP.read_bytes(), samples, torch.from_numpy(samples)],
                            sample_rate=rate)
    assert [r.number for r in many] == [NUMBER] * 4
    stereo = np.stack([samples, samples], axis=1)
    assert model.transcribe(stereo, sample_rate=rate).number == NUMBER
    assert model.transcribe(CLIP, beam=1).number == NUMBER


def test_bad_inputs_are_results_not_exceptions(model):
    missing, short = model.transcribe([FIXTURES / "nope.wav", np.zeros(10)], sample_rate=16000)
    assert missing.error == "file not found" and missing.number is None and not missing.ok
    assert short.error.startswith("too short")
    assert model.transcribe(b"not audio").error.startswith("not a readable audio file")
    assert model.transcribe(CLIP, min_confidence=1.0).error.startswith("low confidence")


def test_programming_errors_raise(model, tmp_path):
    with pytest.raises(TypeError, match="sample_rate"):
        model.transcribe(np.zeros(16000))
    with pytest.raises(TypeError, match="cannot transcribe a int"):
        model.transcribe(5)
    (tmp_path / "bad.pt").write_bytes(b"junk")
    with pytest.raises(seq2seq_asr.CheckpointError, match="not a readable checkpoint"):
        seq2seq_asr.load(tmp_path / "bad.pt")


def test_stream_keeps_order_with_workers(model):
    paths = sorted((FIXTURES / "clips").iterdir()) * 3
    results = list(model.stream(paths, workers=1, batch_size=4))
    assert [r.source for r in results] == [str(p) for p in paths]
    assert [r.number for r in results[:16]] == [r.number for r in results[16:32]]


def test_a_gender_classifier_for_other_features_is_refused(tmp_path, model):
    from seq2seq_asr import checkpoint
    from seq2seq_asr.gender import GenderClassifier, GenderConfig

    other = GenderConfig(floor_db=model.recognizer.config.floor_db + 10)
    checkpoint.save(tmp_path / "gender.pt", GenderClassifier(other))
    with pytest.raises(checkpoint.CheckpointError, match="floored at"):
        seq2seq_asr.load(gender=tmp_path / "gender.pt")
