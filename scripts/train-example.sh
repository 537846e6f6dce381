#!/usr/bin/env bash
# The main job: set-up, build, make the example MLP with torch.jit.script,
# compile it for DDP on 2 ranks and train it on 2 MPI ranks on the CPU with
# a small real recipe: AdamW with parameter groups (no weight decay for the
# biases and the BatchNorm's weight), gradient clipping, linear warmup then
# cosine annealing, validation every 64 steps and at the end, checkpoints,
# and the training and validation curves plotted as a PNG.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/build.sh
build_dir=${DPC_BUILD_DIR:-build}
work=${DPC_EXAMPLE_DIR:-$build_dir/example-mlp}
mkdir -p "$work"

echo "== making the example model and data (examples/mlp/model.py)"
/usr/bin/python3 examples/mlp/model.py "$work"

echo "== compiling: dpc mlp.pt -o mlp.so ..."
"$build_dir/bin/dpc" "$work/mlp.pt" -o "$work/mlp.so" \
    --input x:f32[16,32] --label y:i64[16] --loss cross_entropy \
    --optimizer adamw --lr 3e-3 --weight-decay 0.05 \
    --param-group '*.bias:weight_decay=0' --param-group 'norm*.weight:weight_decay=0' \
    --clip-grad-norm 1.0 --mode ddp --world-size 2

# 4096 samples in global batches of 32: 128 steps per epoch, 3 epochs.
echo "== training on 2 MPI ranks"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OPENBLAS_NUM_THREADS=1
rm -rf "$work/checkpoints" "$work/metrics.jsonl"
mpirun --allow-run-as-root --oversubscribe -np 2 "$build_dir/bin/dpc-run" "$work/mlp.so" \
    --data x="$work/x.npy" --data y="$work/y.npy" --epochs 3 --shuffle --seed 0 \
    --lr-schedule 'linear:start_factor=0.01,total_iters=32 |32| cosine:T_max=352' \
    --eval-data x="$work/x_val.npy" --eval-data y="$work/y_val.npy" --eval-every 64 \
    --checkpoint-dir "$work/checkpoints" --checkpoint-every 128 --keep-last 2 \
    --metrics "$work/metrics.jsonl" --log-every 16

echo "== plotting the curves"
/usr/bin/python3 scripts/plot-metrics.py "$work/metrics.jsonl" -o "$work/curves.png" \
    --title "example MLP: AdamW, warmup + cosine, 2 ranks"
