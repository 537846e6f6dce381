// RUN: %dpc-opt %s --dpc-plan-memory --dpc-lower-to-llvm=trace-ops=false | FileCheck %s

// The transformer ops as runtime calls (compiler/Conversion/NNToRuntime/LowerTransformerOps.cpp):
// one kernel per op, shape ops as strided copies whose dims arrays are
// [shape, destination strides, source strides] (0 along broadcast
// dimensions), nn.constant as a read-only global copied into the arena.

// Permute [2, 4, 8] -> [2, 8, 4]: the source strides [32, 8, 1] permuted.
// CHECK-DAG: llvm.mlir.global internal constant @[[PERMUTE:.*]](dense<[2, 8, 4, 32, 4, 1, 32, 1, 8]> : tensor<9xi64>)
// The batch of the batched GEMM: [2], one matrix apart on both sides.
// CHECK-DAG: llvm.mlir.global internal constant @[[BATCH:.*]](dense<[2, 1, 1]> : tensor<3xi64>)
// compare of a [1, 4, 4] mask with a 0-d number; the mask broadcast by
// masked_fill over [2, 4, 4].
// CHECK-DAG: llvm.mlir.global internal constant @[[COMPARE:.*]](dense<[1, 4, 4, 16, 4, 1, 0, 0, 0]> : tensor<9xi64>)
// CHECK-DAG: llvm.mlir.global internal constant @[[MASK:.*]](dense<[2, 4, 4, 0, 4, 1]> : tensor<6xi64>)
// slice [1:8:3] of the last dim and its gradient (the same strides the
// other way round).
// CHECK-DAG: llvm.mlir.global internal constant @[[SLICE:.*]](dense<[2, 4, 3, 12, 3, 1, 32, 8, 3]> : tensor<9xi64>)
// CHECK-DAG: llvm.mlir.global internal constant @[[SLICE_GRAD:.*]](dense<[2, 4, 3, 32, 8, 3, 12, 3, 1]> : tensor<9xi64>)
// split [1, 3] along dim 1, and the concat of the pieces in the other order.
// CHECK-DAG: llvm.mlir.global internal constant @[[SPLIT0:.*]](dense<[2, 1, 8, 8, 8, 1, 32, 8, 1]> : tensor<9xi64>)
// CHECK-DAG: llvm.mlir.global internal constant @[[SPLIT1:.*]](dense<[2, 3, 8, 24, 8, 1, 32, 8, 1]> : tensor<9xi64>)
// CHECK-DAG: llvm.mlir.global internal constant @[[CONCAT0:.*]](dense<[2, 3, 8, 32, 8, 1, 24, 8, 1]> : tensor<9xi64>)
// CHECK-DAG: llvm.mlir.global internal constant @[[CONCAT1:.*]](dense<[2, 1, 8, 32, 8, 1, 8, 8, 1]> : tensor<9xi64>)
// broadcast_to [8] -> [4, 8]; sum over dims 0 and 2, mean over dim 1.
// CHECK-DAG: llvm.mlir.global internal constant @[[BROADCAST:.*]](dense<[4, 8, 8, 1, 0, 1]> : tensor<6xi64>)
// CHECK-DAG: llvm.mlir.global internal constant @[[SUM:.*]](dense<[2, 4, 8, 0, 1, 0]> : tensor<6xi64>)
// CHECK-DAG: llvm.mlir.global internal constant @[[MEAN:.*]](dense<[2, 4, 8, 8, 0, 1]> : tensor<6xi64>)
// CHECK-DAG: llvm.mlir.global internal constant @[[POSITIONS:.*]](dense<[0, 1, 2, 3]> : tensor<4xi64>)

// CHECK-LABEL: llvm.func @dpc_model_train_step(
// CHECK-SAME: %[[CTX:[^:]*]]: !llvm.ptr, %[[SLOTS:[^:]*]]: !llvm.ptr)
// CHECK: %[[IDX:.*]] = llvm.load
// CHECK: %[[W:.*]] = llvm.load
// CHECK: %[[G:.*]] = llvm.load
// CHECK: %[[MASKARG:.*]] = llvm.load
// CHECK: %[[LABEL:.*]] = llvm.load
// CHECK: %[[LOSS_SLOT:.*]] = llvm.load
// CHECK: %[[ARENA:.*]] = llvm.load

// nn.constant: 32 bytes from the global.
// CHECK: %[[POS:.*]] = llvm.getelementptr %[[ARENA]]
// CHECK-NEXT: %[[DATA:.*]] = llvm.mlir.addressof @[[POSITIONS]] : !llvm.ptr
// CHECK-NEXT: %[[BYTES:.*]] = llvm.mlir.constant(32 : i64) : i64
// CHECK-NEXT: llvm.call @dpcrt_copy(%[[CTX]], %[[POS]], %[[DATA]], %[[BYTES]])

// embedding(out, weight, indices, n = 8, V = 16, D = 8); its gradient with
// padding_idx -1 (none).
// CHECK: %[[E:.*]] = llvm.getelementptr %[[ARENA]]
// CHECK-NEXT: %[[N8:.*]] = llvm.mlir.constant(8 : i64) : i64
// CHECK-NEXT: %[[V:.*]] = llvm.mlir.constant(16 : i64) : i64
// CHECK-NEXT: %[[D:.*]] = llvm.mlir.constant(8 : i64) : i64
// CHECK-NEXT: llvm.call @dpcrt_embedding_f32(%[[CTX]], %[[E]], %[[W]], %[[IDX]], %[[N8]], %[[V]], %[[D]])
// CHECK: llvm.call @dpcrt_embedding_f32(%[[CTX]], %{{.*}}, %[[W]], %[[POS]],
// CHECK: %[[NOPAD:.*]] = llvm.mlir.constant(-1 : i64) : i64
// CHECK-NEXT: llvm.call @dpcrt_embedding_grad_f32(%[[CTX]], %{{.*}}, %[[E]], %[[IDX]], %{{.*}}, %{{.*}}, %{{.*}}, %[[NOPAD]])

// layer_norm over 8 rows of 8, eps as f32; its gradient writes three
// buffers.
// CHECK: %[[LN:.*]] = llvm.getelementptr %[[ARENA]]
// CHECK-NEXT: %[[ROWS:.*]] = llvm.mlir.constant(8 : i64) : i64
// CHECK-NEXT: %[[COLS:.*]] = llvm.mlir.constant(8 : i64) : i64
// CHECK-NEXT: %[[EPS:.*]] = llvm.mlir.constant(9.99999974E-6 : f32) : f32
// CHECK-NEXT: llvm.call @dpcrt_layer_norm_f32(%[[CTX]], %[[LN]], %[[E]], %[[G]], %[[G]], %[[ROWS]], %[[COLS]], %[[EPS]])
// CHECK: llvm.call @dpcrt_layer_norm_grad_f32(%[[CTX]], %{{.*}}, %{{.*}}, %{{.*}}, %[[LN]], %[[E]], %[[G]],

// gelu: DPCRT_GELU_TANH = 1, its gradient with the default erf form (0).
// CHECK: %[[TANH:.*]] = llvm.mlir.constant(1 : i32) : i32
// CHECK-NEXT: %[[N64:.*]] = llvm.mlir.constant(64 : i64) : i64
// CHECK-NEXT: llvm.call @dpcrt_gelu_f32(%[[CTX]], %[[TANH]], %{{.*}}, %[[LN]], %[[N64]])
// CHECK: %[[ERF:.*]] = llvm.mlir.constant(0 : i32) : i32
// CHECK: llvm.call @dpcrt_gelu_grad_f32(%[[CTX]], %[[ERF]],

// permute, then the batched GEMM [2] x ([4, 8] @ [8, 4]).
// CHECK: %[[T:.*]] = llvm.getelementptr %[[ARENA]]
// CHECK-NEXT: %[[F32:.*]] = llvm.mlir.constant(4 : i64) : i64
// CHECK-NEXT: %[[RANK3:.*]] = llvm.mlir.constant(3 : i32) : i32
// CHECK-NEXT: %[[PDIMS:.*]] = llvm.mlir.addressof @[[PERMUTE]] : !llvm.ptr
// CHECK-NEXT: llvm.call @dpcrt_strided_copy(%[[CTX]], %[[T]], %[[LN]], %[[F32]], %[[RANK3]], %[[PDIMS]])
// CHECK: %[[S:.*]] = llvm.getelementptr %[[ARENA]]
// CHECK-NEXT: %[[BRANK:.*]] = llvm.mlir.constant(1 : i32) : i32
// CHECK-NEXT: %[[BDIMS:.*]] = llvm.mlir.addressof @[[BATCH]] : !llvm.ptr
// CHECK-NEXT: %[[M:.*]] = llvm.mlir.constant(4 : i64) : i64
// CHECK-NEXT: %[[NN:.*]] = llvm.mlir.constant(4 : i64) : i64
// CHECK-NEXT: %[[K:.*]] = llvm.mlir.constant(8 : i64) : i64
// CHECK-NEXT: %[[TA:.*]] = llvm.mlir.constant(0 : i32) : i32
// CHECK-NEXT: %[[TB:.*]] = llvm.mlir.constant(0 : i32) : i32
// CHECK-NEXT: llvm.call @dpcrt_batched_gemm_f32(%[[CTX]], %[[S]], %[[LN]], %[[T]], %[[BRANK]], %[[BDIMS]], %[[M]], %[[NN]], %[[K]], %[[TA]], %[[TB]])

// div by a 0-d fill: DPCRT_BINARY_DIV = 3.
// CHECK: %[[DIV:.*]] = llvm.mlir.constant(3 : i32) : i32
// CHECK-NEXT: %{{.*}} = llvm.mlir.constant(3 : i32) : i32
// CHECK-NEXT: %{{.*}} = llvm.mlir.addressof
// CHECK-NEXT: %{{.*}} = llvm.mlir.constant(1.000000e+00 : f32) : f32
// CHECK-NEXT: llvm.call @dpcrt_binary_f32(%[[CTX]], %[[DIV]], %[[SD:[^,]*]], %[[S]],

// compare eq (DPCRT_COMPARE_EQ = 0), masked_fill with -inf, softmax along
// the last dim of [2, 4, 4] as [outer 8, size 4, inner 1].
// CHECK: %[[EQ:.*]] = llvm.mlir.constant(0 : i32) : i32
// CHECK-NEXT: %{{.*}} = llvm.mlir.constant(3 : i32) : i32
// CHECK-NEXT: %[[CDIMS:.*]] = llvm.mlir.addressof @[[COMPARE]] : !llvm.ptr
// CHECK-NEXT: llvm.call @dpcrt_compare_f32(%[[CTX]], %[[EQ]], %[[M01:[^,]*]], %[[MASKARG]],
// CHECK: %[[MDIMS:.*]] = llvm.mlir.addressof @[[MASK]] : !llvm.ptr
// CHECK-NEXT: %[[NEGINF:.*]] = llvm.mlir.constant(0xFF800000 : f32) : f32
// CHECK-NEXT: llvm.call @dpcrt_masked_fill_f32(%[[CTX]], %[[MF:[^,]*]], %[[SD]], %[[M01]], %{{.*}}, %[[MDIMS]], %[[NEGINF]])
// CHECK: %[[OUTER:.*]] = llvm.mlir.constant(8 : i64) : i64
// CHECK-NEXT: %[[SIZE:.*]] = llvm.mlir.constant(4 : i64) : i64
// CHECK-NEXT: %[[INNER:.*]] = llvm.mlir.constant(1 : i64) : i64
// CHECK-NEXT: %[[NOTLOG:.*]] = llvm.mlir.constant(0 : i32) : i32
// CHECK-NEXT: llvm.call @dpcrt_softmax_f32(%[[CTX]], %[[SM:[^,]*]], %[[MF]], %[[OUTER]], %[[SIZE]], %[[INNER]], %[[NOTLOG]])
// softmax_grad along dim 1 of [2, 4, 4]: [outer 2, size 4, inner 4].
// CHECK: %[[OUTER2:.*]] = llvm.mlir.constant(2 : i64) : i64
// CHECK-NEXT: %[[SIZE4:.*]] = llvm.mlir.constant(4 : i64) : i64
// CHECK-NEXT: %[[INNER4:.*]] = llvm.mlir.constant(4 : i64) : i64
// CHECK-NEXT: %{{.*}} = llvm.mlir.constant(0 : i32) : i32
// CHECK-NEXT: llvm.call @dpcrt_softmax_grad_f32(%[[CTX]], %{{.*}}, %[[SM]], %[[SM]], %[[OUTER2]], %[[SIZE4]], %[[INNER4]],

// slice from element 1 (4 bytes in); slice_grad zero-fills its 64
// elements, then copies into them from element 1.
// CHECK: %[[B4_FROM:.*]] = llvm.mlir.constant(4 : i64) : i64
// CHECK-NEXT: %[[FROM:.*]] = llvm.getelementptr %[[LN]][%[[B4_FROM]]] : (!llvm.ptr, i64) -> !llvm.ptr, i8
// CHECK: %{{.*}} = llvm.mlir.addressof @[[SLICE]] : !llvm.ptr
// CHECK-NEXT: llvm.call @dpcrt_strided_copy(%[[CTX]], %[[SL:[^,]*]], %[[FROM]],
// CHECK: %[[N64:.*]] = llvm.mlir.constant(64 : i64) : i64
// CHECK-NEXT: %[[ZERO:.*]] = llvm.mlir.constant(0.000000e+00 : f32) : f32
// CHECK-NEXT: llvm.call @dpcrt_fill_f32(%[[CTX]], %[[SLG:[^,]*]], %[[N64]], %[[ZERO]])
// CHECK-NEXT: %[[B4_TO:.*]] = llvm.mlir.constant(4 : i64) : i64
// CHECK-NEXT: %[[TO:.*]] = llvm.getelementptr %[[SLG]][%[[B4_TO]]] : (!llvm.ptr, i64) -> !llvm.ptr, i8
// CHECK: %{{.*}} = llvm.mlir.addressof @[[SLICE_GRAD]] : !llvm.ptr
// CHECK-NEXT: llvm.call @dpcrt_strided_copy(%[[CTX]], %[[TO]], %[[SL]],

// split: piece 0 from the start, piece 1 from row 1 (32 bytes in); concat
// writes piece 1 at the start and piece 0 after 3 rows (96 bytes in).
// CHECK: %{{.*}} = llvm.mlir.addressof @[[SPLIT0]] : !llvm.ptr
// CHECK-NEXT: llvm.call @dpcrt_strided_copy(%[[CTX]], %[[P0:[^,]*]], %[[LN]],
// CHECK: %[[B32_ROW1:.*]] = llvm.mlir.constant(32 : i64) : i64
// CHECK-NEXT: %[[ROW1:.*]] = llvm.getelementptr %[[LN]][%[[B32_ROW1]]] : (!llvm.ptr, i64) -> !llvm.ptr, i8
// CHECK: %{{.*}} = llvm.mlir.addressof @[[SPLIT1]] : !llvm.ptr
// CHECK-NEXT: llvm.call @dpcrt_strided_copy(%[[CTX]], %[[P1:[^,]*]], %[[ROW1]],
// CHECK: %{{.*}} = llvm.mlir.addressof @[[CONCAT0]] : !llvm.ptr
// CHECK-NEXT: llvm.call @dpcrt_strided_copy(%[[CTX]], %[[C:[^,]*]], %[[P1]],
// CHECK: %[[B96_AT3:.*]] = llvm.mlir.constant(96 : i64) : i64
// CHECK-NEXT: %[[AT3:.*]] = llvm.getelementptr %[[C]][%[[B96_AT3]]] : (!llvm.ptr, i64) -> !llvm.ptr, i8
// CHECK: %{{.*}} = llvm.mlir.addressof @[[CONCAT1]] : !llvm.ptr
// CHECK-NEXT: llvm.call @dpcrt_strided_copy(%[[CTX]], %[[AT3]], %[[P0]],

// CHECK: %{{.*}} = llvm.mlir.addressof @[[BROADCAST]] : !llvm.ptr
// CHECK-NEXT: llvm.call @dpcrt_strided_copy(%[[CTX]], %{{.*}}, %[[G]],

// sum into 4 elements; mean: the sum, then divided in place by 4.
// CHECK: %[[SUMDIMS:.*]] = llvm.mlir.addressof @[[SUM]] : !llvm.ptr
// CHECK-NEXT: %[[N4:.*]] = llvm.mlir.constant(4 : i64) : i64
// CHECK-NEXT: llvm.call @dpcrt_reduce_sum_f32(%[[CTX]], %{{.*}}, %[[LN]], %{{.*}}, %[[SUMDIMS]], %[[N4]])
// CHECK: %[[MEANDIMS:.*]] = llvm.mlir.addressof @[[MEAN]] : !llvm.ptr
// CHECK-NEXT: %[[N16:.*]] = llvm.mlir.constant(16 : i64) : i64
// CHECK-NEXT: llvm.call @dpcrt_reduce_sum_f32(%[[CTX]], %[[ME:[^,]*]], %[[LN]], %{{.*}}, %[[MEANDIMS]], %[[N16]])
// CHECK-NEXT: %{{.*}} = llvm.mlir.constant(16 : i64) : i64
// CHECK-NEXT: %[[COUNT:.*]] = llvm.mlir.constant(4.000000e+00 : f32) : f32
// CHECK-NEXT: llvm.call @dpcrt_div_scalar_f32(%[[CTX]], %[[ME]], %[[ME]], %{{.*}}, %[[COUNT]])

// log_softmax of the reshaped (aliased) layer_norm result, nll_loss and
// their gradients.
// CHECK: %[[LOG:.*]] = llvm.mlir.constant(1 : i32) : i32
// CHECK-NEXT: llvm.call @dpcrt_softmax_f32(%[[CTX]], %[[LS:[^,]*]], %[[LN]], %{{.*}}, %{{.*}}, %{{.*}}, %[[LOG]])
// CHECK: llvm.call @dpcrt_nll_loss_f32(%[[CTX]], %[[LOSS:[^,]*]], %[[LS]], %[[LABEL]],
// CHECK: llvm.call @dpcrt_nll_loss_grad_f32(%[[CTX]], %[[DLS:[^,]*]], %{{.*}}, %[[LABEL]],
// CHECK: llvm.call @dpcrt_softmax_grad_f32(%[[CTX]], %{{.*}}, %[[DLS]], %[[LS]],
// CHECK: llvm.call @dpcrt_copy(%[[CTX]], %[[LOSS_SLOT]], %[[LOSS]],
func.func @train_step(%idx: tensor<2x4xi64> {dpc.kind = "input", dpc.name = "idx"},
                      %w: tensor<16x8xf32> {dpc.kind = "parameter", dpc.name = "w"},
                      %g: tensor<8xf32> {dpc.kind = "parameter", dpc.name = "g"},
                      %mask: tensor<1x4x4xf32> {dpc.kind = "buffer", dpc.name = "mask"},
                      %label: tensor<8xi64> {dpc.kind = "label", dpc.name = "label"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"}) {
  %pos = nn.constant dense<[0, 1, 2, 3]> : tensor<4xi64>
  %e = nn.embedding %w, %idx : (tensor<16x8xf32>, tensor<2x4xi64>) -> tensor<2x4x8xf32>
  %p = nn.embedding %w, %pos {padding_idx = 0 : i64} : (tensor<16x8xf32>, tensor<4xi64>) -> tensor<4x8xf32>
  %eg = nn.embedding_grad %e, %idx : (tensor<2x4x8xf32>, tensor<2x4xi64>) -> tensor<16x8xf32>
  %n = nn.layer_norm %e, %g, %g {normalized_rank = 1 : i64, eps = 1.0e-05 : f32} : (tensor<2x4x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<2x4x8xf32>
  %ng:3 = nn.layer_norm_grad %n, %e, %g {normalized_rank = 1 : i64, eps = 1.0e-05 : f32} : (tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<8xf32>) -> (tensor<2x4x8xf32>, tensor<8xf32>, tensor<8xf32>)
  %ge = nn.gelu %n {approximate = "tanh"} : tensor<2x4x8xf32>
  %gg = nn.gelu_grad %ge, %n : tensor<2x4x8xf32>
  %t = nn.permute %n {permutation = array<i64: 0, 2, 1>} : tensor<2x4x8xf32> -> tensor<2x8x4xf32>
  %s = nn.matmul %n, %t : (tensor<2x4x8xf32>, tensor<2x8x4xf32>) -> tensor<2x4x4xf32>
  %c = nn.fill 2.0 : tensor<f32>
  %sd = nn.div %s, %c : (tensor<2x4x4xf32>, tensor<f32>) -> tensor<2x4x4xf32>
  %z = nn.fill 0.0 : tensor<f32>
  %m = nn.compare %mask, %z {predicate = "eq"} : (tensor<1x4x4xf32>, tensor<f32>) -> tensor<1x4x4xf32>
  %mf = nn.masked_fill %sd, %m {value = 0xFF800000 : f32} : (tensor<2x4x4xf32>, tensor<1x4x4xf32>) -> tensor<2x4x4xf32>
  %sm = nn.softmax %mf {dim = 2 : i64} : tensor<2x4x4xf32>
  %smg = nn.softmax_grad %sm, %sm {dim = 1 : i64} : tensor<2x4x4xf32>
  %sl = nn.slice %n {dim = 2 : i64, start = 1 : i64, end = 8 : i64, step = 3 : i64} : tensor<2x4x8xf32> -> tensor<2x4x3xf32>
  %slg = nn.slice_grad %sl {dim = 2 : i64, start = 1 : i64, end = 8 : i64, step = 3 : i64} : tensor<2x4x3xf32> to tensor<2x4x8xf32>
  %sp:2 = nn.split %n {dim = 1 : i64, sizes = array<i64: 1, 3>} : tensor<2x4x8xf32> -> tensor<2x1x8xf32>, tensor<2x3x8xf32>
  %ct = nn.concat %sp#1, %sp#0 {dim = 1 : i64} : (tensor<2x3x8xf32>, tensor<2x1x8xf32>) -> tensor<2x4x8xf32>
  %b = nn.broadcast_to %g : tensor<8xf32> to tensor<4x8xf32>
  %su = nn.sum %n {dims = array<i64: 0, 2>} : tensor<2x4x8xf32> -> tensor<4xf32>
  %me = nn.mean %n {dims = array<i64: 1>, keepdim} : tensor<2x4x8xf32> -> tensor<2x1x8xf32>
  %flat = nn.reshape %n : tensor<2x4x8xf32> to tensor<8x8xf32>
  %ls = nn.log_softmax %flat {dim = 1 : i64} : tensor<8x8xf32>
  %loss = nn.nll_loss %ls, %label : tensor<8x8xf32>, tensor<8xi64>
  %one = nn.fill 1.0 : tensor<f32>
  %nllg = nn.nll_loss_grad %one, %label : (tensor<f32>, tensor<8xi64>) -> tensor<8x8xf32>
  %lsg = nn.log_softmax_grad %nllg, %ls {dim = 1 : i64} : tensor<8x8xf32>
  return %loss : tensor<f32>
}
