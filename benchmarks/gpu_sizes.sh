#!/usr/bin/env bash
# Model size against voices never heard, on one GPU machine: for each left-out engine and each
# encoder/decoder size (width, depth), train on a packed corpus less that engine (seq2seq_asr.corpus.pack and
# benchmarks/cross_engine.without), every run at once; then score the best.pt files here with
# benchmarks/accuracy.py on the cross-engine eval sets. Logs and checkpoints go to OUT_DIR.
#   bash benchmarks/gpu_sizes.sh PACKED_DIR OUT_DIR [EPOCHS] [SECONDS]
# Every run: batch 128 at lr 0.004, a weight average of decay 0.996 (about 3 epochs at this
# batch), cosine schedule over EPOCHS; a run still going after SECONDS is stopped (its best.pt
# stays, and its history.json says how far it got).
set -uo pipefail
PACKED=$1 OUT=$2 EPOCHS=${3:-20} LIMIT=${4:-420}
PY=${PYTHON:-python3} ENGINES=${ENGINES:-rutts espeak}
declare -A SIZE=([base]="--enc-hidden 160 --dec-hidden 192" [w256]="--enc-hidden 256 --dec-hidden 256"
                 [d3]="--enc-hidden 160 --enc-layers 3 --dec-hidden 192")  # best.pt: 6, 14, 8 MB
mkdir -p "$OUT"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
for e in $ENGINES; do  # the feature caches first, once per CSV, with many workers
  for s in train dev; do
    $PY -c "import sys; from seq2seq_asr.data import load_split; load_split(sys.argv[1], '/tmp/cache', 8, 60.0)" \
      "$PACKED/$s-minus-$e.csv" 2>>"$OUT/cache.log" &
  done
done
wait
for e in $ENGINES; do
  for size in "${!SIZE[@]}"; do
    timeout "$LIMIT" $PY train_recognition.py "$PACKED/train-minus-$e.csv" "$PACKED/dev-minus-$e.csv" \
      --out "$OUT/$e-$size" --cache /tmp/cache --threads 2 --epochs "$EPOCHS" --patience "$EPOCHS" \
      --batch-size 128 --lr 0.004 --ema 0.996 --schedule cosine ${SIZE[$size]} 2>&1 \
      | tr '\r' '\n' | grep -v "batch/s" > "$OUT/$e-$size.log" &
  done
done
wait
for run in "$OUT"/*/; do
  echo "$(basename "$run"): $($PY -c "import json, sys; h = json.load(open(sys.argv[1]))
print(len(h), 'epochs, best dev', max(x['dev_accuracy'] for x in h), 'last', h[-1]['seconds'], 's')" "$run/history.json")"
done
