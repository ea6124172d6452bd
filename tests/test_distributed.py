"""Both training scripts under torchrun: 2 CPU processes (gloo), one short epoch on the fixture
clips; rank 0 writes the checkpoints, and a second run resumes from last.pt."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import free_port
from seq2seq_asr import checkpoint

ROOT = Path(__file__).resolve().parent.parent
CLIPS = str(ROOT / "tests" / "fixtures" / "clips.csv")



def torchrun(script: str, tmp_path: Path, epochs: int, *extra: str) -> list[dict]:
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2",
           "--master-addr", "127.0.0.1", "--master-port", str(free_port()),
           str(ROOT / script), CLIPS, CLIPS, "--out", str(tmp_path / "run"), "--epochs", str(epochs),
           "--threads", "2", "--cache", str(tmp_path / "cache"), "--batch-size", "4", "--device", "cpu",
           *extra]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=240, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "2 process(es) on cpu" in done.stderr
    return json.loads((tmp_path / "run" / "history.json").read_text())


@pytest.mark.parametrize("script, extra, load", [
    ("train_recognition.py", ("--enc-hidden", "16", "--dec-hidden", "16"), checkpoint.load),
    ("train_gender.py", (), checkpoint.load_gender),
])
def test_torchrun_two_cpu_processes_train_and_resume(tmp_path, script, extra, load):
    assert [h["epoch"] for h in torchrun(script, tmp_path, 1, *extra)] == [1]
    assert [h["epoch"] for h in torchrun(script, tmp_path, 2, *extra)] == [1, 2]
    load(tmp_path / "run" / "last.pt")
    assert json.loads((tmp_path / "run" / "config.json").read_text())["processes"] == 2
