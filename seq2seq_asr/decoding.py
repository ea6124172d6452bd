"""Decoding constrained by the grammar of Russian numbers: at every step only the words
that can continue a well-formed number (and <eos> once the words are a whole number)
are allowed, so every output is an integer in 1..999999.

greedy_decode: batched, one hypothesis per utterance.
beam_search:   batched, `beam` hypotheses per utterance; the finished ones can be rescored
               with the CTC head: score = (1 - ctc_weight) * attention + ctc_weight * CTC.
confidence:    the attention decoder's probability of the chosen word sequence (0..1).
"""
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from normalizer import WordVocab, canonical, to_int

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


def _finish(vocab, ids: list[int], logp: float, score: float) -> Hypothesis:
    words = vocab.decode(ids)
    return Hypothesis(words, to_int(words), float(torch.tensor(logp).exp()), score)


@torch.no_grad()
def greedy_decode(model, feats, lengths, vocab: WordVocab) -> list[Hypothesis]:
    """feats (B, T, n_mels), lengths (B,) -> one hypothesis per utterance."""
    grammar = grammar_for(vocab)
    memory, mask, _ = model.encode(feats, lengths)
    dstate = model.decoder.start(memory, mask)
    B = feats.shape[0]
    tokens = torch.full((B,), vocab.sos, dtype=torch.long)
    states: list = [grammar.start() for _ in range(B)]
    ids: list[list[int]] = [[] for _ in range(B)]
    logp = torch.zeros(B)
    for _ in range(MAX_STEPS):
        logits, dstate = model.decoder.step(tokens, dstate)
        masked = (logits + torch.stack([grammar.mask(s) for s in states])).log_softmax(-1)
        tokens = masked.argmax(-1)
        for b in range(B):
            if states[b] is None:
                continue
            logp[b] += masked[b, tokens[b]]
            if tokens[b] == vocab.eos:
                states[b] = None
            else:
                ids[b].append(int(tokens[b]))
                states[b] = grammar.step(states[b], int(tokens[b]))
        if all(s is None for s in states):
            break
    return [_finish(vocab, ids[b], float(logp[b]), float(logp[b])) for b in range(B)]


def _reorder(dstate: dict, index: torch.Tensor) -> dict:
    return {k: v.index_select(0, index) for k, v in dstate.items()}


@torch.no_grad()
def beam_search(model, feats, lengths, vocab: WordVocab, beam: int = 4,
                ctc_weight: float = 0.0) -> list[Hypothesis]:
    """feats (B, T, n_mels), lengths (B,) -> the best hypothesis per utterance."""
    grammar = grammar_for(vocab)
    memory, mask, enc_lengths = model.encode(feats, lengths)
    B, K, V = feats.shape[0], beam, len(vocab)
    dstate = model.decoder.start(memory.repeat_interleave(K, 0), mask.repeat_interleave(K, 0))
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
    if ctc_weight > 0 and model.ctc_head is not None:
        return _rescore_with_ctc(model, memory, enc_lengths, vocab, finished, ctc_weight)
    return [_finish(vocab, max(f)[1], max(f)[0], max(f)[0]) for f in finished]


def _rescore_with_ctc(model, memory, enc_lengths, vocab, finished, ctc_weight):
    log_probs = model.ctc_log_probs(memory)  # (B, T', V)
    out = []
    for b, hyps in enumerate(finished):
        labels = [torch.tensor(ids) for _, ids in hyps]
        n = len(hyps)
        ctc = -F.ctc_loss(log_probs[b:b + 1].expand(n, -1, -1).transpose(0, 1),
                          torch.nn.utils.rnn.pad_sequence(labels, batch_first=True),
                          enc_lengths[b:b + 1].expand(n), torch.tensor([len(x) for x in labels]),
                          blank=0, reduction="none", zero_infinity=True)
        joint = [(1 - ctc_weight) * att + ctc_weight * float(c) for (att, _), c in zip(hyps, ctc)]
        best = max(range(n), key=joint.__getitem__)
        out.append(_finish(vocab, hyps[best][1], hyps[best][0], joint[best]))
    return out
