import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
import torch
import torchaudio

from conftest import vowel
from normalizer import WordVocab, spoken_forms, to_words
from seq2seq_asr.corpus import augment, voices
from seq2seq_asr.corpus.respell import SPELLINGS, respell
from seq2seq_asr.corpus.generate import COLUMNS, generate
from seq2seq_asr.corpus.generate import plan as generate_plan
from seq2seq_asr.corpus.numbers import draw_number

needs_tts = pytest.mark.skipif(bool(voices.missing_engines()),
                               reason="TTS engines not installed (run install.sh)")
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
            assert info.samplerate == row.samplerate and 0.5 < info.duration < 12
            assert 1 <= row.transcription <= 999_999 and row.gender in ("male", "female")
            assert row.words.split() in spoken_forms(row.transcription)
            assert row.engine in voices.ENGINES and row.style in ("fluent", "dictation")
            assert 1.5 < row.rate < 20


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
def test_every_voice_of_every_engine_speaks():
    text = " ".join(to_words(231547))
    engines = set()
    for voice in voices.all_voices():
        if voice.engine in ("espeak", "mbrola"):
            audio, sr = voices.espeak(voice, text, rate=170, pitch=50)
        elif voice.engine == "rutts":
            audio, sr = voices.rutts(voice, text, rate=100)
        elif voice.engine == "rhvoice":
            audio, sr = voices.rhvoice(voice, text, rate=100, pitch=100)
        elif voice.engine == "kokoro":
            audio, sr = voices.kokoro(voice, text, speed=1.2)
        else:
            audio, sr = voices.festival(voice, [text])[0]
        engines.add(voice.engine)
        # 15 syllables: 1.5-6 s is 2.5-10 a second; an accent voice that spelled out letters
        # it does not know would take far longer
        assert 1.5 < len(audio) / sr < 6.0, (voice, len(audio) / sr)
        assert np.abs(audio).max() > 0.05 and np.sqrt(np.mean(audio ** 2)) > 0.005, voice
    assert engines == set(voices.ENGINES)


def test_every_number_word_has_a_respelling_in_every_mbrola_language():
    vocab = WordVocab()
    words = {w for i in range(3, len(vocab)) for w in vocab.decode([i])}
    assert len(words) == 41
    for language, table in SPELLINGS.items():
        assert set(table) == words, language
        assert respell("двести тридцать одна тысяча", language).count(" ") == 3
    with pytest.raises(KeyError):
        respell("алло", "cs")


def test_install_sh_installs_every_mbrola_voice():
    script = (Path(__file__).parent.parent / "install.sh").read_text()
    listed = script.split("MBROLA=", 1)[1].split("\n", 1)[0]
    expanded = subprocess.run(["bash", "-c", f"echo {listed.split('#')[0]}"], capture_output=True,
                              text=True, check=True).stdout.split()
    assert set(expanded) == {"mbrola"} | {f"mbrola-{name}" for name, _, _ in voices.MBROLA_VOICES}


@needs_tts
def test_mbrola_voices_have_every_diphone_the_respellings_need():
    """mbrola replaces a diphone its database lacks with silence (and warns): a gap in the word."""
    for name, language, _ in voices.MBROLA_VOICES:
        for word in SPELLINGS[language].values():
            run = subprocess.run(["espeak-ng", "-v", f"mb-{name}", "--stdout", word], capture_output=True)
            assert run.returncode == 0 and b"unknown" not in run.stderr, (name, word, run.stderr[:200])


@needs_tts
def test_a_missing_mbrola_diphone_stops_synthesis(monkeypatch):
    """Rather than a clip with a silent gap where a sound should be (de1 has no word-initial N)."""
    voice = next(v for v in voices.all_voices() if v.name == "mb-de1")
    monkeypatch.setattr(voices, "respell", lambda text, language: "[[N'a]]")
    with pytest.raises(RuntimeError, match="mb-de1 lacks a diphone"):
        voices.espeak(voice, "два", rate=150, pitch=50)


@needs_tts
def test_a_diphone_missing_across_words_is_said_with_a_break():
    """cr1 assimilates ć đ across the words to dZ' dZ', a diphone it lacks; a short break avoids it."""
    voice = next(v for v in voices.all_voices() if v.name == "mb-cr1")
    together, sr = voices.espeak(voice, "двадцать девять", rate=150, pitch=50)
    assert 0.8 < len(together) / sr < 3.0


@needs_tts
def test_rutts_rate_spans_slow_to_brisk():
    voice = next(v for v in voices.all_voices() if v.engine == "rutts")
    text = " ".join(to_words(231547))
    slow, sr = voices.rutts(voice, text, rate=60)
    fast, _ = voices.rutts(voice, text, rate=230)
    assert len(slow) / len(fast) > 2.5


@needs_tts
def test_rhvoice_rate_and_pitch_move():
    import torch
    import torchaudio.functional as AF
    voice = next(v for v in voices.all_voices() if v.spk_id == "rhvoice-irina")
    text = " ".join(to_words(231547))
    slow, sr = voices.rhvoice(voice, text, rate=60, pitch=100)
    fast, _ = voices.rhvoice(voice, text, rate=200, pitch=100)
    assert len(slow) / len(fast) > 2.5
    pitch = lambda p: float(AF.detect_pitch_frequency(  # noqa: E731  median Hz
        torch.from_numpy(voices.rhvoice(voice, text, 100, p)[0])[None], sr).median())
    assert pitch(150) > 1.2 * pitch(80)


@needs_tts
def test_kokoro_has_a_symbol_for_every_number_word_and_its_speed_moves():
    """Every word's phonemes are in Kokoro's vocabulary (an unknown one would be dropped
    silently by a careless reader: here it raises), and speed spans slow to brisk."""
    vocab = WordVocab()
    words = " ".join(w for i in range(3, len(vocab)) for w in vocab.decode([i]))
    voice = next(v for v in voices.all_voices() if v.spk_id == "kokoro-kumo")
    audio, sr = voices.kokoro(voice, words, speed=1.0)  # raises on a symbol it lacks
    assert len(audio) / sr > 10
    text = " ".join(to_words(231547))
    slow, _ = voices.kokoro(voice, text, speed=0.8)
    fast, _ = voices.kokoro(voice, text, speed=1.9)
    assert len(slow) / len(fast) > 1.8
    blend = next(v for v in voices.all_voices() if v.spk_id == "kokoro-alpha-nezumi")
    alone = next(v for v in voices.all_voices() if v.spk_id == "kokoro-alpha")
    assert blend.name == "jf_alpha+jf_nezumi" and blend.gender == alone.gender == "female"
    assert not np.array_equal(voices.kokoro(blend, text, 1.0)[0], voices.kokoro(alone, text, 1.0)[0])


def test_high_pitch_is_its_own_draw():
    """A raised voice is drawn apart from everything else: the plan is the same with or
    without it, about the asked share is raised, and none at 0."""
    plain = generate_plan({"train": 300}, seed=2)
    raised = generate_plan({"train": 300}, seed=2, high_pitch=0.3)
    assert [(c.number, c.voice, c.words, c.dictation) for c in plain] == \
        [(c.number, c.voice, c.words, c.dictation) for c in raised]
    assert not any(c.high for c in plain) and 0.2 < np.mean([c.high for c in raised]) < 0.4


@needs_tts
@pytest.mark.parametrize("spk_id", ["espeak-ru-f3", "mbrola-de2", "rhvoice-anna", "rutts-female-a"])
def test_a_raised_voice_is_higher(spk_id):
    from seq2seq_asr.corpus.generate import say
    voice = next(v for v in voices.all_voices() if v.spk_id == spk_id)
    text = [" ".join(to_words(231547))]

    def f0(high):  # median Hz, the same delivery draws but the pitch
        audio, sr = say(voice, text, np.random.default_rng(0), 0, high=high)[0]
        return _median_f0(torch.from_numpy(audio), sr)
    assert f0(True) > 1.15 * f0(False)


@needs_tts
def test_dictation_and_one_thousand_forms(corpus):
    tables = pd.concat([pd.read_csv(corpus / f"{s}.csv") for s in COUNTS])
    plan = generate_plan({"train": 400}, seed=3)
    assert 0.15 < np.mean([c.dictation for c in plan]) < 0.35
    thousand = [c for c in plan if 1000 <= c.number <= 1999]
    assert {c.words[0] for c in thousand} == {"одна", "тысяча"}
    assert set(tables["style"]) <= {"fluent", "dictation"}


def test_leave_one_engine_out_plans():
    plan = generate_plan({"train": 200, "test": 50}, seed=1, engines=("espeak", "festival"),
                         held_out_test=True)
    assert {c.voice.engine for c in plan} == {"espeak", "festival"}
    rutts_only = generate_plan({"test": 60}, seed=1, engines=("rutts",), held_out_test=False)
    assert {c.voice.engine for c in rutts_only} == {"rutts"}
    assert len({c.voice.spk_id for c in rutts_only}) == 8  # every ru_tts speaker, held out or not


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


def test_the_phase_vocoder_window_never_lasts_longer_than_32_ms():
    """At ru_tts's 10 kHz a 512-sample window lasts 51 ms and smears every consonant; the engines
    at 16-24 kHz keep the 512 samples they always had."""
    for sr in (8000, 10000, 11025, 16000, 22050, 24000, 48000):
        assert augment.vocoder_fft(sr) / sr <= 0.032
    assert augment.vocoder_fft(10000) == 256
    assert [augment.vocoder_fft(sr) for sr in (16000, 22050, 24000, 48000)] == [512] * 4


def test_augmentation_recipe_is_applied():
    sr = 22050
    tone = torch.sin(torch.arange(sr) * 2 * torch.pi * 220 / sr) * 0.5
    rng = np.random.default_rng(1)
    for _ in range(20):
        recipe = augment.draw_recipe(rng)
        out = augment.apply(tone, sr, recipe, rng)
        expected = (1 / recipe.speed / recipe.tempo + recipe.lead_s + recipe.trail_s) * recipe.sample_rate
        assert abs(len(out) - expected) < 0.02 * recipe.sample_rate
        assert out.abs().max() <= 1.0 and torch.isfinite(out).all()
    clean = augment.apply(tone, sr, augment.draw_recipe(rng, strength=0.0), rng)
    assert clean.abs().max() > 0.3
    assert augment.pitch(tone, sr, 3.0).shape[0] == pytest.approx(sr, rel=0.01)
    assert augment.tempo(tone, sr, 1.6).shape[0] == pytest.approx(sr / 1.6, rel=0.02)
    slow_rate = augment.resample_to(tone, sr, 10000)
    assert augment.tempo(slow_rate, 10000, 1.6).shape[0] == pytest.approx(10000 / 1.6, rel=0.02)
    bright = augment.equalize(tone, sr, [(220.0, 12.0, 1.0)], 6.0)
    assert torch.isfinite(bright).all() and bright.abs().max() <= 0.91
    mixed = augment.babble(tone, [tone[:1000] * 3], 10.0, rng)
    assert mixed.shape == tone.shape and not torch.equal(mixed, tone)


def test_codecs_write_files_the_reader_reads(tmp_path):
    from seq2seq_asr.audio import load_audio
    from seq2seq_asr.corpus.generate import Clip, write_clip
    voice = voices.all_voices()[0]
    sr = 16000
    speech = np.sin(np.arange(sr) * 2 * np.pi * 300 / sr).astype(np.float32) * 0.5
    (tmp_path / "train").mkdir()
    seen = set()
    for index in range(60):
        clip = Clip("train", index, 5, voice, 0, ("пять",), False)
        row = write_clip(clip, speech, sr, tmp_path, 1.0)
        seen.add(row["ext"])
        assert len(load_audio(tmp_path / row["filename"])) > 0.5 * 16000
    assert {"wav", "mp3", "ogg"} <= seen


def _median_f0(x: torch.Tensor, sr: int) -> float:
    """The median F0 at the clip's own rate (audio.median_f0 reads 16 kHz audio only)."""
    import pyworld
    from seq2seq_asr.audio import voiced_median
    f0, _ = pyworld.dio(x.double().numpy(), sr)
    return voiced_median(f0)


def _centroid(x: torch.Tensor, sr: int) -> float:
    power = torch.fft.rfft(x).abs() ** 2
    return float((torch.fft.rfftfreq(len(x), 1 / sr) * power).sum() / power.sum())


def test_revoice_changes_pitch_and_formants_and_keeps_the_length():
    sr = 16000
    speech = vowel(sr)
    same = augment.revoice(speech, sr)
    assert same.shape == speech.shape and torch.isfinite(same).all()
    assert same.abs().max() == pytest.approx(0.9, abs=1e-3)
    assert _median_f0(same, sr) == pytest.approx(120, rel=0.05)
    higher = augment.revoice(speech, sr, pitch=1.5)
    assert _median_f0(higher, sr) == pytest.approx(180, rel=0.05)
    shorter_tract = augment.revoice(speech, sr, formant=1.2)
    assert _centroid(shorter_tract, sr) > 1.1 * _centroid(same, sr)
    breathy = augment.revoice(speech, sr, breath=2.5)
    assert not torch.allclose(breathy, same, atol=1e-2)


def test_revoice_is_its_own_draw():
    """The WORLD voice comes from a generator of its own: the rest of a recipe is the same with
    it or without it, and a share of 0 never revoices."""
    for seed in range(30):
        plain = augment.draw_recipe(np.random.default_rng(seed))
        drawn = augment.draw_revoice(augment.draw_recipe(np.random.default_rng(seed)),
                                     np.random.default_rng([seed, 3]), 0.5)
        others = {k: v for k, v in drawn.to_dict().items() if not k.startswith(("revoice", "voice_"))}
        assert others == {k: v for k, v in plain.to_dict().items() if k in others}
        assert not augment.draw_revoice(augment.draw_recipe(np.random.default_rng(seed)),
                                        np.random.default_rng(seed), 0.0).revoice
    shares = [augment.draw_revoice(augment.Recipe(), np.random.default_rng(s), 0.4).revoice
              for s in range(400)]
    assert 0.3 < np.mean(shares) < 0.5
    r = augment.draw_revoice(augment.Recipe(), np.random.default_rng(1), 1.0)
    assert r.revoice and 0.7 <= r.voice_pitch <= 1.5 and 0.85 <= r.voice_formant <= 1.2


def test_a_whisper_has_no_voicing_and_keeps_the_formants():
    import pyworld
    sr = 16000
    speech = vowel(sr)
    whisper = augment.revoice(speech, sr, whisper=True)
    assert whisper.shape == speech.shape and torch.isfinite(whisper).all()
    voiced = lambda x: float((pyworld.dio(x.double().numpy(), sr)[0] > 0).mean())  # noqa: E731
    assert voiced(speech) > 0.8 and voiced(whisper) < 0.2
    assert _centroid(whisper, sr) == pytest.approx(_centroid(speech, sr), rel=0.5)
    shares = [augment.draw_whisper(augment.Recipe(), np.random.default_rng(s), 0.3).voice_whisper
              for s in range(400)]
    assert 0.2 < np.mean(shares) < 0.4
    drawn = augment.draw_whisper(augment.Recipe(), np.random.default_rng(0), 1.0)
    assert drawn.revoice and drawn.voice_whisper and drawn.voice_pitch == 1.0


def test_mix_points_at_the_same_audio_and_samples_by_seed(tmp_path):
    from seq2seq_asr.corpus.mix import mix
    for name, n in (("a", 6), ("b", 10)):
        (tmp_path / name / "train").mkdir(parents=True)
        pd.DataFrame({"filename": [f"train/{i}.wav" for i in range(n)], "transcription": range(1, n + 1),
                      "engine": name}).to_csv(tmp_path / name / "train.csv", index=False)
        for i in range(n):
            (tmp_path / name / "train" / f"{i}.wav").write_bytes(b"x")
    out = tmp_path / "mixed" / "deep" / "train.csv"
    table = mix(out, [(tmp_path / "a" / "train.csv", None), (tmp_path / "b" / "train.csv", 4)], seed=3)
    assert len(table) == 10 and list(table.engine).count("b") == 4
    assert all((out.parent / f).resolve().is_file() for f in pd.read_csv(out)["filename"])
    again = mix(tmp_path / "again.csv", [(tmp_path / "a" / "train.csv", None), (tmp_path / "b" / "train.csv", 4)], seed=3)
    assert list(again.transcription) == list(table.transcription)  # same seed, same rows
    other = mix(tmp_path / "other.csv", [(tmp_path / "b" / "train.csv", 4)], seed=4)
    assert list(other.transcription) != list(table.transcription[6:])


def test_babble_comes_only_from_the_corpus_engines(monkeypatch):
    """A corpus that leaves an engine out must not hear it even as babble under other clips."""
    from seq2seq_asr.corpus import generate as gen
    heard = []

    def fake_say(voice, texts, rng, seed, festival_audio=None):
        heard.append(voice.engine)
        return [(np.zeros(1600, dtype=np.float32), 16000)]

    monkeypatch.setattr(gen, "say", fake_say)
    for engines, allowed in [(("espeak", "festival"), {"espeak"}), (("rutts",), {"rutts"}),
                             (("rhvoice", "mbrola"), {"rhvoice", "mbrola"}),  # each its own engine
                             (voices.ENGINES, {"espeak", "rutts"})]:
        heard.clear()
        for clip in gen.plan({"train": 30}, seed=2, engines=engines):
            gen.babble_for(clip, 3, 16000)
        assert heard and set(heard) <= allowed, (engines, set(heard))


PACK_AFTER_THREADED_TORCH = """
import sys
from pathlib import Path
import torch
from seq2seq_asr.audio import load_audio, log_mel
from seq2seq_asr.corpus.pack import pack
torch.set_num_threads(2)
fixtures = Path(sys.argv[1])
for _ in range(3):  # the caller's OpenMP team is up before the pool forks
    log_mel(load_audio(fixtures / "clips" / "espeak-ru-Henrique.wav"))
    torch.nn.functional.conv1d(torch.randn(4, 1, 16000), torch.randn(8, 1, 64))
pack(Path(sys.argv[2]), [fixtures / "clips.csv"], kbps=16, part_mb=0.012, jobs=2)
"""


def test_pack_finishes_when_the_caller_already_ran_torch_on_several_threads(tmp_path):
    # Forked workers once hung for good in their first convolution (libgomp's thread pool
    # does not survive fork); they now run on one thread each.
    fixtures = Path(__file__).parent / "fixtures"
    run = subprocess.run([sys.executable, "-c", PACK_AFTER_THREADED_TORCH, str(fixtures), str(tmp_path)],
                         capture_output=True, text=True, timeout=120, cwd=fixtures.parents[1])
    assert run.returncode == 0, run.stderr
    assert len(pd.read_csv(tmp_path / "clips.csv")) == len(pd.read_csv(fixtures / "clips.csv"))


def test_pack_reencodes_as_opus_in_size_limited_parts_and_reports_bad_rows(tmp_path, capsys):
    from seq2seq_asr.audio import load_audio, log_mel
    from seq2seq_asr.corpus.pack import pack
    fixtures = Path(__file__).parent / "fixtures"
    table = pd.read_csv(fixtures / "clips.csv", dtype=str).head(4)
    table.loc[len(table)] = ["clips/missing.wav", "5", "nobody", "male", "wav", "16000"]
    source = tmp_path / "src" / "train.csv"
    source.parent.mkdir()
    (source.parent / "clips").symlink_to(fixtures / "clips")
    table.to_csv(source, index=False)
    (packed,) = pack(tmp_path / "out", [source], kbps=16, part_mb=0.012, jobs=2)
    assert "row 6 (clips/missing.wav): file not found; left out" in capsys.readouterr().err
    written = pd.read_csv(tmp_path / "out" / "train.csv", dtype=str)
    assert list(written.transcription) == list(table.transcription[:4]) == list(packed.transcription)
    assert set(written.ext) == {"ogg"} and set(written.samplerate) == {"16000"}
    parts = sorted((tmp_path / "out").glob("part*"))
    assert len(parts) > 1 and all(sum(f.stat().st_size for f in p.iterdir()) <= 12_000 or
                                  len(list(p.iterdir())) == 1 for p in parts)
    for old, new in zip(table.filename[:4], written.filename):
        before, after = log_mel(load_audio(source.parent / old)), log_mel(load_audio(tmp_path / "out" / new))
        assert abs(len(before) - len(after)) <= 2  # same length; the codec changes the detail only
        assert (tmp_path / "out" / new).stat().st_size < (fixtures / old).stat().st_size
