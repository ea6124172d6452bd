"""The `seq2seq-asr` console script, run as a user runs it."""
import json
import shutil
import subprocess
import sys
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
CLI = [sys.executable, "-m", "seq2seq_asr.cli"]


def run(*args, stdin: bytes | None = None):
    return subprocess.run([*CLI, *map(str, args)], input=stdin, capture_output=True, timeout=300)


def test_files_folders_and_stdin(tmp_path):
    (tmp_path / "deep" / "er").mkdir(parents=True)
    shutil.copy(FIXTURES / "clips" / "espeak-ru-m3.wav", tmp_path / "deep" / "er" / "a.wav")
    shutil.copy(FIXTURES / "clips" / "espeak-ru-steph3.mp3", tmp_path / "deep" / "b.MP3")
    (tmp_path / "deep" / "notes.txt").write_text("not audio")
    done = run(tmp_path, "-", stdin=(FIXTURES / "clips" / "espeak-ru-lv-m3.wav").read_bytes())
    assert done.returncode == 0, done.stderr
    lines = [line.split("\t") for line in done.stdout.decode().splitlines()]
    assert [(Path(f).name, n) for f, n, _ in lines] == [("b.MP3", "973880"), ("a.wav", "601"), ("-", "599")]
    assert all(0 < float(c) <= 1 for _, _, c in lines)


def test_json_errors_and_exit_codes(tmp_path):
    (tmp_path / "bad.wav").write_bytes(b"RIFF....")
    done = run("--json", FIXTURES / "clips" / "espeak-ru-m3.wav", tmp_path / "bad.wav", tmp_path / "gone.wav")
    assert done.returncode == 1
    objs = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert objs[0]["number"] == 601 and objs[0]["words"] == "шестьсот один" and objs[0]["error"] is None
    assert objs[1]["number"] is None and objs[1]["error"].startswith("not a readable audio file")
    assert objs[2]["error"] == "file not found"
    assert f"{tmp_path / 'gone.wav'}: file not found" in done.stderr.decode()
    (tmp_path / "broken.pt").write_bytes(b"\0" * 10)
    done = run(FIXTURES / "clips", "--model", tmp_path / "broken.pt")
    assert done.returncode == 2 and "not a readable checkpoint" in done.stderr.decode()
    assert "Traceback" not in done.stderr.decode()
    done = run(tmp_path / "empty_dir_that_is_missing")
    assert done.returncode == 1 and "file not found" in done.stderr.decode()


def test_an_ensemble_checkpoint_is_built_and_used_like_any_model(tmp_path):
    shipped = Path(__file__).parent.parent / "states" / "recognizer.pt"
    done = run("ensemble", tmp_path / "e.pt", shipped, shipped)
    assert done.returncode == 0, done.stderr
    assert "an ensemble of 2 recognizers" in done.stdout.decode()
    clips = sorted((FIXTURES / "clips").glob("espeak-ru-*.wav"))[:4]
    alone, both = run(*clips), run("--model", tmp_path / "e.pt", *clips)
    assert both.returncode == 0, both.stderr
    numbers = lambda done: [line.split("\t")[1] for line in done.stdout.decode().splitlines()]  # noqa: E731
    assert numbers(both) == numbers(alone) and len(numbers(alone)) == 4  # two equal experts: one
    done = run("ensemble", tmp_path / "bad.pt", shipped, Path(__file__).parent.parent / "states" / "gender.pt")
    assert done.returncode == 2 and "not a seq2seq_asr.recognizer/1 checkpoint" in done.stderr.decode()
    assert "Traceback" not in done.stderr.decode() and not (tmp_path / "bad.pt").exists()
