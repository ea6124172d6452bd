"""The canonical spellings of 1..999999 as a small automaton over words, for decoders.

Every canonical sentence is HIGH, LOW or HIGH LOW, where HIGH is one of the 999
spellings of k * 1000 ("тысяча", "две тысячи", ..., "девятьсот девяносто девять тысяч",
plus "одна тысяча", the other way people say 1000) and LOW one of the 999 spellings of 1..999. Both sets are kept as prefix tries, and
a reading position is the set of trie nodes it may be at (a word such as "двадцать"
starts both a HIGH and a LOW part). Following only `next_words` therefore always
ends in one of `spoken_forms(n)` for some n, which `to_int` reads as n.
"""
from functools import lru_cache

from .words import spoken_forms, to_words

END = "</s>"  # marks the end of a trie path
Trie = dict


def _trie(sentences) -> Trie:
    root: Trie = {}
    for words in sentences:
        node = root
        for w in words:
            node = node.setdefault(w, {})
        node[END] = {}
    return root


@lru_cache(maxsize=1)
def _tries() -> tuple[Trie, Trie]:
    high = _trie(form for k in range(1, 1000) for form in spoken_forms(k * 1000))
    low = _trie(to_words(m) for m in range(1, 1000))
    return high, low


# A position: frozenset of (part, node id) where part is "high" or "low". Node ids index
# a table filled lazily, so positions are small and hashable.
_nodes: list[Trie] = []
_ids: dict[int, int] = {}


def _id(node: Trie) -> int:
    if id(node) not in _ids:
        _ids[id(node)] = len(_nodes)
        _nodes.append(node)
    return _ids[id(node)]


def start() -> frozenset:
    high, low = _tries()
    return frozenset({("high", _id(high)), ("low", _id(low))})


def next_words(position: frozenset) -> set[str]:
    """Words that may come next (END not included)."""
    return {w for _, n in position for w in _nodes[n] if w != END}


def can_end(position: frozenset) -> bool:
    """True when the words so far spell a whole number."""
    return any(END in _nodes[n] for _, n in position)


def step(position: frozenset, word: str) -> frozenset:
    """The position after `word`; empty if the word may not come here."""
    _, low = _tries()
    after = set()
    for part, n in position:
        child = _nodes[n].get(word)
        if child is None:
            continue
        after.add((part, _id(child)))
        if part == "high" and END in child:  # the thousands are complete: LOW may follow
            after.add(("low", _id(low)))
    return frozenset(after)
