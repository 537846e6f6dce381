// RUN: %dpc-opt %s -split-input-file --dpc-autodiff --canonicalize | FileCheck %s

// VJPs of the transformer ops (NNTransformerOps.cpp), through dpc-autodiff;
// the canonicalizer removes the gradient ops of values that need none (a
// constant divisor, the mask).

// Embedding, layer_norm, a 3-d linear (rows flattened by free reshapes),
// gelu and an lm head tied to the embedding: the tied weight gets the sum
// of the head's GEMM gradient and the embedding's scatter-add.
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME: %[[IDX:[^:]*]]: tensor<2x4xi64>
// CHECK-SAME: %[[WTE:[^:]*]]: tensor<16x8xf32>
// CHECK-SAME: %[[LNW:[^:]*]]: tensor<8xf32>
// CHECK-SAME: %[[LNB:[^:]*]]: tensor<8xf32>
// CHECK-SAME: %[[FCW:[^:]*]]: tensor<8x8xf32>
// CHECK: %[[E:.*]] = nn.embedding %[[WTE]], %[[IDX]]
// CHECK: %[[N:.*]] = nn.layer_norm %[[E]], %[[LNW]], %[[LNB]]
// CHECK: %[[H:.*]] = nn.linear %[[N]], %[[FCW]]
// CHECK: %[[G:.*]] = nn.gelu %[[H]]
// CHECK: %[[DL:.*]] = nn.cross_entropy_grad
// Head: dG = dlogits W, dW = dlogits^T G over the flattened rows.
// CHECK: %[[G2:.*]] = nn.reshape %[[G]] : tensor<2x4x8xf32> to tensor<8x8xf32>
// CHECK: %[[DG2:.*]] = nn.matmul %[[DL]], %[[WTE]] : (tensor<8x16xf32>, tensor<16x8xf32>) -> tensor<8x8xf32>
// CHECK: %[[DG:.*]] = nn.reshape %[[DG2]] : tensor<8x8xf32> to tensor<2x4x8xf32>
// CHECK: %[[DHEAD:.*]] = nn.matmul %[[DL]], %[[G2]] {transpose_lhs} : (tensor<8x16xf32>, tensor<8x8xf32>) -> tensor<16x8xf32>
// CHECK: %[[DH:.*]] = nn.gelu_grad %[[DG]], %[[H]] : tensor<2x4x8xf32>
// CHECK: %[[DH2:.*]] = nn.reshape %[[DH]] : tensor<2x4x8xf32> to tensor<8x8xf32>
// CHECK: %[[DN2:.*]] = nn.matmul %[[DH2]], %[[FCW]]
// CHECK: %[[DN:.*]] = nn.reshape %[[DN2]] : tensor<8x8xf32> to tensor<2x4x8xf32>
// CHECK: %[[DFC:.*]] = nn.matmul %[[DH2]], %{{.*}} {transpose_lhs}
// CHECK: %[[DX:.*]], %[[DLNW:.*]], %[[DLNB:.*]] = nn.layer_norm_grad %[[DN]], %[[E]], %[[LNW]] {eps = 9.99999974E-6 : f32, normalized_rank = 1 : i64}
// CHECK: %[[DEMB:.*]] = nn.embedding_grad %[[DX]], %[[IDX]] : (tensor<2x4x8xf32>, tensor<2x4xi64>) -> tensor<16x8xf32>
// CHECK: %[[DWTE:.*]] = nn.add %[[DHEAD]], %[[DEMB]]
// CHECK: return %{{.*}}, %[[DWTE]], %[[DLNW]], %[[DLNB]], %[[DFC]]
func.func @train_step(%idx: tensor<2x4xi64> {dpc.kind = "input", dpc.name = "idx"},
                      %wte: tensor<16x8xf32> {dpc.kind = "parameter", dpc.name = "wte.weight"},
                      %lnw: tensor<8xf32> {dpc.kind = "parameter", dpc.name = "ln.weight"},
                      %lnb: tensor<8xf32> {dpc.kind = "parameter", dpc.name = "ln.bias"},
                      %fcw: tensor<8x8xf32> {dpc.kind = "parameter", dpc.name = "fc.weight"},
                      %label: tensor<8xi64> {dpc.kind = "label", dpc.name = "label"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"}) {
  %e = nn.embedding %wte, %idx : (tensor<16x8xf32>, tensor<2x4xi64>) -> tensor<2x4x8xf32>
  %n = nn.layer_norm %e, %lnw, %lnb {normalized_rank = 1 : i64, eps = 1.0e-05 : f32} : (tensor<2x4x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<2x4x8xf32>
  %h = nn.linear %n, %fcw : (tensor<2x4x8xf32>, tensor<8x8xf32>) -> tensor<2x4x8xf32>
  %g = nn.gelu %h : tensor<2x4x8xf32>
  %logits = nn.linear %g, %wte : (tensor<2x4x8xf32>, tensor<16x8xf32>) -> tensor<2x4x16xf32>
  %flat = nn.reshape %logits : tensor<2x4x16xf32> to tensor<8x16xf32>
  %loss = nn.cross_entropy %flat, %label : tensor<8x16xf32>, tensor<8xi64>
  return %loss : tensor<f32>
}

// -----

// Causal attention scores: split into q, k (v unused), heads by reshape and
// permute, a batched matmul, division by a number, a mask from a sliced
// buffer, softmax, mean. The mask and the divisor get no gradient; the
// unused piece of the split gets zeros in the concatenated gradient.
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME: %[[QKV:[^:]*]]: tensor<2x4x12xf32>
// CHECK: %[[P:.*]]:3 = nn.split %[[QKV]]
// CHECK: %[[Q:.*]] = nn.permute
// CHECK: %[[K:.*]] = nn.permute
// CHECK: %[[C:.*]] = nn.fill 1.41421354 : tensor<f32>
// CHECK: %[[EQ:.*]] = nn.compare %{{.*}}, %{{.*}} {predicate = "eq"}
// CHECK: %[[SM:.*]] = nn.softmax %{{.*}} {dim = 3 : i64}
// mean's VJP: the seed divided by the count, broadcast.
// CHECK: %[[SEED:.*]] = nn.reshape %{{.*}} : tensor<f32> to tensor<1x1x1x1xf32>
// CHECK: %[[COUNT:.*]] = nn.fill 6.400000e+01 : tensor<f32>
// CHECK: %[[DM:.*]] = nn.div %[[SEED]], %[[COUNT]]
// CHECK: %[[DP:.*]] = nn.broadcast_to %[[DM]] : tensor<1x1x1x1xf32> to tensor<2x2x4x4xf32>
// CHECK: %[[DS:.*]] = nn.softmax_grad %[[DP]], %[[SM]] {dim = 3 : i64}
// CHECK: %[[DMF:.*]] = nn.masked_fill %[[DS]], %[[EQ]] {value = 0.000000e+00 : f32}
// CHECK: %[[DD:.*]] = nn.div %[[DMF]], %[[C]]
// CHECK: %[[DQ:.*]] = nn.matmul %[[DD]], %[[K]] : (tensor<2x2x4x4xf32>, tensor<2x2x4x2xf32>) -> tensor<2x2x4x2xf32>
// CHECK: %[[DK:.*]] = nn.matmul %[[DD]], %[[Q]] {transpose_lhs} : (tensor<2x2x4x4xf32>, tensor<2x2x4x2xf32>) -> tensor<2x2x4x2xf32>
// CHECK: nn.permute %[[DK]] {permutation = array<i64: 0, 2, 1, 3>}
// CHECK: nn.permute %[[DQ]] {permutation = array<i64: 0, 2, 1, 3>}
// CHECK: %[[ZERO:.*]] = nn.fill 0.000000e+00 : tensor<2x4x4xf32>
// CHECK: %[[DQKV:.*]] = nn.concat %{{.*}}, %{{.*}}, %[[ZERO]] {dim = 2 : i64}
// CHECK: return %{{.*}}, %[[DQKV]]
func.func @train_step(%qkv: tensor<2x4x12xf32> {dpc.kind = "parameter", dpc.name = "qkv"},
                      %mask: tensor<1x1x8x8xf32> {dpc.kind = "buffer", dpc.name = "mask"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"}) {
  %q, %k, %v = nn.split %qkv {dim = 2 : i64, sizes = array<i64: 4, 4, 4>} : tensor<2x4x12xf32> -> tensor<2x4x4xf32>, tensor<2x4x4xf32>, tensor<2x4x4xf32>
  %q4 = nn.reshape %q : tensor<2x4x4xf32> to tensor<2x4x2x2xf32>
  %k4 = nn.reshape %k : tensor<2x4x4xf32> to tensor<2x4x2x2xf32>
  %qt = nn.permute %q4 {permutation = array<i64: 0, 2, 1, 3>} : tensor<2x4x2x2xf32> -> tensor<2x2x4x2xf32>
  %kt = nn.permute %k4 {permutation = array<i64: 0, 2, 1, 3>} : tensor<2x4x2x2xf32> -> tensor<2x2x4x2xf32>
  %s = nn.matmul %qt, %kt {transpose_rhs} : (tensor<2x2x4x2xf32>, tensor<2x2x4x2xf32>) -> tensor<2x2x4x4xf32>
  %c = nn.fill 1.41421354 : tensor<f32>
  %sd = nn.div %s, %c : (tensor<2x2x4x4xf32>, tensor<f32>) -> tensor<2x2x4x4xf32>
  %m = nn.slice %mask {dim = 2 : i64, start = 0 : i64, end = 4 : i64} : tensor<1x1x8x8xf32> -> tensor<1x1x4x8xf32>
  %m2 = nn.slice %m {dim = 3 : i64, start = 0 : i64, end = 4 : i64} : tensor<1x1x4x8xf32> -> tensor<1x1x4x4xf32>
  %zero = nn.fill 0.0 : tensor<f32>
  %eq = nn.compare %m2, %zero {predicate = "eq"} : (tensor<1x1x4x4xf32>, tensor<f32>) -> tensor<1x1x4x4xf32>
  %mf = nn.masked_fill %sd, %eq {value = 0xFF800000 : f32} : (tensor<2x2x4x4xf32>, tensor<1x1x4x4xf32>) -> tensor<2x2x4x4xf32>
  %p = nn.softmax %mf {dim = 3 : i64} : tensor<2x2x4x4xf32>
  %loss = nn.mean %p {dims = array<i64: 0, 1, 2, 3>} : tensor<2x2x4x4xf32> -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

// A batched matmul with a 2-d rhs: its gradient is one GEMM over the
// flattened rows. broadcast_to sums back, concat splits, log_softmax and
// nll_loss chain.
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME: %[[X:[^:]*]]: tensor<2x3x4xf32>
// CHECK-SAME: %[[W:[^:]*]]: tensor<4x5xf32>
// CHECK-SAME: %[[B:[^:]*]]: tensor<1x5xf32>
// CHECK-SAME: %[[Y:[^:]*]]: tensor<6xi64>
// CHECK: %[[L:.*]] = nn.log_softmax %{{.*}} {dim = 1 : i64} : tensor<6x5xf32>
// CHECK: %[[SEED:.*]] = nn.fill 1.000000e+00 : tensor<f32>
// CHECK: %[[DNLL:.*]] = nn.nll_loss_grad %[[SEED]], %[[Y]] : (tensor<f32>, tensor<6xi64>) -> tensor<6x5xf32>
// CHECK: %[[DL:.*]] = nn.log_softmax_grad %[[DNLL]], %[[L]] {dim = 1 : i64}
// CHECK: %[[HALVES:.*]]:2 = nn.split %[[DL]] {dim = 0 : i64, sizes = array<i64: 3, 3>}
// CHECK: %[[DBB:.*]] = nn.add %[[HALVES]]#0, %[[HALVES]]#1
// CHECK: %[[DB:.*]] = nn.sum_to %[[DBB]] : tensor<3x5xf32> to tensor<1x5xf32>
// CHECK: %[[X2:.*]] = nn.reshape %[[X]] : tensor<2x3x4xf32> to tensor<6x4xf32>
// CHECK: %[[DW:.*]] = nn.matmul %[[X2]], %[[DL]] {transpose_lhs} : (tensor<6x4xf32>, tensor<6x5xf32>) -> tensor<4x5xf32>
// CHECK: return %{{.*}}, %[[DW]], %[[DB]]
func.func @train_step(%x: tensor<2x3x4xf32> {dpc.kind = "input", dpc.name = "x"},
                      %w: tensor<4x5xf32> {dpc.kind = "parameter", dpc.name = "w"},
                      %b: tensor<1x5xf32> {dpc.kind = "parameter", dpc.name = "b"},
                      %label: tensor<6xi64> {dpc.kind = "label", dpc.name = "label"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"}) {
  %h = nn.matmul %x, %w : (tensor<2x3x4xf32>, tensor<4x5xf32>) -> tensor<2x3x5xf32>
  %bb = nn.broadcast_to %b : tensor<1x5xf32> to tensor<3x5xf32>
  %c = nn.concat %bb, %bb {dim = 0 : i64} : (tensor<3x5xf32>, tensor<3x5xf32>) -> tensor<6x5xf32>
  %c3 = nn.reshape %c : tensor<6x5xf32> to tensor<2x3x5xf32>
  %y = nn.add %h, %c3 : (tensor<2x3x5xf32>, tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %f = nn.reshape %y : tensor<2x3x5xf32> to tensor<6x5xf32>
  %l = nn.log_softmax %f {dim = 1 : i64} : tensor<6x5xf32>
  %loss = nn.nll_loss %l, %label : tensor<6x5xf32>, tensor<6xi64>
  return %loss : tensor<f32>
}

// -----

// A strided slice scatters its gradient back into zeros (slice_grad); sum
// without keepdim puts the reduced dimension back before broadcasting; the
// tanh form of gelu keeps its attribute in the gradient.
// CHECK-LABEL: func.func @train_step(
// CHECK: %[[S:.*]] = nn.sum %{{.*}} {dims = array<i64: 0>} : tensor<2x3x3xf32> -> tensor<3x3xf32>
// CHECK: %[[DG:.*]] = nn.broadcast_to %{{.*}} : tensor<1x1xf32> to tensor<3x3xf32>
// CHECK: %[[DS:.*]] = nn.gelu_grad %[[DG]], %[[S]] {approximate = "tanh"} : tensor<3x3xf32>
// CHECK: %[[DS3:.*]] = nn.reshape %[[DS]] : tensor<3x3xf32> to tensor<1x3x3xf32>
// CHECK: %[[DSL:.*]] = nn.broadcast_to %[[DS3]] : tensor<1x3x3xf32> to tensor<2x3x3xf32>
// CHECK: %[[DX:.*]] = nn.slice_grad %[[DSL]] {dim = 2 : i64, end = 5 : i64, start = 0 : i64, step = 2 : i64} : tensor<2x3x3xf32> to tensor<2x3x5xf32>
// CHECK: return %{{.*}}, %[[DX]]
func.func @train_step(%x: tensor<2x3x5xf32> {dpc.kind = "parameter", dpc.name = "x"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"}) {
  %s = nn.slice %x {dim = 2 : i64, start = 0 : i64, end = 5 : i64, step = 2 : i64} : tensor<2x3x5xf32> -> tensor<2x3x3xf32>
  %t = nn.sum %s {dims = array<i64: 0>} : tensor<2x3x3xf32> -> tensor<3x3xf32>
  %g = nn.gelu %t {approximate = "tanh"} : tensor<3x3xf32>
  %loss = nn.sum %g {dims = array<i64: 0, 1>} : tensor<3x3xf32> -> tensor<f32>
  return %loss : tensor<f32>
}
