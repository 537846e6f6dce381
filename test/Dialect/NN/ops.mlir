// RUN: %dpc-opt %s | %dpc-opt | FileCheck %s
// RUN: %dpc-opt %s --mlir-print-op-generic | %dpc-opt | FileCheck %s

// Every nn op survives printing and parsing, in the custom and the generic
// form; default-valued attributes are elided.

// CHECK-LABEL: func.func @linear
// CHECK-SAME: (%[[X:.*]]: tensor<4x8xf32>, %[[W:.*]]: tensor<16x8xf32>, %[[B:.*]]: tensor<16xf32>)
func.func @linear(%x: tensor<4x8xf32>, %w: tensor<16x8xf32>, %b: tensor<16xf32>)
    -> (tensor<4x16xf32>, tensor<4x16xf32>) {
  // CHECK: nn.linear %[[X]], %[[W]], %[[B]] : (tensor<4x8xf32>, tensor<16x8xf32>, tensor<16xf32>) -> tensor<4x16xf32>
  %0 = nn.linear %x, %w, %b : (tensor<4x8xf32>, tensor<16x8xf32>, tensor<16xf32>) -> tensor<4x16xf32>
  // CHECK: nn.linear %[[X]], %[[W]] : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  %1 = nn.linear %x, %w : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  return %0, %1 : tensor<4x16xf32>, tensor<4x16xf32>
}

// CHECK-LABEL: func.func @matmul
// CHECK-SAME: (%[[A:.*]]: tensor<4x8xf32>, %[[B:.*]]: tensor<8x16xf32>, %[[BT:.*]]: tensor<16x8xf32>, %[[AT:.*]]: tensor<8x4xf32>)
func.func @matmul(%a: tensor<4x8xf32>, %b: tensor<8x16xf32>, %bt: tensor<16x8xf32>,
                  %at: tensor<8x4xf32>) {
  // CHECK: nn.matmul %[[A]], %[[B]] : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
  %0 = nn.matmul %a, %b : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
  // CHECK: nn.matmul %[[A]], %[[BT]] {transpose_rhs} : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  %1 = nn.matmul %a, %bt {transpose_rhs} : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  // CHECK: nn.matmul %[[AT]], %[[B]] {transpose_lhs} : (tensor<8x4xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
  %2 = nn.matmul %at, %b {transpose_lhs} : (tensor<8x4xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
  // CHECK: nn.matmul %[[AT]], %[[BT]] {transpose_lhs, transpose_rhs} : (tensor<8x4xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  %3 = nn.matmul %at, %bt {transpose_lhs, transpose_rhs} : (tensor<8x4xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  return
}

// CHECK-LABEL: func.func @transpose
func.func @transpose(%a: tensor<4x8xf32>) -> tensor<8x4xf32> {
  // CHECK: nn.transpose %{{.*}} : tensor<4x8xf32> -> tensor<8x4xf32>
  %0 = nn.transpose %a : tensor<4x8xf32> -> tensor<8x4xf32>
  return %0 : tensor<8x4xf32>
}

// CHECK-LABEL: func.func @binary
// CHECK-SAME: (%[[A:.*]]: tensor<4x8xf32>, %[[B:.*]]: tensor<8xf32>, %[[C:.*]]: tensor<4x1xf32>)
func.func @binary(%a: tensor<4x8xf32>, %b: tensor<8xf32>, %c: tensor<4x1xf32>) {
  // CHECK: nn.add %[[A]], %[[B]] : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  %0 = nn.add %a, %b : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  // CHECK: nn.add %[[A]], %[[B]] {alpha = 2.500000e+00 : f32} : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  %1 = nn.add %a, %b {alpha = 2.5 : f32} : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  // The default alpha of 1 is not printed.
  // CHECK: nn.add %[[A]], %[[A]] : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %2 = nn.add %a, %a {alpha = 1.0 : f32} : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  // CHECK: nn.sub %[[C]], %[[B]] : (tensor<4x1xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  %3 = nn.sub %c, %b : (tensor<4x1xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  // CHECK: nn.sub %[[A]], %[[C]] {alpha = -5.000000e-01 : f32} : (tensor<4x8xf32>, tensor<4x1xf32>) -> tensor<4x8xf32>
  %4 = nn.sub %a, %c {alpha = -0.5 : f32} : (tensor<4x8xf32>, tensor<4x1xf32>) -> tensor<4x8xf32>
  // CHECK: nn.mul %[[B]], %[[A]] : (tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %5 = nn.mul %b, %a : (tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  return
}

// CHECK-LABEL: func.func @unary
// CHECK-SAME: (%[[A:.*]]: tensor<4x8xf32>)
func.func @unary(%a: tensor<4x8xf32>) {
  // CHECK: nn.relu %[[A]] : tensor<4x8xf32>
  %0 = nn.relu %a : tensor<4x8xf32>
  // CHECK: nn.tanh %[[A]] : tensor<4x8xf32>
  %1 = nn.tanh %a : tensor<4x8xf32>
  // CHECK: nn.sigmoid %[[A]] : tensor<4x8xf32>
  %2 = nn.sigmoid %a : tensor<4x8xf32>
  // CHECK: nn.scale %[[A]], -2.000000e+00 : tensor<4x8xf32>
  %3 = nn.scale %a, -2.0 : tensor<4x8xf32>
  return
}

// CHECK-LABEL: func.func @losses
// CHECK-SAME: (%[[LOGITS:.*]]: tensor<4x10xf32>, %[[LABELS:.*]]: tensor<4xi64>, %[[Y:.*]]: tensor<4x10xf32>)
func.func @losses(%logits: tensor<4x10xf32>, %labels: tensor<4xi64>, %y: tensor<4x10xf32>)
    -> (tensor<f32>, tensor<f32>) {
  // CHECK: nn.cross_entropy %[[LOGITS]], %[[LABELS]] : tensor<4x10xf32>, tensor<4xi64>
  %0 = nn.cross_entropy %logits, %labels : tensor<4x10xf32>, tensor<4xi64>
  // CHECK: nn.mse_loss %[[LOGITS]], %[[Y]] : tensor<4x10xf32>
  %1 = nn.mse_loss %logits, %y : tensor<4x10xf32>
  return %0, %1 : tensor<f32>, tensor<f32>
}

// CHECK-LABEL: func.func @backward
// CHECK-SAME: (%[[G:.*]]: tensor<4x10xf32>, %[[X:.*]]: tensor<4x10xf32>, %[[DL:.*]]: tensor<f32>, %[[LABELS:.*]]: tensor<4xi64>, %[[Y:.*]]: tensor<4x10xf32>)
func.func @backward(%g: tensor<4x10xf32>, %x: tensor<4x10xf32>, %dl: tensor<f32>,
                    %labels: tensor<4xi64>, %y: tensor<4x10xf32>) {
  // CHECK: nn.relu_grad %[[G]], %[[X]] : tensor<4x10xf32>
  %0 = nn.relu_grad %g, %x : tensor<4x10xf32>
  // CHECK: nn.tanh_grad %[[G]], %[[X]] : tensor<4x10xf32>
  %1 = nn.tanh_grad %g, %x : tensor<4x10xf32>
  // CHECK: nn.sigmoid_grad %[[G]], %[[X]] : tensor<4x10xf32>
  %2 = nn.sigmoid_grad %g, %x : tensor<4x10xf32>
  // CHECK: nn.cross_entropy_grad %[[DL]], %[[X]], %[[LABELS]] : (tensor<f32>, tensor<4x10xf32>, tensor<4xi64>) -> tensor<4x10xf32>
  %3 = nn.cross_entropy_grad %dl, %x, %labels : (tensor<f32>, tensor<4x10xf32>, tensor<4xi64>) -> tensor<4x10xf32>
  // CHECK: nn.mse_loss_grad %[[DL]], %[[X]], %[[Y]] : (tensor<f32>, tensor<4x10xf32>, tensor<4x10xf32>) -> tensor<4x10xf32>
  %4 = nn.mse_loss_grad %dl, %x, %y : (tensor<f32>, tensor<4x10xf32>, tensor<4x10xf32>) -> tensor<4x10xf32>
  return
}

// CHECK-LABEL: func.func @sum_to
func.func @sum_to(%a: tensor<4x8xf32>) {
  // CHECK: nn.sum_to %{{.*}} : tensor<4x8xf32> to tensor<8xf32>
  %0 = nn.sum_to %a : tensor<4x8xf32> to tensor<8xf32>
  // CHECK: nn.sum_to %{{.*}} : tensor<4x8xf32> to tensor<4x1xf32>
  %1 = nn.sum_to %a : tensor<4x8xf32> to tensor<4x1xf32>
  // CHECK: nn.sum_to %{{.*}} : tensor<4x8xf32> to tensor<f32>
  %2 = nn.sum_to %a : tensor<4x8xf32> to tensor<f32>
  return
}

// CHECK-LABEL: func.func @fill_copy
func.func @fill_copy(%a: tensor<4x8xf32>) {
  // CHECK: nn.fill 1.000000e+00 : tensor<f32>
  %0 = nn.fill 1.0 : tensor<f32>
  // CHECK: nn.fill 0.000000e+00 : tensor<4x8xf32>
  %1 = nn.fill 0.0 : tensor<4x8xf32>
  // CHECK: nn.copy %{{.*}} : tensor<4x8xf32>
  %2 = nn.copy %a : tensor<4x8xf32>
  return
}

// CHECK-LABEL: func.func @sgd_update
// CHECK-SAME: (%[[P:.*]]: tensor<16x8xf32>, %[[G:.*]]: tensor<16x8xf32>, %[[BUF:.*]]: tensor<16x8xf32>)
func.func @sgd_update(%p: tensor<16x8xf32>, %g: tensor<16x8xf32>, %buf: tensor<16x8xf32>) {
  // Plain SGD: no buffer, one result; zero momentum, dampening and weight
  // decay are defaults and not printed.
  // CHECK: nn.sgd_update %[[P]], %[[G]] {lr = 1.000000e-01 : f32} : (tensor<16x8xf32>, tensor<16x8xf32>) -> tensor<16x8xf32>
  %0 = nn.sgd_update %p, %g {lr = 0.1 : f32} : (tensor<16x8xf32>, tensor<16x8xf32>) -> tensor<16x8xf32>
  // CHECK: nn.sgd_update %[[P]], %[[G]] {lr = 1.000000e-01 : f32, weight_decay = 5.000000e-04 : f32} : (tensor<16x8xf32>, tensor<16x8xf32>) -> tensor<16x8xf32>
  %1 = nn.sgd_update %p, %g {lr = 0.1 : f32, momentum = 0.0 : f32, weight_decay = 5.0e-4 : f32}
      : (tensor<16x8xf32>, tensor<16x8xf32>) -> tensor<16x8xf32>
  // Momentum: the buffer is an operand and a result.
  // CHECK: %{{.*}}, %{{.*}} = nn.sgd_update %[[P]], %[[G]], %[[BUF]] {dampening = 1.000000e-01 : f32, lr = 1.000000e-01 : f32, momentum = 0.899999976 : f32} : (tensor<16x8xf32>, tensor<16x8xf32>, tensor<16x8xf32>) -> (tensor<16x8xf32>, tensor<16x8xf32>)
  %2:2 = nn.sgd_update %p, %g, %buf {lr = 0.1 : f32, momentum = 0.9 : f32, dampening = 0.1 : f32}
      : (tensor<16x8xf32>, tensor<16x8xf32>, tensor<16x8xf32>) -> (tensor<16x8xf32>, tensor<16x8xf32>)
  // CHECK: %{{.*}}, %{{.*}} = nn.sgd_update %[[P]], %[[G]], %[[BUF]] {lr = 1.000000e-01 : f32, momentum = 0.899999976 : f32, nesterov} : (tensor<16x8xf32>, tensor<16x8xf32>, tensor<16x8xf32>) -> (tensor<16x8xf32>, tensor<16x8xf32>)
  %3:2 = nn.sgd_update %p, %g, %buf {lr = 0.1 : f32, momentum = 0.9 : f32, nesterov}
      : (tensor<16x8xf32>, tensor<16x8xf32>, tensor<16x8xf32>) -> (tensor<16x8xf32>, tensor<16x8xf32>)
  return
}

// CHECK-LABEL: func.func @reshape
// CHECK-SAME: (%[[X:.*]]: tensor<2x3x4xf32>, %[[L:.*]]: tensor<2x3xi64>)
func.func @reshape(%x: tensor<2x3x4xf32>, %l: tensor<2x3xi64>) -> (tensor<6x4xf32>, tensor<6xi64>) {
  // CHECK: nn.reshape %[[X]] : tensor<2x3x4xf32> to tensor<6x4xf32>
  %0 = nn.reshape %x : tensor<2x3x4xf32> to tensor<6x4xf32>
  // Integer tensors (class labels) can be reshaped too.
  // CHECK: nn.reshape %[[L]] : tensor<2x3xi64> to tensor<6xi64>
  %1 = nn.reshape %l : tensor<2x3xi64> to tensor<6xi64>
  return %0, %1 : tensor<6x4xf32>, tensor<6xi64>
}
