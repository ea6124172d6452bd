"""The grammar of Russian whole numbers 1..999999, word by word.

Every number word belongs to a class: units (1-9), teens (10-19), tens (20-90),
hundreds (100-900) or the thousand word. A number is

    [group] THOUSAND [group]   or   group
    group = [HUNDREDS] ( [TENS] [UNITS] | TEENS )      (never empty)

which the small automaton below walks one word at a time. `inverse.to_int` reads
written input with it; decoders follow the stricter `canonical` automaton, which
allows only the canonical spellings.
"""
from enum import Enum

UNITS_M = ["один", "два", "три", "четыре", "пять", "шесть", "семь", "восемь", "девять"]
UNITS_F = {"одна": 1, "две": 2}
TEENS = ["десять", "одиннадцать", "двенадцать", "тринадцать", "четырнадцать",
         "пятнадцать", "шестнадцать", "семнадцать", "восемнадцать", "девятнадцать"]
TENS = ["двадцать", "тридцать", "сорок", "пятьдесят", "шестьдесят", "семьдесят",
        "восемьдесят", "девяносто"]
HUNDREDS = ["сто", "двести", "триста", "четыреста", "пятьсот", "шестьсот", "семьсот",
            "восемьсот", "девятьсот"]
THOUSANDS = ["тысяча", "тысячи", "тысяч"]


class Kind(Enum):
    UNITS = "units"
    TEENS = "teens"
    TENS = "tens"
    HUNDREDS = "hundreds"
    THOUSAND = "thousand"


# word -> (kind, value); the 41 words of the closed vocabulary
WORDS: dict[str, tuple[Kind, int]] = {
    **{w: (Kind.UNITS, i + 1) for i, w in enumerate(UNITS_M)},
    **{w: (Kind.UNITS, v) for w, v in UNITS_F.items()},
    **{w: (Kind.TEENS, i + 10) for i, w in enumerate(TEENS)},
    **{w: (Kind.TENS, (i + 2) * 10) for i, w in enumerate(TENS)},
    **{w: (Kind.HUNDREDS, (i + 1) * 100) for i, w in enumerate(HUNDREDS)},
    **{w: (Kind.THOUSAND, 1000) for w in THOUSANDS},
}

# What may follow each kind inside a group; None stands for "start of a group".
_NEXT_IN_GROUP: dict[Kind | None, set[Kind]] = {
    None: {Kind.HUNDREDS, Kind.TENS, Kind.TEENS, Kind.UNITS},
    Kind.HUNDREDS: {Kind.TENS, Kind.TEENS, Kind.UNITS},
    Kind.TENS: {Kind.UNITS},
    Kind.TEENS: set(),
    Kind.UNITS: set(),
}


class State:
    """Where a left-to-right reading of number words stands; immutable.

    `last` is the kind of the previous word in the current group (None at a group's start),
    `seen_thousand` whether the thousand word was read, `high`/`low` the values so far.
    """

    __slots__ = ("last", "seen_thousand", "high", "low")

    def __init__(self, last=None, seen_thousand=False, high=0, low=0):
        self.last, self.seen_thousand, self.high, self.low = last, seen_thousand, high, low

    def allowed(self) -> set[Kind]:
        """Kinds that may come next."""
        kinds = set(_NEXT_IN_GROUP[self.last])
        if not self.seen_thousand:
            kinds.add(Kind.THOUSAND)
        return kinds

    def can_end(self) -> bool:
        """True when the words so far are a whole number."""
        return self.last is not None or self.seen_thousand

    def step(self, kind: Kind, value: int) -> "State":
        """The state after one more word; raises ValueError if the word may not come here."""
        if kind not in self.allowed():
            raise ValueError(self._why_not(kind))
        if kind is Kind.THOUSAND:
            return State(None, True, max(self.low, 1) * 1000, 0)
        return State(kind, self.seen_thousand, self.high, self.low + value)

    def value(self) -> int:
        if not self.can_end():
            raise ValueError("no number words")
        return self.high + self.low

    def _why_not(self, kind: Kind) -> str:
        if kind is Kind.THOUSAND:
            return "the thousand word appears twice"
        if self.last is None:
            return f"a {kind.value} word cannot start here"
        return f"a {kind.value} word cannot follow a {self.last.value} word"
