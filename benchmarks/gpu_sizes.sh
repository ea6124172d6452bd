#!/usr/bin/env bash
# Model size against voices never heard, on one GPU machine: for each left-out engine and each
# encoder/decoder size (width, depth), train on a packed corpus less that engine
# (seq2seq_asr.corpus.pack, then benchmarks/cross_engine.without), one run after another; then
# score the best.pt files here with benchmarks/accuracy.py on the cross-engine eval sets.
#   ENGINES="rutts" SIZES="base w256" bash benchmarks/gpu_sizes.sh PACKED_DIR OUT_DIR [EPOCHS] [SECONDS]
# One run at a time: on one H200 (2026-11-27) a run alone took 14 s an epoch of 11 267 clips,
# two at once 115-120 s each and six at once more than 450 s each (docs/experiments.md, "Model
# size"). Every run: batch 128 at lr 0.004, a weight average of decay 0.996 (about 3
# epochs at this batch), cosine schedule over EPOCHS; a run still going after SECONDS is stopped
# (its best.pt stays, and its history.json says how far it got).
set -uo pipefail
PACKED=$1 OUT=$2 EPOCHS=${3:-20} LIMIT=${4:-300}
PY=${PYTHON:-python3} ENGINES=${ENGINES:-rutts} SIZES=${SIZES:-base w256}
declare -A SIZE=([base]="--enc-hidden 160 --dec-hidden 192" [w256]="--enc-hidden 256 --dec-hidden 256"
                 [d3]="--enc-hidden 160 --enc-layers 3 --dec-hidden 192")  # best.pt: 6, 14, 8 MB
for size in $SIZES; do [[ -v SIZE[$size] ]] || { echo "unknown size $size (known: ${!SIZE[*]})"; exit 2; }; done
mkdir -p "$OUT"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
for e in $ENGINES; do
  for size in $SIZES; do
    timeout "$LIMIT" $PY train_recognition.py "$PACKED/train-minus-$e.csv" "$PACKED/dev-minus-$e.csv" \
      --out "$OUT/$e-$size" --cache /tmp/cache --threads 8 --epochs "$EPOCHS" --patience "$EPOCHS" \
      --batch-size 128 --lr 0.004 --ema 0.996 --schedule cosine ${SIZE[$size]} 2>&1 \
      | tr '\r' '\n' | grep -v "batch/s" > "$OUT/$e-$size.log"
    echo "$e-$size: $($PY -c "import json, sys; h = json.load(open(sys.argv[1]))
print(len(h), 'epochs, best dev', max(x['dev_accuracy'] for x in h), 'in', h[-1]['seconds'], 's')" \
      "$OUT/$e-$size/history.json" 2>&1 | tail -n 1)"
  done
done
