"""The leave-one-engine-out judge's bookkeeping: which rows train, how scores break down."""
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.cross_engine import breakdown, engines_of, markdown, merge, without  # noqa: E402

FIXTURE = Path(__file__).parent / "fixtures" / "rutts.csv"


def test_without_drops_only_the_left_out_engine(tmp_path):
    table = pd.read_csv(FIXTURE, dtype=str, keep_default_na=False)
    table.loc[:2, "engine"] = "espeak"
    csv = tmp_path / "train.csv"
    table.to_csv(csv, index=False)
    kept = pd.read_csv(without(csv, "rutts"), dtype=str, keep_default_na=False)
    assert list(kept["engine"]) == ["espeak"] * 3
    assert list(kept.columns) == list(table.columns)
    assert without(csv, "festival") == csv  # nothing to drop: the same file, the same feature cache
    # runs are named by the engines heard: leaving out either absent engine names the same run
    assert engines_of(without(csv, "festival")) == ["espeak", "rutts"] == engines_of(without(csv, "mbrola"))
    assert engines_of(without(csv, "rutts")) == ["espeak"]


def test_breakdown_by_range_rate_style_speaker_and_gender():
    table = pd.read_csv(FIXTURE, dtype=str, keep_default_na=False)
    refs = table["transcription"].astype(int).tolist()
    numbers = [refs[0] + 1] + refs[1:]  # the first clip wrong, the rest right
    genders = list(table["gender"])
    genders[1] = "male" if genders[1] == "female" else "female"
    report = breakdown(table, numbers, genders)
    n = len(table)
    assert report["all"]["clips"] == n and abs(report["all"]["exact"] - 100 * (n - 1) / n) < 1e-9
    assert sum(r["clips"] for r in report["range"].values()) == n
    assert sum(r["clips"] for r in report["rate"].values()) == n
    assert sum(r["clips"] for r in report["speaker"].values()) == n
    first = table["spk_id"][0]
    assert report["speaker"][first]["exact"] < 100
    assert abs(report["gender"] - 100 * (n - 1) / n) < 1e-9
    table = markdown({"rutts": {"clean": {"short": report | {"dev": 97.5}, "shipped": report}}})
    assert "| rutts | clean | short |" in table and table.count("|\n") == 3
    assert table.splitlines()[2].endswith("| 97.5 |") and table.endswith("| - |")


def test_recipes_side_by_side_keep_each_others_results(tmp_path):
    """Two recipes run at once, each writing results.json when an engine is done: neither may
    drop what the other wrote since it started."""
    results = tmp_path / "results.json"
    merge(results, "rutts", {"clean": {"without rutts, a": {"x": 1}}})
    merge(results, "rutts", {"clean": {"without rutts, b": {"x": 2}}, "augmented": {"shipped": {"x": 3}}})
    merge(results, "mbrola", {"clean": {"without mbrola, a": {"x": 4}}})
    both = merge(results, "rutts", {"clean": {"without rutts, a": {"x": 5}}})
    assert both["rutts"]["clean"] == {"without rutts, a": {"x": 5}, "without rutts, b": {"x": 2}}
    assert both["rutts"]["augmented"] == {"shipped": {"x": 3}} and "mbrola" in both
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]
