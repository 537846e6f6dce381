// RUN: %dpc-opt %s | %dpc-opt | FileCheck %s
// RUN: %dpc-opt %s --mlir-print-op-generic | %dpc-opt | FileCheck %s

// The transformer ops (NNTransformerOps.td) survive printing and parsing in
// the custom and the generic form; default-valued attributes are elided.

// CHECK-LABEL: func.func @constant
func.func @constant() -> (tensor<4xi64>, tensor<2x2xf32>) {
  // CHECK: nn.constant dense<[0, 1, 2, 3]> : tensor<4xi64>
  %0 = nn.constant dense<[0, 1, 2, 3]> : tensor<4xi64>
  // CHECK: nn.constant dense<{{\[}}[1.000000e+00, 0.000000e+00], [1.000000e+00, 1.000000e+00]]> : tensor<2x2xf32>
  %1 = nn.constant dense<[[1.0, 0.0], [1.0, 1.0]]> : tensor<2x2xf32>
  return %0, %1 : tensor<4xi64>, tensor<2x2xf32>
}

// CHECK-LABEL: func.func @embedding
// CHECK-SAME: (%[[W:.*]]: tensor<64x32xf32>, %[[I:.*]]: tensor<4x8xi64>, %[[G:.*]]: tensor<4x8x32xf32>)
func.func @embedding(%w: tensor<64x32xf32>, %idx: tensor<4x8xi64>, %g: tensor<4x8x32xf32>) {
  // CHECK: nn.embedding %[[W]], %[[I]] : (tensor<64x32xf32>, tensor<4x8xi64>) -> tensor<4x8x32xf32>
  %0 = nn.embedding %w, %idx : (tensor<64x32xf32>, tensor<4x8xi64>) -> tensor<4x8x32xf32>
  // CHECK: nn.embedding %[[W]], %[[I]] {padding_idx = 0 : i64} : (tensor<64x32xf32>, tensor<4x8xi64>) -> tensor<4x8x32xf32>
  %1 = nn.embedding %w, %idx {padding_idx = 0 : i64} : (tensor<64x32xf32>, tensor<4x8xi64>) -> tensor<4x8x32xf32>
  // CHECK: nn.embedding_grad %[[G]], %[[I]] : (tensor<4x8x32xf32>, tensor<4x8xi64>) -> tensor<64x32xf32>
  %2 = nn.embedding_grad %g, %idx : (tensor<4x8x32xf32>, tensor<4x8xi64>) -> tensor<64x32xf32>
  return
}

// CHECK-LABEL: func.func @layer_norm
// CHECK-SAME: (%[[X:.*]]: tensor<4x8x32xf32>, %[[W:.*]]: tensor<32xf32>, %[[B:.*]]: tensor<32xf32>, %[[W2:.*]]: tensor<8x32xf32>)
func.func @layer_norm(%x: tensor<4x8x32xf32>, %w: tensor<32xf32>, %b: tensor<32xf32>,
                      %w2: tensor<8x32xf32>) {
  // CHECK: nn.layer_norm %[[X]], %[[W]], %[[B]] {eps = 9.99999974E-6 : f32, normalized_rank = 1 : i64} : (tensor<4x8x32xf32>, tensor<32xf32>, tensor<32xf32>) -> tensor<4x8x32xf32>
  %0 = nn.layer_norm %x, %w, %b {normalized_rank = 1 : i64, eps = 1.0e-05 : f32} : (tensor<4x8x32xf32>, tensor<32xf32>, tensor<32xf32>) -> tensor<4x8x32xf32>
  // Two normalized dimensions.
  // CHECK: nn.layer_norm %[[X]], %[[W2]], %[[W2]] {eps = 1.000000e-03 : f32, normalized_rank = 2 : i64}
  %1 = nn.layer_norm %x, %w2, %w2 {normalized_rank = 2 : i64, eps = 1.0e-03 : f32} : (tensor<4x8x32xf32>, tensor<8x32xf32>, tensor<8x32xf32>) -> tensor<4x8x32xf32>
  // CHECK: nn.layer_norm_grad %[[X]], %[[X]], %[[W]] {eps = 9.99999974E-6 : f32, normalized_rank = 1 : i64} : (tensor<4x8x32xf32>, tensor<4x8x32xf32>, tensor<32xf32>) -> (tensor<4x8x32xf32>, tensor<32xf32>, tensor<32xf32>)
  %2:3 = nn.layer_norm_grad %x, %x, %w {normalized_rank = 1 : i64, eps = 1.0e-05 : f32} : (tensor<4x8x32xf32>, tensor<4x8x32xf32>, tensor<32xf32>) -> (tensor<4x8x32xf32>, tensor<32xf32>, tensor<32xf32>)
  return
}

// CHECK-LABEL: func.func @activations
// CHECK-SAME: (%[[X:.*]]: tensor<4x8xf32>, %[[G:.*]]: tensor<4x8xf32>)
func.func @activations(%x: tensor<4x8xf32>, %g: tensor<4x8xf32>) {
  // CHECK: nn.gelu %[[X]] : tensor<4x8xf32>
  %0 = nn.gelu %x : tensor<4x8xf32>
  // CHECK: nn.gelu %[[X]] {approximate = "tanh"} : tensor<4x8xf32>
  %1 = nn.gelu %x {approximate = "tanh"} : tensor<4x8xf32>
  // CHECK: nn.gelu_grad %[[G]], %[[X]] : tensor<4x8xf32>
  %2 = nn.gelu_grad %g, %x : tensor<4x8xf32>
  // CHECK: nn.gelu_grad %[[G]], %[[X]] {approximate = "tanh"} : tensor<4x8xf32>
  %3 = nn.gelu_grad %g, %x {approximate = "tanh"} : tensor<4x8xf32>
  // CHECK: %[[S:.*]] = nn.softmax %[[X]] {dim = 1 : i64} : tensor<4x8xf32>
  %4 = nn.softmax %x {dim = 1 : i64} : tensor<4x8xf32>
  // CHECK: nn.softmax_grad %[[G]], %[[S]] {dim = 1 : i64} : tensor<4x8xf32>
  %5 = nn.softmax_grad %g, %4 {dim = 1 : i64} : tensor<4x8xf32>
  // CHECK: %[[L:.*]] = nn.log_softmax %[[X]] {dim = 0 : i64} : tensor<4x8xf32>
  %6 = nn.log_softmax %x {dim = 0 : i64} : tensor<4x8xf32>
  // CHECK: nn.log_softmax_grad %[[G]], %[[L]] {dim = 0 : i64} : tensor<4x8xf32>
  %7 = nn.log_softmax_grad %g, %6 {dim = 0 : i64} : tensor<4x8xf32>
  return
}

// CHECK-LABEL: func.func @masks
// CHECK-SAME: (%[[S:.*]]: tensor<4x2x8x8xf32>, %[[M:.*]]: tensor<1x1x8x8xf32>, %[[Z:.*]]: tensor<f32>)
func.func @masks(%s: tensor<4x2x8x8xf32>, %mask: tensor<1x1x8x8xf32>, %zero: tensor<f32>) {
  // CHECK: %[[C:.*]] = nn.compare %[[M]], %[[Z]] {predicate = "eq"} : (tensor<1x1x8x8xf32>, tensor<f32>) -> tensor<1x1x8x8xf32>
  %0 = nn.compare %mask, %zero {predicate = "eq"} : (tensor<1x1x8x8xf32>, tensor<f32>) -> tensor<1x1x8x8xf32>
  // CHECK: nn.masked_fill %[[S]], %[[C]] {value = 0xFF800000 : f32} : (tensor<4x2x8x8xf32>, tensor<1x1x8x8xf32>) -> tensor<4x2x8x8xf32>
  %1 = nn.masked_fill %s, %0 {value = 0xFF800000 : f32} : (tensor<4x2x8x8xf32>, tensor<1x1x8x8xf32>) -> tensor<4x2x8x8xf32>
  // CHECK: nn.div %[[S]], %[[Z]] : (tensor<4x2x8x8xf32>, tensor<f32>) -> tensor<4x2x8x8xf32>
  %2 = nn.div %s, %zero : (tensor<4x2x8x8xf32>, tensor<f32>) -> tensor<4x2x8x8xf32>
  return
}

// CHECK-LABEL: func.func @reductions
func.func @reductions(%x: tensor<4x8x3xf32>) {
  // CHECK: nn.sum %{{.*}} {dims = array<i64: 1>} : tensor<4x8x3xf32> -> tensor<4x3xf32>
  %0 = nn.sum %x {dims = array<i64: 1>} : tensor<4x8x3xf32> -> tensor<4x3xf32>
  // CHECK: nn.sum %{{.*}} {dims = array<i64: 0, 2>, keepdim} : tensor<4x8x3xf32> -> tensor<1x8x1xf32>
  %1 = nn.sum %x {dims = array<i64: 0, 2>, keepdim} : tensor<4x8x3xf32> -> tensor<1x8x1xf32>
  // CHECK: nn.mean %{{.*}} {dims = array<i64: 0, 1, 2>} : tensor<4x8x3xf32> -> tensor<f32>
  %2 = nn.mean %x {dims = array<i64: 0, 1, 2>} : tensor<4x8x3xf32> -> tensor<f32>
  return
}

// CHECK-LABEL: func.func @shapes
// CHECK-SAME: (%[[X:.*]]: tensor<4x8x96xf32>, %[[R:.*]]: tensor<1x8xf32>, %[[I:.*]]: tensor<2x16xi64>)
func.func @shapes(%x: tensor<4x8x96xf32>, %row: tensor<1x8xf32>, %idx: tensor<2x16xi64>) {
  // CHECK: nn.permute %[[X]] {permutation = array<i64: 1, 0, 2>} : tensor<4x8x96xf32> -> tensor<8x4x96xf32>
  %0 = nn.permute %x {permutation = array<i64: 1, 0, 2>} : tensor<4x8x96xf32> -> tensor<8x4x96xf32>
  // CHECK: nn.broadcast_to %[[R]] : tensor<1x8xf32> to tensor<4x8xf32>
  %1 = nn.broadcast_to %row : tensor<1x8xf32> to tensor<4x8xf32>
  // CHECK: %[[S:.*]] = nn.slice %[[X]] {dim = 2 : i64, end = 96 : i64, start = 1 : i64, step = 2 : i64} : tensor<4x8x96xf32> -> tensor<4x8x48xf32>
  %2 = nn.slice %x {dim = 2 : i64, start = 1 : i64, end = 96 : i64, step = 2 : i64} : tensor<4x8x96xf32> -> tensor<4x8x48xf32>
  // The default step 1 is elided; i64 tensors slice too.
  // CHECK: nn.slice %[[I]] {dim = 1 : i64, end = 8 : i64, start = 0 : i64} : tensor<2x16xi64> -> tensor<2x8xi64>
  %3 = nn.slice %idx {dim = 1 : i64, start = 0 : i64, end = 8 : i64, step = 1 : i64} : tensor<2x16xi64> -> tensor<2x8xi64>
  // CHECK: nn.slice_grad %[[S]] {dim = 2 : i64, end = 96 : i64, start = 1 : i64, step = 2 : i64} : tensor<4x8x48xf32> to tensor<4x8x96xf32>
  %4 = nn.slice_grad %2 {dim = 2 : i64, start = 1 : i64, end = 96 : i64, step = 2 : i64} : tensor<4x8x48xf32> to tensor<4x8x96xf32>
  // CHECK: %[[P:.*]]:3 = nn.split %[[X]] {dim = 2 : i64, sizes = array<i64: 32, 32, 32>} : tensor<4x8x96xf32> -> tensor<4x8x32xf32>, tensor<4x8x32xf32>, tensor<4x8x32xf32>
  %5:3 = nn.split %x {dim = 2 : i64, sizes = array<i64: 32, 32, 32>} : tensor<4x8x96xf32> -> tensor<4x8x32xf32>, tensor<4x8x32xf32>, tensor<4x8x32xf32>
  // CHECK: nn.concat %[[P]]#0, %[[P]]#2 {dim = 1 : i64} : (tensor<4x8x32xf32>, tensor<4x8x32xf32>) -> tensor<4x16x32xf32>
  %6 = nn.concat %5#0, %5#2 {dim = 1 : i64} : (tensor<4x8x32xf32>, tensor<4x8x32xf32>) -> tensor<4x16x32xf32>
  return
}

// CHECK-LABEL: func.func @nll_loss
// CHECK-SAME: (%[[X:.*]]: tensor<6x5xf32>, %[[Y:.*]]: tensor<6xi64>, %[[G:.*]]: tensor<f32>)
func.func @nll_loss(%x: tensor<6x5xf32>, %y: tensor<6xi64>, %g: tensor<f32>) {
  // CHECK: nn.nll_loss %[[X]], %[[Y]] : tensor<6x5xf32>, tensor<6xi64>
  %0 = nn.nll_loss %x, %y : tensor<6x5xf32>, tensor<6xi64>
  // CHECK: nn.nll_loss_grad %[[G]], %[[Y]] : (tensor<f32>, tensor<6xi64>) -> tensor<6x5xf32>
  %1 = nn.nll_loss_grad %g, %y : (tensor<f32>, tensor<6xi64>) -> tensor<6x5xf32>
  return
}

// Batched and N-d forms of the core ops this group relies on.
// CHECK-LABEL: func.func @batched
func.func @batched(%q: tensor<4x2x8x16xf32>, %k: tensor<4x2x8x16xf32>, %x: tensor<4x8x32xf32>,
                   %w: tensor<96x32xf32>, %b: tensor<96xf32>, %m: tensor<16x8xf32>) {
  // CHECK: nn.matmul %{{.*}}, %{{.*}} {transpose_rhs} : (tensor<4x2x8x16xf32>, tensor<4x2x8x16xf32>) -> tensor<4x2x8x8xf32>
  %0 = nn.matmul %q, %k {transpose_rhs} : (tensor<4x2x8x16xf32>, tensor<4x2x8x16xf32>) -> tensor<4x2x8x8xf32>
  // A 2-d operand broadcasts over the batch.
  // CHECK: nn.matmul %{{.*}}, %{{.*}} : (tensor<4x2x8x16xf32>, tensor<16x8xf32>) -> tensor<4x2x8x8xf32>
  %1 = nn.matmul %q, %m : (tensor<4x2x8x16xf32>, tensor<16x8xf32>) -> tensor<4x2x8x8xf32>
  // CHECK: nn.linear %{{.*}}, %{{.*}}, %{{.*}} : (tensor<4x8x32xf32>, tensor<96x32xf32>, tensor<96xf32>) -> tensor<4x8x96xf32>
  %2 = nn.linear %x, %w, %b : (tensor<4x8x32xf32>, tensor<96x32xf32>, tensor<96xf32>) -> tensor<4x8x96xf32>
  return
}
