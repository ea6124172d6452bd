"""Offline Russian TTS voices: espeak-ng (formant synthesis, many variants) and festival's
recorded voice msu_ru_nsh (clunits). Each voice is one speaker id with its gender.

Tried and not usable offline (see README): RHVoice from PyPI (rhvoice-wrapper-bin clones
its sources from GitHub at build time), Piper (its Russian voices are fetched from a model
hub; no registry package bundles one).
"""
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

# espeak-ng variants whose files declare a gender. Robotic ones (Demonic, UniRobot) left out.
ESPEAK_FEMALE = ["Alicia", "Andrea", "Annie", "anika", "aunty", "belinda", "f1", "f2", "f3",
                 "f4", "f5", "grandma", "linda", "steph", "steph2", "steph3", "whisperf"]
ESPEAK_MALE = ["Andy", "AnxiousAndy", "Denis", "Diogo", "Henrique", "Hugo", "Lee", "Marco",
               "Storm", "antonio", "croak", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8",
               "michel", "miguel", "sandro", "travis", "victor", "whisper"]
# Held out for the test split: these variants are never heard in train or dev.
TEST_VARIANTS = {"f3", "steph3", "belinda", "Annie", "m3", "m6", "Henrique", "victor", "Marco"}
ESPEAK_LANGUAGES = ["ru", "ru-lv"]  # Russian, and Russian with a Latvian accent


@dataclass(frozen=True)
class Voice:
    spk_id: str
    gender: str  # "male" or "female"
    engine: str  # "espeak" or "festival"
    name: str  # espeak "ru+f3", festival "voice_msu_ru_nsh_clunits"


def all_voices() -> list[Voice]:
    voices = [Voice("festival-msu_ru_nsh", "male", "festival", "voice_msu_ru_nsh_clunits")]
    for lang in ESPEAK_LANGUAGES:
        for gender, variants in (("female", ESPEAK_FEMALE), ("male", ESPEAK_MALE)):
            voices += [Voice(f"espeak-{lang}-{v}", gender, "espeak", f"{lang}+{v}") for v in variants]
    return voices


def is_test_voice(voice: Voice) -> bool:
    return voice.engine == "espeak" and voice.name.split("+")[1] in TEST_VARIANTS


def missing_engines() -> list[str]:
    """Programs the voices need that are not on PATH."""
    return [p for p in ("espeak-ng", "text2wave") if shutil.which(p) is None]


def espeak(voice: Voice, text: str, rate: int, pitch: int) -> tuple[np.ndarray, int]:
    """Synthesize with espeak-ng. rate in words per minute (80..450), pitch 0..99.
    Returns (samples float32 in [-1, 1], sample rate)."""
    wav = subprocess.run(["espeak-ng", "-v", voice.name, "-s", str(rate), "-p", str(pitch),
                          "--stdout", text], check=True, capture_output=True).stdout
    with tempfile.SpooledTemporaryFile() as f:
        f.write(_fix_wav_sizes(wav))
        f.seek(0)
        audio, sr = sf.read(f, dtype="float32")
    return audio, sr


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
