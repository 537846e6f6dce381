// RUN: %dpc-opt %s -split-input-file --dpc-autodiff | FileCheck %s

// dpc-autodiff appends the backward pass to @train_step: it seeds d loss = 1,
// applies each op's VJP in reverse order, and returns one gradient per used
// parameter after the loss, in parameter-argument order.

// A two-layer MLP: linear, relu, linear, cross_entropy.
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME: %[[X:[^:]*]]: tensor<4x8xf32> {dpc.kind = "input", dpc.name = "x"},
// CHECK-SAME: %[[W1:[^:]*]]: tensor<16x8xf32> {dpc.kind = "parameter", dpc.name = "fc1.weight"},
// CHECK-SAME: %[[B1:[^:]*]]: tensor<16xf32> {dpc.kind = "parameter", dpc.name = "fc1.bias"},
// CHECK-SAME: %[[W2:[^:]*]]: tensor<10x16xf32> {dpc.kind = "parameter", dpc.name = "fc2.weight"},
// CHECK-SAME: %[[B2:[^:]*]]: tensor<10xf32> {dpc.kind = "parameter", dpc.name = "fc2.bias"},
// CHECK-SAME: %[[LABEL:[^:]*]]: tensor<4xi64> {dpc.kind = "label", dpc.name = "label"})
// CHECK-SAME: -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"},
// CHECK-SAME: tensor<16x8xf32> {dpc.kind = "gradient", dpc.name = "fc1.weight", dpc.parameter = "fc1.weight"},
// CHECK-SAME: tensor<16xf32> {dpc.kind = "gradient", dpc.name = "fc1.bias", dpc.parameter = "fc1.bias"},
// CHECK-SAME: tensor<10x16xf32> {dpc.kind = "gradient", dpc.name = "fc2.weight", dpc.parameter = "fc2.weight"},
// CHECK-SAME: tensor<10xf32> {dpc.kind = "gradient", dpc.name = "fc2.bias", dpc.parameter = "fc2.bias"})
// The forward is unchanged.
// CHECK-NEXT: %[[H:.*]] = nn.linear %[[X]], %[[W1]], %[[B1]]
// CHECK-NEXT: %[[A:.*]] = nn.relu %[[H]]
// CHECK-NEXT: %[[Y:.*]] = nn.linear %[[A]], %[[W2]], %[[B2]]
// CHECK-NEXT: %[[LOSS:.*]] = nn.cross_entropy %[[Y]], %[[LABEL]]
// Seed, then the loss's VJP.
// CHECK-NEXT: %[[SEED:.*]] = nn.fill 1.000000e+00 : tensor<f32>
// CHECK-NEXT: %[[DY:.*]] = nn.cross_entropy_grad %[[SEED]], %[[Y]], %[[LABEL]]
// Second linear: dA = dY W2, dW2 = dY^T A, db2 = dY summed over rows.
// CHECK-NEXT: %[[DA:.*]] = nn.matmul %[[DY]], %[[W2]] : (tensor<4x10xf32>, tensor<10x16xf32>) -> tensor<4x16xf32>
// CHECK-NEXT: %[[DW2:.*]] = nn.matmul %[[DY]], %[[A]] {transpose_lhs} : (tensor<4x10xf32>, tensor<4x16xf32>) -> tensor<10x16xf32>
// CHECK-NEXT: %[[DB2:.*]] = nn.sum_to %[[DY]] : tensor<4x10xf32> to tensor<10xf32>
// relu's VJP reads the relu's input.
// CHECK-NEXT: %[[DH:.*]] = nn.relu_grad %[[DA]], %[[H]] : tensor<4x16xf32>
// First linear.
// CHECK: %[[DW1:.*]] = nn.matmul %[[DH]], %[[X]] {transpose_lhs} : (tensor<4x16xf32>, tensor<4x8xf32>) -> tensor<16x8xf32>
// CHECK-NEXT: %[[DB1:.*]] = nn.sum_to %[[DH]] : tensor<4x16xf32> to tensor<16xf32>
// CHECK-NEXT: return %[[LOSS]], %[[DW1]], %[[DB1]], %[[DW2]], %[[DB2]]
func.func @train_step(%x: tensor<4x8xf32> {dpc.kind = "input", dpc.name = "x"},
                      %w1: tensor<16x8xf32> {dpc.kind = "parameter", dpc.name = "fc1.weight"},
                      %b1: tensor<16xf32> {dpc.kind = "parameter", dpc.name = "fc1.bias"},
                      %w2: tensor<10x16xf32> {dpc.kind = "parameter", dpc.name = "fc2.weight"},
                      %b2: tensor<10xf32> {dpc.kind = "parameter", dpc.name = "fc2.bias"},
                      %label: tensor<4xi64> {dpc.kind = "label", dpc.name = "label"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"}) {
  %0 = nn.linear %x, %w1, %b1 : (tensor<4x8xf32>, tensor<16x8xf32>, tensor<16xf32>) -> tensor<4x16xf32>
  %1 = nn.relu %0 : tensor<4x16xf32>
  %2 = nn.linear %1, %w2, %b2 : (tensor<4x16xf32>, tensor<10x16xf32>, tensor<10xf32>) -> tensor<4x10xf32>
  %3 = nn.cross_entropy %2, %label : tensor<4x10xf32>, tensor<4xi64>
  return %3 : tensor<f32>
}

// -----

// A weight applied twice gets one gradient, the sum of both uses'
// contributions; a bias added by a broadcasting nn.add gets its gradient
// summed down to its shape; tanh and sigmoid differentiate through their
// outputs; mse's label gets no gradient.
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME: %[[X:[^:]*]]: tensor<4x8xf32> {dpc.kind = "input", dpc.name = "x"},
// CHECK-SAME: %[[W:[^:]*]]: tensor<8x8xf32> {dpc.kind = "parameter", dpc.name = "shared.weight"},
// CHECK-SAME: %[[B:[^:]*]]: tensor<8xf32> {dpc.kind = "parameter", dpc.name = "bias"},
// CHECK-SAME: %[[T:[^:]*]]: tensor<4x8xf32> {dpc.kind = "label", dpc.name = "label"})
// CHECK-SAME: -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"},
// CHECK-SAME: tensor<8x8xf32> {dpc.kind = "gradient", dpc.name = "shared.weight", dpc.parameter = "shared.weight"},
// CHECK-SAME: tensor<8xf32> {dpc.kind = "gradient", dpc.name = "bias", dpc.parameter = "bias"})
// CHECK-NEXT: %[[H:.*]] = nn.linear %[[X]], %[[W]]
// CHECK-NEXT: %[[TH:.*]] = nn.tanh %[[H]]
// CHECK-NEXT: %[[Z:.*]] = nn.linear %[[TH]], %[[W]]
// CHECK-NEXT: %[[ZB:.*]] = nn.add %[[Z]], %[[B]] : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
// CHECK-NEXT: %[[S:.*]] = nn.sigmoid %[[ZB]]
// CHECK-NEXT: %[[LOSS:.*]] = nn.mse_loss %[[S]], %[[T]]
// CHECK-NEXT: %[[SEED:.*]] = nn.fill 1.000000e+00 : tensor<f32>
// CHECK-NEXT: %[[DS:.*]] = nn.mse_loss_grad %[[SEED]], %[[S]], %[[T]]
// CHECK: %[[DZB:.*]] = nn.sigmoid_grad %[[DS]], %[[S]] : tensor<4x8xf32>
// The add passes the gradient through to its lhs and sums it for the bias.
// CHECK-NEXT: %[[DB:.*]] = nn.sum_to %[[DZB]] : tensor<4x8xf32> to tensor<8xf32>
// Second use of W (the lhs is dZB itself: no sum_to for same-shaped operands).
// CHECK-NEXT: %[[DTH:.*]] = nn.matmul %[[DZB]], %[[W]]
// CHECK-NEXT: %[[DW_SECOND:.*]] = nn.matmul %[[DZB]], %[[TH]] {transpose_lhs}
// CHECK-NEXT: %[[DH:.*]] = nn.tanh_grad %[[DTH]], %[[TH]] : tensor<4x8xf32>
// First use of W.
// CHECK: %[[DW_FIRST:.*]] = nn.matmul %[[DH]], %[[X]] {transpose_lhs}
// CHECK-NEXT: %[[DW:.*]] = nn.add %[[DW_SECOND]], %[[DW_FIRST]] : (tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<8x8xf32>
// CHECK-NEXT: return %[[LOSS]], %[[DW]], %[[DB]] : tensor<f32>, tensor<8x8xf32>, tensor<8xf32>
func.func @train_step(%x: tensor<4x8xf32> {dpc.kind = "input", dpc.name = "x"},
                      %w: tensor<8x8xf32> {dpc.kind = "parameter", dpc.name = "shared.weight"},
                      %b: tensor<8xf32> {dpc.kind = "parameter", dpc.name = "bias"},
                      %t: tensor<4x8xf32> {dpc.kind = "label", dpc.name = "label"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"}) {
  %0 = nn.linear %x, %w : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  %1 = nn.tanh %0 : tensor<4x8xf32>
  %2 = nn.linear %1, %w : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  %3 = nn.add %2, %b : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  %4 = nn.sigmoid %3 : tensor<4x8xf32>
  %5 = nn.mse_loss %4, %t : tensor<4x8xf32>
  return %5 : tensor<f32>
}

// -----

// The VJPs of matmul (with transpose flags), transpose, sub with alpha,
// broadcasting mul and scale.
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME: %[[X:[^:]*]]: tensor<4x8xf32> {dpc.kind = "input", dpc.name = "x"},
// CHECK-SAME: %[[A:[^:]*]]: tensor<8x6xf32> {dpc.kind = "parameter", dpc.name = "a"},
// CHECK-SAME: %[[BT:[^:]*]]: tensor<5x6xf32> {dpc.kind = "parameter", dpc.name = "b"},
// CHECK-SAME: %[[C:[^:]*]]: tensor<4x1xf32> {dpc.kind = "parameter", dpc.name = "c"},
// CHECK-SAME: -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"},
// CHECK-SAME: tensor<8x6xf32> {dpc.kind = "gradient", dpc.name = "a", dpc.parameter = "a"},
// CHECK-SAME: tensor<5x6xf32> {dpc.kind = "gradient", dpc.name = "b", dpc.parameter = "b"},
// CHECK-SAME: tensor<4x1xf32> {dpc.kind = "gradient", dpc.name = "c", dpc.parameter = "c"})
// CHECK-NEXT: %[[XA:.*]] = nn.matmul %[[X]], %[[A]] :
// CHECK-NEXT: %[[P:.*]] = nn.matmul %[[BT]], %[[XA]] {transpose_rhs} :
// CHECK-NEXT: %[[PT:.*]] = nn.transpose %[[P]]
// CHECK-NEXT: %[[D:.*]] = nn.sub %[[PT]], %[[C]] {alpha = 5.000000e-01 : f32}
// CHECK-NEXT: %[[M:.*]] = nn.mul %[[D]], %[[C]]
// CHECK-NEXT: %[[S:.*]] = nn.scale %[[M]], 3.000000e+00
// CHECK-NEXT: %[[LOGITS:.*]] = nn.transpose %[[S]]
// CHECK-NEXT: %[[LOSS:.*]] = nn.cross_entropy %[[LOGITS]]
// CHECK-NEXT: %[[SEED:.*]] = nn.fill 1.000000e+00
// CHECK-NEXT: %[[DLOGITS:.*]] = nn.cross_entropy_grad %[[SEED]], %[[LOGITS]]
// CHECK-NEXT: %[[DS:.*]] = nn.transpose %[[DLOGITS]] : tensor<5x4xf32> -> tensor<4x5xf32>
// CHECK-NEXT: %[[DM:.*]] = nn.scale %[[DS]], 3.000000e+00 : tensor<4x5xf32>
// mul: dD = dM * C (already D's shape), dC = sum_to(dM * D).
// CHECK-NEXT: %[[DD:.*]] = nn.mul %[[DM]], %[[C]] : (tensor<4x5xf32>, tensor<4x1xf32>) -> tensor<4x5xf32>
// CHECK-NEXT: %[[DMC:.*]] = nn.mul %[[DM]], %[[D]] : (tensor<4x5xf32>, tensor<4x5xf32>) -> tensor<4x5xf32>
// CHECK-NEXT: %[[DC1:.*]] = nn.sum_to %[[DMC]] : tensor<4x5xf32> to tensor<4x1xf32>
// sub: dPT = dD, dC = sum_to(-alpha * dD); the two contributions to dC add up.
// CHECK-NEXT: %[[NEG:.*]] = nn.scale %[[DD]], -5.000000e-01 : tensor<4x5xf32>
// CHECK-NEXT: %[[DC2:.*]] = nn.sum_to %[[NEG]] : tensor<4x5xf32> to tensor<4x1xf32>
// CHECK-NEXT: %[[DC:.*]] = nn.add %[[DC1]], %[[DC2]] : (tensor<4x1xf32>, tensor<4x1xf32>) -> tensor<4x1xf32>
// CHECK-NEXT: %[[DP:.*]] = nn.transpose %[[DD]] : tensor<4x5xf32> -> tensor<5x4xf32>
// P = BT XA^T: dBT = dP XA, dXA = dP^T BT.
// CHECK-NEXT: %[[DBT:.*]] = nn.matmul %[[DP]], %[[XA]] : (tensor<5x4xf32>, tensor<4x6xf32>) -> tensor<5x6xf32>
// CHECK-NEXT: %[[DXA:.*]] = nn.matmul %[[DP]], %[[BT]] {transpose_lhs} : (tensor<5x4xf32>, tensor<5x6xf32>) -> tensor<4x6xf32>
// XA = X A: dA = X^T dXA.
// CHECK: %[[DA:.*]] = nn.matmul %[[X]], %[[DXA]] {transpose_lhs} : (tensor<4x8xf32>, tensor<4x6xf32>) -> tensor<8x6xf32>
// CHECK-NEXT: return %[[LOSS]], %[[DA]], %[[DBT]], %[[DC]]
func.func @train_step(%x: tensor<4x8xf32> {dpc.kind = "input", dpc.name = "x"},
                      %a: tensor<8x6xf32> {dpc.kind = "parameter", dpc.name = "a"},
                      %bt: tensor<5x6xf32> {dpc.kind = "parameter", dpc.name = "b"},
                      %c: tensor<4x1xf32> {dpc.kind = "parameter", dpc.name = "c"},
                      %label: tensor<5xi64> {dpc.kind = "label", dpc.name = "label"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"}) {
  %0 = nn.matmul %x, %a : (tensor<4x8xf32>, tensor<8x6xf32>) -> tensor<4x6xf32>
  %1 = nn.matmul %bt, %0 {transpose_rhs} : (tensor<5x6xf32>, tensor<4x6xf32>) -> tensor<5x4xf32>
  %2 = nn.transpose %1 : tensor<5x4xf32> -> tensor<4x5xf32>
  %3 = nn.sub %2, %c {alpha = 0.5 : f32} : (tensor<4x5xf32>, tensor<4x1xf32>) -> tensor<4x5xf32>
  %4 = nn.mul %3, %c : (tensor<4x5xf32>, tensor<4x1xf32>) -> tensor<4x5xf32>
  %5 = nn.scale %4, 3.0 : tensor<4x5xf32>
  %6 = nn.transpose %5 : tensor<4x5xf32> -> tensor<5x4xf32>
  %7 = nn.cross_entropy %6, %label : tensor<5x4xf32>, tensor<5xi64>
  return %7 : tensor<f32>
}

// -----

// The transposed-lhs forms of matmul: C = A^T B and C = A^T B^T.
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME: %[[A:[^:]*]]: tensor<8x4xf32> {dpc.kind = "parameter", dpc.name = "a"},
// CHECK-SAME: %[[B:[^:]*]]: tensor<8x6xf32> {dpc.kind = "parameter", dpc.name = "b"},
// CHECK-SAME: %[[E:[^:]*]]: tensor<5x6xf32> {dpc.kind = "parameter", dpc.name = "e"},
// CHECK-NEXT: %[[C:.*]] = nn.matmul %[[A]], %[[B]] {transpose_lhs}
// CHECK-NEXT: %[[F:.*]] = nn.matmul %[[C]], %[[E]] {transpose_rhs}
// CHECK: %[[DF:.*]] = nn.mse_loss_grad
// F = C E^T: dC = dF E, dE = dF^T C.
// CHECK: %[[DC:.*]] = nn.matmul %[[DF]], %[[E]] : (tensor<4x5xf32>, tensor<5x6xf32>) -> tensor<4x6xf32>
// CHECK-NEXT: %[[DE:.*]] = nn.matmul %[[DF]], %[[C]] {transpose_lhs} : (tensor<4x5xf32>, tensor<4x6xf32>) -> tensor<5x6xf32>
// C = A^T B: dA = B dC^T, dB = A dC.
// CHECK-NEXT: %[[DA:.*]] = nn.matmul %[[B]], %[[DC]] {transpose_rhs} : (tensor<8x6xf32>, tensor<4x6xf32>) -> tensor<8x4xf32>
// CHECK-NEXT: %[[DB:.*]] = nn.matmul %[[A]], %[[DC]] : (tensor<8x4xf32>, tensor<4x6xf32>) -> tensor<8x6xf32>
// CHECK-NEXT: return %{{.*}}, %[[DA]], %[[DB]], %[[DE]]
func.func @train_step(%a: tensor<8x4xf32> {dpc.kind = "parameter", dpc.name = "a"},
                      %b: tensor<8x6xf32> {dpc.kind = "parameter", dpc.name = "b"},
                      %e: tensor<5x6xf32> {dpc.kind = "parameter", dpc.name = "e"},
                      %t: tensor<4x5xf32> {dpc.kind = "label", dpc.name = "label"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"}) {
  %0 = nn.matmul %a, %b {transpose_lhs} : (tensor<8x4xf32>, tensor<8x6xf32>) -> tensor<4x6xf32>
  %1 = nn.matmul %0, %e {transpose_rhs} : (tensor<4x6xf32>, tensor<5x6xf32>) -> tensor<4x5xf32>
  %2 = nn.mse_loss %1, %t : tensor<4x5xf32>
  return %2 : tensor<f32>
}

// -----

// CHECK-LABEL: func.func @train_step(
// CHECK-SAME: %[[A:[^:]*]]: tensor<8x4xf32> {dpc.kind = "parameter", dpc.name = "a"},
// CHECK-SAME: %[[B:[^:]*]]: tensor<6x8xf32> {dpc.kind = "parameter", dpc.name = "b"},
// CHECK-NEXT: %[[C:.*]] = nn.matmul %[[A]], %[[B]] {transpose_lhs, transpose_rhs}
// CHECK: %[[DC:.*]] = nn.mse_loss_grad
// C = A^T B^T: dA = B^T dC^T, dB = dC^T A^T.
// CHECK: %[[DA:.*]] = nn.matmul %[[B]], %[[DC]] {transpose_lhs, transpose_rhs} : (tensor<6x8xf32>, tensor<4x6xf32>) -> tensor<8x4xf32>
// CHECK-NEXT: %[[DB:.*]] = nn.matmul %[[DC]], %[[A]] {transpose_lhs, transpose_rhs} : (tensor<4x6xf32>, tensor<8x4xf32>) -> tensor<6x8xf32>
// CHECK-NEXT: return %{{.*}}, %[[DA]], %[[DB]]
func.func @train_step(%a: tensor<8x4xf32> {dpc.kind = "parameter", dpc.name = "a"},
                      %b: tensor<6x8xf32> {dpc.kind = "parameter", dpc.name = "b"},
                      %t: tensor<4x6xf32> {dpc.kind = "label", dpc.name = "label"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"}) {
  %0 = nn.matmul %a, %b {transpose_lhs, transpose_rhs} : (tensor<8x4xf32>, tensor<6x8xf32>) -> tensor<4x6xf32>
  %1 = nn.mse_loss %0, %t : tensor<4x6xf32>
  return %1 : tensor<f32>
}

// -----

// A parameter the loss does not depend on, whether never read or read only
// by dead computation, is marked dpc.unused and gets no gradient result.
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME: %{{[^:]*}}: tensor<4x8xf32> {dpc.kind = "input", dpc.name = "x"},
// CHECK-SAME: %{{[^:]*}}: tensor<3xf32> {dpc.kind = "parameter", dpc.name = "never_read", dpc.unused},
// CHECK-SAME: %{{[^:]*}}: tensor<8xf32> {dpc.kind = "parameter", dpc.name = "scale"},
// CHECK-SAME: %{{[^:]*}}: tensor<2xf32> {dpc.kind = "parameter", dpc.name = "read_by_dead_code", dpc.unused},
// CHECK-SAME: -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"},
// CHECK-SAME: tensor<8xf32> {dpc.kind = "gradient", dpc.name = "scale", dpc.parameter = "scale"})
// The dead computation itself is erased with the unused gradients.
// CHECK-NOT: nn.relu
// CHECK-NOT: relu_grad
// CHECK: return %{{.*}}, %{{.*}} : tensor<f32>, tensor<8xf32>
func.func @train_step(%x: tensor<4x8xf32> {dpc.kind = "input", dpc.name = "x"},
                      %u: tensor<3xf32> {dpc.kind = "parameter", dpc.name = "never_read"},
                      %s: tensor<8xf32> {dpc.kind = "parameter", dpc.name = "scale"},
                      %d: tensor<2xf32> {dpc.kind = "parameter", dpc.name = "read_by_dead_code"},
                      %t: tensor<4x8xf32> {dpc.kind = "label", dpc.name = "label"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"}) {
  %0 = nn.mul %x, %s : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  %1 = nn.relu %d : tensor<2xf32>
  %2 = nn.mse_loss %0, %t : tensor<4x8xf32>
  return %2 : tensor<f32>
}

// -----

// When no parameter reaches the loss, the step returns only the loss.
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME: %{{[^:]*}}: tensor<4x8xf32> {dpc.kind = "parameter", dpc.name = "p", dpc.unused},
// CHECK-SAME: -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"})
// CHECK: return %{{.*}} : tensor<f32>{{$}}
func.func @train_step(%p: tensor<4x8xf32> {dpc.kind = "parameter", dpc.name = "p"},
                      %x: tensor<4x8xf32> {dpc.kind = "input", dpc.name = "x"},
                      %t: tensor<4x8xf32> {dpc.kind = "label", dpc.name = "label"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"}) {
  %0 = nn.mse_loss %x, %t : tensor<4x8xf32>
  return %0 : tensor<f32>
}

// -----

// An op without a VJP is fine off the active path: nn.copy of an input.
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME: %[[X:[^:]*]]: tensor<4x8xf32> {dpc.kind = "input", dpc.name = "x"},
// CHECK-SAME: %[[S:[^:]*]]: tensor<8xf32> {dpc.kind = "parameter", dpc.name = "s"},
// CHECK-NEXT: %[[XC:.*]] = nn.copy %[[X]]
// CHECK-NEXT: %[[Y:.*]] = nn.mul %[[XC]], %[[S]]
// CHECK: %[[DY:.*]] = nn.mse_loss_grad
// CHECK: %[[DSX:.*]] = nn.mul %[[DY]], %[[XC]]
// CHECK-NEXT: %[[DS:.*]] = nn.sum_to %[[DSX]] : tensor<4x8xf32> to tensor<8xf32>
// CHECK-NEXT: return %{{.*}}, %[[DS]]
func.func @train_step(%x: tensor<4x8xf32> {dpc.kind = "input", dpc.name = "x"},
                      %s: tensor<8xf32> {dpc.kind = "parameter", dpc.name = "s"},
                      %t: tensor<4x8xf32> {dpc.kind = "label", dpc.name = "label"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"}) {
  %0 = nn.copy %x : tensor<4x8xf32>
  %1 = nn.mul %0, %s : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  %2 = nn.mse_loss %1, %t : tensor<4x8xf32>
  return %2 : tensor<f32>
}

// -----

// A parameter used through a reshape gets its gradient reshaped back.
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME: %[[X:[^:]*]]: tensor<2x8xf32> {dpc.kind = "input", dpc.name = "x"},
// CHECK-SAME: %[[W:[^:]*]]: tensor<24xf32> {dpc.kind = "parameter", dpc.name = "w"},
// CHECK-SAME: tensor<24xf32> {dpc.kind = "gradient", dpc.name = "w", dpc.parameter = "w"})
// CHECK-NEXT: %[[W2:.*]] = nn.reshape %[[W]] : tensor<24xf32> to tensor<3x8xf32>
// CHECK-NEXT: %[[Y:.*]] = nn.linear %[[X]], %[[W2]]
// CHECK: %[[DY:.*]] = nn.mse_loss_grad
// CHECK: %[[DW2:.*]] = nn.matmul %[[DY]], %[[X]] {transpose_lhs} : (tensor<2x3xf32>, tensor<2x8xf32>) -> tensor<3x8xf32>
// CHECK-NEXT: %[[DW:.*]] = nn.reshape %[[DW2]] : tensor<3x8xf32> to tensor<24xf32>
// CHECK-NEXT: return %{{.*}}, %[[DW]] : tensor<f32>, tensor<24xf32>
func.func @train_step(%x: tensor<2x8xf32> {dpc.kind = "input", dpc.name = "x"},
                      %w: tensor<24xf32> {dpc.kind = "parameter", dpc.name = "w"},
                      %t: tensor<2x3xf32> {dpc.kind = "label", dpc.name = "label"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"}) {
  %w2 = nn.reshape %w : tensor<24xf32> to tensor<3x8xf32>
  %y = nn.linear %x, %w2 : (tensor<2x8xf32>, tensor<3x8xf32>) -> tensor<2x3xf32>
  %loss = nn.mse_loss %y, %t : tensor<2x3xf32>
  return %loss : tensor<f32>
}
