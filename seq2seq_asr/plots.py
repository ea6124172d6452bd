"""PNG figures for a training run: learning curves and an attention alignment."""
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def curves(history: list[dict], path: str | Path) -> None:
    """history: one dict per epoch with train_loss, dev_loss, dev_accuracy."""
    epochs = [h["epoch"] for h in history]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.plot(epochs, [h["train_loss"] for h in history], label="train")
    left.plot(epochs, [h["dev_loss"] for h in history], label="dev")
    left.set(xlabel="epoch", ylabel="loss", title="loss")
    left.legend()
    right.plot(epochs, [100 * h["dev_accuracy"] for h in history], color="tab:green")
    right.set(xlabel="epoch", ylabel="%", title="dev exact-number accuracy")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def attention(weights, words: list[str], path: str | Path, title: str = "") -> None:
    """weights: (U, T') attention of each output token over encoder frames (12.5 per second)."""
    fig, ax = plt.subplots(figsize=(10, 3.5))
    ax.imshow(weights, aspect="auto", origin="lower", cmap="viridis")
    ax.set_yticks(range(len(words)), words)
    ax.set(xlabel="encoder frame (80 ms)", title=title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
