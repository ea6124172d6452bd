"""Russian number words respelled in another language's spelling, so that an MBROLA voice of
that language (driven by espeak-ng's text rules for it) says them the way a native speaker of
it would read Russian: an accented speaker with a recorded human voice. German is given as
espeak-ng phoneme input instead, as its spelling rules would spell out clusters such as "dw";
so are French, Hungarian, Romanian, Lithuanian, Spanish and Portuguese, with one table of
phonemes their MBROLA voices all have (Spanish and Portuguese ones lack the diphones of the
affricate ts: they say it as t-s).

Each table maps the 41 number words (normalizer.WordVocab) to how they sound in Russian, not to
how they are written: unstressed о reads а (сорок -> "sorak"), soft consonants keep their
softness where the spelling has a way to show it (Czech ť ď ě, Polish ć ś dzi, Croatian ć đ),
ы reads y in Polish and i elsewhere. Czech marks the Russian stressed vowel long (á é í ó ú ý),
as its stress is always on the first syllable.
"""

CZECH = {
    "один": "adín", "одна": "adná", "два": "dvá", "две": "dvě", "три": "trí", "четыре": "čitýrě",
    "пять": "pjáť", "шесть": "šésť", "семь": "sjém", "восемь": "vósim", "девять": "ďévjiť",
    "десять": "ďésjiť", "одиннадцать": "adínacať", "двенадцать": "dvěnácať", "тринадцать": "trinácať",
    "четырнадцать": "čitýrnacať", "пятнадцать": "pjitnácať", "шестнадцать": "šysnácať",
    "семнадцать": "sjimnácať", "восемнадцать": "vasimnácať", "девятнадцать": "ďivjitnácať",
    "двадцать": "dvácať", "тридцать": "trícať", "сорок": "sórak", "пятьдесят": "pjiďďisját",
    "шестьдесят": "šyzďisját", "семьдесят": "sjémďisjat", "восемьдесят": "vósimďisjat",
    "девяносто": "ďivjinósta", "сто": "stó", "двести": "dvjésťi", "триста": "trísta",
    "четыреста": "čitýrjista", "пятьсот": "pjicót", "шестьсот": "šyssót", "семьсот": "sjimsót",
    "восемьсот": "vasimsót", "девятьсот": "ďivjicót", "тысяча": "týsjiča", "тысячи": "týsjiči",
    "тысяч": "týsjič",
}

POLISH = {
    "один": "adin", "одна": "adna", "два": "dwa", "две": "dwje", "три": "tri", "четыре": "cityrje",
    "пять": "piać", "шесть": "sześć", "семь": "siem", "восемь": "wosiem", "девять": "dziewieć",
    "десять": "dziesieć", "одиннадцать": "adinacać", "двенадцать": "dwienacać", "тринадцать": "trinacać",
    "четырнадцать": "cityrnacać", "пятнадцать": "pitnacać", "шестнадцать": "szysnacać",
    "семнадцать": "simnacać", "восемнадцать": "wasimnacać", "девятнадцать": "dziewitnacać",
    "двадцать": "dwacać", "тридцать": "tricać", "сорок": "sorak", "пятьдесят": "pidziesiat",
    "шестьдесят": "szyzdziesiat", "семьдесят": "siemdziesiat", "восемьдесят": "wosiemdziesiat",
    "девяносто": "dziewianosta", "сто": "sto", "двести": "dwieści", "триста": "trista",
    "четыреста": "cityriesta", "пятьсот": "picot", "шестьсот": "szysot", "семьсот": "simsot",
    "восемьсот": "wasimsot", "девятьсот": "dziewicot", "тысяча": "tysicia", "тысячи": "tysici",
    "тысяч": "tysić",
}

CROATIAN = {
    "один": "adin", "одна": "adna", "два": "dva", "две": "dvje", "три": "tri", "четыре": "ćitirje",
    "пять": "pjać", "шесть": "šesć", "семь": "sjem", "восемь": "vosim", "девять": "đević",
    "десять": "đesić", "одиннадцать": "adinacać", "двенадцать": "dvjenacać", "тринадцать": "trinacać",
    "четырнадцать": "ćitirnacać", "пятнадцать": "pitnacać", "шестнадцать": "šisnacać",
    "семнадцать": "simnacać", "восемнадцать": "vasimnacać", "девятнадцать": "đivitnacać",
    "двадцать": "dvacać", "тридцать": "tricać", "сорок": "sorak", "пятьдесят": "piđisjat",
    "шестьдесят": "šizđisjat", "семьдесят": "sjemđisjat", "восемьдесят": "vosimđisjat",
    "девяносто": "đivjanosta", "сто": "sto", "двести": "dvjesti", "триста": "trista",
    "четыреста": "ćitirjesta", "пятьсот": "picot", "шестьсот": "šisot", "семьсот": "simsot",
    "восемьсот": "vasimsot", "девятьсот": "đivicot", "тысяча": "tisića", "тысячи": "tisići",
    "тысяч": "tisić",
}

GERMAN = {  # espeak-ng phoneme input ([[...]], German phonemes)
    "один": "[[ad'i:n]]", "одна": "[[adn'a:]]", "два": "[[dv'a:]]", "две": "[[dvj'e:]]",
    "три": "[[tr'i:]]", "четыре": "[[tSit'i:ri@]]", "пять": "[[pj'a:t]]", "шесть": "[[S'Est]]",
    "семь": "[[sj'Em]]", "восемь": "[[v'o:sim]]", "девять": "[[dj'e:vit]]",
    "десять": "[[dj'e:sit]]", "одиннадцать": "[[ad'i:nats@t]]", "двенадцать": "[[dvjen'a:ts@t]]",
    "тринадцать": "[[trin'a:ts@t]]", "четырнадцать": "[[tSit'i:rnats@t]]",
    "пятнадцать": "[[pitn'a:ts@t]]", "шестнадцать": "[[SIsn'a:ts@t]]",
    "семнадцать": "[[simn'a:ts@t]]", "восемнадцать": "[[vasimn'a:ts@t]]",
    "девятнадцать": "[[divitn'a:ts@t]]", "двадцать": "[[dv'a:ts@t]]", "тридцать": "[[tr'i:ts@t]]",
    "сорок": "[[s'o:rak]]", "пятьдесят": "[[piddisj'a:t]]", "шестьдесят": "[[SIzdisj'a:t]]",
    "семьдесят": "[[sj'Emdisjat]]", "восемьдесят": "[[v'o:simdisjat]]",
    "девяносто": "[[divjan'Osta]]", "сто": "[[st'o:]]", "двести": "[[dvj'Esti]]",
    "триста": "[[tr'i:sta]]", "четыреста": "[[tSit'i:riEsta]]", "пятьсот": "[[pits'o:t]]",
    "шестьсот": "[[SIss'o:t]]", "семьсот": "[[sims'o:t]]", "восемьсот": "[[vasims'o:t]]",
    "девятьсот": "[[divits'o:t]]", "тысяча": "[[t'IsitS@]]", "тысячи": "[[t'IsitSi]]",
    "тысяч": "[[t'IsitS]]",
}

PHONEMES = {  # espeak-ng phoneme input, the phonemes most languages share (no long vowels)
    "один": "ad'in", "одна": "adn'a", "два": "dv'a", "две": "dvj'e", "три": "tr'i",
    "четыре": "tSit'irje", "пять": "pj'at", "шесть": "S'est", "семь": "sj'em", "восемь": "v'osim",
    "девять": "dj'evit", "десять": "dj'esit", "одиннадцать": "ad'inatsat",
    "двенадцать": "dvjen'atsat", "тринадцать": "trin'atsat", "четырнадцать": "tSit'irnatsat",
    "пятнадцать": "pitn'atsat", "шестнадцать": "Sisn'atsat", "семнадцать": "simn'atsat",
    "восемнадцать": "vasimn'atsat", "девятнадцать": "divitn'atsat", "двадцать": "dv'atsat",
    "тридцать": "tr'itsat", "сорок": "s'orak", "пятьдесят": "piddisj'at",
    "шестьдесят": "Sizdisj'at", "семьдесят": "sj'emdisjat", "восемьдесят": "v'osimdisjat",
    "девяносто": "divjan'osta", "сто": "st'o", "двести": "dvj'esti", "триста": "tr'ista",
    "четыреста": "tSit'irjesta", "пятьсот": "pits'ot", "шестьсот": "Siss'ot", "семьсот": "sims'ot",
    "восемьсот": "vasims'ot", "девятьсот": "divits'ot", "тысяча": "t'isitSa", "тысячи": "t'isitSi",
    "тысяч": "t'isitS",
}


def _phoneme_input(table: dict[str, str], split_ts: bool = False) -> dict[str, str]:
    """Phoneme table -> espeak-ng input ([[...]]); split_ts says ts as t, a syllable break, s."""
    return {w: f"[[{p.replace('ts', 't-s') if split_ts else p}]]" for w, p in table.items()}


SPELLINGS = {"cs": CZECH, "pl": POLISH, "hr": CROATIAN, "de": GERMAN,
             **{lang: _phoneme_input(PHONEMES) for lang in ("fr", "hu", "ro", "lt")},
             **{lang: _phoneme_input(PHONEMES, split_ts=True) for lang in ("es", "pt")}}


def respell(text: str, language: str) -> str:
    """Russian number words (space-separated) -> the same words in `language`'s spelling.
    Raises KeyError for a word the table lacks."""
    table = SPELLINGS[language]
    return " ".join(table[w] for w in text.split())
