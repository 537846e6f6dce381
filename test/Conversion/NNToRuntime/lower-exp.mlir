// RUN: %dpc-opt %s --dpc-autodiff --dpc-sgd --dpc-plan-memory \
// RUN:     --dpc-lower-to-llvm=trace-ops=false | FileCheck %s

// nn.exp is lowered by the elementwise unary family's one pattern: a
// dpcrt_unary_f32 call with the kind its record names (DPCRT_UNARY_EXP = 4,
// runtime/include/dpc/unary_kinds.def) over the 12 elements of the [4, 3]
// pre-activation; its VJP (dy * exp(x)) is the ordinary broadcasting
// multiply, DPCRT_BINARY_MUL = 2.

// CHECK-LABEL: llvm.func @dpc_model_train_step(
// CHECK-SAME: %[[CTX:[^:]*]]: !llvm.ptr,
// CHECK: llvm.call @dpcrt_gemm_f32(%[[CTX]], %[[H:[^,]*]],
// CHECK: %[[E:.*]] = llvm.getelementptr
// CHECK-NEXT: %[[EXP:.*]] = llvm.mlir.constant(4 : i32) : i32
// CHECK-NEXT: %[[N:.*]] = llvm.mlir.constant(12 : i64) : i64
// CHECK-NEXT: llvm.call @dpcrt_unary_f32(%[[CTX]], %[[EXP]], %[[E]], %[[H]], %[[N]])
// CHECK: llvm.call @dpcrt_mse_loss_grad_f32(%[[CTX]], %[[DE:[^,]*]],
// CHECK: %[[MUL:.*]] = llvm.mlir.constant(2 : i32) : i32
// CHECK: llvm.call @dpcrt_binary_f32(%[[CTX]], %[[MUL]], %{{[^,]*}}, %[[DE]], %[[E]],
func.func @train_step(
    %x: tensor<4x8xf32> {dpc.kind = "input", dpc.name = "x"},
    %w: tensor<3x8xf32> {dpc.kind = "parameter", dpc.name = "fc.weight"},
    %y: tensor<4x3xf32> {dpc.kind = "label", dpc.name = "y"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"}) {
  %h = nn.linear %x, %w : (tensor<4x8xf32>, tensor<3x8xf32>) -> tensor<4x3xf32>
  %e = nn.exp %h : tensor<4x3xf32>
  %loss = nn.mse_loss %e, %y : tensor<4x3xf32>
  return %loss : tensor<f32>
}
