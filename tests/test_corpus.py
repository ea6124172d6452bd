import numpy as np
import pandas as pd
import pytest
import soundfile as sf
import torch

from normalizer import to_words
from seq2seq_asr.corpus import augment, voices
from seq2seq_asr.corpus.generate import COLUMNS, generate
from seq2seq_asr.corpus.numbers import draw_number

needs_tts = pytest.mark.skipif(bool(voices.missing_engines()),
                               reason="espeak-ng/festival not installed (run install.sh)")
COUNTS = {"train": 10, "dev": 4, "test": 6}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    generate(root, COUNTS, seed=7, jobs=2, chunk=4, progress=False)
    return root


@needs_tts
def test_layout_of_the_public_corpora(corpus):
    for split, count in COUNTS.items():
        table = pd.read_csv(corpus / f"{split}.csv")
        assert list(table.columns) == COLUMNS and len(table) == count
        for row in table.itertuples():
            info = sf.info(str(corpus / row.filename))
            assert row.filename.startswith(f"{split}/") and row.filename.endswith("." + row.ext)
            assert info.samplerate == row.samplerate and 0.5 < info.duration < 8
            assert 1 <= row.transcription <= 999_999 and row.gender in ("male", "female")


@needs_tts
def test_test_voices_are_never_heard_in_train_or_dev(corpus):
    spk = {s: set(pd.read_csv(corpus / f"{s}.csv")["spk_id"]) for s in COUNTS}
    held_out = {v.spk_id for v in voices.all_voices() if voices.is_test_voice(v)}
    assert spk["test"] <= held_out
    assert not (spk["train"] | spk["dev"]) & held_out


@needs_tts
def test_same_seed_same_corpus(corpus, tmp_path):
    generate(tmp_path, COUNTS, seed=7, jobs=1, chunk=20, progress=False)
    for split in COUNTS:
        a, b = pd.read_csv(corpus / f"{split}.csv"), pd.read_csv(tmp_path / f"{split}.csv")
        pd.testing.assert_frame_equal(a, b)
        for name in a["filename"]:
            x, _ = sf.read(str(corpus / name))
            y, _ = sf.read(str(tmp_path / name))
            assert np.array_equal(x, y), name


@needs_tts
def test_every_voice_speaks():
    text = " ".join(to_words(231547))
    for voice in voices.all_voices():
        if voice.engine == "espeak":
            audio, sr = voices.espeak(voice, text, rate=170, pitch=50)
        else:
            audio, sr = voices.festival(voice, [text])[0]
        assert 1.0 < len(audio) / sr < 8.0, voice
        assert np.abs(audio).max() > 0.05 and np.sqrt(np.mean(audio ** 2)) > 0.005, voice


def test_numbers_cover_the_range_and_weigh_the_hard_cases():
    rng = np.random.default_rng(0)
    numbers = np.array([draw_number(rng) for _ in range(5000)])
    assert numbers.min() >= 1 and numbers.max() <= 999_999
    assert (numbers < 1000).mean() > 0.2  # uniform over 1..999999 would give 0.1 %
    assert ((numbers >= 1000) & (numbers < 2000)).mean() > 0.08
    assert (numbers % 1000 == 0).mean() > 0.05
    assert numbers.max() > 900_000
    again = np.random.default_rng(0)
    assert [draw_number(again) for _ in range(50)] == numbers[:50].tolist()


def test_augmentation_recipe_is_applied():
    sr = 22050
    tone = torch.sin(torch.arange(sr) * 2 * torch.pi * 220 / sr) * 0.5
    rng = np.random.default_rng(1)
    for _ in range(20):
        recipe = augment.draw_recipe(rng)
        out = augment.apply(tone, sr, recipe, rng)
        expected = (1 / recipe.speed + recipe.lead_s + recipe.trail_s) * recipe.sample_rate
        assert abs(len(out) - expected) < 0.02 * recipe.sample_rate
        assert out.abs().max() <= 1.0 and torch.isfinite(out).all()
    clean = augment.apply(tone, sr, augment.draw_recipe(rng, strength=0.0), rng)
    assert clean.abs().max() > 0.3
    assert augment.pitch(tone, 3.0).shape[0] == pytest.approx(sr, rel=0.01)
