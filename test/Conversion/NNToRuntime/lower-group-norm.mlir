// RUN: %dpc-opt %s --dpc-autodiff --dpc-sgd --dpc-plan-memory \
// RUN:     --dpc-lower-to-llvm=trace-ops=false | FileCheck %s

// nn.group_norm and its gradient lower to dpcrt_group_norm_f32 and
// dpcrt_group_norm_grad_f32 with the input viewed as [N, C, inner] = [2, 4,
// 9] and the number of groups (2).

// CHECK-LABEL: llvm.func @dpc_model_train_step(
// CHECK-SAME: %[[CTX:[^:]*]]: !llvm.ptr,
// CHECK: %[[N:.*]] = llvm.mlir.constant(2 : i64) : i64
// CHECK-NEXT: %[[C:.*]] = llvm.mlir.constant(4 : i64) : i64
// CHECK-NEXT: %[[INNER:.*]] = llvm.mlir.constant(9 : i64) : i64
// CHECK-NEXT: %[[G:.*]] = llvm.mlir.constant(2 : i64) : i64
// CHECK-NEXT: %[[EPS:.*]] = llvm.mlir.constant(9.99999974E-6 : f32) : f32
// CHECK-NEXT: llvm.call @dpcrt_group_norm_f32(%[[CTX]], %{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}}, %[[N]], %[[C]], %[[INNER]], %[[G]], %[[EPS]])
// CHECK: llvm.call @dpcrt_group_norm_grad_f32(%[[CTX]], %{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}}, %{{[^)]*}})
func.func @train_step(
    %x: tensor<2x4x3x3xf32> {dpc.kind = "input", dpc.name = "x"},
    %w: tensor<4xf32> {dpc.kind = "parameter", dpc.name = "gn.weight"},
    %b: tensor<4xf32> {dpc.kind = "parameter", dpc.name = "gn.bias"},
    %y: tensor<2x4x3x3xf32> {dpc.kind = "label", dpc.name = "y"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"}) {
  %n = nn.group_norm %x, %w, %b {num_groups = 2 : i64, eps = 1.0e-05 : f32} : (tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<2x4x3x3xf32>
  %loss = nn.mse_loss %n, %y : tensor<2x4x3x3xf32>
  return %loss : tensor<f32>
}
