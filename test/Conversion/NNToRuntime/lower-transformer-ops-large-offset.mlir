// Regression test: the strided copies of nn.slice / nn.split / nn.concat
// address their pieces with i64 offsets. A constant LLVM::GEPArg index is an
// int32_t: a slice starting 2.4 GB into its input (element 600000000 of
// floats) would have been addressed at 2400000000 - 2^32 (negative).
// RUN: %dpc-opt %s --dpc-plan-memory --dpc-lower-to-llvm=trace-ops=false | FileCheck %s

// CHECK-LABEL: llvm.func @dpc_model_train_step
// CHECK: %[[OFF:.*]] = llvm.mlir.constant(2400000000 : i64) : i64
// CHECK-NEXT: %[[FROM:.*]] = llvm.getelementptr %{{.*}}[%[[OFF]]] : (!llvm.ptr, i64) -> !llvm.ptr, i8
// CHECK: llvm.call @dpcrt_strided_copy(%{{.*}}, %{{.*}}, %[[FROM]],
func.func @train_step(%x: tensor<600000004xf32> {dpc.kind = "input", dpc.name = "x"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"}) {
  %s = nn.slice %x {dim = 0 : i64, start = 600000000 : i64, end = 600000004 : i64, step = 1 : i64} : tensor<600000004xf32> -> tensor<4xf32>
  %loss = nn.mse_loss %s, %s : tensor<4xf32>
  return %loss : tensor<f32>
}
