// RUN: %dpc-opt %s -split-input-file --dpc-save-low-precision="min-bytes=0" | FileCheck %s
// RUN: %dpc-opt %s -split-input-file --dpc-save-low-precision | FileCheck %s --check-prefix=MIN
// RUN: %dpc-opt %s -split-input-file --dpc-save-low-precision="storage=fp16 min-bytes=0" | FileCheck %s --check-prefix=F16
// RUN: not %dpc-opt %s -split-input-file --dpc-save-low-precision="storage=f8" 2>&1 | FileCheck %s --check-prefix=BAD

// dpc-save-low-precision keeps the 16-bit values that the backward pass
// (the ops after the loss) reads in 16 bits in between: nn.pack_saved after
// the last forward op that reads the value, nn.unpack_saved before the
// first backward op, which and every later backward op read the unpacked
// copy. A value is 16-bit exact when an nn.round_bf16 (with storage=fp16:
// nn.round_f16) made it, or data movement of such values only.

// %h (a rounded linear result) is read by the tanh (forward) and by two
// backward ops: packed after the tanh, unpacked before the first backward
// op. %xr (a rounded operand, a view of it reshaped) is saved through the
// reshape: the view is packed, as it is what the backward reads. %a (tanh
// of a rounded value, not rounded; a relu would select among 16-bit values
// and be one) and %wr (no backward use) stay.
// CHECK-LABEL: func.func @train_step(
// CHECK:      %[[XR:.*]] = nn.round_bf16 %arg0
// CHECK-NEXT: %[[WR:.*]] = nn.round_bf16 %arg1
// CHECK-NEXT: %[[L:.*]] = nn.linear %[[XR]], %[[WR]], %arg2
// CHECK-NEXT: %[[H:.*]] = nn.round_bf16 %[[L]]
// CHECK-NEXT: %[[A:.*]] = nn.tanh %[[H]]
// CHECK-NEXT: %[[HP:.*]] = nn.pack_saved %[[H]] : tensor<16x32xf32> -> tensor<16x32xbf16>
// CHECK-NEXT: %[[V:.*]] = nn.reshape %[[XR]] : tensor<16x32xf32> to tensor<512xf32>
// CHECK-NEXT: %[[VP:.*]] = nn.pack_saved %[[V]] : tensor<512xf32> -> tensor<512xbf16>
// CHECK-NEXT: %[[LOSS:.*]] = nn.mse_loss %[[A]], %arg3
// CHECK-NEXT: %[[G:.*]] = nn.fill
// CHECK-NEXT: %[[HU:.*]] = nn.unpack_saved %[[HP]] : tensor<16x32xbf16> -> tensor<16x32xf32>
// CHECK-NEXT: nn.mul %[[HU]], %[[A]]
// CHECK-NEXT: nn.mul %[[HU]], %[[HU]]
// CHECK-NEXT: %[[VU:.*]] = nn.unpack_saved %[[VP]] : tensor<512xbf16> -> tensor<512xf32>
// CHECK-NEXT: nn.scale %[[VU]]
// CHECK-NOT:  nn.pack_saved
// CHECK:      return
// The default min-bytes (4096) leaves the 2 KiB tensors alone.
// MIN-LABEL: func.func @train_step(
// MIN-NOT: nn.pack_saved
// MIN-NOT: nn.unpack_saved
// MIN: return
// With storage=fp16, nn.round_bf16 results are not float16 values.
// F16-LABEL: func.func @train_step(
// F16-NOT: nn.pack_saved
// F16: return
func.func @train_step(%x: tensor<16x32xf32> {dpc.kind = "input", dpc.name = "x"},
                      %w: tensor<32x32xf32> {dpc.kind = "parameter", dpc.name = "w"},
                      %b: tensor<32xf32> {dpc.kind = "parameter", dpc.name = "b"},
                      %y: tensor<16x32xf32> {dpc.kind = "label", dpc.name = "y"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"},
        tensor<16x32xf32>, tensor<16x32xf32>, tensor<512xf32>) {
  %xr = nn.round_bf16 %x : tensor<16x32xf32>
  %wr = nn.round_bf16 %w : tensor<32x32xf32>
  %l = nn.linear %xr, %wr, %b : (tensor<16x32xf32>, tensor<32x32xf32>, tensor<32xf32>) -> tensor<16x32xf32>
  %h = nn.round_bf16 %l : tensor<16x32xf32>
  %a = nn.tanh %h : tensor<16x32xf32>
  %v = nn.reshape %xr : tensor<16x32xf32> to tensor<512xf32>
  %loss = nn.mse_loss %a, %y : tensor<16x32xf32>
  %g = nn.fill 1.0 : tensor<f32>
  %d1 = nn.mul %h, %a : (tensor<16x32xf32>, tensor<16x32xf32>) -> tensor<16x32xf32>
  %d2 = nn.mul %h, %h : (tensor<16x32xf32>, tensor<16x32xf32>) -> tensor<16x32xf32>
  %d3 = nn.scale %v, 2.0 : tensor<512xf32>
  return %loss, %d1, %d2, %d3 : tensor<f32>, tensor<16x32xf32>, tensor<16x32xf32>, tensor<512xf32>
}

// -----

// float16: the nn.round_f16 results are packed into f16 tensors. A value
// whose first backward use comes right after its last forward use (%a, read
// by the loss and then by the first backward op) is left alone: nothing
// would run while it is packed.
// F16-LABEL: func.func @train_step(
// F16:      %[[H:.*]] = nn.round_f16
// F16-NEXT: %[[A:.*]] = nn.round_f16 %[[H]]
// F16-NEXT: %[[HP:.*]] = nn.pack_saved %[[H]] : tensor<16x32xf32> -> tensor<16x32xf16>
// F16-NEXT: nn.mse_loss %[[A]]
// F16-NEXT: nn.relu %[[A]]
// F16-NEXT: %[[HU:.*]] = nn.unpack_saved %[[HP]] : tensor<16x32xf16> -> tensor<16x32xf32>
// F16-NEXT: nn.relu %[[HU]]
// F16-NOT: nn.pack_saved
// F16: return
// CHECK-LABEL: func.func @train_step(
// CHECK-NOT: nn.pack_saved
// CHECK: return
func.func @train_step(%x: tensor<16x32xf32> {dpc.kind = "input", dpc.name = "x"},
                      %y: tensor<16x32xf32> {dpc.kind = "label", dpc.name = "y"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"},
        tensor<16x32xf32>, tensor<16x32xf32>) {
  %h = nn.round_f16 %x : tensor<16x32xf32>
  %a = nn.round_f16 %h : tensor<16x32xf32>
  %loss = nn.mse_loss %a, %y : tensor<16x32xf32>
  %da = nn.relu %a : tensor<16x32xf32>
  %dh = nn.relu %h : tensor<16x32xf32>
  return %loss, %da, %dh : tensor<f32>, tensor<16x32xf32>, tensor<16x32xf32>
}

// BAD: dpc-save-low-precision: storage 'f8' is not bf16 or fp16
