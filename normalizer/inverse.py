"""Russian words -> integer: "двести тридцать одна тысяча пятьсот сорок семь" -> 231547.

Lenient where the value is still certain: upper case, ё/е, extra spaces, bare "тысяча"
or "одна тысяча", any form of "тысяча" (тысячи, тысяч, тысячей, тыща) and inflected
number words (двух тысяч, пятисот) found through pymorphy3. Strict about order:
anything that is not a well-formed number in 1..999999 raises ValueError naming the
offending word and its position (1-based).
"""
from functools import lru_cache
from typing import Iterable

from .grammar import WORDS, Kind, State
from .words import morph


def _clean(word: str) -> str:
    return word.strip().lower().replace("ё", "е")


_TABLE = {_clean(w): kv for w, kv in WORDS.items()}


@lru_cache(maxsize=4096)
def lookup(word: str) -> tuple[Kind, int] | None:
    """(kind, value) of one number word in any case or inflection, or None."""
    word = _clean(word)
    if word in _TABLE:
        return _TABLE[word]
    if not word.isalpha():
        return None
    for parse in morph().parse(word):
        lemma = _clean(parse.normal_form)
        if lemma in _TABLE and ({"NUMR", "Anum"} & parse.tag.grammemes or lemma == "тысяча"):
            return _TABLE[lemma]
    return None


def lookup_zero(word: str) -> bool:
    return _clean(word) in ("ноль", "нуль")


def split_words(words: str | Iterable[str]) -> list[str]:
    """A sentence or a list of words -> a list of words (extra whitespace dropped)."""
    if isinstance(words, str):
        return words.split()
    return [w for item in words for w in str(item).split()]


def to_int(words: str | Iterable[str]) -> int:
    """The integer that the Russian number words name, in 1..999999."""
    tokens = split_words(words)
    if not tokens:
        raise ValueError("no number words: the text is empty")
    state = State()
    for position, word in enumerate(tokens, start=1):
        found = lookup(word)
        if found is None and lookup_zero(word):
            raise ValueError(f"word {position} {word!r}: zero is outside 1..999999")
        if found is None:
            raise ValueError(f"word {position} {word!r} is not a Russian number word")
        try:
            state = state.step(*found)
        except ValueError as e:
            raise ValueError(f"word {position} {word!r}: {e} (in {' '.join(tokens)!r})") from None
    return state.value()
