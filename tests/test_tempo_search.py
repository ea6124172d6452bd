"""Tempo search: a doubtful clip is read again slowed down or sped up, the most confident
reading kept (transcribe.decode_features)."""
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

import seq2seq_asr
from seq2seq_asr import transcribe
from seq2seq_asr.cli import main as cli_main
from seq2seq_asr.decoding import Hypothesis
from seq2seq_asr.transcribe import Options, decode_features

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def fake_decoder(monkeypatch):
    """A stand-in for the model: it hears the number `frames` and is surest at 100 frames;
    a clip of 13 frames fails. Records the frame counts of every batch it is given."""
    calls = []

    def decode(model, vocab, feats, options):
        calls.append([len(f) for f in feats])
        return ["the model failed" if len(f) == 13 else
                Hypothesis([], len(f), 1 / (1 + abs(len(f) - 100) / 10), 0.0) for f in feats]

    monkeypatch.setattr(transcribe, "_decode_batched", decode)
    return calls


def test_only_doubtful_clips_are_heard_again_and_the_surest_reading_wins(fake_decoder):
    feats = [torch.zeros(n, 64) for n in (100, 80, 13)]  # sure, doubtful, failing
    out = decode_features(None, None, feats, Options(tempos=(0.8, 1.25, 0.5), retry_below=0.8))
    assert fake_decoder == [[100, 80, 13], [100], [64], [160]]  # the 80-frame clip at each tempo
    assert [out[0].number, out[1].number, out[2]] == [100, 100, "the model failed"]
    assert out[1].confidence == 1.0  # slowed to 0.8: 100 frames, the surest


def test_no_tempos_is_one_pass(fake_decoder):
    out = decode_features(None, None, [torch.zeros(80, 64)], Options(tempos=()))
    assert fake_decoder == [[80]] and out[0].number == 80


def test_a_worse_reading_never_replaces_a_better_one(fake_decoder):
    out = decode_features(None, None, [torch.zeros(95, 64)], Options(tempos=(0.5, 2.0), retry_below=1.0))
    assert fake_decoder == [[95], [190], [48]] and out[0].number == 95


def test_tempo_search_with_the_shipped_model():
    """Off, one pass; on with every clip doubtful (retry_below above 1), every reading is at
    least as confident as without, and each answer is one of the readings made."""
    plain = seq2seq_asr.load(tempos=())
    searching = seq2seq_asr.load(tempos=(0.8, 1.2))
    searching.options.retry_below = 1.01
    clips = sorted((FIXTURES / "rutts").iterdir())[:4]
    before, after = plain.transcribe(clips), searching.transcribe(clips)
    for b, a in zip(before, after):
        assert a.ok and a.confidence >= b.confidence
    assert {r.number for r in after} <= {r.number for r in before} | {
        r.number for t in (0.8, 1.2) for r in _at_tempo(plain, clips, t)}


def _at_tempo(model, clips, tempo):
    feats = [transcribe.stretch(model.features(c)[0], tempo) for c in clips]
    return model.decode([str(c) for c in clips], feats)


def test_cli_tempos_option():
    runner = CliRunner()
    clip = str(sorted((FIXTURES / "clips").iterdir())[0])
    assert runner.invoke(cli_main, [clip, "--tempos", "none"]).exit_code == 0
    assert runner.invoke(cli_main, [clip, "--tempos", "0.8,1.2"]).exit_code == 0
    for bad in ("fast", "0.8,9"):
        result = runner.invoke(cli_main, [clip, "--tempos", bad])
        assert result.exit_code == 2 and "tempo" in result.output
    with pytest.raises(ValueError, match="tempos"):
        seq2seq_asr.load(tempos=(0.1,))
