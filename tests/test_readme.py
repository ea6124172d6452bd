"""The README stays what it promises: its set-up commands are the ones CI runs, and its Results
table is what benchmarks/report.py makes from the committed JSON."""
import json
import re
from pathlib import Path

from click.testing import CliRunner

from benchmarks import report

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def setup_commands() -> list[str]:
    section = README.split("## Set up", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", section, re.S)
    assert block, "the Set up section has no bash block"
    return [line.strip() for line in block[1].splitlines() if line.strip()]


def ci_commands() -> list[str]:
    lines = (ROOT / ".ci" / "run").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith(("#", "set ", "cd "))]


def test_setup_is_two_commands_that_ci_runs():
    install, tests = setup_commands()
    ci = ci_commands()
    assert ci[-1] == tests, f".ci/run tests with {ci[-1]!r}, the README with {tests!r}"
    assert install.startswith(ci[0] + " && "), f".ci/run installs with {ci[0]!r}, the README with {install!r}"


def test_readme_is_short():
    assert README.count("\n") <= 300 and len(README.encode()) <= 20_000


def test_results_table_matches_the_committed_json():
    assert report.spliced(README, report.render()) == README, \
        "README.md's Results differ from benchmarks/results/: run .venv/bin/python benchmarks/report.py"


def fake(path: Path, exact: float, cer: float, sha: str, clips: int = 10, model: str = "states/recognizer.pt"):
    path.write_text(json.dumps({"overall": {"clips": clips, "exact": exact, "cer": cer},
                                "command": f"python benchmarks/accuracy.py {path.name}",
                                "model": {"path": model, "bytes": 6_000_000, "sha256": sha}}))


def test_render_means_seeds_dashes_gaps_and_marks_an_old_model(tmp_path):
    shipped = tmp_path / "recognizer.pt"
    shipped.write_bytes(b"weights")
    now = report.sha256(shipped)
    fake(tmp_path / "heldout.once.json", 90.0, 3.0, now)  # no doors file: a dash
    held_json = json.loads((tmp_path / "heldout.once.json").read_text())
    held_json["per_speaker"] = {s: {"clips": 5, "exact": e, "cer": 0} for s, e in
                                (("a", 100.0), ("b", 40.0), ("c", 80.0), ("d", 60.0))}
    (tmp_path / "heldout.once.json").write_text(json.dumps(held_json))
    fake(tmp_path / "human.doors.json", 97.0, 1.0, "an earlier model")
    fake(tmp_path / "fold-espeak-clean.s0.once.json", 80.0, 6.0, "x", model="runs/fold-espeak-base-e12-s0/best.pt")
    fake(tmp_path / "fold-espeak-clean.s1.once.json", 84.0, 4.0, "y", model="runs/fold-espeak-base-e12-s1/best.pt")
    fake(tmp_path / "fold-espeak-distil-clean.s0.once.json", 70.0, 9.0, "z", model="runs/fold-espeak-distil-e12-s0/best.pt")
    table = report.render(tmp_path, shipped)
    rows = {line.split(" | ")[0].strip("| "): line for line in table.splitlines() if line.startswith("| ")}
    held = next(v for k, v in rows.items() if k.startswith("held-out"))
    assert "| 90.0 / 3.00 | – |" in held and "†" not in held
    human = next(v for k, v in rows.items() if k.startswith("human"))
    assert "97.0 † / 1.00 †" in human and "† measured on an earlier" in table
    fold = next(v for k, v in rows.items() if k.startswith("espeak-ng never heard, clean"))
    assert "| 82.0 → 70.0 / 5.00 → 9.00 | – → – / – → – |" in fold  # seeds' means, without -> with
    assert "trained without espeak-ng, 12 epochs (2 seeds)" in fold  # the schedule read off the runs' names
    assert "clean read once 80.0 / 84.0 → 70.0" in table  # and each seed in the fold's note
    assert not any(k.startswith("espeak-ng never heard, augmented") for k in rows)  # no files, no row
    assert not any(k.startswith("ru_tts") for k in rows)
    assert "these 3 readings; the first:\npython benchmarks/accuracy.py fold-espeak-clean.s0.once.json" in table
    assert "weakest speakers, read once: `b` 40.0 % of 5, `d` 60.0 % of 5, `c` 80.0 % of 5:" in table


def test_check_fails_on_a_hand_edited_table(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(report.spliced(README, report.render()).replace(report.END, "| typed |\n" + report.END))
    result = CliRunner().invoke(report.main, ["--check", "--readme", str(readme)])
    assert result.exit_code == 1 and "run .venv/bin/python benchmarks/report.py" in result.output
    assert CliRunner().invoke(report.main, ["--readme", str(readme)]).exit_code == 0
    assert CliRunner().invoke(report.main, ["--check", "--readme", str(readme)]).exit_code == 0
