"""Russian number words <-> integers 1..999999, and the token vocabularies built on them."""
from . import canonical
from .grammar import WORDS, Kind, State
from .inverse import lookup, split_words, to_int
from .tokens import PieceVocab, WordVocab, vocab_from_dict
from .words import MAX_NUMBER, MIN_NUMBER, spoken_forms, to_words

__all__ = ["canonical", "to_words", "spoken_forms", "to_int", "lookup", "split_words", "WORDS", "Kind", "State",
           "WordVocab", "PieceVocab", "vocab_from_dict", "MIN_NUMBER", "MAX_NUMBER"]
