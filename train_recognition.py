"""Train the recognizer on any corpus CSV of the public layout
(filename,transcription,spk_id,gender,...; filename relative to the CSV).

    python train_recognition.py data/corpus/train.csv data/corpus/dev.csv --out runs/recognizer

Writes into --out: last.pt (resumable: rerun the same command), best.pt (the model with
the best dev accuracy, ready for evaluation.py --model), config.json, history.json,
curves.png and attention.png. --export copies best.pt to a path such as states/recognizer.pt,
its weights in float16 (half the file; --export-float32 keeps them as trained).

With --teacher DIR --distil W, a projection of the encoder's output also learns to predict a
teacher's frames (Whisper-base's encoder, cached once by `python -m seq2seq_asr.teacher`), an
auxiliary loss weighted W beside the attention and CTC losses (--distil-layer front: a projection
of its conv front end's output, so only the lower layers learn from the teacher); best.pt is the
recognizer alone and transcribes without the teacher.

Uses the GPU when there is one (--device, mixed precision on CUDA). On several GPUs or
machines, run it under torchrun: each process trains on its shard of every epoch's batches
(DistributedDataParallel: nccl on GPUs, gloo on CPUs) and rank 0 writes the files.

    torchrun --nproc-per-node 4 train_recognition.py train.csv dev.csv --batch-size 32
"""
import json
import math
import sys
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import click
import numpy as np
import torch
from tqdm import tqdm

from normalizer import WordVocab
from seq2seq_asr import checkpoint, plots
from seq2seq_asr.data import collate, epoch_batches, load_split, speaker_weights
from seq2seq_asr.decoding import greedy_decode
from seq2seq_asr.distil import LAYERS, LOSSES, DistilHead, distil_loss
from seq2seq_asr.model import ModelConfig, Recognizer
from seq2seq_asr.training import (Runtime, config_options, distributed, seed_everything,
                                  setup_runtime, train_and_export)


@dataclass
class TrainConfig:
    train_csv: str
    dev_csv: str
    out: str = "runs/recognizer"
    epochs: int = 40
    batch_size: int = 32
    lr: float = 2e-3
    weight_decay: float = 1e-2
    ctc_weight: float = 0.3  # 0 disables the CTC head
    label_smoothing: float = 0.1
    balance: float = 0.5  # speaker balancing: 0 none, 1 every speaker equally often
    vtlp: float = 0.12  # training-time vocal tract warp within 1 +- vtlp (half the clips)
    stretch: float = 0.3  # training-time tempo change within 1 +- stretch (every clip; 0: none)
    smooth: float = 0.0  # share of clips blurred across 1-3 mel bands in training (pitch harmonics fade)
    floor_jitter: float = 0.0  # training-time feature floor drawn within floor_db +- this, dB (0: fixed)
    babble: float = 0.0  # share of clips with 1-3 others of their batch mixed under them, 8-20 dB down
    ema: float = 0.0  # keep a running average of the weights, this decay a step (0: none); best.pt is it
    schedule: str = "plateau"  # plateau: halve the lr when dev stalls; cosine: 1 warm-up epoch, then to 0 at --epochs
    patience: int = 5  # epochs without a better dev accuracy before stopping
    seed: int = 0
    threads: int = 2  # CPU threads, shared among the processes of a torchrun on CPUs
    limit: int = 0  # use only the first N training clips (0: all), for smoke runs
    init: str = ""  # start from this recognizer checkpoint's weights (fine-tuning), not at random
    teacher: str = ""  # teacher frames cached under this folder (python -m seq2seq_asr.teacher)
    distil: float = 0.0  # weight of the loss of predicting the teacher's frames (0: none)
    distil_loss: str = "cosine"  # cosine (1 - cosine similarity a frame) or l1
    distil_layer: str = "top"  # what predicts the teacher: top (the encoder's output) or front (its conv front end's)
    cache: str = "data/cache"
    device: str = "auto"  # auto: this process's GPU when CUDA is there, else the CPU
    amp: bool = True  # mixed precision (float16) on CUDA; ignored on the CPU


class LossOf(torch.nn.Module):
    """The recognizer's training loss as a forward pass, so DistributedDataParallel sees it:
    -> (total, attention, CTC, distillation) losses. With a DistilHead, a batch with teacher
    frames adds distil x the distillation loss (distil.distil_loss); one without (dev) does not.
    The head reads the encoder's output (layer "top") or its conv front end's ("front")."""

    def __init__(self, model: Recognizer, ctc_weight: float, label_smoothing: float,
                 head: DistilHead | None = None, distil: float = 0.0, kind: str = "cosine",
                 layer: str = "top"):
        super().__init__()
        self.model, self.ctc_weight, self.label_smoothing = model, ctc_weight, label_smoothing
        self.head, self.distil, self.kind = head, distil, kind
        self.front = None  # (B, T', D): the front end's output of this forward pass, for layer "front"
        if head is not None and layer == "front":
            model.encoder.subsample.register_forward_hook(lambda _, __, out: setattr(self, "front", out[0]))

    def forward(self, batch: dict):
        logits, _, memory, enc_lengths = self.model(batch["feats"], batch["lengths"], batch["inputs"])
        loss, att, ctc = self.model.loss_from(logits, memory, enc_lengths, batch["targets"],
                                              batch["labels"], batch["label_lengths"],
                                              self.ctc_weight, self.label_smoothing)
        front, self.front = self.front, None  # not kept past this pass (dev batches too)
        if self.head is None or "teacher" not in batch:
            return loss, att, ctc, torch.zeros((), device=loss.device)
        frames = memory if front is None else front  # (B, T', C): the layer the head reads
        distil = distil_loss(self.head(frames), enc_lengths.to(memory.device), batch["teacher"],
                             batch["teacher_lengths"], self.kind)
        return loss + self.distil * distil, att, ctc, distil


def to_device(batch: dict, device: torch.device) -> dict:
    return {k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in batch.items()}


@torch.no_grad()
def evaluate(loss_of: LossOf, examples, vocab, rt: Runtime, batch_size=64) -> tuple[float, float]:
    """-> (mean loss, exact-number accuracy) with greedy constrained decoding, each process
    scoring its shard of the clips."""
    model = loss_of.model.eval()
    loss_sum, correct, batches = 0.0, 0, 0
    order = rt.shard(sorted(range(len(examples)), key=lambda i: len(examples[i].feats)))
    for start in range(0, len(order), batch_size):
        batch = to_device(collate([examples[i] for i in order[start:start + batch_size]], vocab),
                          rt.device)
        loss_sum += float(loss_of(batch)[0])
        batches += 1
        hyps = greedy_decode(model, batch["feats"], batch["lengths"], vocab)
        correct += sum(h.number == n for h, n in zip(hyps, batch["numbers"]))
    loss_sum, correct, batches, clips = rt.sum(loss_sum, correct, batches, len(order))
    return loss_sum / max(batches, 1), correct / max(clips, 1)


@torch.no_grad()
def plot_attention(model, example, vocab, path) -> None:
    model.eval()
    batch = to_device(collate([example], vocab), next(model.parameters()).device)
    _, weights, _, _ = model(batch["feats"], batch["lengths"], batch["inputs"])
    words = vocab.decode(batch["targets"][0].tolist()) + ["<eos>"]
    plots.attention(weights[0].cpu().numpy(), words, path, title=f"{example.number} ({example.speaker})")


SCHEDULES = ("plateau", "cosine")


def moving_average(model: Recognizer, decay: float):
    """An exponential moving average of the model's weights (update_parameters after each step;
    .module is the averaged Recognizer): a flatter, steadier point than the last step's weights."""
    return torch.optim.swa_utils.AveragedModel(
        model, multi_avg_fn=torch.optim.swa_utils.get_ema_multi_avg_fn(decay))


def make_scheduler(optimizer, cfg: TrainConfig):
    """Stepped once an epoch with the dev accuracy (plateau) or without (cosine)."""
    if cfg.schedule == "plateau":
        return torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="max", factor=0.5, patience=1)
    if cfg.schedule == "cosine":
        warm_up = lambda e: min(1.0, (e + 1) / 2)  # noqa: E731  epoch 1 at half the lr
        cosine = lambda e: 0.5 * (1 + math.cos(math.pi * min(e, cfg.epochs) / cfg.epochs))  # noqa: E731
        return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda e: warm_up(e) * cosine(e))
    raise AssertionError(cfg.schedule)


PERTURBATIONS = ("vtlp", "stretch", "smooth", "floor_jitter", "babble", "distil")  # fixed for a run


def _started_with(out: Path) -> dict:
    """The training options the run in `out` started with (its config.json), {} if unknown."""
    try:
        return json.loads((out / "config.json").read_text())["train"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def train(cfg: TrainConfig, model_cfg: ModelConfig) -> Path:
    if cfg.schedule not in SCHEDULES:
        raise click.BadParameter(f"{cfg.schedule!r} is not one of {', '.join(SCHEDULES)}",
                                 param_hint="--schedule")
    seed_everything(cfg.seed)
    rt = setup_runtime(cfg.device, cfg.amp, cfg.threads)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    vocab = WordVocab()
    model_cfg.vocab_size = len(vocab)
    log = (lambda *a: print(*a, file=sys.stderr)) if rt.main else (lambda *a: None)

    resume = checkpoint.read(out / "last.pt") if (out / "last.pt").is_file() else None
    init = checkpoint.read(cfg.init) if cfg.init and not resume else None
    if resume:  # as it started
        model_cfg = checkpoint.recognizer_config(resume)
    elif init:  # its architecture, but the features and mixing asked for now
        model_cfg = replace(checkpoint.recognizer_config(init), floor_db=model_cfg.floor_db,
                            mix_style=model_cfg.mix_style)

    if cfg.floor_jitter and not 0 < cfg.floor_jitter < model_cfg.floor_db:  # every rank, before the barrier
        raise click.BadParameter(f"{cfg.floor_jitter:g} dB needs a --floor-db above it "
                                 f"(it is {model_cfg.floor_db:g})", param_hint="--floor-jitter")
    if not 0 <= cfg.ema < 1:
        raise click.BadParameter(f"{cfg.ema:g} is not a decay in [0, 1)", param_hint="--ema")
    if not 0 <= model_cfg.mix_style <= 1:
        raise click.BadParameter(f"{model_cfg.mix_style:g} is not a share in [0, 1]",
                                 param_hint="--mix-style")
    if cfg.babble and not (0 < cfg.babble <= 1 and model_cfg.floor_db > 0):
        raise click.BadParameter(f"{cfg.babble:g} needs to be a share in (0, 1] and a --floor-db "
                                 f"above 0 (it is {model_cfg.floor_db:g})", param_hint="--babble")
    if cfg.distil_loss not in LOSSES:
        raise click.BadParameter(f"{cfg.distil_loss!r} is not one of {', '.join(LOSSES)}",
                                 param_hint="--distil-loss")
    if cfg.distil_layer not in LAYERS:
        raise click.BadParameter(f"{cfg.distil_layer!r} is not one of {', '.join(LAYERS)}",
                                 param_hint="--distil-layer")
    if cfg.distil < 0 or (cfg.distil > 0) != bool(cfg.teacher):
        raise click.BadParameter(f"--distil {cfg.distil:g} needs a weight above 0 with --teacher DIR "
                                 "(and --teacher needs --distil)", param_hint="--distil")
    floors = (model_cfg.floor_db - cfg.floor_jitter, model_cfg.floor_db + cfg.floor_jitter) \
        if cfg.floor_jitter or cfg.babble else None  # raw features, floored and normalized in collate

    if not rt.main:
        rt.barrier()  # rank 0 fills the feature cache first; the others then read it
    train_set = load_split(cfg.train_csv, cfg.cache, cfg.threads, model_cfg.floor_db, raw=bool(floors))
    dev_set = load_split(cfg.dev_csv, cfg.cache, cfg.threads, model_cfg.floor_db)
    if rt.main:
        rt.barrier()
    if cfg.limit:
        train_set = train_set[:cfg.limit]
    if not train_set or not dev_set:
        raise click.ClickException("no usable clips in the train or dev CSV")
    head = None
    if cfg.distil:
        from seq2seq_asr.teacher import load_frames  # training only; needs torch alone
        try:
            frames = load_frames(cfg.teacher, cfg.train_csv)
        except FileNotFoundError as e:
            raise click.ClickException(str(e)) from None
        for e in train_set:
            e.teacher = frames.get(e.path)
        missing = sum(e.teacher is None for e in train_set)
        if missing == len(train_set):
            raise click.ClickException(f"none of the training clips has teacher frames in {cfg.teacher}")
        log(f"teacher frames for {len(train_set) - missing} of {len(train_set)} training clips "
            f"({cfg.distil_loss}, weight {cfg.distil:g})")
        head = DistilHead(2 * model_cfg.enc_hidden, frames[next(iter(frames))].shape[1]).to(rt.device)
    log(f"train {len(train_set)} clips, {len({e.speaker for e in train_set})} speakers; "
        f"dev {len(dev_set)} clips; {rt.world} process(es) on {rt.device}"
        f"{', mixed precision' if rt.amp else ''}")

    model = Recognizer(model_cfg).to(rt.device)
    params = list(model.parameters()) + (list(head.parameters()) if head is not None else [])
    optimizer = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    scheduler = make_scheduler(optimizer, cfg)
    scaler = torch.amp.GradScaler("cuda", enabled=rt.amp)
    average = moving_average(model, cfg.ema) if cfg.ema else None
    history = []
    if resume:
        def refuse(how: str):
            raise click.ClickException(f"{out / 'last.pt'} was trained {how}: resume with the "
                                       "options it started with, or train into a new --out")

        model.load_state_dict(resume["model"])
        if (head is None) != ("distil_head" not in resume):
            refuse(f"{'with' if head is None else 'without'} --distil")
        if head is not None:
            head.load_state_dict(resume["distil_head"])
        if (average is None) != ("average" not in resume):
            refuse(f"{'with' if average is None else 'without'} --ema")
        if average is not None:
            average.load_state_dict(resume["average"])
        optimizer.load_state_dict(resume["optimizer"])
        if ("lr_lambdas" in resume["scheduler"]) != (cfg.schedule == "cosine"):
            refuse("with another --schedule")
        scheduler.load_state_dict(resume["scheduler"])
        started = _started_with(out)
        changed = [f"--{k.replace('_', '-')} {started[k]:g} (asked now: {getattr(cfg, k):g})"
                   for k in PERTURBATIONS if k in started and started[k] != getattr(cfg, k)]
        for k in ("distil_loss", "distil_layer") if head is not None else ():
            if started.get(k, getattr(cfg, k)) != getattr(cfg, k):
                changed.append(f"--{k.replace('_', '-')} {started[k]} (asked now: {getattr(cfg, k)})")
        if changed:
            refuse(f"with {', '.join(changed)}")
        history = json.loads(resume["history"])
        log(f"resuming after epoch {len(history)}")
    elif init:
        model.load_state_dict(init["model"])
        log(f"starting from the weights of {cfg.init}")
    if rt.main:  # after the checks above: a refused resume leaves the run's config as it was
        (out / "config.json").write_text(json.dumps({"train": asdict(cfg), "model": asdict(model_cfg),
                                                     "processes": rt.world}, indent=2))
    best = max([h["dev_accuracy"] for h in history], default=-1.0)
    loss_of = LossOf(model, cfg.ctc_weight, cfg.label_smoothing, head, cfg.distil, cfg.distil_loss,
                     cfg.distil_layer)
    average_loss_of = (LossOf(average.module, cfg.ctc_weight, cfg.label_smoothing)
                       if average is not None else None)
    trainer = distributed(loss_of, rt)

    weights = speaker_weights(train_set, cfg.balance)
    for epoch in range(len(history) + 1, cfg.epochs + 1):
        best_epoch = max(history, key=lambda h: h["dev_accuracy"])["epoch"] if history else epoch
        if epoch - 1 - best_epoch >= cfg.patience:
            log(f"early stop: no better dev accuracy in {cfg.patience} epochs")
            break
        generator = torch.Generator().manual_seed(cfg.seed * 1000 + epoch)  # same epoch, same batches
        batches = rt.shard(epoch_batches(train_set, cfg.batch_size, weights, generator))
        model.train()
        losses, distils, skipped, started = [], [], 0, time.time()
        bar = tqdm(batches, desc=f"epoch {epoch}", unit="batch", file=sys.stderr, mininterval=5,
                   disable=not rt.main)
        for indices in bar:
            batch = to_device(collate([train_set[i] for i in indices], vocab, generator, cfg.vtlp,
                                      cfg.stretch, floors, cfg.smooth, cfg.babble), rt.device)
            with torch.autocast(rt.device.type, dtype=torch.float16, enabled=rt.amp):
                loss, att, ctc, distil = trainer(batch)
            if rt.sum(float(not torch.isfinite(loss)))[0]:  # any process: skip the step everywhere
                skipped += 1
                continue
            optimizer.zero_grad()
            scaler.scale(loss).backward()
            scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(params, 5.0)
            scaler.step(optimizer)
            scaler.update()
            if average is not None:
                average.update_parameters(model)
            losses.append(loss.item())
            distils.append(distil.item())
            bar.set_postfix(loss=f"{np.mean(losses[-50:]):.3f}", att=f"{att.item():.3f}",
                            ctc=f"{ctc.item():.3f}", **({"distil": f"{distil.item():.3f}"} if head else {}))
        if skipped:
            log(f"epoch {epoch}: {skipped} batches with a non-finite loss skipped")
        dev_loss, dev_acc = evaluate(loss_of, dev_set, vocab, rt)
        if cfg.schedule == "plateau":  # the schedule follows the weights being trained
            scheduler.step(dev_acc)
        else:
            scheduler.step()
        history.append({"epoch": epoch, "train_loss": float(np.mean(losses)) if losses else None,
                        "dev_loss": dev_loss, "dev_accuracy": dev_acc,
                        "lr": optimizer.param_groups[0]["lr"], "seconds": round(time.time() - started)}
                       | ({"train_distil": float(np.mean(distils)) if distils else None} if head else {}))
        saved = model
        if average is not None:  # best.pt and early stopping follow the average
            saved = average.module
            history[-1]["dev_accuracy_trained"] = dev_acc
            dev_loss, dev_acc = evaluate(average_loss_of, dev_set, vocab, rt)
            history[-1].update(dev_loss=dev_loss, dev_accuracy=dev_acc)
        log(json.dumps(history[-1]))
        if rt.main:
            if dev_acc > best:
                checkpoint.save(out / "best.pt", saved, vocab, {"history": json.dumps(history)})
                plot_attention(saved, dev_set[0], vocab, out / "attention.png")
            checkpoint.save(out / "last.pt", model, vocab, {
                "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                "history": json.dumps(history)} | ({"average": {
                    k: v.cpu() for k, v in average.state_dict().items()}} if average is not None else {})
                | ({"distil_head": {k: v.cpu() for k, v in head.state_dict().items()}} if head else {}))
            (out / "history.json").write_text(json.dumps(history, indent=1))
            plots.curves(history, out / "curves.png")
        best = max(best, dev_acc)
        rt.barrier()
    rt.close()
    return out / "best.pt"


@click.command()
@click.argument("train_csv", type=click.Path(exists=True, dir_okay=False))
@click.argument("dev_csv", type=click.Path(exists=True, dir_okay=False))
@config_options(TrainConfig, skip=("train_csv", "dev_csv"))
@click.option("--enc-hidden", default=ModelConfig.enc_hidden, show_default=True)
@click.option("--enc-layers", default=ModelConfig.enc_layers, show_default=True)
@click.option("--dec-hidden", default=ModelConfig.dec_hidden, show_default=True)
@click.option("--no-ctc", is_flag=True, help="Train without the CTC head.")
@click.option("--floor-db", default=ModelConfig.floor_db, show_default=True,
              help="Feature floor under each clip's peak, dB (0: none); with --init it replaces the "
                   "initial model's.")
@click.option("--mix-style", default=ModelConfig.mix_style, show_default=True,
              help="Share of training utterances whose encoder-input statistics are mixed with "
                   "another's (MixStyle); with --init it replaces the initial model's.")
@click.option("--export", type=click.Path(dir_okay=False),
              help="Copy best.pt here when done, its weights in float16: half the file, the same "
                   "answers within rounding.")
@click.option("--export-float32", is_flag=True, help="Export the weights as trained, in float32.")
def main(enc_hidden, enc_layers, dec_hidden, no_ctc, floor_db, mix_style, export, export_float32,
         **kwargs):
    """Train the number recognizer on TRAIN_CSV, choosing the best epoch on DEV_CSV."""
    cfg = TrainConfig(**kwargs)
    model_cfg = ModelConfig(enc_hidden=enc_hidden, enc_layers=enc_layers, dec_hidden=dec_hidden,
                            floor_db=floor_db, mix_style=mix_style,
                            ctc=not no_ctc and cfg.ctc_weight > 0)
    train_and_export(lambda: train(cfg, model_cfg), export, half=not export_float32)

if __name__ == "__main__":
    main()
