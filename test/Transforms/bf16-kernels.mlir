// RUN: %dpc-opt %s -split-input-file --dpc-bf16-kernels | FileCheck %s

// dpc-bf16-kernels gives every single-GEMM linear / matmul whose two matrix
// operands hold bfloat16 values bfloat16 operands: one nn.pack_saved right
// after each value (shared), or the packed operand of an nn.unpack_saved.
// A rounding read by packs only is folded into them.

// The linear's rounded input and weight are packed where they are made; the
// weight's rounding is read by the pack only, so the pack reads the weight
// itself, and so does the gradient's. The input's rounding stays (the tanh
// reads it). The backward matmul reads the saved pack instead of its
// unpack, and the pack that dpc-save-low-precision made for %xr gives way
// to the one after %xr.
// CHECK-LABEL: func.func @train_step(
// CHECK:      %[[XR:.*]] = nn.round_bf16 %arg0
// CHECK-NEXT: %[[XP:.*]] = nn.pack_saved %[[XR]] : tensor<16x32xf32> -> tensor<16x32xbf16>
// CHECK-NEXT: %[[WP:.*]] = nn.pack_saved %arg1 : tensor<8x32xf32> -> tensor<8x32xbf16>
// CHECK-NEXT: %[[Y:.*]] = nn.linear %[[XP]], %[[WP]], %arg2 : (tensor<16x32xbf16>, tensor<8x32xbf16>, tensor<8xf32>) -> tensor<16x8xf32>
// CHECK-NEXT: nn.tanh %[[XR]]
// CHECK-NEXT: nn.mse_loss
// CHECK-NEXT: %[[GP:.*]] = nn.pack_saved %[[Y]] : tensor<16x8xf32> -> tensor<16x8xbf16>
// CHECK-NEXT: nn.matmul %[[GP]], %[[XP]] {transpose_lhs} : (tensor<16x8xbf16>, tensor<16x32xbf16>) -> tensor<8x32xf32>
// CHECK-NOT: nn.unpack_saved
// CHECK-NOT: nn.round_bf16
// CHECK: return
func.func @train_step(%x: tensor<16x32xf32> {dpc.kind = "input", dpc.name = "x"},
                      %w: tensor<8x32xf32> {dpc.kind = "parameter", dpc.name = "w"},
                      %b: tensor<8xf32> {dpc.kind = "parameter", dpc.name = "b"},
                      %y: tensor<16x8xf32> {dpc.kind = "label", dpc.name = "y"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"},
        tensor<8x32xf32>, tensor<16x32xf32>) {
  %xr = nn.round_bf16 %x : tensor<16x32xf32>
  %wr = nn.round_bf16 %w : tensor<8x32xf32>
  %l = nn.linear %xr, %wr, %b : (tensor<16x32xf32>, tensor<8x32xf32>, tensor<8xf32>) -> tensor<16x8xf32>
  %t = nn.tanh %xr : tensor<16x32xf32>
  %xs = nn.pack_saved %xr : tensor<16x32xf32> -> tensor<16x32xbf16>
  %loss = nn.mse_loss %l, %y : tensor<16x8xf32>
  %g = nn.round_bf16 %l : tensor<16x8xf32>
  %xu = nn.unpack_saved %xs : tensor<16x32xbf16> -> tensor<16x32xf32>
  %dw = nn.matmul %g, %xu {transpose_lhs} : (tensor<16x8xf32>, tensor<16x32xf32>) -> tensor<8x32xf32>
  return %loss, %dw, %t : tensor<f32>, tensor<8x32xf32>, tensor<16x32xf32>
}

// -----

// Left alone: a batched matmul (one GEMM per batch element), a linear with
// a float32 (not rounded) input, and float16 values.
// CHECK-LABEL: func.func @train_step(
// CHECK-NOT: nn.pack_saved
// CHECK: nn.matmul %{{.*}} : (tensor<2x4x8xf32>, tensor<2x8x4xf32>) -> tensor<2x4x4xf32>
// CHECK: nn.linear %{{.*}} : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x4xf32>
// CHECK: nn.linear %{{.*}} : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x4xf32>
// CHECK-NOT: nn.pack_saved
// CHECK: return
func.func @train_step(%a: tensor<2x4x8xf32> {dpc.kind = "input", dpc.name = "a"},
                      %b: tensor<2x8x4xf32> {dpc.kind = "input", dpc.name = "b"},
                      %x: tensor<4x8xf32> {dpc.kind = "input", dpc.name = "x"},
                      %w: tensor<4x8xf32> {dpc.kind = "parameter", dpc.name = "w"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"}, tensor<2x4x4xf32>,
        tensor<4x4xf32>, tensor<4x4xf32>) {
  %ar = nn.round_bf16 %a : tensor<2x4x8xf32>
  %br = nn.round_bf16 %b : tensor<2x8x4xf32>
  %c = nn.matmul %ar, %br : (tensor<2x4x8xf32>, tensor<2x8x4xf32>) -> tensor<2x4x4xf32>
  %wr = nn.round_bf16 %w : tensor<4x8xf32>
  %l = nn.linear %x, %wr : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x4xf32>
  %xh = nn.round_f16 %x : tensor<4x8xf32>
  %wh = nn.round_f16 %w : tensor<4x8xf32>
  %h = nn.linear %xh, %wh : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x4xf32>
  %loss = nn.mse_loss %l, %h : tensor<4x4xf32>
  return %loss, %c, %l, %h : tensor<f32>, tensor<2x4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>
}

// -----

// Convolutions: the forward reads the packed input and weight (the relu of
// a rounded value is one: it selects among them), the weight gradient the
// packed gradient and input; the bias stays float32.
// CHECK-LABEL: func.func @train_step(
// CHECK:      %[[X:.*]] = nn.round_bf16 %arg0
// CHECK-NEXT: %[[R:.*]] = nn.relu %[[X]]
// CHECK-NEXT: %[[RP:.*]] = nn.pack_saved %[[R]] : tensor<2x3x8x8xf32> -> tensor<2x3x8x8xbf16>
// CHECK-NEXT: %[[WP:.*]] = nn.pack_saved %arg1 : tensor<4x3x3x3xf32> -> tensor<4x3x3x3xbf16>
// CHECK-NEXT: %[[Y:.*]] = nn.conv2d %[[RP]], %[[WP]], %arg2 {{.*}} : (tensor<2x3x8x8xbf16>, tensor<4x3x3x3xbf16>, tensor<4xf32>) -> tensor<2x4x8x8xf32>
// CHECK-NEXT: %[[YP:.*]] = nn.pack_saved %[[Y]] : tensor<2x4x8x8xf32> -> tensor<2x4x8x8xbf16>
// CHECK-NEXT: nn.conv2d_weight_grad %[[YP]], %[[RP]] {{.*}} : (tensor<2x4x8x8xbf16>, tensor<2x3x8x8xbf16>) -> tensor<4x3x3x3xf32>
func.func @train_step(%x: tensor<2x3x8x8xf32> {dpc.kind = "input", dpc.name = "x"},
                      %w: tensor<4x3x3x3xf32> {dpc.kind = "parameter", dpc.name = "w"},
                      %b: tensor<4xf32> {dpc.kind = "parameter", dpc.name = "b"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"}, tensor<4x3x3x3xf32>) {
  %xr = nn.round_bf16 %x : tensor<2x3x8x8xf32>
  %r = nn.relu %xr : tensor<2x3x8x8xf32>
  %wr = nn.round_bf16 %w : tensor<4x3x3x3xf32>
  %y = nn.conv2d %r, %wr, %b {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>,
                               dilation = array<i64: 1, 1>}
      : (tensor<2x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<2x4x8x8xf32>
  %yr = nn.round_bf16 %y : tensor<2x4x8x8xf32>
  %dw = nn.conv2d_weight_grad %yr, %r {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>,
                                       dilation = array<i64: 1, 1>}
      : (tensor<2x4x8x8xf32>, tensor<2x3x8x8xf32>) -> tensor<4x3x3x3xf32>
  %loss = nn.mse_loss %y, %y : tensor<2x4x8x8xf32>
  return %loss, %dw : tensor<f32>, tensor<4x3x3x3xf32>
}
