"""The judge for voices never heard: leave one engine out.

    python benchmarks/cross_engine.py [--work data/cross_engine] [--train 6000 --epochs 10]
    python benchmarks/cross_engine.py --corpus data/corpus2 --recipe long --epochs 20 --schedule cosine --stretch 0.2
    python benchmarks/cross_engine.py --corpus data/corpus5 --recipe distil --distil 1 --teacher data/teacher

For each engine E (every one of voices.ENGINES unless --engines): train a recognizer and a
gender classifier on the other engines only (a short schedule), then score them on E: `--eval`
clips in every voice of E, once clean and once with the full augmentation. Reported per
left-out engine: exact % and digit CER %, per speaker, per number range (<1000, >=1000), per
speech rate (syllables a second) and per style (fluent / dictated word by word), and gender
accuracy; the shipped model is scored on the same sets for comparison (it has heard every
engine that its corpus had).

Every step is resumable: corpora are generated once (from --seed) under --work (or an existing
corpus with an `engine` column is used: --corpus), and the trainings resume from their last.pt;
rerun the same command after a stop. A run is named by the engines it trained on, so a corpus
without some engine (say espeak and festival only) trains once and is scored on each engine it
lacks (ru_tts, MBROLA, RHVoice and Kokoro). A recipe (--recipe NAME with its training options)
keeps its runs under --work/runs/NAME, so recipes can be compared on the same eval sets. Results
go to --work/results.json (merged with those of earlier runs) and to stdout as Markdown.
Models are scored as transcription reads by default, doubtful clips read again at other tempos
and warps; results.json rows made before 2026-11-26 evening read each clip once
(`--tempos none --warps none` scores that way).
"""
import json
import os
import sys
from pathlib import Path

import click
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import seq2seq_asr  # noqa: E402
import train_gender  # noqa: E402
import train_recognition  # noqa: E402
from benchmarks.accuracy import score  # noqa: E402
from seq2seq_asr.corpus.generate import generate  # noqa: E402
from seq2seq_asr.corpus.voices import ENGINES  # noqa: E402
from seq2seq_asr.cli import search_options  # noqa: E402
from seq2seq_asr.model import ModelConfig  # noqa: E402
from seq2seq_asr.transcribe import DEFAULT_GENDER_MODEL, DEFAULT_MODEL  # noqa: E402

RATE_BANDS = [(0, 4, "<4"), (4, 6, "4-6"), (6, 8, "6-8"), (8, 100, ">=8")]  # syllables a second


def ensure_corpus(root: Path, counts: dict, seed: int, engines, held_out_test: bool, strength: float):
    """Generate once; a finished corpus has all its CSVs."""
    if all((root / f"{s}.csv").is_file() for s in ("train", "dev", "test")):
        return
    generate(root, counts, seed, strength=strength, engines=tuple(engines), held_out_test=held_out_test)


def without(csv: Path, engine: str) -> Path:
    """The rows of a corpus CSV not spoken by `engine`, written beside it (the CSV itself when
    `engine` never speaks in it, so that its feature cache is reused)."""
    out = csv.with_name(f"{csv.stem}-minus-{engine}.csv")
    if not out.is_file():
        table = pd.read_csv(csv, dtype=str, keep_default_na=False)
        if engine not in set(table["engine"]):
            return csv
        table[table["engine"] != engine].to_csv(out, index=False)
    return out


def engines_of(csv: Path) -> list[str]:
    """The engines that speak in a corpus CSV, sorted."""
    return sorted(set(pd.read_csv(csv, dtype=str, keep_default_na=False)["engine"]))


def breakdown(table: pd.DataFrame, numbers: list, genders: list) -> dict:
    """Scores of one model on one eval set, overall and by speaker, range, rate, style."""
    refs = table["transcription"].astype(int).tolist()
    pairs = list(zip(refs, numbers))

    def part(mask) -> dict:
        chosen = [p for p, m in zip(pairs, mask) if m]
        return score(chosen) if chosen else {"clips": 0}

    rate = table["rate"].astype(float)
    report = {"all": score(pairs),
              "range": {"<1000": part([r < 1000 for r in refs]), ">=1000": part([r >= 1000 for r in refs])},
              "rate": {name: part(((rate >= lo) & (rate < hi)).tolist()) for lo, hi, name in RATE_BANDS},
              "style": {s: part((table["style"] == s).tolist()) for s in ("fluent", "dictation")},
              "speaker": {s: part((table["spk_id"] == s).tolist()) for s in sorted(set(table["spk_id"]))}}
    if genders is not None:
        right = [g == t for g, t in zip(genders, table["gender"])]
        report["gender"] = 100 * sum(right) / len(right)
    return report


def evaluate(model_path: Path, gender_path: Path, csv: Path, **search) -> dict:
    """search: tempos=, warps= and high_voice_hz= for seq2seq_asr.load (its defaults if not given)."""
    model = seq2seq_asr.load(model_path, gender=gender_path, **search)
    table = pd.read_csv(csv, dtype=str, keep_default_na=False)
    results = list(model.stream([csv.parent / f for f in table["filename"]]))
    return breakdown(table, [r.number for r in results], [r.gender for r in results])


def dev_accuracy(best: Path) -> float:
    """Best exact % on the run's own dev set (the engines it trained on): tells a model that did
    not learn from one that learned but does not carry over to the left-out engine."""
    history = json.loads((best.parent / "history.json").read_text())
    return 100 * max(h["dev_accuracy"] for h in history)


def markdown(results: dict) -> str:
    lines = ["| left-out engine | eval set | model | clips | exact % | digit CER % | <1000 | >=1000 | "
             + " | ".join(f"rate {n}" for _, _, n in RATE_BANDS) + " | dictated | gender % | own dev % |",
             "|" + "---|" * (11 + len(RATE_BANDS))]
    for engine, sets in results.items():
        for name, models in sets.items():
            for model, r in models.items():
                cells = [f"{r['range'][k]['exact']:.1f}" if r["range"][k]["clips"] else "-" for k in ("<1000", ">=1000")]
                cells += [f"{r['rate'][n]['exact']:.1f}" if r["rate"][n]["clips"] else "-" for _, _, n in RATE_BANDS]
                d = r["style"]["dictation"]
                cells.append(f"{d['exact']:.1f}" if d["clips"] else "-")
                lines.append(f"| {engine} | {name} | {model} | {r['all']['clips']} | {r['all']['exact']:.2f} | "
                             f"{r['all']['cer']:.2f} | " + " | ".join(cells) + f" | {r.get('gender', 0):.1f} | "
                             + (f"{r['dev']:.1f} |" if "dev" in r else "- |"))
    return "\n".join(lines)


def merge(results_file: Path, engine: str, new: dict) -> dict:
    """Add one engine's scores {eval set: {model: report}} to results_file, read afresh (recipes
    may run side by side), and write it back atomically; returns every result."""
    results = json.loads(results_file.read_text()) if results_file.is_file() else {}
    for name, models in new.items():
        results.setdefault(engine, {}).setdefault(name, {}).update(models)
    tmp = results_file.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(results, indent=1, ensure_ascii=False))
    tmp.replace(results_file)
    return results


@click.command()
@click.option("--work", default="data/cross_engine", type=click.Path(path_type=Path), show_default=True)
@click.option("--engines", default=",".join(ENGINES), show_default=True, help="Engines to leave out, in turn.")
@click.option("--train", "n_train", default=6000, show_default=True, help="Training clips (all engines).")
@click.option("--dev", "n_dev", default=500, show_default=True)
@click.option("--eval", "n_eval", default=1000, show_default=True, help="Clips per eval set.")
@click.option("--epochs", default=10, show_default=True)
@click.option("--gender-epochs", default=6, show_default=True)
@click.option("--seed", default=0, show_default=True)
@click.option("--threads", default=2, show_default=True)
@click.option("--shipped/--no-shipped", default=True, help="Also score states/*.pt on every eval set.")
@click.option("--corpus", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Train on this corpus (train.csv and dev.csv with an engine column) instead of "
                   "generating --train/--dev clips under --work.")
@click.option("--recipe", default="short", show_default=True,
              help="A name for this training recipe; its runs go to --work/runs/RECIPE.")
@click.option("--lr", default=train_recognition.TrainConfig.lr, show_default=True)
@click.option("--schedule", default=train_recognition.TrainConfig.schedule, show_default=True,
              type=click.Choice(train_recognition.SCHEDULES))
@click.option("--stretch", default=train_recognition.TrainConfig.stretch, show_default=True)
@click.option("--vtlp", default=train_recognition.TrainConfig.vtlp, show_default=True)
@click.option("--floor-db", default=ModelConfig.floor_db, show_default=True,
              help="Feature floor under each clip's peak, dB (0: none, as recipes before it).")
@click.option("--smooth", default=train_recognition.TrainConfig.smooth, show_default=True,
              help="Share of training clips blurred across mel bands (recognizer).")
@click.option("--floor-jitter", default=train_recognition.TrainConfig.floor_jitter, show_default=True,
              help="Recognizer's training-time floor drawn within --floor-db +- this, dB.")
@click.option("--ema", default=train_recognition.TrainConfig.ema, show_default=True,
              help="Recognizer: keep a moving average of the weights with this decay a step; it is scored.")
@click.option("--mix-style", default=ModelConfig.mix_style, show_default=True,
              help="Recognizer: share of training utterances given another's encoder-input statistics.")
@click.option("--distil", default=train_recognition.TrainConfig.distil, show_default=True,
              help="Recognizer: weight of the loss that makes its encoder predict Whisper-base's frames "
                   "(cached first under --teacher for each fold's training CSV).")
@click.option("--distil-loss", default=train_recognition.TrainConfig.distil_loss, show_default=True,
              type=click.Choice(["cosine", "l1"]))
@click.option("--teacher", "teacher_dir", default="data/teacher", show_default=True,
              help="Where Whisper-base's frames are cached (with --distil).")
@search_options
def main(work, engines, n_train, n_dev, n_eval, epochs, gender_epochs, seed, threads, shipped,
         corpus, recipe, lr, schedule, stretch, vtlp, smooth, floor_db, floor_jitter, ema, mix_style,
         distil, distil_loss, teacher_dir, tempos, warps, high_voice_hz):
    work.mkdir(parents=True, exist_ok=True)
    engines = [e for e in engines.split(",") if e]
    search = {"tempos": tempos, "warps": warps, "high_voice_hz": high_voice_hz}  # how every model reads
    if corpus is None:
        corpus = work / "corpus"
        ensure_corpus(corpus, {"train": n_train, "dev": n_dev, "test": 0}, seed, ENGINES, True, 1.0)
    results_file = work / "results.json"
    results: dict = {}
    for engine in engines:
        sets, new = {}, {}
        for name, strength in (("clean", 0.0), ("augmented", 1.0)):
            root = work / f"eval-{engine}-{name}"
            ensure_corpus(root, {"test": n_eval}, seed + 1000, [engine], False, strength)
            sets[name] = root / "test.csv"
        train_csv, dev_csv = without(corpus / "train.csv", engine), without(corpus / "dev.csv", engine)
        # named by the engines it hears: leaving out an engine the corpus never had reuses the run
        run = work / "runs" / recipe / ("on-" + "+".join(engines_of(train_csv)))
        cache = str(work / "cache")
        if distil:
            from seq2seq_asr import teacher  # training only: Whisper-base, the [teacher] extra
            teacher.cache_split(train_csv, teacher_dir, threads=threads)
        asr = train_recognition.train(
            train_recognition.TrainConfig(str(train_csv), str(dev_csv), out=str(run / "recognizer"),
                                          epochs=epochs, patience=epochs, seed=seed, threads=threads,
                                          cache=cache, lr=lr, schedule=schedule, stretch=stretch,
                                          vtlp=vtlp, smooth=smooth, floor_jitter=floor_jitter, ema=ema,
                                          teacher=teacher_dir if distil else "", distil=distil,
                                          distil_loss=distil_loss),
            ModelConfig(floor_db=floor_db, mix_style=mix_style))
        gender = train_gender.train(
            train_gender.TrainConfig(str(train_csv), str(dev_csv), out=str(run / "gender"),
                                     epochs=gender_epochs, seed=seed, threads=threads, cache=cache),
            train_gender.GenderConfig(floor_db=floor_db))
        for name, csv in sets.items():
            scores = new.setdefault(name, {})
            # named by what it heard too: one recipe on two corpora keeps both rows
            heard = evaluate(asr, gender, csv, **search)
            scores[f"without {engine}, {recipe}, {run.name}"] = heard | {"dev": dev_accuracy(asr)}
            if shipped:
                scores["shipped"] = evaluate(DEFAULT_MODEL, DEFAULT_GENDER_MODEL, csv, **search)
        results = merge(results_file, engine, new)
        print(markdown({engine: results[engine]}), flush=True)
    print("\n" + markdown(results))
    for engine, sets in results.items():
        for name, models in sets.items():
            for model, r in models.items():
                worst = sorted(r["speaker"].items(), key=lambda kv: kv[1]["exact"])[:3]
                print(f"{engine} {name} {model}: weakest speakers " +
                      ", ".join(f"{s} {v['exact']:.1f}" for s, v in worst))


if __name__ == "__main__":
    main()
