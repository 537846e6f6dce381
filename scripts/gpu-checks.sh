#!/usr/bin/env bash
# The GPU checks of the cuda backend, on a machine with a GPU, from the
# bundle scripts/gpu-bundle.sh made (see there). Prints one line per check
# and a summary; exit 1 when any check fails. Without a GPU every check is
# "skipped: no GPU" (exit 0). DPC_CHECK_BACKEND=cpu runs every check with
# --backend cpu in place of cuda: a smoke test of this script on a CPU host.
#
#   bash scripts/gpu-checks.sh gpu-bundle [--no-bench]
#
# Checks, with TF32 off (DPC_ALLOW_TF32 unset; PyTorch's checkers run on the
# CPU in float32):
#   - the CUDA kernels against the CPU kernels (dpcrt-unittests Cuda*);
#   - MLP (SGD, AdamW), CNN and GPT: `dpc-run --backend cuda` against
#     PyTorch (the end-to-end tests' checkers, their 1e-5 normwise
#     tolerances) and against `--backend cpu` (1e-5: cuBLAS/cuDNN add in
#     another order than OpenBLAS);
#   - NCCL with world size 1: every cuda run above all-reduces through it,
#     the MLP also in bfloat16 (--grad-comm bf16) against PyTorch DDP with
#     its bf16 compression hook;
#   - --precision bf16 (the CNN with BatchNorm, the GPT) against PyTorch
#     DDP under CPU autocast (ddp_reference.py --autocast bf16, the
#     tolerances of autocast-bf16-gpt.test: bfloat16 rounding flips), and
#     against --backend cpu to 3e-2 (flips where cuBLAS's float32 sums
#     differ in the last bit);
#   - --precision fp16 with GradScaler (the MLP, forced overflows) against
#     PyTorch 2's autocast + GradScaler (ddp_reference.py --autocast fp16
#     --grad-scaler, run by $TORCH2_PYTHON, default $PYTHON: it needs
#     torch >= 2.5 for CPU float16 autocast): the skipped steps and scales
#     exactly, tensors to 2e-3 (float16 flips), and against --backend cpu;
#   - float64 models (the MLP with AdamW, the tied-weight MLP and the
#     masks-and-products MLP with SGD)
#     against PyTorch float64 and --backend cpu, to 1e-12 (cuBLAS's dgemm
#     sums in another order: ~1e-16);
#   - --mode dp with 2 replicas on one GPU against 1 replica (1e-5);
#   - then the benchmark (bench/gpu_bench.py run).
set -uo pipefail
cd "$(dirname "$0")/.."
bundle=${1:?usage: gpu-checks.sh BUNDLE_DIR [--no-bench]}
bench=1
[ "${2:-}" = "--no-bench" ] && bench=0
python=${PYTHON:-python3}
torch2_python=${TORCH2_PYTHON:-$python}
inputs=test/E2E/Inputs
export LD_LIBRARY_PATH="$PWD/$bundle/lib:/usr/local/cuda/lib64:/usr/local/cuda/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
unset DPC_ALLOW_TF32
run="$bundle/bin/dpc-run"
gpu=${DPC_CHECK_BACKEND:-cuda}
passed=0 failed=0 skipped=0
log=$(mktemp -d)

report() { # name status [detail]
  printf '%-34s %s%s\n' "$1" "$2" "${3:+  ($3)}"
  case $2 in PASS) passed=$((passed + 1)) ;; FAIL) failed=$((failed + 1)) ;; *) skipped=$((skipped + 1)) ;; esac
}
check() { # name command...: PASS when the command succeeds
  local name=$1; shift
  if "$@" > "$log/$name.out" 2>&1; then
    report "$name" PASS "$(tail -1 "$log/$name.out")"
  else
    report "$name" FAIL "$(tail -2 "$log/$name.out" | tr '\n' ' ')"
  fi
}

echo "bundle of commit $(cat "$bundle/COMMIT"), checkout at $(git rev-parse HEAD 2>/dev/null || echo '?')"
# libdpcrt and the cuda plugin beside it, which libdpcrt dlopens (ldd would
# not see a missing CUDA library of the plugin through libdpcrt).
for lib in libdpcrt.so libdpcrt_cuda.so; do
  missing=$(ldd "$bundle/lib/$lib" | grep 'not found' || true)
  if [ -n "$missing" ]; then
    echo "$lib cannot load:"; echo "$missing"; exit 1
  fi
done
if [ "$gpu" = cuda ] && ! nvidia-smi -L > /dev/null 2>&1; then
  for name in unit-tests mlp mlp-bf16-comm cnn-bf16 gpt-bf16 mlp-fp16 mlp-f64 tied-f64 masks-f64 cnn gpt llama unet dp bench; do report "$name" "skipped: no GPU"; done
  echo "gpu checks: $passed passed, $failed failed, $skipped skipped"
  exit 0
fi
[ "$gpu" = cuda ] && nvidia-smi -L

check unit-tests "$bundle/bin/dpcrt-unittests" --gtest_filter='Cuda*' --gtest_brief=1

# train CASE BACKEND STEPS DATA...: checkpoint CASE/BACKEND.safetensors, log CASE/BACKEND.log
train() {
  local d=$1 backend=$2 steps=$3; shift 3
  "$run" "$d/model.so" --backend "$backend" "$@" --steps "$steps" --log-every 1 \
    --save-checkpoint "$d/$backend.safetensors" > "$d/$backend.log"
}
same() { $python $inputs/check_dp_against_torch.py --same "$1" "$2" --rtol "$3" --atol "${4:-1e-7}"; }

for c in mlp mlp-adamw mlp-bf16-comm cnn-bf16 gpt-bf16 mlp-fp16 mlp-f64 tied-f64 masks-f64 cnn gpt llama unet; do
  d=$bundle/cases/$c
  same_rtol=1e-5 same_atol=1e-7
  ref_python=$python
  case $c in
    mlp)       data=(--data x=$d/x.npy --data y=$d/y.npy); steps=5
               ref=($inputs/check_against_torch.py "$d" --steps 5 --global-batch 16
                    --lr 0.1 --momentum 0.9 --weight-decay 1e-4) ;;
    mlp-adamw) data=(--data x=$d/x.npy --data y=$d/y.npy); steps=5
               ref=($inputs/check_against_torch.py "$d" --steps 5 --global-batch 16
                    --optimizer adamw --lr 0.01 --weight-decay 0.05) ;;
    mlp-bf16-comm) data=(--data x=$d/x.npy --data y=$d/y.npy); steps=5
               ref=($inputs/ddp_reference.py "$d" --world-size 1 --steps 5 --local-batch 16
                    --lr 0.1 --momentum 0.9 --weight-decay 1e-4 --comm-hook bf16) ;;
    cnn-bf16)  data=(--data x=$d/x.npy --data y=$d/y.npy); steps=6; same_rtol=3e-2
               ref=($inputs/ddp_reference.py "$d" --world-size 1 --steps 6 --local-batch 8
                    --lr 0.05 --momentum 0.9 --autocast bf16 --bf16-rtol 3e-2
                    --bf16-fraction 0.75 --loss-rtol 1e-4) ;;
    gpt-bf16)  data=(--data idx=$d/x.npy --data y=$d/y.npy); steps=4; same_rtol=3e-2
               ref=($inputs/ddp_reference.py "$d" --world-size 1 --steps 4 --local-batch 4
                    --lr 0.1 --momentum 0.9 --autocast bf16 --bf16-rtol 3e-2
                    --bf16-fraction 0.75 --loss-rtol 1e-4) ;;
    mlp-fp16)  data=(--data x=$d/x.npy --data y=$d/y.npy); steps=10; same_rtol=2e-3
               ref_python=$torch2_python
               ref=($inputs/ddp_reference.py "$d" --world-size 1 --steps 10 --local-batch 16
                    --lr 0.1 --momentum 0.9 --autocast fp16 --grad-scaler --init-scale 1048576
                    --growth-interval 3 --lp-rtol 2e-3 --lp-fraction 0.3 --loss-rtol 1e-5) ;;
    mlp-f64)   data=(--data x=$d/x.npy --data y=$d/y.npy); steps=5; same_rtol=1e-12 same_atol=0
               ref=($inputs/check_against_torch.py "$d" --steps 5 --global-batch 16
                    --optimizer adamw --lr 0.01 --weight-decay 0.05
                    --dtype float64 --rtol 1e-12 --atol 0) ;;
    tied-f64 | masks-f64)
               data=(--data x=$d/x.npy --data y=$d/y.npy); steps=5; same_rtol=1e-12 same_atol=0
               ref=($inputs/check_against_torch.py "$d" --steps 5 --global-batch 16
                    --lr 0.1 --momentum 0.9 --weight-decay 1e-4
                    --dtype float64 --rtol 1e-12 --atol 0) ;;
    cnn)       data=(--data x=$d/x.npy --data y=$d/y.npy); steps=6
               ref=($inputs/check_against_torch.py "$d" --steps 6 --global-batch 4
                    --lr 0.05 --momentum 0.9 --weight-decay 1e-4) ;;
    gpt)       data=(--data idx=$d/idx.npy --data y=$d/targets.npy); steps=8
               ref=($inputs/check_gpt.py "$d" --steps 8 --global-batch 4
                    --lr 0.1 --momentum 0.9 --weight-decay 1e-4) ;;
    llama)     data=(--data x=$d/x.npy --data y=$d/y.npy); steps=6
               ref=($inputs/check_against_torch.py "$d" --steps 6 --global-batch 16
                    --lr 0.1 --momentum 0.9) ;;
    unet)      data=(--data x=$d/x.npy --data y=$d/y.npy); steps=6
               ref=($inputs/check_against_torch.py "$d" --steps 6 --global-batch 8
                    --loss mse --lr 0.1 --momentum 0.9) ;;
  esac
  check "$c: cuda run" train "$d" "$gpu" $steps "${data[@]}"
  check "$c: cpu run" train "$d" cpu $steps "${data[@]}"
  check "$c: cuda vs PyTorch" $ref_python "${ref[@]}" --log "$d/$gpu.log" \
    --checkpoint "$d/$gpu.safetensors"
  check "$c: cuda vs cpu backend" same "$d/$gpu.safetensors" "$d/cpu.safetensors" $same_rtol $same_atol
done

d=$bundle/cases/dp
for n in 1 2; do
  check "dp: $n replica(s) on one GPU" "$run" "$d/dp$n.so" --backend "$gpu" \
    --data x=$d/x.npy --data y=$d/y.npy --steps 12 --save-checkpoint "$d/dp$n.safetensors"
done
check "dp: 2 replicas vs 1" same "$d/dp2.safetensors" "$d/dp1.safetensors" 1e-5

if [ $bench -eq 1 ]; then
  check "bench" $python bench/gpu_bench.py run "$bundle/bench" --dpc-run "$run" \
    --device "$gpu" --json "$bundle/bench/results.json"
  cat "$log/bench.out"
fi
echo "gpu checks: $passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ]
