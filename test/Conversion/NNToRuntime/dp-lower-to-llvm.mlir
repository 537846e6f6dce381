// RUN: %dpc-opt %s --dpc-dp-phases --dpc-plan-memory --dpc-lower-to-llvm | FileCheck %s

// dpc-lower-to-llvm outlines each concurrent stage of a --mode dp step into
// one internal function per replica, (ctx, env), and runs them with one
// dpcrt_run_replicas(ctx, n, fns, env) call from the step function, which
// first stores every pointer they use into the environment array. Views
// (the scatter of an input or of the output gradient, the replicas'
// parameter copies) are pointer arithmetic and stay in the step function;
// device-0 ops (gather, loss, reduce-add, update) are called from it
// directly.

// CHECK-LABEL: llvm.func @dpc_model_train_step(
// CHECK-SAME: %[[CTX:[^:]*]]: !llvm.ptr, %{{[^:]*}}: !llvm.ptr)
// CHECK-NOT: @dpcrt_gemm_f32
// CHECK-NOT: @dpcrt_unary_f32
// CHECK: llvm.call @dpcrt_fill_f32(%[[CTX]]
// Replica 1's rows of x begin 4 rows x 6 floats = 96 bytes in.
// CHECK: %[[B96_X1:.*]] = llvm.mlir.constant(96 : i64) : i64
// CHECK-NEXT: %[[X1:.*]] = llvm.getelementptr %{{.*}}[%[[B96_X1]]] : (!llvm.ptr, i64) -> !llvm.ptr, i8
// CHECK: %[[ENV:.*]] = llvm.alloca %{{.*}} x !llvm.ptr
// CHECK: llvm.store %[[X1]], %{{.*}} : !llvm.ptr, !llvm.ptr
// CHECK: %[[FNS:.*]] = llvm.alloca %{{.*}} x !llvm.ptr
// CHECK: llvm.mlir.addressof @dpc_stage1_replica0
// CHECK: llvm.mlir.addressof @dpc_stage1_replica1
// CHECK: %[[TWO:.*]] = llvm.mlir.constant(2 : i32) : i32
// CHECK-NEXT: llvm.call @dpcrt_run_replicas(%[[CTX]], %[[TWO]], %[[FNS]], %[[ENV]])
// CHECK: llvm.call @dpcrt_copy(%[[CTX]]
// CHECK: llvm.call @dpcrt_copy(%[[CTX]]
// CHECK: llvm.call @dpcrt_cross_entropy_f32(%[[CTX]]
// CHECK: llvm.call @dpcrt_cross_entropy_grad_f32(%[[CTX]]
// CHECK: llvm.mlir.addressof @dpc_stage3_replica0
// CHECK: llvm.mlir.addressof @dpc_stage3_replica1
// CHECK: llvm.call @dpcrt_run_replicas(%[[CTX]]
// The reduce-add on device 0, then the update.
// CHECK: llvm.call @dpcrt_binary_f32(%[[CTX]]
// CHECK: llvm.call @dpcrt_sgd_update_f32(%[[CTX]]
// CHECK: llvm.return

// The forward of replica 0: pointers from the environment, then the calls.
// CHECK-LABEL: llvm.func internal @dpc_stage1_replica0(
// CHECK-SAME: %[[C:[^:]*]]: !llvm.ptr, %[[E:[^:]*]]: !llvm.ptr)
// CHECK: %[[SLOT:.*]] = llvm.getelementptr %[[E]][{{[0-9]+}}] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr
// CHECK-NEXT: llvm.load %[[SLOT]] : !llvm.ptr -> !llvm.ptr
// CHECK: llvm.call @dpcrt_gemm_f32(%[[C]]
// CHECK: llvm.call @dpcrt_unary_f32(%[[C]]
// CHECK-NEXT: llvm.return
// CHECK-LABEL: llvm.func internal @dpc_stage1_replica1(
// CHECK: llvm.call @dpcrt_gemm_f32
// CHECK: llvm.call @dpcrt_unary_f32
// The backward: relu_grad and the weight gradient per replica (replica 1
// first, in the order autodiff built them).
// CHECK-LABEL: llvm.func internal @dpc_stage3_replica1(
// CHECK: llvm.call @dpcrt_unary_grad_f32
// CHECK: llvm.call @dpcrt_gemm_f32
// CHECK-LABEL: llvm.func internal @dpc_stage3_replica0(
// CHECK: llvm.call @dpcrt_unary_grad_f32
// CHECK: llvm.call @dpcrt_gemm_f32
func.func @train_step(%x: tensor<8x6xf32> {dpc.kind = "input", dpc.name = "x"},
                      %w: tensor<3x6xf32> {dpc.kind = "parameter", dpc.name = "w"},
                      %y: tensor<8xi64> {dpc.kind = "label", dpc.name = "y"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"},
        tensor<3x6xf32> {dpc.kind = "parameter", dpc.name = "w"}) {
  %c:2 = dp.replicate %w : tensor<3x6xf32> -> tensor<3x6xf32>, tensor<3x6xf32>
  %x0 = dp.scatter %x {dp.replica = 0 : i64, offset = 0 : i64} : tensor<8x6xf32> to tensor<4x6xf32>
  %a0 = nn.linear %x0, %c#0 {dp.replica = 0 : i64} : (tensor<4x6xf32>, tensor<3x6xf32>) -> tensor<4x3xf32>
  %r0 = nn.relu %a0 {dp.replica = 0 : i64} : tensor<4x3xf32>
  %x1 = dp.scatter %x {dp.replica = 1 : i64, offset = 4 : i64} : tensor<8x6xf32> to tensor<4x6xf32>
  %a1 = nn.linear %x1, %c#1 {dp.replica = 1 : i64} : (tensor<4x6xf32>, tensor<3x6xf32>) -> tensor<4x3xf32>
  %r1 = nn.relu %a1 {dp.replica = 1 : i64} : tensor<4x3xf32>
  %out = dp.gather %r0, %r1 : (tensor<4x3xf32>, tensor<4x3xf32>) -> tensor<8x3xf32>
  %loss = nn.cross_entropy %out, %y : tensor<8x3xf32>, tensor<8xi64>
  %seed = nn.fill 1.0 : tensor<f32>
  %dout = nn.cross_entropy_grad %seed, %out, %y : (tensor<f32>, tensor<8x3xf32>, tensor<8xi64>) -> tensor<8x3xf32>
  %d0 = dp.scatter %dout {dp.replica = 0 : i64, offset = 0 : i64} : tensor<8x3xf32> to tensor<4x3xf32>
  %d1 = dp.scatter %dout {dp.replica = 1 : i64, offset = 4 : i64} : tensor<8x3xf32> to tensor<4x3xf32>
  %da1 = nn.relu_grad %d1, %a1 {dp.replica = 1 : i64} : tensor<4x3xf32>
  %dw1 = nn.matmul %da1, %x1 {dp.replica = 1 : i64, transpose_lhs} : (tensor<4x3xf32>, tensor<4x6xf32>) -> tensor<3x6xf32>
  %da0 = nn.relu_grad %d0, %a0 {dp.replica = 0 : i64} : tensor<4x3xf32>
  %dw0 = nn.matmul %da0, %x0 {dp.replica = 0 : i64, transpose_lhs} : (tensor<4x3xf32>, tensor<4x6xf32>) -> tensor<3x6xf32>
  %dw = dp.reduce_add %dw0, %dw1 : tensor<3x6xf32>
  %new = nn.sgd_update %w, %dw {lr = 0.1 : f32} : (tensor<3x6xf32>, tensor<3x6xf32>) -> tensor<3x6xf32>
  return %loss, %new : tensor<f32>, tensor<3x6xf32>
}
