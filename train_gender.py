"""Train the speaker-gender classifier on any corpus CSV with a `gender` column
(female/male; other values are skipped).

    python train_gender.py data/corpus/train.csv data/corpus/dev.csv --out runs/gender

Writes into --out: last.pt (resumable), best.pt (best dev accuracy), config.json and
history.json; --export copies best.pt to a path such as states/gender.pt.
Uses the GPU when there is one; runs under torchrun like train_recognition.py.
"""
import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import click
import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from seq2seq_asr import checkpoint
from seq2seq_asr.audio import perturb
from seq2seq_asr.data import epoch_batches, load_split, pad_feats, speaker_weights
from seq2seq_asr.gender import LABELS, GenderClassifier, GenderConfig
from seq2seq_asr.training import (Runtime, config_options, distributed, seed_everything,
                                  setup_runtime, train_and_export)


@dataclass
class TrainConfig:
    train_csv: str
    dev_csv: str
    out: str = "runs/gender"
    epochs: int = 8
    batch_size: int = 64
    lr: float = 2e-3
    weight_decay: float = 1e-2
    balance: float = 1.0  # every speaker equally often, so no voice dominates
    seed: int = 0
    threads: int = 2  # CPU threads, shared among the processes of a torchrun on CPUs
    limit: int = 0  # use only the first N training clips (0: all), for smoke runs
    cache: str = "data/cache"
    device: str = "auto"  # auto: this process's GPU when CUDA is there, else the CPU
    amp: bool = True  # mixed precision (float16) on CUDA; ignored on the CPU


def labelled(examples):
    """Keep the examples whose gender is female or male; -> (examples, labels tensor)."""
    kept = [e for e in examples if str(e.gender).lower() in LABELS]
    return kept, torch.tensor([LABELS.index(e.gender.lower()) for e in kept])


@torch.no_grad()
def accuracy(model, examples, labels, rt: Runtime, batch_size=128) -> float:
    """Each process scores its shard of the clips; -> the accuracy over all of them."""
    model.eval()
    mine = rt.shard(list(range(len(examples))))
    correct = 0
    for start in range(0, len(mine), batch_size):
        index = mine[start:start + batch_size]
        feats, lengths = pad_feats([examples[i].feats for i in index])
        logits = model(feats.to(rt.device), lengths.to(rt.device))
        correct += int((logits.argmax(-1).cpu() == labels[index]).sum())
    correct, total = rt.sum(correct, len(mine))
    return correct / max(total, 1)


def train(cfg: TrainConfig, model_cfg: GenderConfig) -> Path:
    seed_everything(cfg.seed)
    rt = setup_runtime(cfg.device, cfg.amp, cfg.threads)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    log = (lambda *a: print(*a, file=sys.stderr)) if rt.main else (lambda *a: None)
    resume = checkpoint.read(out / "last.pt", checkpoint.GENDER_FORMAT) if (out / "last.pt").is_file() else None
    if resume:  # as it started
        model_cfg = checkpoint.gender_config(resume)
    if rt.main:
        (out / "config.json").write_text(json.dumps({"train": asdict(cfg), "model": asdict(model_cfg),
                                                     "processes": rt.world}, indent=2))
    if not rt.main:
        rt.barrier()  # rank 0 fills the feature cache first
    train_set, train_labels = labelled(load_split(cfg.train_csv, cfg.cache, cfg.threads, model_cfg.floor_db))
    dev_set, dev_labels = labelled(load_split(cfg.dev_csv, cfg.cache, cfg.threads, model_cfg.floor_db))
    if rt.main:
        rt.barrier()
    if cfg.limit:
        train_set, train_labels = train_set[:cfg.limit], train_labels[:cfg.limit]
    if not train_set or not dev_set:
        raise click.ClickException("no clips with a female/male gender in the train or dev CSV")
    log(f"train {len(train_set)} clips, dev {len(dev_set)} clips; {rt.world} process(es) on {rt.device}")

    model = GenderClassifier(model_cfg).to(rt.device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    scaler = torch.amp.GradScaler("cuda", enabled=rt.amp)
    history, best = [], -1.0
    if resume:
        model.load_state_dict(resume["model"])
        optimizer.load_state_dict(resume["optimizer"])
        history = json.loads(resume["history"])
        best = max(h["dev_accuracy"] for h in history)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, cfg.epochs,
                                                           last_epoch=len(history) - 1)
    trainer = distributed(model, rt)
    weights = speaker_weights(train_set, cfg.balance)
    for epoch in range(len(history) + 1, cfg.epochs + 1):
        generator = torch.Generator().manual_seed(cfg.seed * 1000 + epoch)
        model.train()
        losses, started = [], time.time()
        for indices in tqdm(rt.shard(epoch_batches(train_set, cfg.batch_size, weights, generator)),
                            desc=f"epoch {epoch}", unit="batch", file=sys.stderr, mininterval=5,
                            disable=not rt.main):
            feats, lengths = pad_feats([perturb(train_set[i].feats.float(), generator)
                                        for i in indices])
            with torch.autocast(rt.device.type, dtype=torch.float16, enabled=rt.amp):
                logits = trainer(feats.to(rt.device), lengths.to(rt.device))
            loss = F.cross_entropy(logits.float(), train_labels[indices].to(rt.device))
            if rt.sum(float(not torch.isfinite(loss)))[0]:  # any process: skip the step everywhere
                continue
            optimizer.zero_grad()
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
            losses.append(loss.item())
        scheduler.step()
        dev_acc = accuracy(model, dev_set, dev_labels, rt)
        history.append({"epoch": epoch, "train_loss": float(np.mean(losses)) if losses else None,
                        "dev_accuracy": dev_acc, "seconds": round(time.time() - started)})
        log(json.dumps(history[-1]))
        if rt.main:
            if dev_acc > best:
                checkpoint.save(out / "best.pt", model, extra={"history": json.dumps(history)})
            checkpoint.save(out / "last.pt", model, extra={"optimizer": optimizer.state_dict(),
                                                           "history": json.dumps(history)})
            (out / "history.json").write_text(json.dumps(history, indent=1))
        best = max(best, dev_acc)
        rt.barrier()
    rt.close()
    return out / "best.pt"


@click.command()
@click.argument("train_csv", type=click.Path(exists=True, dir_okay=False))
@click.argument("dev_csv", type=click.Path(exists=True, dir_okay=False))
@config_options(TrainConfig, skip=("train_csv", "dev_csv"))
@click.option("--floor-db", default=GenderConfig.floor_db, show_default=True,
              help="Feature floor under each clip's peak, dB (0: none): the recognizer's it runs beside.")
@click.option("--export", type=click.Path(dir_okay=False), help="Copy best.pt here when done.")
def main(floor_db, export, **kwargs):
    """Train the gender classifier on TRAIN_CSV, choosing the best epoch on DEV_CSV."""
    train_and_export(lambda: train(TrainConfig(**kwargs), GenderConfig(floor_db=floor_db)), export)

if __name__ == "__main__":
    main()
