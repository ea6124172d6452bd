"""The recognizer: conv subsampling -> bidirectional GRU encoder -> GRU decoder with
location-aware attention, plus an optional CTC head on the encoder.

Shapes: B batch, T feature frames (100/s), T' = ceil(T/8) encoder frames (12.5/s),
U target tokens, V vocabulary size, D = 2 * enc_hidden encoder width.
"""
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class ModelConfig:
    vocab_size: int = 44
    n_mels: int = 64
    floor_db: float = 60.0  # features floored this far under the clip's peak (audio.log_mel; 0: none)
    conv_channels: int = 32
    subsample_layers: int = 3  # time reduced 2**3 = 8x: 12.5 encoder frames a second
    enc_hidden: int = 160  # per direction
    enc_layers: int = 2
    dec_hidden: int = 192
    embed: int = 64
    attn_dim: int = 128
    attn_channels: int = 16  # location features
    attn_kernel: int = 15
    dropout: float = 0.15
    mix_style: float = 0.0  # training only: share of utterances given another's statistics (mix_style)
    ctc: bool = True  # a CTC head on the encoder

    def to_dict(self):
        return asdict(self)


def lengths_to_mask(lengths: torch.Tensor, max_len: int) -> torch.Tensor:
    """(B,) lengths -> (B, max_len) bool, True on real frames."""
    return torch.arange(max_len, device=lengths.device)[None] < lengths[:, None]


def mix_style(x: torch.Tensor, lengths: torch.Tensor, share: float, alpha: float = 0.1) -> torch.Tensor:
    """(B, T', C), (B,) lengths -> the same (frames past a length come out zero) with, for a
    random `share` of the utterances, each channel's mean and spread over time moved part of the
    way (a Beta(alpha, alpha) draw) to those of another utterance of the batch (MixStyle, Zhou et
    al., ICLR 2021).
    Those statistics carry much of a voice's timbre and channel, so the encoder learns to read
    the words whatever they are; the content (the normalized frames) stays. Gradients do not flow
    through the statistics, as in the paper."""
    B = x.shape[0]
    if B < 2 or share <= 0:
        return x
    mask = lengths_to_mask(lengths, x.shape[1])[:, :, None].to(x.dtype)  # (B, T', 1)
    frames = mask.sum(1, keepdim=True).clamp(min=1)
    mean = ((x * mask).sum(1, keepdim=True) / frames).detach()  # (B, 1, C)
    std = ((((x - mean) * mask) ** 2).sum(1, keepdim=True) / frames + 1e-5).sqrt().detach()
    other = torch.randperm(B, device=x.device)
    lam = torch.distributions.Beta(alpha, alpha).sample((B, 1, 1)).to(x)
    mixed = (x - mean) / std * (lam * std + (1 - lam) * std[other]) + lam * mean + (1 - lam) * mean[other]
    chosen = (torch.rand(B, 1, 1, device=x.device) < share).to(x.dtype)
    return (chosen * mixed + (1 - chosen) * x) * mask


def conv_one_channel(conv: nn.Conv1d | nn.Conv2d, x: torch.Tensor) -> torch.Tensor:
    """conv(x) for a convolution with one input channel (any kernel, stride and zero padding; no
    dilation): x (B, 1, T) -> (B, out, T') for a Conv1d, (B, 1, H, W) -> (B, out, H', W') for a
    Conv2d, as one batched matrix product over the unfolded patches. The same figures, several
    times faster on a CPU than the convolution kernels, which are slow with one input channel."""
    one_d = x.dim() == 3
    if one_d:  # read as a Conv2d over a row of height 1
        x = x[:, :, None]
        kernel, stride, padding = (1, *conv.kernel_size), (1, *conv.stride), (0, *conv.padding)
    else:
        kernel, stride, padding = conv.kernel_size, conv.stride, conv.padding
    B, _, H, W = x.shape
    out_h, out_w = [(n + 2 * p - k) // s + 1 for n, k, s, p in zip((H, W), kernel, stride, padding)]
    patches = F.unfold(x, kernel, padding=padding, stride=stride)  # (B, kh * kw, out_h * out_w)
    weight = conv.weight.reshape(1, conv.out_channels, -1).expand(B, -1, -1)  # (B, out, kh * kw)
    if conv.bias is None:
        y = torch.bmm(weight, patches)
    else:
        y = torch.baddbmm(conv.bias[None, :, None].expand(B, -1, out_h * out_w), weight, patches)
    y = y.view(B, conv.out_channels, out_h, out_w)
    return y[:, :, 0] if one_d else y


class ConvSubsampling(nn.Module):
    """(B, T, n_mels) -> (B, T', out): `layers` stride-2 3x3 convolutions, T' = T / 2**layers."""

    def __init__(self, n_mels: int, channels: int, out: int, layers: int):
        super().__init__()
        convs, width = [], n_mels
        for i in range(layers):
            convs += [nn.Conv2d(1 if i == 0 else channels, channels, 3, stride=2, padding=1), nn.GELU()]
            width = (width + 1) // 2
        self.conv = nn.Sequential(*convs)
        self.layers = layers
        self.proj = nn.Linear(channels * width, out)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor):
        """Padded frames of x must be zero; they are zeroed again after every layer, so an
        utterance gives the same output alone or padded in a batch."""
        x = x[:, None]
        for layer in self.conv:
            x = conv_one_channel(layer, x) if getattr(layer, "in_channels", 0) == 1 else layer(x)
            if isinstance(layer, nn.GELU):
                lengths = (lengths + 1) // 2
                x = x.mul_(lengths_to_mask(lengths, x.shape[2])[:, None, :, None])
        return self.proj(x.permute(0, 2, 1, 3).flatten(2)), lengths  # (B, T', out)


class Encoder(nn.Module):
    """(B, T, n_mels) -> (B, T', D) and (B,) lengths."""

    def __init__(self, c: ModelConfig):
        super().__init__()
        self.subsample = ConvSubsampling(c.n_mels, c.conv_channels, 2 * c.enc_hidden, c.subsample_layers)
        self.rnn = nn.GRU(2 * c.enc_hidden, c.enc_hidden, c.enc_layers, batch_first=True,
                          bidirectional=True, dropout=c.dropout)
        self.dropout = nn.Dropout(c.dropout)
        self.mix_style = c.mix_style

    def forward(self, feats: torch.Tensor, lengths: torch.Tensor):
        x, lengths = self.subsample(feats, lengths)
        if self.training and self.mix_style:
            x = mix_style(x, lengths, self.mix_style)
        x = nn.utils.rnn.pack_padded_sequence(self.dropout(x), lengths.cpu(), batch_first=True,
                                              enforce_sorted=False)
        x, _ = self.rnn(x)
        x, _ = nn.utils.rnn.pad_packed_sequence(x, batch_first=True)
        return self.dropout(x), lengths


class LocationAttention(nn.Module):
    """Additive attention that also sees where it looked last step (Chorowski et al., 2015)."""

    def __init__(self, c: ModelConfig):
        super().__init__()
        self.keys = nn.Linear(2 * c.enc_hidden, c.attn_dim)
        self.query = nn.Linear(c.dec_hidden, c.attn_dim, bias=False)
        self.location = nn.Conv1d(1, c.attn_channels, c.attn_kernel, padding=c.attn_kernel // 2,
                                  bias=False)
        self.location_proj = nn.Linear(c.attn_channels, c.attn_dim, bias=False)
        self.energy = nn.Linear(c.attn_dim, 1, bias=False)

    def forward(self, query, keys, values, mask, previous):
        """query (B, dec_hidden), keys (B, T', attn_dim) = self.keys(values), values (B, T', D),
        mask (B, T'), previous weights (B, T') -> context (B, D), weights (B, T')."""
        location = conv_one_channel(self.location, previous[:, None])  # (B, attn_channels, T')
        location = self.location_proj(location.transpose(1, 2))
        energy = self.energy(torch.tanh(keys + self.query(query)[:, None] + location)).squeeze(2)
        weights = energy.masked_fill(~mask, float("-inf")).softmax(dim=1)
        return torch.bmm(weights[:, None], values).squeeze(1), weights


class Decoder(nn.Module):
    """One step at a time: previous token + previous context -> logits over the vocabulary."""
    PER_UTTERANCE = ("keys", "memory", "mask")  # state entries no step changes

    def __init__(self, c: ModelConfig):
        super().__init__()
        self.embed = nn.Embedding(c.vocab_size, c.embed)
        self.cell = nn.GRUCell(c.embed + 2 * c.enc_hidden, c.dec_hidden)
        self.attention = LocationAttention(c)
        self.out = nn.Sequential(nn.Linear(c.dec_hidden + 2 * c.enc_hidden, c.dec_hidden),
                                 nn.Tanh(), nn.Dropout(c.dropout), nn.Linear(c.dec_hidden, c.vocab_size))
        self.dec_hidden = c.dec_hidden

    def start(self, memory: torch.Tensor, mask: torch.Tensor) -> dict:
        """The state before the first token, for memory (B, T', D) and mask (B, T')."""
        B = memory.shape[0]
        first = mask.float() / mask.sum(1, keepdim=True)
        return {"hidden": memory.new_zeros(B, self.dec_hidden), "context": memory.new_zeros(B, memory.shape[2]),
                "weights": first, "keys": self.attention.keys(memory), "memory": memory, "mask": mask}

    def step(self, tokens: torch.Tensor, state: dict):
        """tokens (B,) -> logits (B, V) and the next state."""
        x = torch.cat([self.embed(tokens), state["context"]], dim=1)
        hidden = self.cell(x, state["hidden"])
        context, weights = self.attention(hidden, state["keys"], state["memory"], state["mask"],
                                          state["weights"])
        logits = self.out(torch.cat([hidden, context], dim=1))
        return logits, {**state, "hidden": hidden, "context": context, "weights": weights}


class Recognizer(nn.Module):
    def __init__(self, c: ModelConfig):
        super().__init__()
        self.config = c
        self.encoder = Encoder(c)
        self.decoder = Decoder(c)
        self.ctc_head = nn.Linear(2 * c.enc_hidden, c.vocab_size) if c.ctc else None

    @property
    def has_ctc(self) -> bool:
        return self.ctc_head is not None

    def encode(self, feats: torch.Tensor, lengths: torch.Tensor):
        """(B, T, n_mels), (B,) -> memory (B, T', D), mask (B, T'), lengths (B,)."""
        memory, lengths = self.encoder(feats, lengths)
        return memory, lengths_to_mask(lengths, memory.shape[1]), lengths

    def ctc_log_probs(self, memory: torch.Tensor) -> torch.Tensor:
        """(B, T', D) -> (B, T', V) log-probabilities, blank = 0."""
        return self.ctc_head(memory).log_softmax(-1)

    def forward(self, feats, lengths, inputs):
        """Teacher forcing: inputs (B, U) start with <sos> -> logits (B, U, V), attention (B, U, T'),
        and the encoder output for the CTC loss."""
        memory, mask, enc_lengths = self.encode(feats, lengths)
        state = self.decoder.start(memory, mask)
        logits, attention = [], []
        for u in range(inputs.shape[1]):
            step_logits, state = self.decoder.step(inputs[:, u], state)
            logits.append(step_logits)
            attention.append(state["weights"])
        return torch.stack(logits, 1), torch.stack(attention, 1), memory, enc_lengths

    def loss(self, feats, lengths, inputs, targets, labels, label_lengths, ctc_weight=0.3,
             label_smoothing=0.1):
        """inputs (B, U) = <sos> w1..wn, targets (B, U) = w1..wn <eos>, labels (B, S) = w1..wn,
        all padded with 0 -> (total loss, attention loss, CTC loss or 0)."""
        logits, _, memory, enc_lengths = self(feats, lengths, inputs)
        return self.loss_from(logits, memory, enc_lengths, targets, labels, label_lengths,
                              ctc_weight, label_smoothing)

    def loss_from(self, logits, memory, enc_lengths, targets, labels, label_lengths, ctc_weight=0.3,
                  label_smoothing=0.1):
        """loss() from a forward pass already made: logits (B, U, V), memory (B, T', D)."""
        att = F.cross_entropy(logits.transpose(1, 2), targets, ignore_index=0,
                              label_smoothing=label_smoothing)
        if self.ctc_head is None or ctc_weight == 0:
            return att, att, torch.zeros(())
        ctc = F.ctc_loss(self.ctc_log_probs(memory).transpose(0, 1), labels, enc_lengths,
                         label_lengths, blank=0, zero_infinity=True)
        return (1 - ctc_weight) * att + ctc_weight * ctc, att, ctc


class Ensemble(nn.Module):
    """Several recognizers read as one, a product of experts: their encoders run side by side
    and every decoding step and every CTC frame takes the mean of the members' log-probabilities.
    Members must share the vocabulary, the features (n_mels, floor_db) and the subsampling, so
    that their encoder frames line up. For transcription (decoding.py); each member is trained
    on its own. The joint memory is the members' memories side by side: (B, T', sum of their D)."""

    def __init__(self, members: list[Recognizer]):
        super().__init__()
        first = members[0].config
        for m in members[1:]:
            for field in ("vocab_size", "n_mels", "floor_db", "subsample_layers"):
                if getattr(m.config, field) != getattr(first, field):
                    raise ValueError(f"ensemble members differ in {field} "
                                     f"({getattr(first, field)} and {getattr(m.config, field)})")
        self.members = nn.ModuleList(members)
        self.config = first  # what the features are made with (audio.log_mel)
        self.widths = [2 * m.config.enc_hidden for m in members]  # each member's D
        self.decoder = EnsembleDecoder(list(members), self.widths)
        self.has_ctc = all(m.has_ctc for m in members)

    def encode(self, feats: torch.Tensor, lengths: torch.Tensor):
        """(B, T, n_mels), (B,) -> joint memory (B, T', sum D), mask (B, T'), lengths (B,)."""
        encoded = [m.encode(feats, lengths) for m in self.members]
        _, mask, enc_lengths = encoded[0]
        return torch.cat([memory for memory, _, _ in encoded], dim=2), mask, enc_lengths

    def ctc_log_probs(self, memory: torch.Tensor) -> torch.Tensor:
        """(B, T', sum D) -> (B, T', V): the members' mean log-probabilities, renormalized."""
        parts = memory.split(self.widths, dim=2)
        stacked = torch.stack([m.ctc_log_probs(x) for m, x in zip(self.members, parts)])
        return stacked.mean(0).log_softmax(-1)


class EnsembleDecoder:
    """Decoder.start / Decoder.step over every member of an Ensemble. A state is one flat dict
    of tensors (keys "i.name", i the member), so a beam search reorders it as it would one
    decoder's. members: a plain list (the Ensemble owns the modules)."""

    def __init__(self, members: list[Recognizer], widths: list[int]):
        self.members, self.widths = members, widths

    def start(self, memory: torch.Tensor, mask: torch.Tensor) -> dict:
        """Joint memory (B, T', sum D), mask (B, T') -> the state before the first token."""
        state = {}
        for i, (m, x) in enumerate(zip(self.members, memory.split(self.widths, dim=2))):
            state.update({f"{i}.{k}": v for k, v in m.decoder.start(x, mask).items()})
        return state

    def step(self, tokens: torch.Tensor, state: dict):
        """tokens (B,) -> the members' mean log-probabilities (B, V) and the next state."""
        log_probs, new_state = [], {}
        for i, m in enumerate(self.members):
            own = {k.split(".", 1)[1]: v for k, v in state.items() if k.startswith(f"{i}.")}
            logits, own = m.decoder.step(tokens, own)
            log_probs.append(logits.float().log_softmax(-1))
            new_state.update({f"{i}.{k}": v for k, v in own.items()})
        return torch.stack(log_probs).mean(0), new_state
