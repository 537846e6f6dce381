// RUN: %dpc-opt %s --dpc-autodiff --dpc-sgd --dpc-plan-memory \
// RUN:     --dpc-lower-to-llvm=trace-ops=false | FileCheck %s

// nn.batch_norm_inference and its backward op become
// dpcrt_batch_norm_inference_f32 and dpcrt_batch_norm_inference_grad_f32
// over [n = 4, c = 3, inner = 2 * 2] with eps as a double; the running
// statistics are only read (no buffer result to write).

// CHECK-LABEL: llvm.func @dpc_model_train_step(
// CHECK-SAME: %[[CTX:[^:]*]]: !llvm.ptr,
// CHECK-DAG: %[[N:.*]] = llvm.mlir.constant(4 : i64) : i64
// CHECK-DAG: %[[C:.*]] = llvm.mlir.constant(3 : i64) : i64
// CHECK-DAG: %[[EPS:.*]] = llvm.mlir.constant(1.000000e-05 : f64) : f64
// CHECK: llvm.call @dpcrt_batch_norm_inference_f32(%[[CTX]], %{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}}, %[[N]], %[[C]], %{{[^,]*}}, %[[EPS]])
// CHECK: llvm.call @dpcrt_batch_norm_inference_grad_f32(%[[CTX]],
func.func @train_step(
    %x: tensor<4x3x2x2xf32> {dpc.kind = "input", dpc.name = "x"},
    %w: tensor<3xf32> {dpc.kind = "parameter", dpc.name = "bn.weight"},
    %b: tensor<3xf32> {dpc.kind = "parameter", dpc.name = "bn.bias"},
    %rm: tensor<3xf32> {dpc.kind = "buffer", dpc.name = "bn.running_mean"},
    %rv: tensor<3xf32> {dpc.kind = "buffer", dpc.name = "bn.running_var"},
    %t: tensor<4x3x2x2xf32> {dpc.kind = "label", dpc.name = "y"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"}) {
  %y = nn.batch_norm_inference %x, %w, %b, %rm, %rv {eps = 1.0e-5}
      : (tensor<4x3x2x2xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<4x3x2x2xf32>
  %loss = nn.mse_loss %y, %t : tensor<4x3x2x2xf32>
  return %loss : tensor<f32>
}
