"""evaluation.py end to end: bad input is reported by row and name, the rest is written."""
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
import torch
from click.testing import CliRunner

from evaluation import main
from normalizer import WordVocab
from seq2seq_asr import checkpoint
from seq2seq_asr.gender import GenderClassifier, GenderConfig
from seq2seq_asr.model import ModelConfig, Recognizer

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory):
    """Untrained small models: the behaviour under test does not depend on accuracy."""
    root = tmp_path_factory.mktemp("models")
    torch.manual_seed(0)
    vocab = WordVocab()
    checkpoint.save(root / "asr.pt", Recognizer(ModelConfig(vocab_size=len(vocab), enc_hidden=32,
                                                            dec_hidden=32)), vocab)
    checkpoint.save(root / "gender.pt", GenderClassifier(GenderConfig(channels=16, layers=2)))
    return root / "asr.pt", root / "gender.pt"


@pytest.fixture
def bad_corpus(tmp_path):
    """Two good clips among every kind of bad file."""
    good = pd.read_csv(FIXTURES / "clips.csv")["filename"][:2].tolist()
    for name in good:
        (tmp_path / name).parent.mkdir(exist_ok=True)
        shutil.copy(FIXTURES / name, tmp_path / name)
    (tmp_path / "empty.wav").write_bytes(b"")
    (tmp_path / "corrupt.wav").write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt garbage" * 3)
    (tmp_path / "notes.txt").write_text("двести тридцать", encoding="utf-8")
    sf.write(tmp_path / "silent.wav", np.zeros(16000, dtype=np.float32), 16000)
    sf.write(tmp_path / "long.wav", np.random.default_rng(0).uniform(-.5, .5, 16000 * 25), 16000)
    names = [good[0], "missing.wav", "empty.wav", "corrupt.wav", "notes.txt", "silent.wav",
             "long.wav", good[1]]
    pd.DataFrame({"filename": names}).to_csv(tmp_path / "in.csv", index=False)
    return tmp_path, names


def test_bad_files_are_reported_and_the_rest_written(tiny_models, bad_corpus):
    root, names = bad_corpus
    result = CliRunner().invoke(main, [str(root / "in.csv"), str(root / "out.csv"), "--model",
                                       str(tiny_models[0]), "--quiet", "--gender",
                                       "--gender-model", str(tiny_models[1])])
    assert result.exit_code == 1, result.output
    out = pd.read_csv(root / "out.csv", dtype=str, keep_default_na=False)
    assert out["filename"].tolist() == names
    assert list(out.columns) == ["filename", "transcription", "confidence", "gender", "gender_probability"]
    for i in (0, 7):
        assert 1 <= int(out["transcription"][i]) <= 999_999 and out["gender"][i] in ("female", "male")
    for row, name, why in [(3, "missing.wav", "file not found"), (4, "empty.wav", "file is empty"),
                           (5, "corrupt.wav", "not a readable audio file"),
                           (6, "notes.txt", "not a readable audio file"), (7, "silent.wav", "audio is silent"),
                           (8, "long.wav", "too long")]:
        assert f"row {row}: '{name}': {why}" in result.output
        assert out["transcription"][row - 2] == ""
    assert "8 rows, 2 transcribed, 6 failed" in result.output


def test_malformed_csv_and_checkpoint_fail_fast(tiny_models, tmp_path):
    (tmp_path / "no_filename.csv").write_text("path\na.wav\n")
    (tmp_path / "ok.csv").write_text("filename\na.wav\n")
    (tmp_path / "broken.pt").write_bytes(b"\x00" * 100)
    for args, message in [([tmp_path / "no_filename.csv"], "missing column(s) filename"),
                          ([tmp_path / "nothing.csv"], "no such file"),
                          ([tmp_path / "ok.csv", "--model", tmp_path / "broken.pt"],
                           "not a readable checkpoint"),
                          ([tmp_path / "ok.csv", "--model", tiny_models[1]], "not a seq2seq_asr.recognizer")]:
        result = CliRunner().invoke(main, [str(args[0]), str(tmp_path / "out.csv"), *map(str, args[1:])])
        assert result.exit_code != 0 and message in result.output, result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
