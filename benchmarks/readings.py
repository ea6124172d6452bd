"""How the readings of a clip differ, and how well the doors choose among them.

    python benchmarks/readings.py data/cross_engine/eval-rutts-clean/test.csv --model M [--limit 1000]

Every clip is read at every tempo x vocal-tract warp the doors read doubtful clips again at
(transcribe.TEMPOS, WARPS, and 1.0), each reading with the doors' beam search. Printed, exact %:
- each reading alone;
- read once (tempo 1, warp 1); read as the doors read (a clip under the confidence threshold is
  read again in the doors' order until a reading is as sure as the threshold, and takes its most
  confident reading); every reading made, the most confident kept (the doors before 2026-11-27);
- any reading right: how often the right answer is one of the readings' answers (what a perfect
  chooser would reach);
- the answers pooled: every reading's answer scored under every reading (the attention decoder's
  log-probability under the grammar, teacher forced, and the CTC head's), and the answer with the
  best score over the readings kept: its sum (a product of experts), the mean of its best k
  readings, or its best single reading.
"""
import csv
import sys
from pathlib import Path

import click
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from seq2seq_asr import checkpoint  # noqa: E402
from seq2seq_asr.audio import MAX_SECONDS, features_or_error  # noqa: E402
from seq2seq_asr.data import pad_feats  # noqa: E402
from seq2seq_asr.decoding import _ctc_log_probs, grammar_for  # noqa: E402
from seq2seq_asr.transcribe import Options, _changed, _decode_batched, readings as readings_of  # noqa: E402


@torch.no_grad()
def answer_scores(model, vocab, feats: list[torch.Tensor], answers: list[list[tuple]]) -> list[dict]:
    """feats [(frames, n_mels)], answers[i]: token-id tuples (no <eos>) for clip i
    -> per clip {answer: (attention log-prob incl. <eos>, CTC log-prob)}."""
    grammar = grammar_for(vocab)
    x, lengths = pad_feats(feats)
    memory, mask, enc_lengths = model.encode(x, lengths)
    pairs = [(i, a) for i, these in enumerate(answers) for a in these]
    rows = torch.tensor([i for i, _ in pairs])
    state = model.decoder.start(memory.index_select(0, rows), mask.index_select(0, rows))
    targets = [list(a) + [vocab.eos] for _, a in pairs]
    positions = [grammar.start() for _ in pairs]
    tokens = torch.full((len(pairs),), vocab.sos, dtype=torch.long)
    attention = [0.0] * len(pairs)
    for u in range(max(map(len, targets))):
        logits, state = model.decoder.step(tokens, state)
        masks = torch.stack([grammar.mask(p) for p in positions])
        log_probs = (logits.float() + masks).log_softmax(-1)
        for k, target in enumerate(targets):
            if u < len(target):
                attention[k] += float(log_probs[k, target[u]])
                positions[k] = grammar.step(positions[k], target[u]) if target[u] != vocab.eos else None
        tokens = torch.tensor([t[u] if u < len(t) else vocab.eos for t in targets])
    ctc = _ctc_log_probs(model, memory, enc_lengths, [list(a) for _, a in pairs], [i for i, _ in pairs])
    out: list[dict] = [{} for _ in feats]
    for (i, a), att, c in zip(pairs, attention, ctc):
        out[i][a] = (att, c)
    return out


@click.command()
@click.argument("csv_path", type=click.Path(exists=True, dir_okay=False))
@click.option("--model", "model_path", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--limit", default=1000, show_default=True, help="First clips of the set.")
@click.option("--threads", default=1, show_default=True)
@click.option("--pool/--no-pool", default=True, show_default=True,
              help="Also score every reading's answer under every reading (slower).")
@click.option("--save", type=click.Path(dir_okay=False), help="Write every reading's answers here (torch.save).")
def main(csv_path, model_path, limit, threads, pool, save):
    torch.set_num_threads(threads)
    model, vocab, _ = checkpoint.load(model_path)
    rows = list(csv.DictReader(open(csv_path, newline="", encoding="utf-8")))[:limit]
    feats, refs = [], []
    for row in rows:
        f, error = features_or_error(str(Path(csv_path).parent / row["filename"]), MAX_SECONDS,
                                     model.config.floor_db)
        if f is not None:
            feats.append(f)
            refs.append(int(row["transcription"]))
        else:
            print(f"skipped {row['filename']}: {error}", file=sys.stderr)
    n, options = len(refs), Options()
    readings = [(1.0, 1.0), *readings_of(options)]  # in the doors' order, the first as it is

    def exact(numbers) -> str:
        return f"{100 * sum(p == r for p, r in zip(numbers, refs)) / n:.1f}"

    heard = []  # [reading][clip] -> (token ids, number, confidence)
    for tempo, warp in readings:
        hyps = _decode_batched(model, vocab, [_changed(f, tempo, warp) for f in feats], options)
        heard.append([(tuple(vocab.index[w] for w in h.words), h.number, h.confidence) for h in hyps])
    if save:
        torch.save({"readings": readings, "refs": refs, "heard": heard}, save)
    number_of = {ids: number for reading in heard for ids, number, _ in reading}
    doubtful = [heard[0][i][2] < options.retry_below for i in range(n)]
    for (tempo, warp), reading in zip(readings, heard):
        right = [h[1] == r for h, r, d in zip(reading, refs, doubtful) if d]
        print(f"tempo {tempo:g} warp {warp:g}: {exact([h[1] for h in reading])}, "
              f"doubtful clips {100 * sum(right) / max(len(right), 1):.1f}")

    def most_confident(i: int, stop: float) -> tuple[int, int]:
        """Clip i read in turn until a reading is as sure as `stop` -> (its answer, readings made)."""
        best = heard[0][i]
        for k, reading in enumerate(heard[1:], 1):
            if best[2] >= stop:
                return best[1], k
            best = max(best, reading[i], key=lambda h: h[2])
        return best[1], len(heard)
    as_the_doors, every = ([most_confident(i, stop) for i in range(n)] for stop in (options.retry_below, 2.0))
    made = sum(k for (_, k), d in zip(as_the_doors, doubtful) if d) / max(sum(doubtful), 1)
    print(f"{n} clips, {sum(doubtful)} doubtful: read once {exact([h[1] for h in heard[0]])}, "
          f"read as the doors read {exact([a for a, _ in as_the_doors])} ({made:.1f} readings a doubtful "
          f"clip, the first included), every reading made {exact([a for a, _ in every])}, "
          f"any reading right {100 * sum(any(r[i][1] == refs[i] for r in heard) for i in range(n)) / n:.1f}")

    if not pool:
        return
    answers = [sorted({r[i][0] for r in heard}) for i in range(n)]
    scores = []  # [reading][clip] -> {answer: (att, ctc)}
    order = sorted(range(n), key=lambda i: len(feats[i]))
    for tempo, warp in readings:
        per_clip: list = [None] * n
        for start in range(0, n, options.batch_size):
            batch = order[start:start + options.batch_size]
            for i, s in zip(batch, answer_scores(model, vocab, [_changed(feats[i], tempo, warp) for i in batch],
                                                 [answers[i] for i in batch])):
                per_clip[i] = s
        scores.append(per_clip)

    def pooled(aggregate, attention_weight: float) -> list[int]:
        """aggregate: the sorted scores of one answer over the readings -> its score; per doubtful
        clip the answer that scores best."""
        out = []
        for i in range(n):
            if not doubtful[i]:
                out.append(heard[0][i][1])
                continue

            def score(a):
                joint = [attention_weight * s[i][a][0] + (1 - attention_weight) * s[i][a][1] for s in scores]
                return aggregate(sorted(joint, reverse=True))
            out.append(number_of[max(answers[i], key=score)])
        return out
    for weight in (0.5, 0.7, 1.0):
        figures = [f"sum {exact(pooled(sum, weight))}"]
        figures += [f"best {k} {exact(pooled(lambda v, k=k: sum(v[:k]), weight))}" for k in (1, 3, 6)]
        print(f"answers pooled, attention weight {weight:g}: " + ", ".join(figures))


if __name__ == "__main__":
    main()
