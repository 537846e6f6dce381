// RUN: %dpc-opt %s --dpc-build-train-step --dpc-autodiff --canonicalize --dpc-ddp \
// RUN:   --dpc-sgd="lr=0.1 momentum=0.9" \
// RUN:   --dpc-ddp-buckets="bucket-cap-mb=0.0005 first-bucket-mb=0.0001" \
// RUN:   --dpc-plan-memory --dpc-lower-to-llvm | FileCheck %s

// The whole pipeline (as dpc runs it) on a two-layer MLP, down to the LLVM
// dialect: @train_step becomes dpc_model_train_step(ctx, slots), every
// tensor a pointer (argument i in slot i, then the loss and the arena slots)
// and every op a call of the runtime's C ABI (runtime/include/dpc/abi.h).
//
// Buckets: caps of 104 bytes first, then 524. Gradients are produced as
// fc2.weight (640 bytes), fc2.bias (40), fc1.weight (512), fc1.bias (64), so
// the buckets are {fc2.weight} (160 elements), {fc2.bias, fc1.weight}
// (10 + 128 elements) and {fc1.bias} (16 elements).

// CHECK-NOT: func.func
// CHECK-LABEL: llvm.func @dpc_model_train_step(
// CHECK-SAME: %[[CTX:[^:]*]]: !llvm.ptr, %[[SLOTS:[^:]*]]: !llvm.ptr) {
// CHECK-NEXT: %[[S0:.*]] = llvm.getelementptr %[[SLOTS]][0] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr
// CHECK-NEXT: %[[X:.*]] = llvm.load %[[S0]] : !llvm.ptr -> !llvm.ptr
// CHECK-NEXT: %[[S1:.*]] = llvm.getelementptr %[[SLOTS]][1]
// CHECK-NEXT: %[[W1:.*]] = llvm.load %[[S1]]
// CHECK-NEXT: %[[S2:.*]] = llvm.getelementptr %[[SLOTS]][2]
// CHECK-NEXT: %[[B1:.*]] = llvm.load %[[S2]]
// CHECK-NEXT: %[[S3:.*]] = llvm.getelementptr %[[SLOTS]][3]
// CHECK-NEXT: %[[W2:.*]] = llvm.load %[[S3]]
// CHECK-NEXT: %[[S4:.*]] = llvm.getelementptr %[[SLOTS]][4]
// CHECK-NEXT: %[[B2:.*]] = llvm.load %[[S4]]
// CHECK-NEXT: %[[S5:.*]] = llvm.getelementptr %[[SLOTS]][5]
// CHECK-NEXT: %[[LABEL:.*]] = llvm.load %[[S5]]
// CHECK-NEXT: %[[S6:.*]] = llvm.getelementptr %[[SLOTS]][6]
// CHECK-NEXT: %[[W1_BUF:.*]] = llvm.load %[[S6]]
// CHECK-NEXT: %[[S7:.*]] = llvm.getelementptr %[[SLOTS]][7]
// CHECK-NEXT: %[[B1_BUF:.*]] = llvm.load %[[S7]]
// CHECK-NEXT: %[[S8:.*]] = llvm.getelementptr %[[SLOTS]][8]
// CHECK-NEXT: %[[W2_BUF:.*]] = llvm.load %[[S8]]
// CHECK-NEXT: %[[S9:.*]] = llvm.getelementptr %[[SLOTS]][9]
// CHECK-NEXT: %[[B2_BUF:.*]] = llvm.load %[[S9]]
// CHECK-NEXT: %[[S10:.*]] = llvm.getelementptr %[[SLOTS]][10]
// CHECK-NEXT: %[[LOSS_SLOT:.*]] = llvm.load %[[S10]]
// CHECK-NEXT: %[[S11:.*]] = llvm.getelementptr %[[SLOTS]][11]
// CHECK-NEXT: %[[ARENA:.*]] = llvm.load %[[S11]]

// Each op starts by announcing its index to the runtime (for --trace).
// h = x W1^T + b1, like addmm: the bias rows first, then the GEMM with beta 1.
// Arena offsets are i64 values (a constant GEP index would be 32-bit).
// CHECK-NEXT: %[[OP0:.*]] = llvm.mlir.constant(0 : i32) : i32
// CHECK-NEXT: llvm.call @dpcrt_trace_op(%[[CTX]], %[[OP0]]) : (!llvm.ptr, i32) -> ()
// CHECK-NEXT: %[[H_OFFSET:.*]] = llvm.mlir.constant({{[0-9]+}} : i64) : i64
// CHECK-NEXT: %[[H:.*]] = llvm.getelementptr %[[ARENA]][%[[H_OFFSET]]] : (!llvm.ptr, i64) -> !llvm.ptr, i8
// CHECK-NEXT: %[[ROWS:.*]] = llvm.mlir.constant(4 : i64) : i64
// CHECK-NEXT: %[[COLS:.*]] = llvm.mlir.constant(16 : i64) : i64
// CHECK-NEXT: llvm.call @dpcrt_broadcast_rows_f32(%[[CTX]], %[[H]], %[[B1]], %[[ROWS]], %[[COLS]])
// CHECK-NEXT: %[[M:.*]] = llvm.mlir.constant(4 : i64) : i64
// CHECK-NEXT: %[[N:.*]] = llvm.mlir.constant(16 : i64) : i64
// CHECK-NEXT: %[[K:.*]] = llvm.mlir.constant(8 : i64) : i64
// CHECK-NEXT: %[[TA:.*]] = llvm.mlir.constant(0 : i32) : i32
// CHECK-NEXT: %[[TB:.*]] = llvm.mlir.constant(1 : i32) : i32
// CHECK-NEXT: %[[BETA:.*]] = llvm.mlir.constant(1.000000e+00 : f32) : f32
// CHECK-NEXT: llvm.call @dpcrt_gemm_f32(%[[CTX]], %[[H]], %[[X]], %[[W1]], %[[M]], %[[N]], %[[K]], %[[TA]], %[[TB]], %[[BETA]]) : (!llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, i64, i64, i64, i32, i32, f32) -> ()
// CHECK: llvm.call @dpcrt_unary_f32(%[[CTX]], %{{[^,]*}}, %[[A:[^,]*]], %[[H]],
// CHECK: llvm.call @dpcrt_broadcast_rows_f32(%[[CTX]], %[[Y:[^,]*]], %[[B2]],
// CHECK: llvm.call @dpcrt_gemm_f32(%[[CTX]], %[[Y]], %[[A]], %[[W2]],
// CHECK: llvm.call @dpcrt_cross_entropy_f32(%[[CTX]], %[[LOSS:[^,]*]], %[[Y]], %[[LABEL]],
// CHECK: llvm.call @dpcrt_fill_f32(%[[CTX]], %[[SEED:[^,]*]],
// CHECK: llvm.call @dpcrt_cross_entropy_grad_f32(%[[CTX]], %[[DY:[^,]*]], %[[SEED]], %[[Y]], %[[LABEL]],

// dA = dY W2, then dW2 = dY^T A computed straight into bucket 0, which
// starts at once.
// CHECK: llvm.call @dpcrt_gemm_f32(%[[CTX]], %[[DA:[^,]*]], %[[DY]], %[[W2]],
// CHECK: llvm.call @dpcrt_gemm_f32(%[[CTX]], %[[DW2:[^,]*]], %[[DY]], %[[A]],
// CHECK-NEXT: %{{.*}} = llvm.mlir.constant({{-?[0-9]+}} : i32) : i32
// CHECK-NEXT: llvm.call @dpcrt_trace_op(%[[CTX]], %{{.*}}) : (!llvm.ptr, i32) -> ()
// CHECK-NEXT: %[[BUCKET0:.*]] = llvm.mlir.constant(0 : i32) : i32
// CHECK-NEXT: %[[N0:.*]] = llvm.mlir.constant(160 : i64) : i64
// CHECK-NEXT: %[[T0:.*]] = llvm.call @dpcrt_allreduce_start(%[[CTX]], %[[BUCKET0]], %[[DW2]], %[[N0]]) : (!llvm.ptr, i32, !llvm.ptr, i64) -> i64

// Bucket 1 is one buffer: fc1.weight's gradient lies right after the 40
// bytes of fc2.bias's.
// CHECK-NEXT: %{{.*}} = llvm.mlir.constant({{-?[0-9]+}} : i32) : i32
// CHECK-NEXT: llvm.call @dpcrt_trace_op(%[[CTX]], %{{.*}}) : (!llvm.ptr, i32) -> ()
// CHECK-NEXT: %[[DB2_OFF:.*]] = llvm.mlir.constant([[#DB2_OFFSET:]] : i64) : i64
// CHECK-NEXT: %[[DB2:.*]] = llvm.getelementptr %[[ARENA]][%[[DB2_OFF]]]
// CHECK: llvm.call @dpcrt_reduce_sum_f32(%[[CTX]], %[[DB2]], %[[DY]],
// CHECK: llvm.call @dpcrt_unary_grad_f32(%[[CTX]], %{{[^,]*}}, %[[DH:[^,]*]], %[[DA]], %[[H]],
// CHECK-NEXT: %{{.*}} = llvm.mlir.constant({{-?[0-9]+}} : i32) : i32
// CHECK-NEXT: llvm.call @dpcrt_trace_op(%[[CTX]], %{{.*}}) : (!llvm.ptr, i32) -> ()
// CHECK-NEXT: %[[DW1_OFFSET:.*]] = llvm.mlir.constant([[#DB2_OFFSET+40]] : i64) : i64
// CHECK-NEXT: %[[DW1:.*]] = llvm.getelementptr %[[ARENA]][%[[DW1_OFFSET]]]
// CHECK: llvm.call @dpcrt_gemm_f32(%[[CTX]], %[[DW1]], %[[DH]], %[[X]],
// CHECK-NEXT: %{{.*}} = llvm.mlir.constant({{-?[0-9]+}} : i32) : i32
// CHECK-NEXT: llvm.call @dpcrt_trace_op(%[[CTX]], %{{.*}}) : (!llvm.ptr, i32) -> ()
// CHECK-NEXT: %[[BUCKET1:.*]] = llvm.mlir.constant(1 : i32) : i32
// CHECK-NEXT: %[[N1:.*]] = llvm.mlir.constant(138 : i64) : i64
// CHECK-NEXT: %[[T1:.*]] = llvm.call @dpcrt_allreduce_start(%[[CTX]], %[[BUCKET1]], %[[DB2]], %[[N1]])

// CHECK: llvm.call @dpcrt_reduce_sum_f32(%[[CTX]], %[[DB1:[^,]*]], %[[DH]],
// CHECK-NEXT: %{{.*}} = llvm.mlir.constant({{-?[0-9]+}} : i32) : i32
// CHECK-NEXT: llvm.call @dpcrt_trace_op(%[[CTX]], %{{.*}}) : (!llvm.ptr, i32) -> ()
// CHECK-NEXT: %[[BUCKET2:.*]] = llvm.mlir.constant(2 : i32) : i32
// CHECK-NEXT: %[[N2:.*]] = llvm.mlir.constant(16 : i64) : i64
// CHECK-NEXT: %[[T2:.*]] = llvm.call @dpcrt_allreduce_start(%[[CTX]], %[[BUCKET2]], %[[DB1]], %[[N2]])

// The updates, in place in the parameter and buffer slots, each after the
// wait of its bucket.
// CHECK-NEXT: %{{.*}} = llvm.mlir.constant({{-?[0-9]+}} : i32) : i32
// CHECK-NEXT: llvm.call @dpcrt_trace_op(%[[CTX]], %{{.*}}) : (!llvm.ptr, i32) -> ()
// CHECK-NEXT: llvm.call @dpcrt_allreduce_wait(%[[CTX]], %[[T0]]) : (!llvm.ptr, i64) -> ()
// CHECK-NEXT: %{{.*}} = llvm.mlir.constant({{-?[0-9]+}} : i32) : i32
// CHECK-NEXT: llvm.call @dpcrt_trace_op(%[[CTX]], %{{.*}}) : (!llvm.ptr, i32) -> ()
// CHECK-NEXT: %[[NUM:.*]] = llvm.mlir.constant(160 : i64) : i64
// CHECK-NEXT: %[[LR:.*]] = llvm.mlir.constant(1.000000e-01 : f32) : f32
// CHECK-NEXT: %[[MOMENTUM:.*]] = llvm.mlir.constant(0.899999976 : f32) : f32
// CHECK-NEXT: %[[DAMPENING:.*]] = llvm.mlir.constant(0.000000e+00 : f32) : f32
// CHECK-NEXT: %[[DECAY:.*]] = llvm.mlir.constant(0.000000e+00 : f32) : f32
// CHECK-NEXT: %[[NESTEROV:.*]] = llvm.mlir.constant(0 : i32) : i32
// CHECK-NEXT: llvm.call @dpcrt_sgd_update_f32(%[[CTX]], %[[W2]], %[[W2_BUF]], %[[DW2]], %[[NUM]], %[[LR]], %[[MOMENTUM]], %[[DAMPENING]], %[[DECAY]], %[[NESTEROV]])
// CHECK-NEXT: %{{.*}} = llvm.mlir.constant({{-?[0-9]+}} : i32) : i32
// CHECK-NEXT: llvm.call @dpcrt_trace_op(%[[CTX]], %{{.*}}) : (!llvm.ptr, i32) -> ()
// CHECK-NEXT: llvm.call @dpcrt_allreduce_wait(%[[CTX]], %[[T1]])
// CHECK: llvm.call @dpcrt_sgd_update_f32(%[[CTX]], %[[B2]], %[[B2_BUF]], %[[DB2]],
// CHECK: llvm.call @dpcrt_sgd_update_f32(%[[CTX]], %[[W1]], %[[W1_BUF]], %[[DW1]],
// CHECK-NEXT: %{{.*}} = llvm.mlir.constant({{-?[0-9]+}} : i32) : i32
// CHECK-NEXT: llvm.call @dpcrt_trace_op(%[[CTX]], %{{.*}}) : (!llvm.ptr, i32) -> ()
// CHECK-NEXT: llvm.call @dpcrt_allreduce_wait(%[[CTX]], %[[T2]])
// CHECK: llvm.call @dpcrt_sgd_update_f32(%[[CTX]], %[[B1]], %[[B1_BUF]], %[[DB1]],

// The loss, 4 bytes, goes to its slot (after the end of the last op, -1).
// CHECK-NEXT: %[[END:.*]] = llvm.mlir.constant(-1 : i32) : i32
// CHECK-NEXT: llvm.call @dpcrt_trace_op(%[[CTX]], %[[END]])
// CHECK-NEXT: %[[FOUR:.*]] = llvm.mlir.constant(4 : i64) : i64
// CHECK-NEXT: llvm.call @dpcrt_copy(%[[CTX]], %[[LOSS_SLOT]], %[[LOSS]], %[[FOUR]])
// CHECK-NEXT: llvm.return

// The kernels are declared with the ABI's signatures.
// CHECK-DAG: llvm.func @dpcrt_gemm_f32(!llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, i64, i64, i64, i32, i32, f32)
// CHECK-DAG: llvm.func @dpcrt_allreduce_start(!llvm.ptr, i32, !llvm.ptr, i64) -> i64
// CHECK-DAG: llvm.func @dpcrt_allreduce_wait(!llvm.ptr, i64)
// CHECK-DAG: llvm.func @dpcrt_sgd_update_f32(!llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, i64, f32, f32, f32, f32, i32)
// CHECK-DAG: llvm.func @dpcrt_copy(!llvm.ptr, !llvm.ptr, !llvm.ptr, i64)

func.func @forward(%x: tensor<4x8xf32> {dpc.kind = "input", dpc.name = "x"},
                   %w1: tensor<16x8xf32> {dpc.kind = "parameter", dpc.name = "fc1.weight"},
                   %b1: tensor<16xf32> {dpc.kind = "parameter", dpc.name = "fc1.bias"},
                   %w2: tensor<10x16xf32> {dpc.kind = "parameter", dpc.name = "fc2.weight"},
                   %b2: tensor<10xf32> {dpc.kind = "parameter", dpc.name = "fc2.bias"}) -> tensor<4x10xf32> {
  %0 = nn.linear %x, %w1, %b1 : (tensor<4x8xf32>, tensor<16x8xf32>, tensor<16xf32>) -> tensor<4x16xf32>
  %1 = nn.relu %0 : tensor<4x16xf32>
  %2 = nn.linear %1, %w2, %b2 : (tensor<4x16xf32>, tensor<10x16xf32>, tensor<10xf32>) -> tensor<4x10xf32>
  return %2 : tensor<4x10xf32>
}
