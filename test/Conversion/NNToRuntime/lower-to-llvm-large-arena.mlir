// Regression test: dpc-lower-to-llvm must not truncate arena offsets of
// 2 GiB and more. A constant LLVM::GEPArg index is an int32_t, so offsets are
// passed as i64 values. Below, dpc-plan-memory places the tanh's 2.4 GB
// result at offset 2400000000; the lowering must address exactly that, not
// arena + 252516352 (inside the relu's result).
// RUN: %dpc-opt %s --dpc-plan-memory | FileCheck %s --check-prefix=PLAN
// RUN: %dpc-opt %s --dpc-plan-memory --dpc-lower-to-llvm | FileCheck %s

// PLAN: arena_bytes = 4800000000
// PLAN: nn.relu %{{.*}} {dpc.offset = array<i64: 0>}
// PLAN: nn.tanh %{{.*}} {dpc.offset = array<i64: 2400000000>}

// CHECK-LABEL: llvm.func @dpc_model_train_step
// CHECK: llvm.call @dpcrt_unary_f32
// CHECK-NOT: 252516352
// CHECK: 2400000000
// CHECK-NOT: 252516352
// CHECK: llvm.call @dpcrt_unary_f32
func.func @train_step(%x: tensor<600000000xf32> {dpc.kind = "input", dpc.name = "x"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"}) {
  %a = nn.relu %x : tensor<600000000xf32>
  %b = nn.tanh %a : tensor<600000000xf32>
  %loss = nn.mse_loss %b, %x : tensor<600000000xf32>
  return %loss : tensor<f32>
}
