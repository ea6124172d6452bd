#!/usr/bin/env bash
# One leave-one-engine-out fold, with and without distillation from Whisper-base, on two seeds,
# each model scored read once and as the doors read into benchmarks/results/ (report.py renders it).
#
#   bash benchmarks/fold.sh espeak            # or rutts, festival; SEEDS="0" EPOCHS=30 to change
#   RECIPES=distil-l1 bash benchmarks/fold.sh espeak   # recipes: base, distil (cosine loss),
#   distil-l1, distil-w3 (weight 3), distil-front (the teacher predicted from the conv front end's output)
#
# The corpus is the five-engine data/corpus5 (14 700 clips, seed 0), less the engine; the eval sets
# are 1 000 clips of every voice of it, clean and augmented (seed 1000), as cross_engine.py makes
# them. Every step is kept and resumed: rerun the same command after a stop.
set -euo pipefail
cd "$(dirname "$0")/.."
E=${1:?usage: bash benchmarks/fold.sh ENGINE}
SEEDS=${SEEDS:-0 1}
RECIPES=${RECIPES:-base distil}
declare -A FLAGS=(  # recipe -> its train_recognition.py options
  [base]=""
  [distil]="--teacher data/teacher --distil 1"
  [distil-l1]="--teacher data/teacher --distil 1 --distil-loss l1"
  [distil-w3]="--teacher data/teacher --distil 3"
  [distil-front]="--teacher data/teacher --distil 1 --distil-layer front"
)
for r in $RECIPES; do  # before the corpus and the teacher pass, not after them
  [ -n "${FLAGS[$r]+known}" ] || { echo "unknown recipe $r (${!FLAGS[*]})" >&2; exit 2; }
done
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

chain() {  # recipe: one model a seed, one thread, each scored as it finishes (the recipes side by side)
  local extra=${FLAGS[$1]} key=fold-$E; [ "$1" = base ] || key=fold-$E-$1
  [ "$EPOCHS" = 15 ] || key=$key-e$EPOCHS  # the 15-epoch results keep their names
  for seed in $SEEDS; do
    local run=runs/fold-$E-$1-e$EPOCHS-s$seed
    $P train_recognition.py $C/train-minus-$E.csv $C/dev-minus-$E.csv --out $run \
        --seed "$seed" --threads 1 --epochs $EPOCHS --patience $EPOCHS --schedule cosine --ema 0.999 $extra \
        >> $run.log 2>&1
    for set in clean augmented; do
      local csv=data/cross_engine/eval-$E-$set/test.csv json=$OUT/$key-$set.s$seed
      [ -f $json.once.json ] || $P benchmarks/accuracy.py $csv --model $run/best.pt --tempos none --warps none \
          --no-json-clips --json-out $json.once.json > $run.score-$set-once.log 2>&1
      [ -f $json.doors.json ] || $P benchmarks/accuracy.py $csv --model $run/best.pt --no-json-clips \
          --json-out $json.doors.json > $run.score-$set-doors.log 2>&1
    done
    echo "$run scored $(date)"
  done
}
mkdir -p runs
pids=(); for r in $RECIPES; do chain "$r" & pids+=($!); done
for p in "${pids[@]}"; do wait "$p"; done  # stops on a failed run
$P benchmarks/report.py
