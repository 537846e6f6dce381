// RUN: %dpc-opt %s -split-input-file --dpc-autodiff --dpc-sgd --dpc-plan-memory \
// RUN:     --dpc-lower-to-llvm=trace-ops=false | FileCheck %s

// nn.amax and nn.amin lower to dpcrt_reduce_max_f32 (min flag 0 / 1) with
// the input shape and the output's broadcast strides (0 along the reduced
// dims), as dpcrt_reduce_sum_f32.

// CHECK-LABEL: llvm.func @dpc_model_train_step(
// CHECK-SAME: %[[CTX:[^:]*]]: !llvm.ptr,
// CHECK: %[[RANK:.*]] = llvm.mlir.constant(2 : i32) : i32
// CHECK-NEXT: %[[DIMS:.*]] = llvm.mlir.addressof @__dpc_dims_0
// CHECK-NEXT: %[[N:.*]] = llvm.mlir.constant(4 : i64) : i64
// CHECK-NEXT: %[[MAX:.*]] = llvm.mlir.constant(0 : i32) : i32
// CHECK-NEXT: llvm.call @dpcrt_reduce_max_f32(%[[CTX]], %{{[^,]*}}, %{{[^,]*}}, %[[RANK]], %[[DIMS]], %[[N]], %[[MAX]])
// CHECK: %[[DIMS1:.*]] = llvm.mlir.addressof @__dpc_dims_1
// CHECK-NEXT: %[[N1:.*]] = llvm.mlir.constant(1 : i64) : i64
// CHECK-NEXT: %[[MIN:.*]] = llvm.mlir.constant(1 : i32) : i32
// CHECK-NEXT: llvm.call @dpcrt_reduce_max_f32(%[[CTX]], %{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}}, %[[DIMS1]], %[[N1]], %[[MIN]])
// The backward of amax: compare, sum, div and mul, no new kernel.
// CHECK: llvm.call @dpcrt_compare_f32(
func.func @train_step(
    %x: tensor<4x8xf32> {dpc.kind = "parameter", dpc.name = "x"},
    %y: tensor<4xf32> {dpc.kind = "label", dpc.name = "y"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"}) {
  %m = nn.amax %x {dims = array<i64: 1>} : tensor<4x8xf32> -> tensor<4xf32>
  %n = nn.amin %x {dims = array<i64: 0, 1>} : tensor<4x8xf32> -> tensor<f32>
  %loss = nn.mse_loss %m, %y : tensor<4xf32>
  %total = nn.add %loss, %n : (tensor<f32>, tensor<f32>) -> tensor<f32>
  return %total : tensor<f32>
}

// -----

// nn.logsumexp lowers to dpcrt_reduce_logsumexp_f32 (dims as for the sums);
// nn.cumsum to dpcrt_cumsum_f32 with [outer, size, inner] = [4, 3, 2] around
// its dim and the reverse flag (set in the backward).

// CHECK-LABEL: llvm.func @dpc_model_train_step(
// CHECK-SAME: %[[CTX:[^:]*]]: !llvm.ptr,
// CHECK: %[[OUTER:.*]] = llvm.mlir.constant(4 : i64) : i64
// CHECK-NEXT: %[[SIZE:.*]] = llvm.mlir.constant(3 : i64) : i64
// CHECK-NEXT: %[[INNER:.*]] = llvm.mlir.constant(2 : i64) : i64
// CHECK-NEXT: %[[FWD:.*]] = llvm.mlir.constant(0 : i32) : i32
// CHECK-NEXT: llvm.call @dpcrt_cumsum_f32(%[[CTX]], %{{[^,]*}}, %{{[^,]*}}, %[[OUTER]], %[[SIZE]], %[[INNER]], %[[FWD]])
// CHECK: %[[N:.*]] = llvm.mlir.constant(8 : i64) : i64
// CHECK-NEXT: llvm.call @dpcrt_reduce_logsumexp_f32(%[[CTX]], %{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}}, %[[N]])
// The backward: exp(x - result) (DPCRT_UNARY_EXP = 4), then the reverse
// cumulative sum.
// CHECK: %[[EXP:.*]] = llvm.mlir.constant(4 : i32) : i32
// CHECK: llvm.call @dpcrt_unary_f32(%[[CTX]], %[[EXP]],
// CHECK: %[[REV:.*]] = llvm.mlir.constant(1 : i32) : i32
// CHECK-NEXT: llvm.call @dpcrt_cumsum_f32(%[[CTX]], %{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}}, %[[REV]])
func.func @train_step(
    %x: tensor<4x3x2xf32> {dpc.kind = "parameter", dpc.name = "x"},
    %y: tensor<4x2xf32> {dpc.kind = "label", dpc.name = "y"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"}) {
  %c = nn.cumsum %x {dim = 1 : i64} : tensor<4x3x2xf32>
  %l = nn.logsumexp %c {dims = array<i64: 1>} : tensor<4x3x2xf32> -> tensor<4x2xf32>
  %loss = nn.mse_loss %l, %y : tensor<4x2xf32>
  return %loss : tensor<f32>
}

// -----

// nn.max_dim lowers to dpcrt_max_dim_f32 (values, i64 indices, [outer,
// size, inner] = [4, 3, 2], min flag) and its gradient to
// dpcrt_max_dim_grad_f32 with the same geometry.

// CHECK-LABEL: llvm.func @dpc_model_train_step(
// CHECK-SAME: %[[CTX:[^:]*]]: !llvm.ptr,
// CHECK: %[[OUTER:.*]] = llvm.mlir.constant(4 : i64) : i64
// CHECK-NEXT: %[[SIZE:.*]] = llvm.mlir.constant(3 : i64) : i64
// CHECK-NEXT: %[[INNER:.*]] = llvm.mlir.constant(2 : i64) : i64
// CHECK-NEXT: %[[MAX:.*]] = llvm.mlir.constant(0 : i32) : i32
// CHECK-NEXT: llvm.call @dpcrt_max_dim_f32(%[[CTX]], %{{[^,]*}}, %[[IDX:[^,]*]], %{{[^,]*}}, %[[OUTER]], %[[SIZE]], %[[INNER]], %[[MAX]])
// CHECK: llvm.call @dpcrt_max_dim_grad_f32(%[[CTX]], %{{[^,]*}}, %{{[^,]*}}, %[[IDX]],
func.func @train_step(
    %x: tensor<4x3x2xf32> {dpc.kind = "input", dpc.name = "x"},
    %w: tensor<2x2xf32> {dpc.kind = "parameter", dpc.name = "fc.weight"},
    %y: tensor<4x2xf32> {dpc.kind = "label", dpc.name = "y"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"}) {
  %h = nn.linear %x, %w : (tensor<4x3x2xf32>, tensor<2x2xf32>) -> tensor<4x3x2xf32>
  %v, %i = nn.max_dim %h {dim = 1 : i64} : tensor<4x3x2xf32> -> (tensor<4x2xf32>, tensor<4x2xi64>)
  %loss = nn.mse_loss %v, %y : tensor<4x2xf32>
  return %loss : tensor<f32>
}

// -----

// nn.norm2 lowers to dpcrt_reduce_norm2_f32 with the dims of the sums.

// CHECK-LABEL: llvm.func @dpc_model_train_step(
// CHECK-SAME: %[[CTX:[^:]*]]: !llvm.ptr,
// CHECK: %[[N:.*]] = llvm.mlir.constant(4 : i64) : i64
// CHECK-NEXT: llvm.call @dpcrt_reduce_norm2_f32(%[[CTX]], %{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}}, %[[N]])
func.func @train_step(
    %x: tensor<4x8xf32> {dpc.kind = "parameter", dpc.name = "x"},
    %y: tensor<4xf32> {dpc.kind = "label", dpc.name = "y"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"}) {
  %n = nn.norm2 %x {dims = array<i64: 1>} : tensor<4x8xf32> -> tensor<4xf32>
  %loss = nn.mse_loss %n, %y : tensor<4xf32>
  return %loss : tensor<f32>
}
