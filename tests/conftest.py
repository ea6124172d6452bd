"""Helpers shared by the tests: a free port for the ones that start real processes, a
synthetic vowel for the ones that change voices."""
import socket

import torch
import torchaudio


def free_port() -> int:
    """A localhost TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def vowel(sr: int, f0: float = 120.0, seconds: float = 0.8) -> torch.Tensor:
    """A crude vowel: a glottal pulse train at f0 through two formant resonances (700, 1200 Hz)."""
    pulses = torch.zeros(int(sr * seconds))
    pulses[:: int(sr / f0)] = 1.0
    x = pulses
    for centre in (700.0, 1200.0):
        x = torchaudio.functional.equalizer_biquad(x, sr, centre, 30.0, 4.0)
    return x / x.abs().max() * 0.5
