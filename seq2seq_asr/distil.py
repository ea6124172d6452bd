"""Distillation from a teacher's encoder frames (teacher.py), for training only: a projection of
the recognizer's encoder output is made to predict the teacher's frames, time-aligned by
interpolation. The projection is not part of the recognizer and is not in its checkpoint
(train_recognition.py keeps it in last.pt, to resume).

The head reads the encoder's output ("top") or, to distil only the lower layers, the output of
its conv front end ("front", the GRUs' input: same frames, same width), so the GRUs above stay
free for the task.

Shapes: B batch, T' encoder frames (12.5/s), D encoder width, Tt teacher frames (50/s for
Whisper), E teacher width.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from .model import lengths_to_mask

LOSSES = ("cosine", "l1")
LAYERS = ("top", "front")  # what the head reads: the encoder's output, or its conv front end's (the GRUs' input)


class DistilHead(nn.Module):
    """(B, T', D) -> (B, T', E): a linear map from the encoder's frames to the teacher's."""

    def __init__(self, width: int, teacher_width: int):
        super().__init__()
        self.proj = nn.Linear(width, teacher_width)

    def forward(self, memory: torch.Tensor) -> torch.Tensor:
        return self.proj(memory)


def align(teacher: torch.Tensor, teacher_lengths: torch.Tensor, lengths: torch.Tensor,
          frames: int) -> torch.Tensor:
    """(B, Tt, E) teacher frames, (B,) their lengths, (B,) encoder lengths -> (B, frames, E): each
    clip's teacher frames linearly interpolated onto its encoder frames (the ends matched, as
    audio.stretch does, so a tempo-perturbed clip stays aligned); zeros past a length."""
    out = teacher.new_zeros(teacher.shape[0], frames, teacher.shape[2])
    for i, (n, m) in enumerate(zip(teacher_lengths.tolist(), lengths.tolist())):
        if n and m:
            out[i, :m] = F.interpolate(teacher[i, :n].T[None], size=m, mode="linear",
                                       align_corners=True)[0].T if n > 1 else teacher[i, :1]
    return out


def distil_loss(predicted: torch.Tensor, lengths: torch.Tensor, teacher: torch.Tensor,
                teacher_lengths: torch.Tensor, kind: str = "cosine") -> torch.Tensor:
    """predicted (B, T', E) = DistilHead(memory), lengths (B,) encoder lengths, teacher (B, Tt,
    E), teacher_lengths (B,) -> the mean over real frames of clips with teacher frames of
    1 - cosine (kind "cosine") or of the mean absolute difference (kind "l1"); 0 if none."""
    target = align(teacher.to(predicted.dtype), teacher_lengths, lengths, predicted.shape[1])
    mask = lengths_to_mask(lengths, predicted.shape[1]) & (teacher_lengths > 0)[:, None].to(lengths.device)
    if not mask.any():
        return predicted.sum() * 0
    if kind == "cosine":
        per_frame = 1 - F.cosine_similarity(predicted, target, dim=-1, eps=1e-6)
    elif kind == "l1":
        per_frame = (predicted - target).abs().mean(-1)
    else:
        raise ValueError(f"{kind!r} is not one of {', '.join(LOSSES)}")
    return per_frame[mask].mean()
