"""Write a spoken-number corpus in the public corpora's layout:

    DIR/train.csv, DIR/dev.csv, DIR/test.csv     filename,transcription,spk_id,gender,ext,samplerate
                                                 + words,engine,style,rate (what was said, how)
    DIR/train/000000.wav, DIR/test/000007.mp3 ... (filename is relative to the CSV)

train and dev share voices (dev is a held-back sample of them); test uses only the held-out
voices (`voices.is_test_voice`), or every voice of the chosen engines with
`held_out_test=False` (the leave-one-engine-out sets). Every clip is a pure function of
(seed, split, index), so the corpus is the same whatever the number of workers.

A clip says its number fluently or, in the "dictation" style, one word at a time joined with
30-400 ms pauses (phone menus, dictated digits); 1000-1999 are said "тысяча ..." or
"одна тысяча ..." alike. `rate` is the syllables a second from first to last sound.
"""
import re
import subprocess
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf
import torch
from tqdm import tqdm

from normalizer import spoken_forms

from .. import workers
from . import augment, voices
from .numbers import draw_number

SPLITS = ("train", "dev", "test")
COLUMNS = ["filename", "transcription", "spk_id", "gender", "ext", "samplerate", "words", "engine",
           "style", "rate"]
# of train/dev clips, relative
ENGINE_SHARES = {"festival": 0.12, "rutts": 0.3, "espeak": 0.58, "mbrola": 0.2, "rhvoice": 0.3,
                 "kokoro": 0.2}
DICTATION_SHARE = 0.25
BABBLE_ENGINES = ("espeak", "rutts")  # fast to call once per babble voice
PAUSE_S = (0.03, 0.4)  # between dictated words
VOWELS = re.compile("[аеёиоуыэюя]")
RATE = (2.0, 11.0)  # syllables a second that tempo changes may reach: slow dictation to brisk speech
# a raised voice (Clip.high), in each engine's own pitch setting; the engines keep the formants
# (festival and Kokoro have no pitch setting and keep their voices). Without it, the corpus's
# median F0 stays under 350 Hz: espeak's female variants 185 Hz (97th percentile 324), RHVoice's
# 198 (248).
HIGH_PITCH = {"espeak": (75, 100), "mbrola": (75, 100),  # espeak -p 0..99: 99 is ~330 Hz for ru+f3
              "rhvoice": (130, 201),  # % of the voice's own: 150 % is ~310 Hz for anna, 200 % ~420
              "rutts": (80, 151)}  # added to the speaker's voice_pitch (50..300)


@dataclass(frozen=True)
class Clip:
    split: str
    index: int
    number: int
    voice: voices.Voice
    seed: int
    words: tuple[str, ...] = ()
    dictation: bool = False
    engines: tuple[str, ...] = voices.ENGINES  # the corpus's: babble is drawn from them only
    high_pitch: float = 0.0  # the corpus's share of clips said in a raised voice (`high`)

    def rng(self, stream: int) -> np.random.Generator:
        """Stream 0 draws the voice's delivery, stream 1 the augmentation, 2 the babble,
        3 the WORLD voice (augment.draw_revoice), 4 whether the voice is raised, 5 whether it
        is whispered (augment.draw_whisper)."""
        return np.random.default_rng([self.seed, SPLITS.index(self.split), self.index, stream])

    @property
    def high(self) -> bool:
        """Said with the engine's own pitch setting raised (HIGH_PITCH), so that the corpus has
        voices up to 400-500 Hz, as high women's and children's voices are."""
        return self.high_pitch > 0 and self.rng(4).random() < self.high_pitch


def plan(counts: dict[str, int], seed: int, engines=voices.ENGINES,
         held_out_test: bool = True, high_pitch: float = 0.0) -> list[Clip]:
    """Which number each clip says, in which voice and style."""
    everyone = [v for v in voices.all_voices() if v.engine in engines]
    test_pool = [v for v in everyone if voices.is_test_voice(v) or not held_out_test]
    heard = {e: [v for v in everyone if v.engine == e and not voices.is_test_voice(v)] for e in engines}
    heard = {e: vs for e, vs in heard.items() if vs}
    shares = np.array([ENGINE_SHARES[e] for e in heard])
    clips = []
    for s, split in enumerate(SPLITS):
        rng = np.random.default_rng([seed, s, 10**6])
        for i in range(counts.get(split, 0)):
            if split == "test":
                if not test_pool:
                    raise RuntimeError(f"no test voices among the engines {', '.join(engines)}")
                voice = test_pool[rng.integers(len(test_pool))]
            else:
                pool = list(heard.values())[rng.choice(len(heard), p=shares / shares.sum())]
                voice = pool[rng.integers(len(pool))]
            number = draw_number(rng)
            forms = spoken_forms(number)
            words = tuple(forms[rng.integers(len(forms))])
            clips.append(Clip(split, i, number, voice, seed, words, bool(rng.random() < DICTATION_SHARE),
                              tuple(engines), high_pitch))
    return clips


def speaker_rng(voice: voices.Voice, seed: int) -> np.random.Generator:
    """Draws that are the speaker's own: the same for every clip of the voice."""
    return np.random.default_rng([seed, zlib.crc32(voice.spk_id.encode())])


def speaker_style(voice: voices.Voice, seed: int) -> tuple[int, int]:
    """A speaker's own espeak rate (words/min) and pitch (0..99), fixed for the voice."""
    rng = speaker_rng(voice, seed)
    return int(rng.integers(130, 200)), int(rng.integers(25, 75))


def trim(audio: np.ndarray, floor_db: float = 40.0) -> np.ndarray:
    """Cut leading and trailing stretches quieter than `floor_db` below the peak."""
    loud = np.flatnonzero(np.abs(audio) > np.abs(audio).max() * 10 ** (-floor_db / 20))
    return audio[loud[0]:loud[-1] + 1] if len(loud) else audio


def say(voice: voices.Voice, texts: list[str], rng: np.random.Generator, seed: int,
        festival_audio=None, high: bool = False) -> list[tuple[np.ndarray, int]]:
    """Each text in the voice, with this clip's delivery drawn from rng (espeak, ru_tts);
    `high`: in a raised voice (HIGH_PITCH)."""
    if voice.engine == "festival":
        return festival_audio
    if voice.engine == "rutts":
        rate, jitter = float(np.exp(rng.uniform(np.log(60), np.log(230)))), int(rng.integers(-15, 16))
        if high:
            jitter = int(rng.integers(*HIGH_PITCH["rutts"]))
        return [voices.rutts(voice, t, int(rate), jitter) for t in texts]
    if voice.engine == "rhvoice":  # the speaker's own pitch, rate from slow to brisk per clip
        own = speaker_rng(voice, seed).integers(80, 126)  # % of the voice's pitch
        rate = float(np.exp(rng.uniform(np.log(60), np.log(200))))
        pitch = own + rng.integers(-10, 11) if not high else rng.integers(*HIGH_PITCH["rhvoice"])
        return [voices.rhvoice(voice, t, int(rate), int(pitch)) for t in texts]
    if voice.engine == "kokoro":  # rate from slow to brisk per clip (about 3.4-8.5 syllables a second)
        speed = float(np.exp(rng.uniform(np.log(0.8), np.log(1.9))))
        return [voices.kokoro(voice, t, speed) for t in texts]
    rate, pitch = speaker_style(voice, seed)
    rate, pitch = int(rate * rng.uniform(0.7, 1.4)), int(np.clip(pitch + rng.integers(-10, 11), 0, 99))
    if high:
        pitch = int(rng.integers(*HIGH_PITCH[voice.engine]))
    return [voices.espeak(voice, t, rate, pitch) for t in texts]


def join(pieces: list[tuple[np.ndarray, int]], rng: np.random.Generator) -> tuple[np.ndarray, int]:
    """Words said one at a time -> one clip, each word trimmed, 30-400 ms pauses between."""
    sr = pieces[0][1]
    out = []
    for k, (audio, _) in enumerate(pieces):
        if k:
            out.append(np.zeros(int(rng.uniform(*PAUSE_S) * sr), dtype=np.float32))
        out.append(trim(audio))
    return np.concatenate(out), sr


def synthesize(clips: list[Clip]) -> list[tuple[np.ndarray, int]]:
    """Raw TTS audio for each clip (fluent, or dictated word by word); festival clips go
    through one festival process."""
    texts = [list(c.words) if c.dictation else [" ".join(c.words)] for c in clips]
    festival_audio: dict[int, list] = {}
    by_festival = [i for i, c in enumerate(clips) if c.voice.engine == "festival"]
    if by_festival:
        flat = voices.festival(clips[by_festival[0]].voice, [t for i in by_festival for t in texts[i]])
        for i in by_festival:
            festival_audio[i], flat = flat[:len(texts[i])], flat[len(texts[i]):]
    out = []
    for i, c in enumerate(clips):
        rng = c.rng(0)
        pieces = say(c.voice, texts[i], rng, c.seed, festival_audio.get(i), c.high)
        out.append(join(pieces, rng) if c.dictation else pieces[0])
    return out


def babble_for(clip: Clip, n: int, sr: int) -> list[torch.Tensor]:
    """n other numbers in other voices, at `sr`, for mixing under the clip: espeak and ru_tts
    voices of the clip's corpus (else other voices of the clip's own engine; festival has one),
    so that a corpus without an engine never hears it, not even as babble."""
    if not n:  # most clips: no voice list to build
        return []
    others = [v for v in voices.all_voices() if v != clip.voice and v.engine != "festival"]
    pool = ([v for v in others if v.engine in BABBLE_ENGINES and v.engine in clip.engines]
            or [v for v in others if v.engine == clip.voice.engine])
    if not pool:
        return []
    rng = clip.rng(2)
    out = []
    for _ in range(n):
        voice = pool[rng.integers(len(pool))]
        audio, rate = say(voice, [" ".join(spoken_forms(draw_number(rng))[0])], rng, clip.seed)[0]
        out.append(augment.resample_to(torch.from_numpy(audio), rate, sr))
    return out


def write_clip(clip: Clip, audio: np.ndarray, sr: int, root: Path, strength: float,
               revoice: float = 0.0, whisper: float = 0.0) -> dict:
    """Augment one clip's raw audio (a share `revoice` in a new WORLD voice, a share `whisper`
    whispered) and write it."""
    rng = clip.rng(1)
    recipe = augment.draw_revoice(augment.draw_recipe(rng, strength), clip.rng(3), revoice)
    recipe = augment.draw_whisper(recipe, clip.rng(5), whisper)
    syllables = len(VOWELS.findall(" ".join(clip.words)))
    raw_rate = syllables / max(len(trim(audio)) / sr, 1e-3)  # keep the result within RATE
    recipe.tempo = float(np.clip(recipe.tempo, RATE[0] / raw_rate / recipe.speed,
                                 max(RATE[1] / raw_rate / recipe.speed, 1.0)))
    speech_s = len(trim(audio)) / sr / recipe.speed / recipe.tempo
    x = augment.apply(torch.from_numpy(audio), sr, recipe, rng,
                      babble_for(clip, recipe.babble, sr)).numpy()
    ext = {"mp3": "mp3", "opus": "ogg"}.get(recipe.codec, "wav")
    filename = f"{clip.split}/{clip.index:06d}.{ext}"
    path = root / filename
    if recipe.codec == "mp3":
        with tempfile.NamedTemporaryFile(suffix=".wav") as tmp:
            sf.write(tmp.name, x, recipe.sample_rate, subtype="PCM_16")
            subprocess.run(["lame", "--quiet", "-m", "m", "-b", str(recipe.bitrate), tmp.name, str(path)],
                           check=True)
        samplerate = sf.info(str(path)).samplerate
    else:
        subtype = {"ulaw": "ULAW", "alaw": "ALAW", "gsm": "GSM610", "opus": "OPUS"}.get(recipe.codec, "PCM_16")
        sf.write(path, x, recipe.sample_rate, subtype=subtype, format="OGG" if ext == "ogg" else "WAV")
        samplerate = recipe.sample_rate
    return {"filename": filename, "transcription": clip.number, "spk_id": clip.voice.spk_id,
            "gender": clip.voice.gender, "ext": ext, "samplerate": samplerate,
            "words": " ".join(clip.words), "engine": clip.voice.engine,
            "style": "dictation" if clip.dictation else "fluent",
            "rate": round(syllables / max(speech_s, 1e-3), 2)}


def _work(args) -> list[dict]:
    clips, root, strength, revoice, whisper = args
    torch.set_num_threads(1)
    return [write_clip(c, a, sr, root, strength, revoice, whisper)
            for c, (a, sr) in zip(clips, synthesize(clips))]


def generate(root: Path, counts: dict[str, int], seed: int = 0, jobs: int = 2,
             strength: float = 1.0, chunk: int = 64, progress: bool = True,
             engines=voices.ENGINES, held_out_test: bool = True, revoice: float = 0.0,
             high_pitch: float = 0.0, whisper: float = 0.0) -> dict[str, Path]:
    """Make the corpus under `root`; returns {split: csv path}. `revoice`: the share of clips
    said in a new WORLD voice made from the engine's (augment.revoice); `high_pitch`: the share
    said in a raised voice (Clip.high); `whisper`: the share whispered (augment.revoice)."""
    missing = voices.missing_engines(engines)
    if missing:
        raise RuntimeError(f"missing TTS programs: {', '.join(missing)} (run install.sh)")
    root = Path(root)
    clips = plan(counts, seed, engines, held_out_test, high_pitch)
    for split in SPLITS:
        (root / split).mkdir(parents=True, exist_ok=True)
    chunks = [(clips[i:i + chunk], root, strength, revoice, whisper) for i in range(0, len(clips), chunk)]
    rows: list[dict] = []
    bar = tqdm(total=len(clips), desc="synthesizing", unit="clip", disable=not progress)
    with workers.pool(jobs) as pool:
        for done in pool.imap(_work, chunks):
            rows += done
            bar.update(len(done))
    bar.close()
    table = pd.DataFrame(rows, columns=COLUMNS)
    paths = {}
    for split in SPLITS:
        part = table[table["filename"].str.startswith(split + "/")]
        paths[split] = root / f"{split}.csv"
        part.to_csv(paths[split], index=False)
    return paths
