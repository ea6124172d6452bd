#!/usr/bin/env bash
# One leave-one-engine-out fold, with and without distillation from Whisper-base, on two seeds,
# each model scored read once and as the doors read into benchmarks/results/ (report.py renders it).
#
#   bash benchmarks/fold.sh espeak            # or rutts, festival; SEEDS="0" EPOCHS=15 to change
#
# The corpus is the five-engine data/corpus5 (14 700 clips, seed 0), less the engine; the eval sets
# are 1 000 clips of every voice of it, clean and augmented (seed 1000), as cross_engine.py makes
# them. Every step is kept and resumed: rerun the same command after a stop.
set -euo pipefail
cd "$(dirname "$0")/.."
E=${1:?usage: bash benchmarks/fold.sh ENGINE}
SEEDS=${SEEDS:-0 1}
EPOCHS=${EPOCHS:-15}
P=.venv/bin/python
C=data/corpus5
OUT=benchmarks/results

[ -f $C/dev.csv ] || $P -m seq2seq_asr.corpus $C --train 14000 --dev 700 --test 0 \
    --engines espeak,festival,rutts,mbrola,rhvoice
$P - "$E" <<'EOF'
import sys
from pathlib import Path
from benchmarks.cross_engine import ensure_corpus, without
engine = sys.argv[1]
for split in ("train", "dev"):
    without(Path(f"data/corpus5/{split}.csv"), engine)
for name, strength in (("clean", 0.0), ("augmented", 1.0)):
    ensure_corpus(Path(f"data/cross_engine/eval-{engine}-{name}"), {"test": 1000}, 1000, [engine], False, strength)
EOF
$P -m seq2seq_asr.teacher $C/train-minus-$E.csv --out data/teacher --threads 2

train() {  # recipe seed: one model, one thread (the two recipes of a seed train side by side)
  local extra=""; [ "$1" = distil ] && extra="--teacher data/teacher --distil 1"
  $P train_recognition.py $C/train-minus-$E.csv $C/dev-minus-$E.csv --out runs/fold-$E-$1-e$EPOCHS-s$2 \
      --seed "$2" --threads 1 --epochs $EPOCHS --patience $EPOCHS --schedule cosine --ema 0.999 $extra \
      > runs/fold-$E-$1-e$EPOCHS-s$2.log 2>&1
}
mkdir -p runs
for seed in $SEEDS; do
  train base $seed & a=$!; train distil $seed & b=$!; wait $a; wait $b  # stops on a failed run
  for recipe in base distil; do
    run=runs/fold-$E-$recipe-e$EPOCHS-s$seed
    key=fold-$E; [ $recipe = distil ] && key=fold-$E-distil
    for set in clean augmented; do
      csv=data/cross_engine/eval-$E-$set/test.csv
      $P benchmarks/accuracy.py $csv --model $run/best.pt --tempos none --warps none --no-json-clips \
          --json-out $OUT/$key-$set.s$seed.once.json
      $P benchmarks/accuracy.py $csv --model $run/best.pt --no-json-clips --json-out $OUT/$key-$set.s$seed.doors.json
    done
  done
done
$P benchmarks/report.py
