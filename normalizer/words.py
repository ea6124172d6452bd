"""Integer -> Russian words: 231547 -> "двести тридцать одна тысяча пятьсот сорок семь".

num2words spells each group of three digits; pymorphy3 makes the group before "тысяча"
feminine (одна, две) and picks the form of "тысяча" that agrees with it
(одна тысяча, две тысячи, пять тысяч). 1000..1999 are spelled the way people most often say
them, "тысяча двести"; `spoken_forms` also gives "одна тысяча двести", which people say too.
"""
from functools import lru_cache

MIN_NUMBER, MAX_NUMBER = 1, 999_999


@lru_cache(maxsize=1)
def morph():
    import pymorphy3

    return pymorphy3.MorphAnalyzer()


@lru_cache(maxsize=None)
def _group(n: int, feminine: bool = False) -> tuple[str, ...]:
    """Words of a group 1..999, masculine (один, два) or feminine (одна, две)."""
    from num2words import num2words

    words = num2words(n, lang="ru").split()
    if feminine and words[-1] in ("один", "два"):
        words[-1] = morph().parse(words[-1])[0].inflect({"femn"}).word
    return tuple(words)


@lru_cache(maxsize=None)
def _thousand(n: int) -> str:
    """The form of "тысяча" that agrees with n: тысяча, тысячи or тысяч."""
    return morph().parse("тысяча")[0].make_agree_with_number(n).word


def to_words(n: int) -> list[str]:
    """Russian words of an integer in 1..999999, lower case, canonical order."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"expected an int, got {type(n).__name__}: {n!r}")
    if not MIN_NUMBER <= n <= MAX_NUMBER:
        raise ValueError(f"{n} is outside {MIN_NUMBER}..{MAX_NUMBER}")
    high, low = divmod(n, 1000)
    words: list[str] = []
    if high == 1:
        words.append(_thousand(1))
    elif high:
        words += [*_group(high, feminine=True), _thousand(high)]
    if low:
        words += _group(low)
    return words


def spoken_forms(n: int) -> list[list[str]]:
    """Every accepted way of saying n: to_words(n) first, and for 1000..1999 also with
    "одна" before "тысяча" ("одна тысяча девятьсот шестьдесят восемь")."""
    words = to_words(n)
    return [words, ["одна", *words]] if 1000 <= n <= 1999 else [words]
