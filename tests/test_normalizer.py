import pytest
from hypothesis import given, settings, strategies as st

from normalizer import WORDS, PieceVocab, WordVocab, spoken_forms, to_int, to_words, vocab_from_dict
from normalizer import canonical as canonical_automaton
from normalizer.grammar import THOUSANDS, UNITS_F


def test_round_trip_every_number():
    for n in range(1, 1_000_000):
        if to_int(to_words(n)) != n:
            pytest.fail(f"{n}: {to_words(n)} -> {to_int(to_words(n))}")


@pytest.mark.parametrize("n, text", [
    (1, "один"), (2, "два"), (10, "десять"), (11, "одиннадцать"), (100, "сто"),
    (1000, "тысяча"), (1001, "тысяча один"), (1999, "тысяча девятьсот девяносто девять"),
    (2000, "две тысячи"), (5000, "пять тысяч"), (11000, "одиннадцать тысяч"),
    (21000, "двадцать одна тысяча"), (22000, "двадцать две тысячи"), (25000, "двадцать пять тысяч"),
    (231547, "двести тридцать одна тысяча пятьсот сорок семь"), (100000, "сто тысяч"),
    (999999, "девятьсот девяносто девять тысяч девятьсот девяносто девять"),
])
def test_to_words_agreement(n, text):
    assert " ".join(to_words(n)) == text


@pytest.mark.parametrize("bad", [0, -5, 1_000_000])
def test_to_words_out_of_range(bad):
    with pytest.raises(ValueError, match="outside"):
        to_words(bad)


@pytest.mark.parametrize("text, n", [
    ("тысяча", 1000), ("одна тысяча", 1000), ("ОДНА ТЫСЯЧА ДВЕСТИ", 1200),
    ("  сто   двадцать  ", 120), ("четырёхсот", 400), ("две тысяч", 2000),
    ("двух тысяч пятисот", 2500), ("тысячей", 1000), ("тыща сто", 1100),
    (["двести", "тридцать одна", "тысяча"], 231000),
])
def test_to_int_accepts_what_people_say(text, n):
    assert to_int(text) == n


@pytest.mark.parametrize("text, word", [
    ("", None), ("сто сто", "сто"), ("пять двадцать", "двадцать"), ("тысяча тысяча", "тысяча"),
    ("двадцать десять", "десять"), ("сто abc", "abc"), ("ноль", "ноль"), ("один 5", "5"),
    ("пятнадцать три", "три"), ("сорок сорок", "сорок"),
])
def test_to_int_rejects_with_word_and_position(text, word):
    with pytest.raises(ValueError) as e:
        to_int(text)
    if word:
        words = text.split()
        position = len(words) - words[::-1].index(word)  # the offending word is its last occurrence
        assert f"word {position} {word!r}" in str(e.value)


# --- fuzz: random word soup is either rejected or read exactly as its canonical spelling ---

SOUP = sorted(WORDS) + ["Тысяча", "ДВЕ", "четырёх", "тыща", "абв", "ноль", "", "10"]
INFLECTED = {"четырех": "четыре", "тыща": "тысяча"}  # the soup's inflected words, by hand


def plain(words):
    words = [w.lower().replace("ё", "е") for w in words]
    return [INFLECTED.get(w, w) for w in words]


def naive_value(words):
    """An independent reading: sum the word values, the thousand word multiplies what precedes it."""
    values = {w: v for w, (_, v) in WORDS.items()}
    words = plain(words)
    if any(w not in values for w in words):
        return None
    if any(w in THOUSANDS for w in words):
        k = next(i for i, w in enumerate(words) if w in THOUSANDS)
        return (sum(values[w] for w in words[:k]) or 1) * 1000 + sum(values[w] for w in words[k + 1:])
    return sum(values[w] for w in words)


def canonical(words):
    """The canonical spelling the words would have if they were well formed."""
    words = plain(words)
    if not any(w in THOUSANDS for w in words):
        return [{"одна": "один", "две": "два"}.get(w, w) for w in words]
    k = next(i for i, w in enumerate(words) if w in THOUSANDS)
    high = [{"один": "одна", "два": "две"}.get(w, w) for w in words[:k]]
    if high == ["одна"]:
        high = []
    return high + ["THOUSAND"] + [{"одна": "один", "две": "два"}.get(w, w) for w in words[k + 1:]]


def with_placeholder(words):
    return ["THOUSAND" if w in THOUSANDS else w for w in words]


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(SOUP), max_size=7))
def test_fuzz_soup_is_rejected_or_exact(soup):
    words = " ".join(soup).split()
    n = naive_value(words)
    expected = n is not None and 1 <= n <= 999_999 and canonical(words) == with_placeholder(to_words(n))
    try:
        got = to_int(soup)
    except ValueError:
        assert not expected, f"rejected a well-formed number: {soup}"
        return
    assert expected, f"accepted {soup} as {got}"
    assert got == n


@settings(max_examples=2000, deadline=None)
@given(st.integers(1, 999_999), st.randoms(use_true_random=False))
def test_fuzz_spoken_variants(n, rnd):
    words = to_words(n)
    if words[0] == "тысяча" and rnd.random() < 0.5:
        words = ["одна"] + words
    words = [rnd.choice(THOUSANDS) if w in THOUSANDS else w for w in words]
    words = [w.upper() if rnd.random() < 0.2 else w.replace("е", "ё") if rnd.random() < 0.1 else w
             for w in words]
    assert to_int((" " * rnd.randint(1, 3)).join(words)) == n


def test_word_vocab_is_closed_and_round_trips():
    vocab = WordVocab()
    assert len(vocab) == 3 + 41
    assert set(UNITS_F) <= set(vocab.tokens)
    ids = vocab.encode(to_words(231547))
    assert vocab.decode([vocab.sos] + ids + [vocab.eos]) == to_words(231547)
    assert vocab_from_dict(vocab.to_dict()).tokens == vocab.tokens
    with pytest.raises(ValueError, match="not in the vocabulary"):
        vocab.encode(["ноль"])


def test_piece_vocab_trains_and_round_trips():
    sentences = [" ".join(to_words(n)) for n in range(1, 3000, 7)]
    vocab = PieceVocab.train(sentences, vocab_size=60)
    again = vocab_from_dict(vocab.to_dict())
    for n in (5, 1000, 231547, 999999):
        ids = again.encode(to_words(n))
        assert min(ids) >= 3 and again.decode(ids) == to_words(n)


def accepted(words: list[str]) -> bool:
    """Whether the decoders' automaton can read exactly these words as a whole number."""
    position = canonical_automaton.start()
    for w in words:
        if w not in canonical_automaton.next_words(position):
            return False
        position = canonical_automaton.step(position, w)
    return canonical_automaton.can_end(position)


@pytest.mark.parametrize("n", [1, 19, 999, 1000, 1001, 1968, 1999, 2000, 21000, 231547, 999999])
def test_grammar_accepts_every_spoken_form_and_to_int_agrees(n):
    for form in spoken_forms(n):
        assert accepted(form) and to_int(form) == n
    assert len(spoken_forms(n)) == (2 if 1000 <= n <= 1999 else 1)


def test_grammar_says_odna_tysyacha_only_for_one_thousand():
    assert accepted("одна тысяча девятьсот шестьдесят восемь".split())
    assert accepted(["одна", "тысяча"]) and accepted(["двадцать", "одна", "тысяча"])
    for bad in ["одна", "одна две тысячи", "одна тысяча тысяча", "одна одна тысяча", "одна тысячи"]:
        assert not accepted(bad.split()), bad
