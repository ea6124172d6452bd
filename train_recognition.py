"""Train the recognizer on any corpus CSV of the public layout
(filename,transcription,spk_id,gender,...; filename relative to the CSV).

    python train_recognition.py data/corpus/train.csv data/corpus/dev.csv --out runs/recognizer

Writes into --out: last.pt (resumable: rerun the same command), best.pt (the model with
the best dev accuracy, ready for evaluation.py --model), config.json, history.json,
curves.png and attention.png. --export copies best.pt to a path such as states/recognizer.pt.
"""
import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import click
import numpy as np
import torch
from tqdm import tqdm

from normalizer import WordVocab
from seq2seq_asr import checkpoint, plots
from seq2seq_asr.data import collate, epoch_batches, load_split, speaker_weights
from seq2seq_asr.decoding import greedy_decode
from seq2seq_asr.model import ModelConfig, Recognizer
from seq2seq_asr.training import config_options, seed_everything, train_and_export


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
    patience: int = 5  # epochs without a better dev accuracy before stopping
    seed: int = 0
    threads: int = 2
    limit: int = 0  # use only the first N training clips (0: all), for smoke runs
    cache: str = "data/cache"


@torch.no_grad()
def evaluate(model, examples, vocab, batch_size=64) -> tuple[float, float]:
    """-> (mean loss, exact-number accuracy) with greedy constrained decoding."""
    model.eval()
    losses, correct = [], 0
    order = sorted(range(len(examples)), key=lambda i: len(examples[i].feats))
    for start in range(0, len(order), batch_size):
        batch = collate([examples[i] for i in order[start:start + batch_size]], vocab)
        loss, _, _ = model.loss(batch["feats"], batch["lengths"], batch["inputs"], batch["targets"],
                                batch["labels"], batch["label_lengths"])
        losses.append(float(loss))
        hyps = greedy_decode(model, batch["feats"], batch["lengths"], vocab)
        correct += sum(h.number == n for h, n in zip(hyps, batch["numbers"]))
    return float(np.mean(losses)), correct / len(examples)


@torch.no_grad()
def plot_attention(model, example, vocab, path) -> None:
    model.eval()
    batch = collate([example], vocab)
    _, weights, _, _ = model(batch["feats"], batch["lengths"], batch["inputs"])
    words = vocab.decode(batch["targets"][0].tolist()) + ["<eos>"]
    plots.attention(weights[0].numpy(), words, path, title=f"{example.number} ({example.speaker})")


def train(cfg: TrainConfig, model_cfg: ModelConfig) -> Path:
    seed_everything(cfg.seed)
    torch.set_num_threads(cfg.threads)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    vocab = WordVocab()
    model_cfg.vocab_size = len(vocab)

    train_set = load_split(cfg.train_csv, cfg.cache, cfg.threads)
    dev_set = load_split(cfg.dev_csv, cfg.cache, cfg.threads)
    if cfg.limit:
        train_set = train_set[:cfg.limit]
    if not train_set or not dev_set:
        raise click.ClickException("no usable clips in the train or dev CSV")
    print(f"train {len(train_set)} clips, {len({e.speaker for e in train_set})} speakers; "
          f"dev {len(dev_set)} clips", file=sys.stderr)

    resume = checkpoint.read(out / "last.pt") if (out / "last.pt").is_file() else None
    if resume:
        model_cfg = ModelConfig(**resume["config"])
    (out / "config.json").write_text(json.dumps({"train": asdict(cfg), "model": asdict(model_cfg)},
                                                indent=2))
    model = Recognizer(model_cfg)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="max", factor=0.5,
                                                           patience=1)
    history = []
    if resume:
        model.load_state_dict(resume["model"])
        optimizer.load_state_dict(resume["optimizer"])
        scheduler.load_state_dict(resume["scheduler"])
        history = json.loads(resume["history"])
        print(f"resuming after epoch {len(history)}", file=sys.stderr)
    best = max([h["dev_accuracy"] for h in history], default=-1.0)

    weights = speaker_weights(train_set, cfg.balance)
    for epoch in range(len(history) + 1, cfg.epochs + 1):
        best_epoch = max(history, key=lambda h: h["dev_accuracy"])["epoch"] if history else epoch
        if epoch - 1 - best_epoch >= cfg.patience:
            print(f"early stop: no better dev accuracy in {cfg.patience} epochs", file=sys.stderr)
            break
        generator = torch.Generator().manual_seed(cfg.seed * 1000 + epoch)  # same epoch, same batches
        model.train()
        losses, started = [], time.time()
        bar = tqdm(epoch_batches(train_set, cfg.batch_size, weights, generator), desc=f"epoch {epoch}",
                   unit="batch", file=sys.stderr, mininterval=5)
        for indices in bar:
            batch = collate([train_set[i] for i in indices], vocab, generator)
            loss, att, ctc = model.loss(batch["feats"], batch["lengths"], batch["inputs"],
                                        batch["targets"], batch["labels"], batch["label_lengths"],
                                        cfg.ctc_weight, cfg.label_smoothing)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            optimizer.step()
            losses.append(loss.item())
            bar.set_postfix(loss=f"{np.mean(losses[-50:]):.3f}", att=f"{att.item():.3f}",
                            ctc=f"{ctc.item():.3f}")
        dev_loss, dev_acc = evaluate(model, dev_set, vocab)
        scheduler.step(dev_acc)
        history.append({"epoch": epoch, "train_loss": float(np.mean(losses)), "dev_loss": dev_loss,
                        "dev_accuracy": dev_acc, "lr": optimizer.param_groups[0]["lr"],
                        "seconds": round(time.time() - started)})
        print(json.dumps(history[-1]), file=sys.stderr)
        if dev_acc > best:
            best = dev_acc
            checkpoint.save(out / "best.pt", model, vocab, {"history": json.dumps(history)})
            plot_attention(model, dev_set[0], vocab, out / "attention.png")
        checkpoint.save(out / "last.pt", model, vocab, {
            "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
            "history": json.dumps(history)})
        (out / "history.json").write_text(json.dumps(history, indent=1))
        plots.curves(history, out / "curves.png")
    return out / "best.pt"


@click.command()
@click.argument("train_csv", type=click.Path(exists=True, dir_okay=False))
@click.argument("dev_csv", type=click.Path(exists=True, dir_okay=False))
@config_options(TrainConfig, skip=("train_csv", "dev_csv"))
@click.option("--enc-hidden", default=ModelConfig.enc_hidden, show_default=True)
@click.option("--dec-hidden", default=ModelConfig.dec_hidden, show_default=True)
@click.option("--no-ctc", is_flag=True, help="Train without the CTC head.")
@click.option("--export", type=click.Path(dir_okay=False), help="Copy best.pt here when done.")
def main(enc_hidden, dec_hidden, no_ctc, export, **kwargs):
    """Train the number recognizer on TRAIN_CSV, choosing the best epoch on DEV_CSV."""
    cfg = TrainConfig(**kwargs)
    model_cfg = ModelConfig(enc_hidden=enc_hidden, dec_hidden=dec_hidden,
                            ctc=not no_ctc and cfg.ctc_weight > 0)
    train_and_export(lambda: train(cfg, model_cfg), export)

if __name__ == "__main__":
    main()
