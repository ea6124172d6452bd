"""Speaker gender from log-mel frames: a compact 1-D convolutional classifier.

(B, T, n_mels) -> conv stack over time (stride 2 each) -> masked mean and max pooling
-> (B, 2) logits, class 0 "female", 1 "male".
"""
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn

from .model import lengths_to_mask

LABELS = ("female", "male")


@dataclass
class GenderConfig:
    n_mels: int = 64
    floor_db: float = 60.0  # the features it reads (audio.log_mel); the recognizer's must match
    channels: int = 96
    layers: int = 4
    kernel: int = 5
    dropout: float = 0.1

    def to_dict(self):
        return asdict(self)


class GenderClassifier(nn.Module):
    def __init__(self, c: GenderConfig):
        super().__init__()
        self.config = c
        blocks, width = [], c.n_mels
        for _ in range(c.layers):
            blocks += [nn.Conv1d(width, c.channels, c.kernel, stride=2, padding=c.kernel // 2),
                       nn.BatchNorm1d(c.channels), nn.GELU()]
            width = c.channels
        self.convs = nn.Sequential(*blocks)
        self.head = nn.Sequential(nn.Dropout(c.dropout), nn.Linear(2 * c.channels, len(LABELS)))

    def forward(self, feats: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """feats (B, T, n_mels), lengths (B,) -> logits (B, 2)."""
        x = feats.transpose(1, 2)  # (B, n_mels, T), zero on padded frames
        for layer in self.convs:
            x = layer(x)
            if isinstance(layer, nn.GELU):  # keep padded frames zero, as if the clip were alone
                lengths = (lengths + 1) // 2
                x = x * lengths_to_mask(lengths, x.shape[2])[:, None]
        mask = lengths_to_mask(lengths.clamp_min(1), x.shape[2])[:, None]  # (B, 1, T')
        mean = (x * mask).sum(2) / mask.sum(2)
        peak = x.masked_fill(~mask, float("-inf")).amax(2)
        return self.head(torch.cat([mean, peak], dim=1))

    @torch.no_grad()
    def predict(self, feats, lengths) -> list[tuple[str, float]]:
        """-> [(label, probability of that label)] per utterance."""
        probs = self(feats, lengths).softmax(-1)
        p, k = probs.max(-1)
        return [(LABELS[i], float(q)) for i, q in zip(k.tolist(), p)]
