"""The README's Results table, rendered from the JSON files that the benchmarks write with
--json-out (benchmarks/record.py) and that are kept under benchmarks/results/, so that the table
is remade by a script and never drifts from the figures.

    python benchmarks/report.py            # rewrite README.md between the results markers
    python benchmarks/report.py --check    # exit 1 when README.md is not what the files make

A row is a test set read by one model; its files are benchmarks/results/KEY.READING.json, or
KEY.sN.READING.json for the seeds of a training recipe (shown as their mean, the seeds in
brackets), READING being `once` (accuracy.py --tempos none --warps none), `doors` (accuracy.py
as every door reads), `whisper` (whisper_base.py) or `speed` (speed.py). A missing file is a
dash. A figure whose file names states/recognizer.pt with another sha256 than the checkout's is
marked as measured on an earlier model.
"""
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import click

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.record import ROOT, sha256  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
README = ROOT / "README.md"
START = "<!-- results: made by benchmarks/report.py from benchmarks/results/*.json; do not edit -->"
END = "<!-- /results -->"
SHIPPED = "states/recognizer.pt"
DASH = "–"


@dataclass(frozen=True)
class Row:
    test_set: str  # as the table names it
    key: str  # its files: RESULTS/KEY[.sN].READING.json
    model: str  # who reads it
    makes: str = ""  # the commands that make the test set (and a model that is not shipped)


ROWS = [
    Row("held-out voices: the 6 engines' held-out speakers, full augmentation", "heldout",
        "shipped",
        ".venv/bin/python -m seq2seq_asr.corpus data/heldout --train 0 --dev 0 --test 2000"),
    Row("human voice: a phone menu's recorded prompts, 8 kHz (outside evaluation only)", "human",
        "shipped", "sudo apt-get install asterisk-core-sounds-ru-wav"),
]
FOLDS = (("espeak", "espeak-ng"), ("rutts", "ru_tts"), ("festival", "festival"))  # benchmarks/fold.sh ENGINE
RECIPES = ("", "-distil")  # fold-ENGINE[-distil]-SET: without and with the teacher, one row each set
READINGS = ("once", "doors", "whisper", "speed")


def load(results: Path, key: str, reading: str) -> list[dict]:
    """The files of one row and reading: [KEY.READING.json] or the seeds' [KEY.sN.READING.json]."""
    plain = results / f"{key}.{reading}.json"
    files = [plain] if plain.is_file() else sorted(
        results.glob(f"{key}.s*.{reading}.json"), key=lambda p: int(re.search(r"\.s(\d+)\.", p.name)[1]))
    return [json.loads(f.read_text()) | {"file": f.name} for f in files]


def stale(report: dict, shipped_sha: str | None) -> bool:
    model = report.get("model", {})
    return model.get("path") == SHIPPED and shipped_sha is not None and model.get("sha256") != shipped_sha


def means(reports: list[dict], value, digits: int) -> str:
    return DASH if not reports else f"{sum(map(value, reports)) / len(reports):.{digits}f}"


def seeds(reports: list[dict], value, digits: int) -> str:
    return DASH if not reports else " / ".join(f"{value(r):.{digits}f}" for r in reports)


def exact(r: dict) -> float:
    return r["overall"]["exact"]


def cer(r: dict) -> float:
    return r["overall"]["cer"]


def cell(reports: list[dict], value, digits: int, shipped_sha: str | None) -> str:
    """One figure, or the seeds' mean with each seed's in brackets; † where its model is stale."""
    if not reports:
        return DASH
    text = means(reports, value, digits) + (f" ({seeds(reports, value, digits)})" if len(reports) > 1 else "")
    return text + (" †" if any(stale(r, shipped_sha) for r in reports) else "")


def accuracy(reports: list[dict], shipped_sha) -> str:
    if not reports:
        return DASH
    return cell(reports, exact, 1, shipped_sha) + " / " + cell(reports, cer, 2, shipped_sha)


def weakest(got: dict, n: int = 3, lead: str = "; weakest speakers") -> str:
    """The n weakest speakers of a row's first file that has them, as the doors read if measured."""
    for reading in ("doors", "once"):
        for r in got[reading][:1]:
            speakers = r.get("per_speaker", {})
            if len(speakers) > 1:
                worst = sorted(speakers.items(), key=lambda kv: kv[1]["exact"])[:n]
                seed = f" ({r['file'].split('.')[1]})" if len(got[reading]) > 1 else ""
                return (f"{lead}, {'as the doors read' if reading == 'doors' else 'read once'}"
                        f"{seed}: " + ", ".join(f"`{k}` {v['exact']:.1f} % of {v['clips']}" for k, v in worst))
    return ""


def fold_rows(results: Path, engine: str, name: str, n: int) -> tuple[list[str], str]:
    """A fold's table rows (one a set: without -> with distillation, seeds' means) and its note."""
    got = {(set_, recipe, reading): load(results, f"fold-{engine}{recipe}-{set_}", reading)
           for set_ in ("clean", "augmented") for recipe in RECIPES for reading in ("once", "doors")}
    rows, per_seed, commands = [], [], []
    for set_ in ("clean", "augmented"):
        if not any(v for k, v in got.items() if k[0] == set_):
            continue
        cells, clips = [], DASH
        for reading in ("once", "doors"):
            base, distil = got[set_, "", reading], got[set_, "-distil", reading]
            clips = next((r[0]["overall"]["clips"] for r in (base, distil) if r), clips)
            cells.append(f"{means(base, exact, 1)} → {means(distil, exact, 1)} / "
                         f"{means(base, cer, 2)} → {means(distil, cer, 2)}")
            per_seed.append(f"{set_} {'read once' if reading == 'once' else 'as the doors read'} "
                            f"{seeds(base, exact, 1)} → {seeds(distil, exact, 1)}")
            commands += [r["command"] for r in base + distil]
        count = max(len(v) for k, v in got.items() if k[0] == set_)
        epochs = sorted({m[1] for k, v in got.items() if k[0] == set_ for r in v
                         if (m := re.search(r"-e(\d+)-s\d+/", r.get("model", {}).get("path", "")))}, key=int)
        schedule = f"{'/'.join(epochs)} epochs" if epochs else "its schedule"  # runs/fold-E-RECIPE-eN-sS
        rows.append(f"| {name} never heard, {set_} | trained without {name}, {schedule} ({count} seeds): "
                    f"without → with distillation | {clips} | {cells[0]} | {cells[1]} | – | – | "
                    f"[{n}](#results-{n}) |")
    if not rows:
        return [], ""
    weak = weakest({"doors": got["clean", "-distil", "doors"], "once": got["clean", "-distil", "once"]},
                   lead=". Weakest speakers with distillation, clean")
    note = (f'<a id="results-{n}"></a>{n}. {name} never heard; each seed (s0 / s1 ..), exact %, without → '
            f"with distillation (`--teacher data/teacher --distil 1`): " + "; ".join(per_seed)
            + weak + ":\n\n```bash\n"
            + f"bash benchmarks/fold.sh {engine}   # the fold's corpus, eval sets, teacher cache, both "
            f"recipes on every seed, then these {len(commands)} readings; the first:\n{commands[0]}\n```")
    return rows, note


def render(results: Path = RESULTS, shipped: Path = ROOT / SHIPPED) -> str:
    """The Markdown between the markers: the table, then each row's commands."""
    shipped_sha = sha256(shipped) if shipped.is_file() else None
    lines = ["| test set | model | clips | read once: exact % / digit CER % | as the doors read | "
             "RTF, 1 thread: once / doors | Whisper-base: exact % / digit CER % (RTF) | |",
             "|---|---|---|---|---|---|---|---|"]
    notes, stale_seen, sizes = [], False, {}
    for row in ROWS:
        got = {reading: load(results, row.key, reading) for reading in READINGS}
        if not any(got.values()):
            continue
        n = len(notes) + 1
        clips = next((r[0]["overall"]["clips"] for k, r in got.items() if r and k != "speed"), DASH)
        speed = got["speed"]
        rtf = DASH if not speed else (cell(speed, lambda r: r["rtf"]["once"]["rtf"], 4, shipped_sha) + " / " +
                                      cell(speed, lambda r: r["rtf"]["doors"]["rtf"], 4, shipped_sha))
        whisper = accuracy(got["whisper"], None)
        if got["whisper"]:
            w = got["whisper"]
            whisper += f" ({sum(r['rtf'] for r in w) / len(w):.3f})"
            if w[0]["overall"]["clips"] != clips:
                whisper += f", {w[0]['overall']['clips']} clips"
        lines.append(f"| {row.test_set} | {row.model} | {clips} | {accuracy(got['once'], shipped_sha)} | "
                     f"{accuracy(got['doors'], shipped_sha)} | {rtf} | {whisper} | [{n}](#results-{n}) |")
        commands = ([row.makes] if row.makes else []) + [r["command"] for k in READINGS for r in got[k]]
        notes.append(f'<a id="results-{n}"></a>{n}. ' + row.test_set.split(":")[0] + weakest(got)
                     + ":\n\n```bash\n" + "\n".join(commands) + "\n```")
        stale_seen |= any(stale(r, shipped_sha) for k in READINGS for r in got[k])
        for k in READINGS:
            for r in got[k]:
                if "model" in r and (k == "whisper" or r["model"]["path"] == SHIPPED):
                    sizes[r["model"]["path"]] = r["model"]["bytes"]
    for engine, name in FOLDS:
        rows, note = fold_rows(results, engine, name, len(notes) + 1)
        lines += rows
        notes += [note] if note else []
    out = "\n".join(lines) + "\n"
    if sizes:
        out += "\nSize on disk: " + ", ".join(f"{'`' + p + '`' if p == SHIPPED else p} {b / 1e6:.1f} MB"
                                               for p, b in sizes.items()) + ".\n"
    if stale_seen:
        out += f"\n† measured on an earlier `{SHIPPED}`: rerun its command.\n"
    return out + "\n" + "\n\n".join(notes) + "\n"


def spliced(readme: str, table: str) -> str:
    """readme with the text between the markers replaced by table."""
    if START not in readme or END not in readme:
        raise click.ClickException(f"README.md lacks the markers {START} ... {END}")
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{table}{END}{tail}"


@click.command()
@click.option("--check", is_flag=True, help="Only check: exit 1 when README.md differs from the files.")
@click.option("--readme", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=README)
def main(check, readme):
    text = readme.read_text()
    new = spliced(text, render())
    if check:
        if new != text:
            raise click.ClickException(f"{readme} is not what benchmarks/results/ makes: "
                                       "run .venv/bin/python benchmarks/report.py")
        click.echo(f"{readme}: the Results table matches benchmarks/results/")
        return
    readme.write_text(new)
    click.echo(f"wrote the Results table into {readme}")


if __name__ == "__main__":
    main()
