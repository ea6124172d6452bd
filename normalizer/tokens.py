"""Token vocabularies shared by training and decoding, saved inside every checkpoint.

`WordVocab` is the closed vocabulary: three specials plus the 41 number words.
`PieceVocab` is the optional alternative: a sentencepiece model trained on
normalized transcriptions. Both turn words into ids and back, and both round-trip
through `to_dict` / `vocab_from_dict` (plain str/int/bytes, safe for weights_only).
"""
import io

from .grammar import WORDS

BLANK, SOS, EOS = "<blank>", "<sos>", "<eos>"  # <blank> doubles as padding and the CTC blank
SPECIALS = [BLANK, SOS, EOS]


class WordVocab:
    kind = "words"

    def __init__(self, tokens: list[str] | None = None):
        self.tokens = tokens or SPECIALS + list(WORDS)
        if self.tokens[:3] != SPECIALS:
            raise ValueError(f"a vocabulary starts with {SPECIALS}, got {self.tokens[:3]}")
        self.index = {t: i for i, t in enumerate(self.tokens)}
        self.blank, self.sos, self.eos = 0, 1, 2

    def __len__(self):
        return len(self.tokens)

    def encode(self, words: list[str]) -> list[int]:
        try:
            return [self.index[w] for w in words]
        except KeyError as e:
            raise ValueError(f"{e.args[0]!r} is not in the vocabulary") from None

    def decode(self, ids: list[int]) -> list[str]:
        """Ids -> words; specials are dropped."""
        return [self.tokens[i] for i in ids if i >= len(SPECIALS)]

    def to_dict(self) -> dict:
        return {"kind": self.kind, "tokens": list(self.tokens)}


class PieceVocab(WordVocab):
    """Sentencepiece pieces instead of words; ids 0..2 are still the specials."""

    kind = "pieces"

    def __init__(self, model_proto: bytes):
        import sentencepiece as spm

        self.model_proto = model_proto
        self.sp = spm.SentencePieceProcessor(model_proto=model_proto)
        pieces = [self.sp.id_to_piece(i) for i in range(self.sp.get_piece_size())]
        super().__init__(SPECIALS + pieces[len(SPECIALS):])

    @classmethod
    def train(cls, sentences: list[str], vocab_size: int = 64) -> "PieceVocab":
        """Train a unigram sentencepiece model on normalized sentences (space-separated words).

        One thread, so the same sentences always give the same model."""
        import sentencepiece as spm

        buffer = io.BytesIO()
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(sentences), model_writer=buffer, vocab_size=vocab_size,
            model_type="unigram", character_coverage=1.0, pad_id=0, bos_id=1, eos_id=2, unk_id=3,
            pad_piece=BLANK, bos_piece=SOS, eos_piece=EOS, num_threads=1,
            minloglevel=2, hard_vocab_limit=False,
        )
        return cls(buffer.getvalue())

    def encode(self, words: list[str]) -> list[int]:
        return self.sp.encode(" ".join(words))

    def decode(self, ids: list[int]) -> list[str]:
        return self.sp.decode([i for i in ids if i >= len(SPECIALS)]).split()

    def to_dict(self) -> dict:
        return {"kind": self.kind, "model_proto": self.model_proto}


def vocab_from_dict(d: dict) -> WordVocab:
    if d.get("kind") == "words":
        return WordVocab(list(d["tokens"]))
    if d.get("kind") == "pieces":
        return PieceVocab(bytes(d["model_proto"]))
    raise ValueError(f"unknown vocabulary kind {d.get('kind')!r}")
