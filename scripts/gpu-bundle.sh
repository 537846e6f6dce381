#!/usr/bin/env bash
# Packs what the GPU checks need into gpu-bundle.tar.xz, for a machine with a
# GPU but without LLVM/MLIR/LibTorch 1.13 (the lent device machine): dpc-run,
# the unit tests, libdpcrt and its cuda plugin built here, the shared
# libraries they need that such a machine may lack (MPI, OpenBLAS, ...; not
# CUDA's, not the C/C++ runtime's), and the test and benchmark models,
# compiled here. scripts/gpu-checks.sh runs them there, from a checkout of
# the same commit:
#
#   here:   bash scripts/gpu-bundle.sh
#   there:  tar xJf gpu-bundle.tar.xz && bash scripts/gpu-checks.sh gpu-bundle
#
# (device tool: carry gpu-bundle.tar.xz; both paths are git-ignored.)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${DPC_BUILD_DIR:-build}
bundle=gpu-bundle
python=/usr/bin/python3
inputs=test/E2E/Inputs

bash scripts/build.sh > /dev/null
# The cuda backend is a plugin beside libdpcrt, which loads it at run time.
if [ ! -f "$build/lib/libdpcrt_cuda.so" ]; then
  echo "gpu-bundle: $build/lib has no libdpcrt_cuda.so, the cuda backend (nvcc, cuBLAS," \
       "cuDNN and NCCL must be found at configure time)" >&2
  exit 1
fi

rm -rf "$bundle" gpu-bundle.tar.xz
mkdir -p "$bundle/bin" "$bundle/lib" "$bundle/cases" "$bundle/bench"
cp "$build/bin/dpc-run" "$build/bin/dpcrt-unittests" "$bundle/bin/"
# Side by side: libdpcrt looks for the plugin in its own directory.
cp "$build/lib/libdpcrt.so" "$build/lib/libdpcrt_cuda.so" "$bundle/lib/"
# Dependencies outside CUDA and the C/C++ runtime, which the GPU machine has.
ldd "$build/lib/libdpcrt.so" "$build/lib/libdpcrt_cuda.so" "$build/bin/dpcrt-unittests" |
  awk '$3 ~ /^\// { print $3 }' | sort -u |
  grep -Ev '/(libc|libm|libdl|libpthread|librt|libstdc\+\+|libgcc_s)\.so|/usr/local/cuda' |
  while read -r lib; do cp -L "$lib" "$bundle/lib/"; done

dpc=$build/bin/dpc
case_dir() { mkdir -p "$bundle/cases/$1"; echo "$bundle/cases/$1"; }

# The MLP (SGD with momentum and weight decay) and the same with AdamW.
d=$(case_dir mlp)
$python $inputs/make_model.py mlp script "$d" --batch 16 --samples 256 > /dev/null
$dpc "$d/model.pt" -o "$d/model.so" --input x:f32[16,32] --label y:i64[16] \
  --lr 0.1 --momentum 0.9 --weight-decay 1e-4
d=$(case_dir mlp-adamw)
$python $inputs/make_model.py mlp script "$d" --batch 16 --samples 256 > /dev/null
$dpc "$d/model.pt" -o "$d/model.so" --input x:f32[16,32] --label y:i64[16] \
  --optimizer adamw --lr 0.01 --weight-decay 0.05
# The MLP with its gradient all-reduced in bfloat16 (--grad-comm bf16, DDP's
# bf16_compress_hook): on one rank NCCL still runs, on the rounded bucket.
d=$(case_dir mlp-bf16-comm)
$python $inputs/make_model.py mlp script "$d" --batch 16 --samples 256 > /dev/null
$dpc "$d/model.pt" -o "$d/model.so" --input x:f32[16,32] --label y:i64[16] \
  --lr 0.1 --momentum 0.9 --weight-decay 1e-4 --grad-comm bf16
# --precision bf16 (torch.autocast's bfloat16): the CNN with BatchNorm and
# the GPT; ddp_reference.py reads x.npy / y.npy.
d=$(case_dir cnn-bf16)
$python $inputs/make_cnn_model.py small-cnn script "$d" --batch 8 --samples 64 > /dev/null
$dpc "$d/model.pt" -o "$d/model.so" --input x:f32[8,3,16,16] --label y:i64[8] \
  --lr 0.05 --momentum 0.9 --precision bf16
d=$(case_dir gpt-bf16)
$python $inputs/make_gpt.py gpt script "$d" --batch 4 --samples 64 > /dev/null
cp "$d/idx.npy" "$d/x.npy" && cp "$d/targets.npy" "$d/y.npy"
$dpc "$d/model.pt" -o "$d/model.so" --input idx:i64[4,16] --label y:i64[4,16] \
  --lr 0.1 --momentum 0.9 --precision bf16
# --precision fp16 with GradScaler: the MLP from an init scale of 2^20, so
# that float16 gradients overflow and steps are skipped
# (autocast-fp16-grad-scaler.test).
d=$(case_dir mlp-fp16)
$python $inputs/make_model.py mlp script "$d" --batch 16 --samples 256 > /dev/null
$dpc "$d/model.pt" -o "$d/model.so" --input x:f32[16,32] --label y:i64[16] \
  --lr 0.1 --momentum 0.9 --precision fp16 --grad-scaler-init-scale 1048576 \
  --grad-scaler-growth-interval 3
# float64 models (model.double()): the MLP with AdamW, the tied-weight MLP
# (sigmoid, a transposed matmul) and the masks-and-products MLP (where,
# masked_fill, comparisons, maximum, pow, batched dgemm) with SGD; NCCL
# all-reduces doubles.
d=$(case_dir mlp-f64)
$python $inputs/make_model.py mlp script "$d" --batch 16 --samples 256 --dtype float64 > /dev/null
$dpc "$d/model.pt" -o "$d/model.so" --input x:f64[16,32] --label y:i64[16] \
  --optimizer adamw --lr 0.01 --weight-decay 0.05
d=$(case_dir tied-f64)
$python $inputs/make_model.py tied script "$d" --batch 16 --samples 256 --dtype float64 > /dev/null
$dpc "$d/model.pt" -o "$d/model.so" --input x:f64[16,32] --label y:i64[16] \
  --lr 0.1 --momentum 0.9 --weight-decay 1e-4
d=$(case_dir masks-f64)
$python $inputs/make_model.py masks-and-products script "$d" --batch 16 --samples 256 \
  --dtype float64 > /dev/null
$dpc "$d/model.pt" -o "$d/model.so" --input x:f64[16,32] --label y:i64[16] \
  --lr 0.1 --momentum 0.9 --weight-decay 1e-4
# The small CNN (batch norm, grouped/dilated convolutions, pooling).
d=$(case_dir cnn)
$python $inputs/make_cnn_model.py small-cnn script "$d" --batch 4 --samples 16 > /dev/null
$dpc "$d/model.pt" -o "$d/model.so" --input x:f32[4,3,16,16] --label y:i64[4] \
  --lr 0.05 --momentum 0.9 --weight-decay 1e-4
# The small GPT block stack (embedding, layer norm, attention, GELU).
d=$(case_dir gpt)
$python $inputs/make_gpt.py gpt script "$d" --batch 4 --samples 64 > /dev/null
$dpc "$d/model.pt" -o "$d/model.so" --input idx:i64[4,16] --label y:i64[4,16] \
  --lr 0.1 --momentum 0.9 --weight-decay 1e-4
# The Llama-style decoder (RMSNorm, rotary embeddings, grouped-query
# attention, SiLU-gated MLP).
d=$(case_dir llama)
$python $inputs/make_llama.py "$d" --samples 64 --seq 16 > /dev/null
$dpc "$d/model.pt" -o "$d/model.so" --input x:i64[16,16] --label y:i64[16,16] \
  --lr 0.1 --momentum 0.9
# The U-Net with transposed convolutions and GroupNorm (MSE per pixel).
d=$(case_dir unet)
$python $inputs/make_unet.py "$d" --samples 32 --size 16 --model transposed > /dev/null
$dpc "$d/model.pt" -o "$d/model.so" --input x:f32[8,3,16,16] --label y:f32[8,2,16,16] \
  --loss mse --lr 0.1 --momentum 0.9
# --mode dp with 2 replicas on one GPU against 1 replica (no batch norm:
# there the replicas' batch statistics differ by design).
d=$(case_dir dp)
$python $inputs/make_model.py regressor trace "$d" --batch 8 --samples 64 > /dev/null
for n in 1 2; do
  $dpc "$d/model.pt" -o "$d/dp$n.so" --input x:f32[8,8] --label y:f32[8,4] --loss mse \
    --lr 0.05 --weight-decay 0.01 --mode dp --devices $n
done

$python bench/gpu_bench.py prepare --build "$build" --out "$bundle/bench" > /dev/null
git rev-parse HEAD > "$bundle/COMMIT"
tar -cJf gpu-bundle.tar.xz "$bundle"
echo "wrote gpu-bundle.tar.xz ($(du -h gpu-bundle.tar.xz | cut -f1)) for commit $(cat "$bundle/COMMIT")"
