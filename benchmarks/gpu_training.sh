#!/usr/bin/env bash
# The CUDA path of training on a GPU machine: float16 training, resume from last.pt, export,
# torchrun (nccl) with one process, and epoch times at batch 32 and 128. Logs go to OUT_DIR.
#   bash benchmarks/gpu_training.sh TRAIN_CSV DEV_CSV [OUT_DIR]
set -euo pipefail
TRAIN=$1 DEV=$2 LOGS=${3:-runs/gpu-check}
PY=${PYTHON:-python3} WORK=$(mktemp -d)
mkdir -p "$LOGS"
train() { $PY train_recognition.py "$TRAIN" "$DEV" --cache "$WORK/cache" --threads 8 "$@" 2>&1 | tr '\r' '\n' | grep -v "batch/s"; }
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
train --out "$WORK/b32" --epochs 3 | tee "$LOGS/b32.log"
train --out "$WORK/b32" --epochs 4 | tee "$LOGS/b32-resume.log"   # resumes after epoch 3
train --out "$WORK/b128" --epochs 3 --batch-size 128 --lr 0.004 --export "$LOGS/b128.pt" | tee "$LOGS/b128.log"
$PY -m torch.distributed.run --nproc-per-node 1 train_recognition.py "$TRAIN" "$DEV" --cache "$WORK/cache" \
    --out "$WORK/ddp" --epochs 1 2>&1 | tr '\r' '\n' | grep -v "batch/s" | tee "$LOGS/torchrun.log"
