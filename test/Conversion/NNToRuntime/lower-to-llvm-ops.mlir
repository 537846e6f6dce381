// RUN: %dpc-opt %s --dpc-plan-memory --dpc-lower-to-llvm=trace-ops=false | FileCheck %s

// One runtime call per op, with the arguments the C ABI expects
// (runtime/include/dpc/abi.h): kinds of the elementwise kernels, shapes and
// strides of broadcasts, element counts, and no call at all for a reshape.

// Strides arrays: [out shape, lhs strides, rhs strides] of the broadcasting
// ops, and [input shape, output strides] of sum_to; 0 along broadcast
// dimensions.
// CHECK-DAG: llvm.mlir.global internal constant @[[ADD_DIMS:.*]](dense<[8, 4, 4, 1, 4, 1]> : tensor<6xi64>)
// CHECK-DAG: llvm.mlir.global internal constant @[[MUL_DIMS:.*]](dense<[8, 4, 4, 1, 1, 0]> : tensor<6xi64>)
// CHECK-DAG: llvm.mlir.global internal constant @[[SUM_DIMS:.*]](dense<[8, 4, 1, 0]> : tensor<4xi64>)
// CHECK-DAG: llvm.mlir.global internal constant @[[SUB_DIMS:.*]](dense<[4, 8, 8, 1, 1, 0]> : tensor<6xi64>)

// CHECK-LABEL: llvm.func @dpc_model_train_step(
// CHECK-SAME: %[[CTX:[^:]*]]: !llvm.ptr, %[[SLOTS:[^:]*]]: !llvm.ptr)
// CHECK: %[[X:.*]] = llvm.load
// CHECK: %[[C:.*]] = llvm.load
// CHECK: %[[LABEL:.*]] = llvm.load
// CHECK: %[[LOSS_SLOT:.*]] = llvm.load
// CHECK: %[[ARENA:.*]] = llvm.load

// sub with alpha: DPCRT_BINARY_SUB = 1.
// CHECK-NEXT: %{{.*}} = llvm.mlir.constant(0 : i64) : i64
// CHECK-NEXT: %[[D:.*]] = llvm.getelementptr %[[ARENA]][%{{.*}}] : (!llvm.ptr, i64) -> !llvm.ptr, i8
// CHECK-NEXT: %[[SUB:.*]] = llvm.mlir.constant(1 : i32) : i32
// CHECK-NEXT: %[[RANK:.*]] = llvm.mlir.constant(2 : i32) : i32
// CHECK-NEXT: %[[DIMS:.*]] = llvm.mlir.addressof @[[SUB_DIMS]] : !llvm.ptr
// CHECK-NEXT: %[[ALPHA:.*]] = llvm.mlir.constant(5.000000e-01 : f32) : f32
// CHECK-NEXT: llvm.call @dpcrt_binary_f32(%[[CTX]], %[[SUB]], %[[D]], %[[X]], %[[C]], %[[RANK]], %[[DIMS]], %[[ALPHA]])

// tanh and sigmoid: DPCRT_UNARY_TANH = 1, DPCRT_UNARY_SIGMOID = 2, over 32
// elements.
// CHECK-NEXT: %{{.*}} = llvm.mlir.constant(128 : i64) : i64
// CHECK-NEXT: %[[TH:.*]] = llvm.getelementptr %[[ARENA]][%{{.*}}]
// CHECK-NEXT: %[[TANH:.*]] = llvm.mlir.constant(1 : i32) : i32
// CHECK-NEXT: %[[N32:.*]] = llvm.mlir.constant(32 : i64) : i64
// CHECK-NEXT: llvm.call @dpcrt_unary_f32(%[[CTX]], %[[TANH]], %[[TH]], %[[D]], %[[N32]])
// CHECK-NEXT: %{{.*}} = llvm.mlir.constant(0 : i64) : i64
// CHECK-NEXT: %[[SG:.*]] = llvm.getelementptr %[[ARENA]][%{{.*}}]
// CHECK-NEXT: %[[SIGMOID:.*]] = llvm.mlir.constant(2 : i32) : i32
// CHECK-NEXT: %[[N32:.*]] = llvm.mlir.constant(32 : i64) : i64
// CHECK-NEXT: llvm.call @dpcrt_unary_f32(%[[CTX]], %[[SIGMOID]], %[[SG]], %[[TH]], %[[N32]])

// CHECK-NEXT: %{{.*}} = llvm.mlir.constant(128 : i64) : i64
// CHECK-NEXT: %[[SC:.*]] = llvm.getelementptr %[[ARENA]][%{{.*}}]
// CHECK-NEXT: %[[N32:.*]] = llvm.mlir.constant(32 : i64) : i64
// CHECK-NEXT: %[[FACTOR:.*]] = llvm.mlir.constant(-2.000000e+00 : f32) : f32
// CHECK-NEXT: llvm.call @dpcrt_scale_f32(%[[CTX]], %[[SC]], %[[SG]], %[[N32]], %[[FACTOR]])

// transpose of a [4, 8] matrix.
// CHECK-NEXT: %{{.*}} = llvm.mlir.constant(0 : i64) : i64
// CHECK-NEXT: %[[TR:.*]] = llvm.getelementptr %[[ARENA]][%{{.*}}]
// CHECK-NEXT: %[[ROWS:.*]] = llvm.mlir.constant(4 : i64) : i64
// CHECK-NEXT: %[[COLS:.*]] = llvm.mlir.constant(8 : i64) : i64
// CHECK-NEXT: llvm.call @dpcrt_transpose2d_f32(%[[CTX]], %[[TR]], %[[SC]], %[[ROWS]], %[[COLS]])

// The reshapes are views of the transpose's result: the synchronous
// all-reduce copies from it (128 bytes) and averages the copy in place,
// with no bucket (-1).
// CHECK-NEXT: %{{.*}} = llvm.mlir.constant(128 : i64) : i64
// CHECK-NEXT: %[[AR:.*]] = llvm.getelementptr %[[ARENA]][%{{.*}}]
// CHECK-NEXT: %[[BYTES:.*]] = llvm.mlir.constant(128 : i64) : i64
// CHECK-NEXT: llvm.call @dpcrt_copy(%[[CTX]], %[[AR]], %[[TR]], %[[BYTES]])
// CHECK-NEXT: %[[NO_BUCKET:.*]] = llvm.mlir.constant(-1 : i32) : i32
// CHECK-NEXT: %[[N32:.*]] = llvm.mlir.constant(32 : i64) : i64
// CHECK-NEXT: %[[H:.*]] = llvm.call @dpcrt_allreduce_start(%[[CTX]], %[[NO_BUCKET]], %[[AR]], %[[N32]])
// CHECK-NEXT: llvm.call @dpcrt_allreduce_wait(%[[CTX]], %[[H]])

// sum_to [8, 4] -> [8, 1]: 8 output elements.
// CHECK-NEXT: %{{.*}} = llvm.mlir.constant(256 : i64) : i64
// CHECK-NEXT: %[[ST:.*]] = llvm.getelementptr %[[ARENA]][%{{.*}}]
// CHECK-NEXT: %[[RANK:.*]] = llvm.mlir.constant(2 : i32) : i32
// CHECK-NEXT: %[[DIMS:.*]] = llvm.mlir.addressof @[[SUM_DIMS]]
// CHECK-NEXT: %[[N8:.*]] = llvm.mlir.constant(8 : i64) : i64
// CHECK-NEXT: llvm.call @dpcrt_reduce_sum_f32(%[[CTX]], %[[ST]], %[[AR]], %[[RANK]], %[[DIMS]], %[[N8]])

// mul: DPCRT_BINARY_MUL = 2, alpha unused (1).
// CHECK-NEXT: %{{.*}} = llvm.mlir.constant(0 : i64) : i64
// CHECK-NEXT: %[[P:.*]] = llvm.getelementptr %[[ARENA]][%{{.*}}]
// CHECK-NEXT: %[[MUL:.*]] = llvm.mlir.constant(2 : i32) : i32
// CHECK-NEXT: %[[RANK:.*]] = llvm.mlir.constant(2 : i32) : i32
// CHECK-NEXT: %[[DIMS:.*]] = llvm.mlir.addressof @[[MUL_DIMS]]
// CHECK-NEXT: %[[ONE:.*]] = llvm.mlir.constant(1.000000e+00 : f32) : f32
// CHECK-NEXT: llvm.call @dpcrt_binary_f32(%[[CTX]], %[[MUL]], %[[P]], %[[AR]], %[[ST]], %[[RANK]], %[[DIMS]], %[[ONE]])

// CHECK-NEXT: %{{.*}} = llvm.mlir.constant(384 : i64) : i64
// CHECK-NEXT: %[[LOSS:.*]] = llvm.getelementptr %[[ARENA]][%{{.*}}]
// CHECK-NEXT: %[[N32:.*]] = llvm.mlir.constant(32 : i64) : i64
// CHECK-NEXT: llvm.call @dpcrt_mse_loss_f32(%[[CTX]], %[[LOSS]], %[[P]], %[[LABEL]], %[[N32]])
// CHECK-NEXT: %{{.*}} = llvm.mlir.constant(256 : i64) : i64
// CHECK-NEXT: %[[SEED:.*]] = llvm.getelementptr %[[ARENA]][%{{.*}}]
// CHECK-NEXT: %[[N1:.*]] = llvm.mlir.constant(1 : i64) : i64
// CHECK-NEXT: %[[VALUE:.*]] = llvm.mlir.constant(1.000000e+00 : f32) : f32
// CHECK-NEXT: llvm.call @dpcrt_fill_f32(%[[CTX]], %[[SEED]], %[[N1]], %[[VALUE]])
// CHECK-NEXT: %{{.*}} = llvm.mlir.constant(128 : i64) : i64
// CHECK-NEXT: %[[DP:.*]] = llvm.getelementptr %[[ARENA]][%{{.*}}]
// CHECK-NEXT: %[[N32:.*]] = llvm.mlir.constant(32 : i64) : i64
// CHECK-NEXT: llvm.call @dpcrt_mse_loss_grad_f32(%[[CTX]], %[[DP]], %[[SEED]], %[[P]], %[[LABEL]], %[[N32]])

// tanh_grad and sigmoid_grad read the saved forward output.
// CHECK-NEXT: %{{.*}} = llvm.mlir.constant(256 : i64) : i64
// CHECK-NEXT: %[[G1:.*]] = llvm.getelementptr %[[ARENA]][%{{.*}}]
// CHECK-NEXT: %[[TANH:.*]] = llvm.mlir.constant(1 : i32) : i32
// CHECK-NEXT: %[[N32:.*]] = llvm.mlir.constant(32 : i64) : i64
// CHECK-NEXT: llvm.call @dpcrt_unary_grad_f32(%[[CTX]], %[[TANH]], %[[G1]], %[[DP]], %[[P]], %[[N32]])
// CHECK-NEXT: %{{.*}} = llvm.mlir.constant(128 : i64) : i64
// CHECK-NEXT: %[[G2:.*]] = llvm.getelementptr %[[ARENA]][%{{.*}}]
// CHECK-NEXT: %[[SIGMOID:.*]] = llvm.mlir.constant(2 : i32) : i32
// CHECK-NEXT: %[[N32:.*]] = llvm.mlir.constant(32 : i64) : i64
// CHECK-NEXT: llvm.call @dpcrt_unary_grad_f32(%[[CTX]], %[[SIGMOID]], %[[G2]], %[[G1]], %[[P]], %[[N32]])

// copy is a memcpy of 128 bytes; add is DPCRT_BINARY_ADD = 0.
// CHECK-NEXT: %{{.*}} = llvm.mlir.constant(0 : i64) : i64
// CHECK-NEXT: %[[CP:.*]] = llvm.getelementptr %[[ARENA]][%{{.*}}]
// CHECK-NEXT: %[[BYTES:.*]] = llvm.mlir.constant(128 : i64) : i64
// CHECK-NEXT: llvm.call @dpcrt_copy(%[[CTX]], %[[CP]], %[[G2]], %[[BYTES]])
// CHECK-NEXT: %{{.*}} = llvm.mlir.constant(256 : i64) : i64
// CHECK-NEXT: %[[SUM:.*]] = llvm.getelementptr %[[ARENA]][%{{.*}}]
// CHECK-NEXT: %[[ADD:.*]] = llvm.mlir.constant(0 : i32) : i32
// CHECK-NEXT: %[[RANK:.*]] = llvm.mlir.constant(2 : i32) : i32
// CHECK-NEXT: %[[DIMS:.*]] = llvm.mlir.addressof @[[ADD_DIMS]]
// CHECK-NEXT: %[[ONE:.*]] = llvm.mlir.constant(1.000000e+00 : f32) : f32
// CHECK-NEXT: llvm.call @dpcrt_binary_f32(%[[CTX]], %[[ADD]], %[[SUM]], %[[CP]], %[[G2]], %[[RANK]], %[[DIMS]], %[[ONE]])
// CHECK-NEXT: %[[FOUR:.*]] = llvm.mlir.constant(4 : i64) : i64
// CHECK-NEXT: llvm.call @dpcrt_copy(%[[CTX]], %[[LOSS_SLOT]], %[[LOSS]], %[[FOUR]])
// CHECK-NEXT: llvm.return

func.func @train_step(%x: tensor<4x8xf32> {dpc.kind = "input", dpc.name = "x"},
                      %c: tensor<4x1xf32> {dpc.kind = "input", dpc.name = "c"},
                      %t: tensor<8x4xf32> {dpc.kind = "label", dpc.name = "label"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"}) {
  %0 = nn.sub %x, %c {alpha = 0.5 : f32} : (tensor<4x8xf32>, tensor<4x1xf32>) -> tensor<4x8xf32>
  %1 = nn.tanh %0 : tensor<4x8xf32>
  %2 = nn.sigmoid %1 : tensor<4x8xf32>
  %3 = nn.scale %2, -2.0 : tensor<4x8xf32>
  %4 = nn.transpose %3 : tensor<4x8xf32> -> tensor<8x4xf32>
  %5 = nn.reshape %4 : tensor<8x4xf32> to tensor<32xf32>
  %6 = nn.reshape %5 : tensor<32xf32> to tensor<8x4xf32>
  %7 = dp.all_reduce %6 : tensor<8x4xf32>
  %8 = nn.sum_to %7 : tensor<8x4xf32> to tensor<8x1xf32>
  %9 = nn.mul %7, %8 : (tensor<8x4xf32>, tensor<8x1xf32>) -> tensor<8x4xf32>
  %10 = nn.mse_loss %9, %t : tensor<8x4xf32>
  %11 = nn.fill 1.0 : tensor<f32>
  %12 = nn.mse_loss_grad %11, %9, %t : (tensor<f32>, tensor<8x4xf32>, tensor<8x4xf32>) -> tensor<8x4xf32>
  %13 = nn.tanh_grad %12, %9 : tensor<8x4xf32>
  %14 = nn.sigmoid_grad %13, %9 : tensor<8x4xf32>
  %15 = nn.copy %14 : tensor<8x4xf32>
  %16 = nn.add %15, %14 : (tensor<8x4xf32>, tensor<8x4xf32>) -> tensor<8x4xf32>
  return %10 : tensor<f32>
}
