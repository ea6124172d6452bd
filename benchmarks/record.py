"""What a benchmark's --json-out holds beside its figures: the command that made them, the model
(path, size, sha256) and the test set, so that benchmarks/report.py can render the README's
Results table from the files and mark a figure whose model is no longer the one in the checkout.
"""
import hashlib
import json
import shlex
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()


def relative(path: Path | str) -> str:
    """path as seen from the repository root where it lies under it, else as given."""
    p = Path(path).resolve()
    return str(p.relative_to(ROOT)) if p.is_relative_to(ROOT) else str(path)


def command() -> str:
    """This process's command line as a user at the repository root would type it."""
    return shlex.join([".venv/bin/python", relative(sys.argv[0]), *sys.argv[1:]])


def provenance(model: Path | str | None, test_set: str, reading: dict | None = None) -> dict:
    """The fields every results file carries."""
    meta = {"command": command(), "test_set": test_set, "date": time.strftime("%Y-%m-%d"),
            "reading": reading or {}}
    if model is not None:
        path = Path(model)
        meta["model"] = {"path": relative(path), "bytes": path.stat().st_size, "sha256": sha256(path)}
    return meta


def write(path: Path, figures: dict, meta: dict) -> None:
    """figures | meta as JSON at path, written whole or not at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(meta | figures, indent=1, ensure_ascii=False) + "\n")
    tmp.replace(path)
