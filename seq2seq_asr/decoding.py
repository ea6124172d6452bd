"""Decoding constrained by the grammar of Russian numbers: at every step only the words
that can continue a well-formed number (and <eos> once the words are a whole number)
are allowed, so every output is an integer in 1..999999.

greedy_decode: batched, one hypothesis per utterance.
beam_search:   batched, `beam` hypotheses per utterance; the finished ones can be rescored
               with the CTC head: score = (1 - ctc_weight) * attention + ctc_weight * CTC.
confidence:    the geometric mean of the attention decoder's and the CTC head's probability of
               the chosen word sequence (0..1; the decoder's alone for a model without CTC). The two
               heads rarely agree on noise or on words that are not a number, so an answer there
               gets a low confidence even when the decoder alone is fairly sure.
"""
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from normalizer import WordVocab, canonical, to_int

from .model import Decoder

MAX_STEPS = 9  # the longest number is 7 words, then <eos>


@dataclass
class Hypothesis:
    words: list[str]
    number: int
    confidence: float
    score: float


class Grammar:
    """Masks of allowed token ids along the canonical number automaton, for one vocabulary."""

    def __init__(self, vocab: WordVocab):
        self.vocab = vocab
        self._masks: dict = {}

    def start(self):
        return canonical.start()

    def mask(self, position) -> torch.Tensor:
        """(V,) additive mask: 0 where allowed, -inf elsewhere. None means finished: only <eos>."""
        if position not in self._masks:
            m = torch.full((len(self.vocab),), float("-inf"))
            if position is None or canonical.can_end(position):
                m[self.vocab.eos] = 0
            if position is not None:
                m[[self.vocab.index[w] for w in canonical.next_words(position)]] = 0
            self._masks[position] = m
        return self._masks[position]

    def step(self, position, token: int):
        return canonical.step(position, self.vocab.tokens[token])


_grammars: dict[tuple, Grammar] = {}


def grammar_for(vocab: WordVocab) -> Grammar:
    """One Grammar (and its cache of masks) per vocabulary, kept across calls."""
    key = tuple(vocab.tokens)
    if key not in _grammars:
        _grammars[key] = Grammar(vocab)
    return _grammars[key]


def _finish(vocab, ids: list[int], logp: float, score: float, ctc_logp: float | None) -> Hypothesis:
    """logp: the attention decoder's log-probability of ids; ctc_logp: the CTC head's, if any."""
    words = vocab.decode(ids)
    confidence = math.exp(logp if ctc_logp is None else (logp + ctc_logp) / 2)
    return Hypothesis(words, to_int(words), confidence, score)


def _ctc_log_probs(model, memory, enc_lengths, labels: list[list[int]], rows=None) -> list:
    """log P_ctc(labels[i] | utterance rows[i]) for each i (rows: default 0..n-1); Nones
    without a CTC head. memory (B, T', D), enc_lengths (B,)."""
    if not model.has_ctc:
        return [None] * len(labels)
    device = memory.device
    rows = torch.arange(len(labels)) if rows is None else torch.as_tensor(rows)
    log_probs = model.ctc_log_probs(memory.index_select(0, rows.to(device))).float()  # (n, T', V)
    targets = torch.nn.utils.rnn.pad_sequence([torch.tensor(x, dtype=torch.long) for x in labels],
                                              batch_first=True)
    nll = F.ctc_loss(log_probs.transpose(0, 1), targets.to(device),
                     enc_lengths.index_select(0, rows.to(enc_lengths.device)).to(device),
                     torch.tensor([len(x) for x in labels], device=device), blank=0,
                     reduction="none", zero_infinity=False)
    return [float(-x) if math.isfinite(float(x)) else -math.inf for x in nll]


@torch.no_grad()
def greedy_decode(model, feats, lengths, vocab: WordVocab) -> list[Hypothesis]:
    """feats (B, T, n_mels), lengths (B,) -> one hypothesis per utterance."""
    grammar = grammar_for(vocab)
    memory, mask, enc_lengths = model.encode(feats, lengths)
    dstate = model.decoder.start(memory, mask)
    B, device = feats.shape[0], feats.device
    tokens = torch.full((B,), vocab.sos, dtype=torch.long, device=device)
    states: list = [grammar.start() for _ in range(B)]
    ids: list[list[int]] = [[] for _ in range(B)]
    logp = [0.0] * B
    for _ in range(MAX_STEPS):
        logits, dstate = model.decoder.step(tokens, dstate)
        masks = torch.stack([grammar.mask(s) for s in states]).to(device)
        masked = (logits.float() + masks).log_softmax(-1)
        tokens = masked.argmax(-1)
        chosen = masked.gather(1, tokens[:, None])[:, 0].tolist()
        for b, token in enumerate(tokens.tolist()):
            if states[b] is None:
                continue
            logp[b] += chosen[b]
            if token == vocab.eos:
                states[b] = None
            else:
                ids[b].append(token)
                states[b] = grammar.step(states[b], token)
        if all(s is None for s in states):
            break
    ctc = _ctc_log_probs(model, memory, enc_lengths, ids)
    return [_finish(vocab, ids[b], logp[b], logp[b], ctc[b]) for b in range(B)]


def _reorder(dstate: dict, index: torch.Tensor) -> dict:
    """The decoder state of the hypotheses index (B*K,) names. A beam only ever draws from its
    own utterance's hypotheses, so what is the same for all of them (Decoder.PER_UTTERANCE:
    the encoder output, its keys and mask) stays where it is."""
    return {k: v if k.rsplit(".", 1)[-1] in Decoder.PER_UTTERANCE else v.index_select(0, index)
            for k, v in dstate.items()}


@torch.no_grad()
def beam_search(model, feats, lengths, vocab: WordVocab, beam: int = 4,
                ctc_weight: float = 0.0) -> list[Hypothesis]:
    """feats (B, T, n_mels), lengths (B,) -> the best hypothesis per utterance."""
    grammar = grammar_for(vocab)
    memory, mask, enc_lengths = model.encode(feats, lengths)
    B, K, V = feats.shape[0], beam, len(vocab)
    # each utterance's first state (its keys computed once), spread over its K hypotheses
    dstate = {k: v.repeat_interleave(K, 0) for k, v in model.decoder.start(memory, mask).items()}
    tokens = torch.full((B * K,), vocab.sos, dtype=torch.long)
    scores = torch.full((B, K), float("-inf"))
    scores[:, 0] = 0
    alive: list[tuple[list[int], frozenset]] = [([], grammar.start()) for _ in range(B * K)]
    finished: list[list[tuple[float, list[int]]]] = [[] for _ in range(B)]
    for _ in range(MAX_STEPS):
        logits, dstate = model.decoder.step(tokens, dstate)
        grammar_mask = torch.stack([grammar.mask(s) for _, s in alive])
        total = scores.view(-1, 1) + (logits + grammar_mask).log_softmax(-1)  # (B*K, V)
        top_scores, top_index = total.view(B, K * V).topk(2 * K, dim=1)
        new_scores = torch.full((B, K), float("-inf"))
        source = torch.arange(B * K)
        new_alive, new_tokens = list(alive), torch.full((B * K,), vocab.eos, dtype=torch.long)
        for b in range(B):
            kept = 0
            for score, flat in zip(top_scores[b].tolist(), top_index[b].tolist()):
                if score == float("-inf") or kept == K:
                    break
                k, token = divmod(flat, V)
                ids, state = alive[b * K + k]
                if token == vocab.eos:
                    finished[b].append((score, ids))
                    continue
                slot = b * K + kept
                source[slot] = b * K + k
                new_alive[slot] = (ids + [token], grammar.step(state, token))
                new_tokens[slot], new_scores[b, kept] = token, score
                kept += 1
        scores, alive, tokens = new_scores, new_alive, new_tokens
        dstate = _reorder(dstate, source)
        best_done = torch.tensor([max((s for s, _ in f), default=float("-inf")) for f in finished])
        if (scores.max(1).values <= best_done).all():
            break
    if any(not f for f in finished):
        raise FloatingPointError("no hypothesis finished (the model's scores are not finite)")
    if not (ctc_weight > 0 and model.has_ctc):
        best = [max(f) for f in finished]
        ctc = _ctc_log_probs(model, memory, enc_lengths, [ids for _, ids in best])
        return [_finish(vocab, ids, att, att, c) for (att, ids), c in zip(best, ctc)]
    # CTC rescoring: every finished hypothesis of every utterance in one call
    rows = [b for b, hyps in enumerate(finished) for _ in hyps]
    flat = [h for hyps in finished for h in hyps]
    ctc = iter(_ctc_log_probs(model, memory, enc_lengths, [ids for _, ids in flat], rows))
    out = []
    for hyps in finished:
        joint = [((1 - ctc_weight) * att + ctc_weight * c, att, ids, c)
                 for (att, ids), c in zip(hyps, ctc)]
        score, att, ids, c = max(joint, key=lambda x: x[0])
        out.append(_finish(vocab, ids, att, score, c))
    return out
