// RUN: %dpc-opt %s -split-input-file --dpc-autodiff | FileCheck %s

// amax's VJP is torch's (scale_grad_by_count): the gradient, with the
// reduced dim put back, divided by the number of elements equal to the
// maximum and multiplied by the mask of those elements, so ties share it
// evenly.

// CHECK-LABEL: func.func @train_step(
// CHECK-SAME: %[[X:[^:]*]]: tensor<4x8xf32> {dpc.kind = "input", dpc.name = "x"},
// CHECK-SAME: %[[W:[^:]*]]: tensor<3x8xf32> {dpc.kind = "parameter", dpc.name = "fc.weight"},
// CHECK: %[[H:.*]] = nn.linear %[[X]], %[[W]]
// CHECK-NEXT: %[[M:.*]] = nn.amax %[[H]] {dims = array<i64: 1>} : tensor<4x3xf32> -> tensor<4xf32>
// CHECK: %[[DM:.*]] = nn.mse_loss_grad
// CHECK-NEXT: %[[MK:.*]] = nn.reshape %[[M]] : tensor<4xf32> to tensor<4x1xf32>
// CHECK-NEXT: %[[MASK:.*]] = nn.compare %[[H]], %[[MK]] {predicate = "eq"} : (tensor<4x3xf32>, tensor<4x1xf32>) -> tensor<4x3xf32>
// CHECK-NEXT: %[[COUNT:.*]] = nn.sum %[[MASK]] {dims = array<i64: 1>, keepdim} : tensor<4x3xf32> -> tensor<4x1xf32>
// CHECK-NEXT: %[[DMK:.*]] = nn.reshape %[[DM]] : tensor<4xf32> to tensor<4x1xf32>
// CHECK-NEXT: %[[SHARE:.*]] = nn.div %[[DMK]], %[[COUNT]]
// CHECK-NEXT: %[[DH:.*]] = nn.mul %[[SHARE]], %[[MASK]] : (tensor<4x1xf32>, tensor<4x3xf32>) -> tensor<4x3xf32>
// CHECK-NEXT: nn.matmul %[[DH]], %[[X]] {transpose_lhs}
func.func @train_step(
    %x: tensor<4x8xf32> {dpc.kind = "input", dpc.name = "x"},
    %w: tensor<3x8xf32> {dpc.kind = "parameter", dpc.name = "fc.weight"},
    %y: tensor<4xf32> {dpc.kind = "label", dpc.name = "y"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"}) {
  %h = nn.linear %x, %w : (tensor<4x8xf32>, tensor<3x8xf32>) -> tensor<4x3xf32>
  %m = nn.amax %h {dims = array<i64: 1>} : tensor<4x3xf32> -> tensor<4xf32>
  %loss = nn.mse_loss %m, %y : tensor<4xf32>
  return %loss : tensor<f32>
}

// -----

// logsumexp's VJP is torch's logsumexp_backward, grad * exp(x - result)
// with the reduced dim put back; cumsum's is the reverse cumulative sum of
// the gradient (cumsum_backward).

// CHECK-LABEL: func.func @train_step(
// CHECK: %[[H:.*]] = nn.linear
// CHECK-NEXT: %[[C:.*]] = nn.cumsum %[[H]] {dim = 1 : i64} : tensor<4x3xf32>
// CHECK-NEXT: %[[L:.*]] = nn.logsumexp %[[C]] {dims = array<i64: 1>} : tensor<4x3xf32> -> tensor<4xf32>
// CHECK: %[[DL:.*]] = nn.mse_loss_grad
// CHECK-NEXT: %[[LK:.*]] = nn.reshape %[[L]] : tensor<4xf32> to tensor<4x1xf32>
// CHECK-NEXT: %[[SHIFT:.*]] = nn.sub %[[C]], %[[LK]]
// CHECK-NEXT: %[[E:.*]] = nn.exp %[[SHIFT]] : tensor<4x3xf32>
// CHECK-NEXT: %[[DLK:.*]] = nn.reshape %[[DL]] : tensor<4xf32> to tensor<4x1xf32>
// CHECK-NEXT: %[[DC:.*]] = nn.mul %[[DLK]], %[[E]] : (tensor<4x1xf32>, tensor<4x3xf32>) -> tensor<4x3xf32>
// CHECK-NEXT: %[[DH:.*]] = nn.cumsum %[[DC]] {dim = 1 : i64, reverse} : tensor<4x3xf32>
// CHECK-NEXT: nn.matmul %[[DH]], %{{.*}} {transpose_lhs}
func.func @train_step(
    %x: tensor<4x8xf32> {dpc.kind = "input", dpc.name = "x"},
    %w: tensor<3x8xf32> {dpc.kind = "parameter", dpc.name = "fc.weight"},
    %y: tensor<4xf32> {dpc.kind = "label", dpc.name = "y"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"}) {
  %h = nn.linear %x, %w : (tensor<4x8xf32>, tensor<3x8xf32>) -> tensor<4x3xf32>
  %c = nn.cumsum %h {dim = 1 : i64} : tensor<4x3xf32>
  %l = nn.logsumexp %c {dims = array<i64: 1>} : tensor<4x3xf32> -> tensor<4xf32>
  %loss = nn.mse_loss %l, %y : tensor<4xf32>
  return %loss : tensor<f32>
}

// -----

// max(x, dim)'s VJP routes the values' gradient to the indices
// (value_selecting_reduction_backward): nn.max_dim_grad with the forward's
// indices and the reduced dim's size; the indices get no gradient.

// CHECK-LABEL: func.func @train_step(
// CHECK: %[[H:.*]] = nn.linear
// CHECK-NEXT: %[[V:.*]], %[[I:.*]] = nn.max_dim %[[H]] {dim = 1 : i64} : tensor<4x3xf32> -> (tensor<4xf32>, tensor<4xi64>)
// CHECK: %[[DV:.*]] = nn.mse_loss_grad
// CHECK-NEXT: %[[DH:.*]] = nn.max_dim_grad %[[DV]], %[[I]] {dim = 1 : i64, dim_size = 3 : i64} : (tensor<4xf32>, tensor<4xi64>) -> tensor<4x3xf32>
// CHECK-NEXT: nn.matmul %[[DH]], %{{.*}} {transpose_lhs}
func.func @train_step(
    %x: tensor<4x8xf32> {dpc.kind = "input", dpc.name = "x"},
    %w: tensor<3x8xf32> {dpc.kind = "parameter", dpc.name = "fc.weight"},
    %y: tensor<4xf32> {dpc.kind = "label", dpc.name = "y"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"}) {
  %h = nn.linear %x, %w : (tensor<4x8xf32>, tensor<3x8xf32>) -> tensor<4x3xf32>
  %v, %i = nn.max_dim %h {dim = 1 : i64} : tensor<4x3xf32> -> (tensor<4xf32>, tensor<4xi64>)
  %loss = nn.mse_loss %v, %y : tensor<4xf32>
  return %loss : tensor<f32>
}

// -----

// norm2's VJP is torch's norm_backward for p = 2: x * (grad / norm), the
// scale masked to 0 where the norm is 0.

// CHECK-LABEL: func.func @train_step(
// CHECK: %[[H:.*]] = nn.linear
// CHECK-NEXT: %[[N:.*]] = nn.norm2 %[[H]] {dims = array<i64: 1>} : tensor<4x3xf32> -> tensor<4xf32>
// CHECK: %[[DN:.*]] = nn.mse_loss_grad
// CHECK-NEXT: %[[NK:.*]] = nn.reshape %[[N]] : tensor<4xf32> to tensor<4x1xf32>
// CHECK-NEXT: %[[DNK:.*]] = nn.reshape %[[DN]] : tensor<4xf32> to tensor<4x1xf32>
// CHECK-NEXT: %[[S:.*]] = nn.div %[[DNK]], %[[NK]]
// CHECK-NEXT: %[[ZERO:.*]] = nn.fill 0.000000e+00
// CHECK-NEXT: %[[MASK:.*]] = nn.compare %[[NK]], %[[ZERO]] {predicate = "eq"}
// CHECK-NEXT: %[[SM:.*]] = nn.masked_fill %[[S]], %[[MASK]]
// CHECK-NEXT: %[[DH:.*]] = nn.mul %[[H]], %[[SM]] : (tensor<4x3xf32>, tensor<4x1xf32>) -> tensor<4x3xf32>
// CHECK-NEXT: nn.matmul %[[DH]], %{{.*}} {transpose_lhs}
func.func @train_step(
    %x: tensor<4x8xf32> {dpc.kind = "input", dpc.name = "x"},
    %w: tensor<3x8xf32> {dpc.kind = "parameter", dpc.name = "fc.weight"},
    %y: tensor<4xf32> {dpc.kind = "label", dpc.name = "y"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"}) {
  %h = nn.linear %x, %w : (tensor<4x8xf32>, tensor<3x8xf32>) -> tensor<4x3xf32>
  %n = nn.norm2 %h {dims = array<i64: 1>} : tensor<4x3xf32> -> tensor<4xf32>
  %loss = nn.mse_loss %n, %y : tensor<4xf32>
  return %loss : tensor<f32>
}
