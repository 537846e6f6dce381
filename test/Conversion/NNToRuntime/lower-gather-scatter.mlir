// RUN: %dpc-opt %s --dpc-autodiff --dpc-sgd --dpc-plan-memory \
// RUN:     --dpc-lower-to-llvm=trace-ops=false | FileCheck %s

// nn.convert is one call over all 30 elements; nn.gather and its VJP's
// nn.scatter_add are runtime calls on the [outer, dim, inner] view of their
// tensors (dim 1 of [2, 5, 3] by a [2, 4, 3] index: outer 2, dim 5, index
// dim 4, inner 3); the zeros the gradient is scattered into are a fill.

// CHECK-LABEL: llvm.func @dpc_model_train_step(
// CHECK-SAME: %[[CTX:[^:]*]]: !llvm.ptr,
// CHECK: %[[N:.*]] = llvm.mlir.constant(30 : i64) : i64
// CHECK-NEXT: llvm.call @dpcrt_convert_i64_f32(%[[CTX]], %[[F:[^,]*]], %{{[^,]*}}, %[[N]])
// CHECK: %[[OUTER:.*]] = llvm.mlir.constant(2 : i64) : i64
// CHECK-NEXT: %[[DIM:.*]] = llvm.mlir.constant(5 : i64) : i64
// CHECK-NEXT: %[[K:.*]] = llvm.mlir.constant(4 : i64) : i64
// CHECK-NEXT: %[[INNER:.*]] = llvm.mlir.constant(3 : i64) : i64
// CHECK-NEXT: llvm.call @dpcrt_gather_f32(%[[CTX]], %{{[^,]*}}, %{{[^,]*}}, %[[I:[^,]*]], %[[OUTER]], %[[DIM]], %[[K]], %[[INNER]])
// CHECK: llvm.mlir.constant(0.000000e+00 : f32) : f32
// CHECK-NEXT: llvm.call @dpcrt_fill_f32(%[[CTX]], %[[Z:[^,]*]],
// CHECK: %[[OUTER2:.*]] = llvm.mlir.constant(2 : i64) : i64
// CHECK-NEXT: %[[DIM2:.*]] = llvm.mlir.constant(5 : i64) : i64
// CHECK-NEXT: %[[K2:.*]] = llvm.mlir.constant(4 : i64) : i64
// CHECK-NEXT: %[[INNER2:.*]] = llvm.mlir.constant(3 : i64) : i64
// CHECK-NEXT: llvm.call @dpcrt_scatter_add_f32(%[[CTX]], %{{[^,]*}}, %[[Z]], %[[I]], %{{[^,]*}}, %[[OUTER2]], %[[DIM2]], %[[K2]], %[[INNER2]])
func.func @train_step(
    %m: tensor<2x5x3xi64> {dpc.kind = "input", dpc.name = "m"},
    %i: tensor<2x4x3xi64> {dpc.kind = "input", dpc.name = "i"},
    %w: tensor<2x5x3xf32> {dpc.kind = "parameter", dpc.name = "w"},
    %y: tensor<2x4x3xf32> {dpc.kind = "label", dpc.name = "y"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"}) {
  %f = nn.convert %m : tensor<2x5x3xi64> -> tensor<2x5x3xf32>
  %h = nn.mul %w, %f : (tensor<2x5x3xf32>, tensor<2x5x3xf32>) -> tensor<2x5x3xf32>
  %g = nn.gather %h, %i {dim = 1 : i64} : (tensor<2x5x3xf32>, tensor<2x4x3xi64>) -> tensor<2x4x3xf32>
  %loss = nn.mse_loss %g, %y : tensor<2x4x3xf32>
  return %loss : tensor<f32>
}
