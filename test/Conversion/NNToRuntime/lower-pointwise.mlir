// RUN: %dpc-opt %s --dpc-autodiff --dpc-sgd --dpc-plan-memory \
// RUN:     --dpc-lower-to-llvm=trace-ops=false | FileCheck %s

// The unary family's lowering: an op without parameters is a
// dpcrt_unary_f32 call with its record's kind (DPCRT_UNARY_SQRT = 7), one
// with parameters a dpcrt_unary_params_f32 call with them as p0..p2
// (DPCRT_UNARY_LEAKY_RELU = 19, slope 0.1, then zeros); nn.unary_grad calls
// the gradient kernel of the kind its forward op names, with the saved value
// its formula reads: sqrt's result, leaky_relu's input.

// CHECK-LABEL: llvm.func @dpc_model_train_step(
// CHECK-SAME: %[[CTX:[^:]*]]: !llvm.ptr,
// CHECK: %[[LEAKY:.*]] = llvm.mlir.constant(19 : i32) : i32
// CHECK-NEXT: %[[N:.*]] = llvm.mlir.constant(12 : i64) : i64
// CHECK-NEXT: %[[SLOPE:.*]] = llvm.mlir.constant(1.000000e-01 : f64) : f64
// CHECK-NEXT: %[[P1:.*]] = llvm.mlir.constant(0.000000e+00 : f64) : f64
// CHECK-NEXT: %[[P2:.*]] = llvm.mlir.constant(0.000000e+00 : f64) : f64
// CHECK-NEXT: llvm.call @dpcrt_unary_params_f32(%[[CTX]], %[[LEAKY]], %[[L:[^,]*]], %[[H:[^,]*]], %[[N]], %[[SLOPE]], %[[P1]], %[[P2]])
// CHECK: %[[SQRT:.*]] = llvm.mlir.constant(7 : i32) : i32
// CHECK-NEXT: %[[N2:.*]] = llvm.mlir.constant(12 : i64) : i64
// CHECK-NEXT: llvm.call @dpcrt_unary_f32(%[[CTX]], %[[SQRT]], %[[S:[^,]*]], %[[L]], %[[N2]])
// CHECK: %[[SQRT2:.*]] = llvm.mlir.constant(7 : i32) : i32
// CHECK: llvm.call @dpcrt_unary_grad_f32(%[[CTX]], %[[SQRT2]], %{{[^,]*}}, %{{[^,]*}}, %[[S]],
// CHECK: %[[LEAKY2:.*]] = llvm.mlir.constant(19 : i32) : i32
// CHECK: llvm.call @dpcrt_unary_params_grad_f32(%[[CTX]], %[[LEAKY2]], %{{[^,]*}}, %{{[^,]*}}, %[[H]],
func.func @train_step(
    %x: tensor<4x8xf32> {dpc.kind = "input", dpc.name = "x"},
    %w: tensor<3x8xf32> {dpc.kind = "parameter", dpc.name = "fc.weight"},
    %y: tensor<4x3xf32> {dpc.kind = "label", dpc.name = "y"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"}) {
  %h = nn.linear %x, %w : (tensor<4x8xf32>, tensor<3x8xf32>) -> tensor<4x3xf32>
  %l = nn.leaky_relu %h {negative_slope = 0.1 : f64} : tensor<4x3xf32>
  %s = nn.sqrt %l : tensor<4x3xf32>
  %loss = nn.mse_loss %s, %y : tensor<4x3xf32>
  return %loss : tensor<f32>
}
