#!/usr/bin/env bash
# The main job: set-up, build, make the example MLP with torch.jit.script,
# compile it for DDP on 2 ranks and train it on 2 MPI ranks on the CPU.
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
    --optimizer sgd --lr 0.1 --momentum 0.9 --weight-decay 1e-4 \
    --mode ddp --world-size 2

echo "== training on 2 MPI ranks"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OPENBLAS_NUM_THREADS=1
mpirun --allow-run-as-root --oversubscribe -np 2 "$build_dir/bin/dpc-run" "$work/mlp.so" \
    --data x="$work/x.npy" --data y="$work/y.npy" --steps 300 --log-every 20 \
    --save-checkpoint "$work/mlp.safetensors"
