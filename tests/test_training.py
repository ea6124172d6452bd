"""Smoke runs of both training scripts on the committed fixture clips: they train, save a
config, write checkpoints that load, and resume where they stopped."""
import json
from pathlib import Path

import torch
from click.testing import CliRunner

import train_gender
import train_recognition
from seq2seq_asr import checkpoint
from seq2seq_asr.gender import GenderClassifier, GenderConfig

CLIPS = str(Path(__file__).parent / "fixtures" / "clips.csv")


def run(script, tmp_path, epochs, *extra):
    args = [CLIPS, CLIPS, "--out", str(tmp_path / "run"), "--epochs", str(epochs), "--threads", "1",
            "--cache", str(tmp_path / "cache"), "--batch-size", "8", *extra]
    result = CliRunner().invoke(script.main, args)
    assert result.exit_code == 0, result.output
    return json.loads((tmp_path / "run" / "history.json").read_text())


def test_recognizer_trains_saves_and_resumes(tmp_path):
    assert len(run(train_recognition, tmp_path, 1, "--enc-hidden", "32", "--enc-layers", "3",
                   "--dec-hidden", "32")) == 1
    history = run(train_recognition, tmp_path, 2, "--export", str(tmp_path / "exported.pt"))
    assert [h["epoch"] for h in history] == [1, 2]
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["train"]["seed"] == 0 and "enc_hidden" in config["model"]
    model, vocab, _ = checkpoint.load(tmp_path / "exported.pt")
    assert (model.config.enc_hidden, model.config.enc_layers, len(vocab)) == (32, 3, 44)
    exported = torch.load(tmp_path / "exported.pt", weights_only=True)["model"]  # float16 by default
    assert {v.dtype for v in exported.values() if v.is_floating_point()} == {torch.float16}
    assert model.encoder.rnn.num_layers == 3
    for png in ("curves.png", "attention.png"):
        assert (tmp_path / "run" / png).read_bytes()[:4] == b"\x89PNG"
    # fine-tuning: a new run starts from the exported weights and keeps their shape
    args = [CLIPS, CLIPS, "--out", str(tmp_path / "tuned"), "--epochs", "1", "--threads", "1",
            "--cache", str(tmp_path / "cache"), "--batch-size", "8", "--init", str(tmp_path / "exported.pt"),
            "--export", str(tmp_path / "tuned.pt"), "--export-float32"]
    result = CliRunner().invoke(train_recognition.main, args)
    assert result.exit_code == 0 and "starting from the weights of" in result.output, result.output
    assert checkpoint.load(tmp_path / "tuned" / "last.pt")[0].config.enc_hidden == 32
    assert (tmp_path / "tuned.pt").read_bytes() == (tmp_path / "tuned" / "best.pt").read_bytes()


def test_cosine_schedule_and_tempo_perturbation_train_and_resume(tmp_path):
    extra = ("--enc-hidden", "16", "--dec-hidden", "16", "--schedule", "cosine", "--stretch", "0.2")
    run(train_recognition, tmp_path, 1, *extra)
    history = run(train_recognition, tmp_path, 3, *extra)
    lrs = [h["lr"] for h in history]
    assert len(lrs) == 3 and lrs[0] < lrs[1] and lrs[2] < lrs[1]  # warm-up, then down
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["train"]["schedule"] == "cosine" and config["train"]["stretch"] == 0.2
    args = [CLIPS, CLIPS, "--out", str(tmp_path / "run"), "--epochs", "4", "--threads", "1",
            "--cache", str(tmp_path / "cache"), "--batch-size", "8", "--schedule", "plateau"]
    result = CliRunner().invoke(train_recognition.main, args)
    assert result.exit_code == 1 and "another --schedule" in result.output, result.output
    # the tempo range it started with (0.2) is kept for the whole run, not the default of the day
    result = CliRunner().invoke(train_recognition.main, args[:-1] + ["cosine"])
    assert result.exit_code == 1 and "--stretch 0.2 (asked now: 0.3)" in result.output, result.output
    assert len(json.loads((tmp_path / "run" / "history.json").read_text())) == 3
    assert json.loads((tmp_path / "run" / "config.json").read_text())["train"]["stretch"] == 0.2


def test_floor_jitter_trains_on_raw_features_and_keeps_the_model_floor(tmp_path):
    run(train_recognition, tmp_path, 1, "--enc-hidden", "16", "--dec-hidden", "16",
        "--floor-db", "50", "--floor-jitter", "10")
    assert checkpoint.load(tmp_path / "run" / "last.pt")[0].config.floor_db == 50.0
    assert len(list((tmp_path / "cache").glob("*.pt"))) == 2  # one CSV: raw to train, floored for dev
    result = CliRunner().invoke(train_recognition.main, [CLIPS, CLIPS, "--out", str(tmp_path / "r"),
                                                         "--floor-db", "5", "--floor-jitter", "10"])
    assert result.exit_code == 2 and "--floor-jitter" in result.output, result.output


def test_babble_trains_on_raw_features_and_keeps_its_share_on_resume(tmp_path):
    extra = ("--enc-hidden", "16", "--dec-hidden", "16", "--babble", "0.5")
    run(train_recognition, tmp_path, 1, *extra)
    assert len(list((tmp_path / "cache").glob("*.pt"))) == 2  # raw to train, floored for dev
    args = [CLIPS, CLIPS, "--out", str(tmp_path / "run"), "--epochs", "2", "--threads", "1",
            "--cache", str(tmp_path / "cache"), "--batch-size", "8"]
    result = CliRunner().invoke(train_recognition.main, args)
    assert result.exit_code == 1 and "--babble 0.5 (asked now: 0)" in result.output, result.output
    for bad in (("--babble", "1.5"), ("--babble", "0.3", "--floor-db", "0")):
        result = CliRunner().invoke(train_recognition.main, [CLIPS, CLIPS, "--out", str(tmp_path / "x"), *bad])
        assert result.exit_code == 2 and "--babble" in result.output, result.output


def test_moving_average_is_what_best_pt_holds_and_resumes(tmp_path):
    extra = ("--enc-hidden", "16", "--dec-hidden", "16", "--ema", "0.9", "--mix-style", "0.5")

    def averaged():
        last = checkpoint.read(tmp_path / "run" / "last.pt")
        return last, {k[len("module."):]: v for k, v in last["average"].items() if k.startswith("module.")}

    run(train_recognition, tmp_path, 1, *extra)
    last, average = averaged()  # epoch 1 is always the best so far: best.pt is its average
    best, _, _ = checkpoint.load(tmp_path / "run" / "best.pt")
    trained, _, _ = checkpoint.load(tmp_path / "run" / "last.pt")
    assert best.config.mix_style == 0.5 and int(last["average"]["n_averaged"]) == 2  # 16 clips, 8 a batch
    assert all(torch.equal(best.state_dict()[k], v) for k, v in average.items())
    assert any(not torch.equal(trained.state_dict()[k], v) for k, v in average.items())
    history = run(train_recognition, tmp_path, 2, *extra)
    assert [h["epoch"] for h in history] == [1, 2] and all("dev_accuracy_trained" in h for h in history)
    assert int(averaged()[0]["average"]["n_averaged"]) == 4  # resumed, not restarted
    # a run without an average cannot resume with one, ...
    result = CliRunner().invoke(train_recognition.main, [CLIPS, CLIPS, "--out", str(tmp_path / "plain"),
                                "--epochs", "1", "--threads", "1", "--cache", str(tmp_path / "cache"),
                                "--batch-size", "8", "--enc-hidden", "16", "--dec-hidden", "16"])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(train_recognition.main, [CLIPS, CLIPS, "--out", str(tmp_path / "plain"),
                                "--epochs", "2", "--threads", "1", "--cache", str(tmp_path / "cache"),
                                "--batch-size", "8", "--ema", "0.9"])
    assert result.exit_code == 1 and "without --ema" in result.output, result.output
    result = CliRunner().invoke(train_recognition.main, [CLIPS, CLIPS, "--out", str(tmp_path / "run"),
                                "--epochs", "3", "--threads", "1", "--cache", str(tmp_path / "cache"),
                                "--batch-size", "8"])  # and one with an average cannot drop it
    assert result.exit_code == 1 and "with --ema" in result.output, result.output
    for bad in (("--ema", "1"), ("--mix-style", "1.5")):
        result = CliRunner().invoke(train_recognition.main, [CLIPS, CLIPS, "--out", str(tmp_path / "x"), *bad])
        assert result.exit_code == 2 and bad[0] in result.output, result.output


def test_unknown_schedule_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(train_recognition.main, [CLIPS, CLIPS, "--out", str(tmp_path / "r"),
                                                         "--schedule", "linear"])
    assert result.exit_code == 2 and "linear" in result.output and "plateau" in result.output
    assert not (tmp_path / "r").exists()


def test_gender_trains_saves_and_resumes(tmp_path):
    assert len(run(train_gender, tmp_path, 1)) == 1
    history = run(train_gender, tmp_path, 2, "--export", str(tmp_path / "g.pt"))
    assert [h["epoch"] for h in history] == [1, 2]
    model, _ = checkpoint.load_gender(tmp_path / "g.pt")
    assert model.predict(torch.randn(3, 150, 64), torch.tensor([150, 90, 20]))[0][0] in ("female", "male")


def test_gender_shapes_and_padding():
    torch.manual_seed(0)
    model = GenderClassifier(GenderConfig()).eval()
    assert sum(p.numel() for p in model.parameters()) < 300_000
    a, b = torch.randn(131, 64), torch.randn(200, 64)
    alone = model(a[None], torch.tensor([131]))
    padded = model(torch.nn.utils.rnn.pad_sequence([a, b], batch_first=True), torch.tensor([131, 200]))
    assert padded.shape == (2, 2) and torch.allclose(alone[0], padded[0], atol=1e-5)
