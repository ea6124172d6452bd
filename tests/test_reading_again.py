"""Reading doubtful clips again: slowed down or sped up, formants moved, the most confident
reading kept (transcribe.decode_features)."""
import math
import sys
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

import seq2seq_asr
from normalizer import WordVocab
from seq2seq_asr import transcribe
from seq2seq_asr.cli import main as cli_main
from seq2seq_asr.data import pad_feats
from seq2seq_asr.decoding import Hypothesis, greedy_decode
from seq2seq_asr.model import ModelConfig, Recognizer
from seq2seq_asr.transcribe import Options, decode_features

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.readings import answer_scores  # noqa: E402

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
    out = decode_features(None, None, feats, Options(tempos=(0.8, 1.25, 0.5), warps=(), retry_below=0.8))
    assert fake_decoder == [[100, 80, 13], [100]]  # the 80-frame clip slowed to 0.8: sure, no more
    assert [out[0].number, out[1].number, out[2]] == [100, 100, "the model failed"]
    assert out[1].confidence == 1.0  # slowed to 0.8: 100 frames, the surest


def test_readings_go_tempo_by_tempo_then_warp_by_warp_until_one_is_sure(fake_decoder):
    options = Options(tempos=(0.8, 0.5), warps=(1.1,), retry_below=0.8)
    assert transcribe.readings(options) == [(0.8, 1.0), (0.5, 1.0), (1.0, 1.1), (0.8, 1.1), (0.5, 1.1)]
    out = decode_features(None, None, [torch.zeros(50, 64), torch.zeros(20, 64)], options)
    # 50 frames: doubtful, at 0.8 still (62), sure at 0.5 (100); 20 frames: doubtful at every
    # reading (25, 40, then the warps at every tempo), so read at all five
    assert fake_decoder == [[50, 20], [62, 25], [100, 40], [20], [25], [40]]
    assert out[0].number == 100 and out[1].number == 40


def test_no_tempos_and_no_warps_is_one_pass(fake_decoder):
    out = decode_features(None, None, [torch.zeros(80, 64)], Options(tempos=(), warps=()))
    assert fake_decoder == [[80]] and out[0].number == 80


def test_a_worse_reading_never_replaces_a_better_one(fake_decoder):
    options = Options(tempos=(0.5, 2.0), warps=(), retry_below=1.0)
    out = decode_features(None, None, [torch.zeros(95, 64)], options)
    assert fake_decoder == [[95], [190], [48]] and out[0].number == 95


def test_warps_move_the_formants(monkeypatch):
    """A stand-in that hears band 40's value and is surest where it is lowest: of the warps,
    the one that moves the spectrum up most (the largest) wins; the tempos change no band.
    Every warp is tried at every tempo too."""
    calls = []

    def decode(model, vocab, feats, options):
        calls.append(len(feats))
        return [Hypothesis([], round(float(f[0, 40]) * 100), 1 / (1 + float(f[0, 40])), 0.0) for f in feats]

    monkeypatch.setattr(transcribe, "_decode_batched", decode)
    bands = torch.arange(64.0).expand(50, 64) / 64  # band k holds k / 64
    out = decode_features(None, None, [bands], Options(tempos=(0.8,), warps=(0.9, 1.1, 1.2), retry_below=1.0))
    assert calls == [1] * 8  # the first reading, then (1 + one tempo) x (1 + three warps) - 1
    assert out[0].number == round(float(transcribe.vtlp(bands, 1.2)[0, 40]) * 100) < round(40 / 64 * 100)


def test_reading_again_with_the_shipped_model():
    """Off, one pass; on with every clip doubtful (retry_below above 1), every reading is at
    least as confident as without, and each answer is one of the readings made."""
    plain = seq2seq_asr.load(tempos=(), warps=())
    searching = seq2seq_asr.load(tempos=(0.8, 1.2), warps=(1.1,))
    searching.options.retry_below = 1.01
    clips = sorted((FIXTURES / "rutts").iterdir())[:4]
    before, after = plain.transcribe(clips), searching.transcribe(clips)
    for b, a in zip(before, after):
        assert a.ok and a.confidence >= b.confidence
    feats = [plain.features(c)[0] for c in clips]
    readings = {r.number for t in (1.0, 0.8, 1.2) for w in (1.0, 1.1) for r in plain.decode(
        [str(c) for c in clips], [transcribe.vtlp(transcribe.stretch(f, t), w) for f in feats])}
    assert {r.number for r in after} <= readings


def test_cli_tempos_and_warps_options():
    runner = CliRunner()
    clip = str(sorted((FIXTURES / "clips").iterdir())[0])
    assert runner.invoke(cli_main, [clip, "--tempos", "none", "--warps", "none"]).exit_code == 0
    assert runner.invoke(cli_main, [clip, "--tempos", "0.8,1.2", "--warps", "1.1"]).exit_code == 0
    for option, bad in (("--tempos", "fast"), ("--tempos", "0.8,9"), ("--warps", "3")):
        result = runner.invoke(cli_main, [clip, option, bad])
        assert result.exit_code == 2 and option in result.output
    with pytest.raises(ValueError, match="tempos"):
        seq2seq_asr.load(tempos=(0.1,))
    with pytest.raises(ValueError, match="warps"):
        seq2seq_asr.load(warps=(0,))


def test_an_answer_scored_again_gets_the_log_probabilities_decoding_gave_it():
    """benchmarks/readings.py scores answers under readings: the greedy answer, scored under the
    features it was decoded from, gets back the attention and CTC log-probabilities behind its
    confidence, and an answer scores the same in a padded batch as alone."""
    vocab = WordVocab()
    torch.manual_seed(0)
    model = Recognizer(ModelConfig(vocab_size=len(vocab), enc_hidden=32, dec_hidden=48)).eval()
    feats = [torch.randn(n, 64) * 3 for n in (120, 90, 60)]
    hyps = greedy_decode(model, *pad_feats(feats), vocab)
    chosen = [tuple(vocab.index[w] for w in h.words) for h in hyps]
    other = (vocab.index["два"],) if hyps[2].words != ["два"] else (vocab.index["три"],)
    scores = answer_scores(model, vocab, feats, [[chosen[0]], [chosen[1]], [chosen[2], other]])
    for h, ids, s in zip(hyps, chosen, scores):
        attention, ctc = s[ids]
        assert math.isclose(math.exp((attention + ctc) / 2), h.confidence, rel_tol=1e-4)
    alone = answer_scores(model, vocab, [feats[2]], [[other]])[0][other]  # the shortest clip, unpadded
    assert all(math.isclose(a, b, rel_tol=1e-4) for a, b in zip(alone, scores[2][other]))
