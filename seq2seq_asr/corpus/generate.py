"""Write a spoken-number corpus in the public corpora's layout:

    DIR/train.csv, DIR/dev.csv, DIR/test.csv     filename,transcription,spk_id,gender,ext,samplerate
    DIR/train/000000.wav, DIR/test/000007.mp3 ... (filename is relative to the CSV)

train and dev share voices (dev is a held-back sample of them); test uses only the
held-out voices of `voices.TEST_VARIANTS`. Every clip is a pure function of
(seed, split, index), so the corpus is the same whatever the number of workers.
"""
import subprocess
import tempfile
import zlib
from dataclasses import dataclass
from multiprocessing import Pool
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf
import torch
from tqdm import tqdm

from normalizer import to_words

from . import augment, voices
from .numbers import draw_number

SPLITS = ("train", "dev", "test")
COLUMNS = ["filename", "transcription", "spk_id", "gender", "ext", "samplerate"]
FESTIVAL_SHARE = 0.12  # share of train/dev clips in the one recorded (festival) voice


@dataclass(frozen=True)
class Clip:
    split: str
    index: int
    number: int
    voice: voices.Voice
    seed: int

    def rng(self, stream: int) -> np.random.Generator:
        """Stream 0 draws the voice's delivery, stream 1 the augmentation."""
        return np.random.default_rng([self.seed, SPLITS.index(self.split), self.index, stream])


def plan(counts: dict[str, int], seed: int) -> list[Clip]:
    """Which number each clip says and in which voice."""
    everyone = voices.all_voices()
    held_out = [v for v in everyone if voices.is_test_voice(v)]
    heard = [v for v in everyone if not voices.is_test_voice(v)]
    festival = [v for v in heard if v.engine == "festival"]
    espeak = [v for v in heard if v.engine == "espeak"]
    clips = []
    for s, split in enumerate(SPLITS):
        rng = np.random.default_rng([seed, s, 10**6])
        for i in range(counts.get(split, 0)):
            if split == "test":
                voice = held_out[rng.integers(len(held_out))]
            elif rng.random() < FESTIVAL_SHARE:
                voice = festival[rng.integers(len(festival))]
            else:
                voice = espeak[rng.integers(len(espeak))]
            clips.append(Clip(split, i, draw_number(rng), voice, seed))
    return clips


def speaker_style(voice: voices.Voice, seed: int) -> tuple[int, int]:
    """A speaker's own espeak rate (words/min) and pitch (0..99), fixed for the voice."""
    rng = np.random.default_rng([seed, zlib.crc32(voice.spk_id.encode())])
    return int(rng.integers(130, 200)), int(rng.integers(25, 75))


def synthesize(clips: list[Clip]) -> list[tuple[np.ndarray, int]]:
    """Raw TTS audio for each clip; festival clips go through one festival process."""
    texts = [" ".join(to_words(c.number)) for c in clips]
    out: list = [None] * len(clips)
    by_festival = [i for i, c in enumerate(clips) if c.voice.engine == "festival"]
    if by_festival:
        audio = voices.festival(clips[by_festival[0]].voice, [texts[i] for i in by_festival])
        for i, a in zip(by_festival, audio):
            out[i] = a
    for i, c in enumerate(clips):
        if c.voice.engine == "espeak":
            rate, pitch = speaker_style(c.voice, c.seed)
            rng = c.rng(0)
            out[i] = voices.espeak(c.voice, texts[i], int(rate * rng.uniform(0.85, 1.15)),
                                   int(np.clip(pitch + rng.integers(-10, 11), 0, 99)))
    return out


def write_clip(clip: Clip, audio: np.ndarray, sr: int, root: Path, strength: float) -> dict:
    rng = clip.rng(1)
    recipe = augment.draw_recipe(rng, strength)
    x = augment.apply(torch.from_numpy(audio), sr, recipe, rng).numpy()
    ext = "mp3" if recipe.mp3 else "wav"
    filename = f"{clip.split}/{clip.index:06d}.{ext}"
    path = root / filename
    if recipe.mp3:
        with tempfile.NamedTemporaryFile(suffix=".wav") as tmp:
            sf.write(tmp.name, x, recipe.sample_rate, subtype="PCM_16")
            bitrate = "32" if recipe.sample_rate <= 16000 else "64"
            subprocess.run(["lame", "--quiet", "-m", "m", "-b", bitrate, tmp.name, str(path)],
                           check=True)
        samplerate = sf.info(str(path)).samplerate
    else:
        sf.write(path, x, recipe.sample_rate, subtype="PCM_16")
        samplerate = recipe.sample_rate
    return {"filename": filename, "transcription": clip.number, "spk_id": clip.voice.spk_id,
            "gender": clip.voice.gender, "ext": ext, "samplerate": samplerate}


def _work(args) -> list[dict]:
    clips, root, strength = args
    torch.set_num_threads(1)
    return [write_clip(c, a, sr, root, strength) for c, (a, sr) in zip(clips, synthesize(clips))]


def generate(root: Path, counts: dict[str, int], seed: int = 0, jobs: int = 2,
             strength: float = 1.0, chunk: int = 64, progress: bool = True) -> dict[str, Path]:
    """Make the corpus under `root`; returns {split: csv path}."""
    missing = voices.missing_engines()
    if missing:
        raise RuntimeError(f"missing TTS programs: {', '.join(missing)} (run install.sh)")
    root = Path(root)
    clips = plan(counts, seed)
    for split in SPLITS:
        (root / split).mkdir(parents=True, exist_ok=True)
    chunks = [(clips[i:i + chunk], root, strength) for i in range(0, len(clips), chunk)]
    rows: list[dict] = []
    bar = tqdm(total=len(clips), desc="synthesizing", unit="clip", disable=not progress)
    with Pool(jobs) as pool:
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
