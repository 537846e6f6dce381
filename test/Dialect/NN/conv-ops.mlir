// RUN: %dpc-opt %s | %dpc-opt | FileCheck %s
// RUN: %dpc-opt %s --mlir-print-op-generic | %dpc-opt | FileCheck %s

// The convolution, normalization and pooling ops survive printing and
// parsing, in the custom and the generic form; default-valued attributes
// (groups = 1, increment's amount = 1) are elided.

// CHECK-LABEL: func.func @conv2d
// CHECK-SAME: (%[[X:.*]]: tensor<2x4x9x9xf32>, %[[W:.*]]: tensor<6x2x3x3xf32>, %[[B:.*]]: tensor<6xf32>, %[[DY:.*]]: tensor<2x6x4x4xf32>, %[[W1:.*]]: tensor<6x4x1x1xf32>)
func.func @conv2d(%x: tensor<2x4x9x9xf32>, %w: tensor<6x2x3x3xf32>, %b: tensor<6xf32>,
                  %dy: tensor<2x6x4x4xf32>, %w1: tensor<6x4x1x1xf32>) {
  // CHECK: nn.conv2d %[[X]], %[[W]], %[[B]] {dilation = array<i64: 1, 1>, groups = 2 : i64, padding = array<i64: 1, 1>, stride = array<i64: 2, 2>} : (tensor<2x4x9x9xf32>, tensor<6x2x3x3xf32>, tensor<6xf32>) -> tensor<2x6x5x5xf32>
  %0 = nn.conv2d %x, %w, %b {stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, dilation = array<i64: 1, 1>, groups = 2 : i64}
      : (tensor<2x4x9x9xf32>, tensor<6x2x3x3xf32>, tensor<6xf32>) -> tensor<2x6x5x5xf32>
  // Dilation 2 makes the 3x3 kernel span 5x5: (9 - 5) / 1 + 1 = 5.
  // CHECK: nn.conv2d %[[X]], %[[W]] {dilation = array<i64: 2, 2>, groups = 2 : i64, padding = array<i64: 0, 0>, stride = array<i64: 1, 1>} : (tensor<2x4x9x9xf32>, tensor<6x2x3x3xf32>) -> tensor<2x6x5x5xf32>
  %1 = nn.conv2d %x, %w {stride = array<i64: 1, 1>, padding = array<i64: 0, 0>, dilation = array<i64: 2, 2>, groups = 2 : i64}
      : (tensor<2x4x9x9xf32>, tensor<6x2x3x3xf32>) -> tensor<2x6x5x5xf32>
  // groups = 1 is the default.
  // CHECK: nn.conv2d %[[X]], %[[W1]] {dilation = array<i64: 1, 1>, padding = array<i64: 0, 0>, stride = array<i64: 1, 1>} : (tensor<2x4x9x9xf32>, tensor<6x4x1x1xf32>) -> tensor<2x6x9x9xf32>
  %2 = nn.conv2d %x, %w1 {stride = array<i64: 1, 1>, padding = array<i64: 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64}
      : (tensor<2x4x9x9xf32>, tensor<6x4x1x1xf32>) -> tensor<2x6x9x9xf32>
  // CHECK: nn.conv2d_input_grad %[[DY]], %[[W]] {dilation = array<i64: 1, 1>, groups = 2 : i64, padding = array<i64: 0, 0>, stride = array<i64: 2, 2>} : (tensor<2x6x4x4xf32>, tensor<6x2x3x3xf32>) -> tensor<2x4x9x9xf32>
  %3 = nn.conv2d_input_grad %dy, %w {stride = array<i64: 2, 2>, padding = array<i64: 0, 0>, dilation = array<i64: 1, 1>, groups = 2 : i64}
      : (tensor<2x6x4x4xf32>, tensor<6x2x3x3xf32>) -> tensor<2x4x9x9xf32>
  // A strided convolution maps several input sizes to one output size: the
  // result type says which.
  // CHECK: nn.conv2d_input_grad %[[DY]], %[[W]] {{.*}} -> tensor<2x4x10x10xf32>
  %4 = nn.conv2d_input_grad %dy, %w {stride = array<i64: 2, 2>, padding = array<i64: 0, 0>, dilation = array<i64: 1, 1>, groups = 2 : i64}
      : (tensor<2x6x4x4xf32>, tensor<6x2x3x3xf32>) -> tensor<2x4x10x10xf32>
  // CHECK: nn.conv2d_weight_grad %[[DY]], %[[X]] {dilation = array<i64: 1, 1>, groups = 2 : i64, padding = array<i64: 0, 0>, stride = array<i64: 2, 2>} : (tensor<2x6x4x4xf32>, tensor<2x4x9x9xf32>) -> tensor<6x2x3x3xf32>
  %5 = nn.conv2d_weight_grad %dy, %x {stride = array<i64: 2, 2>, padding = array<i64: 0, 0>, dilation = array<i64: 1, 1>, groups = 2 : i64}
      : (tensor<2x6x4x4xf32>, tensor<2x4x9x9xf32>) -> tensor<6x2x3x3xf32>
  return
}

// CHECK-LABEL: func.func @batch_norm
// CHECK-SAME: (%[[X:.*]]: tensor<8x3x4x4xf32>, %[[W:.*]]: tensor<3xf32>, %[[B:.*]]: tensor<3xf32>, %[[RM:.*]]: tensor<3xf32>, %[[RV:.*]]: tensor<3xf32>, %[[DY:.*]]: tensor<8x3x4x4xf32>, %[[X1:.*]]: tensor<16x3xf32>, %[[N:.*]]: tensor<i64>)
func.func @batch_norm(%x: tensor<8x3x4x4xf32>, %w: tensor<3xf32>, %b: tensor<3xf32>,
                      %rm: tensor<3xf32>, %rv: tensor<3xf32>, %dy: tensor<8x3x4x4xf32>,
                      %x1: tensor<16x3xf32>, %n: tensor<i64>) {
  // CHECK: %[[Y:.*]], %[[MEAN:.*]], %[[INVSTD:.*]], %{{.*}}, %{{.*}} = nn.batch_norm %[[X]], %[[W]], %[[B]], %[[RM]], %[[RV]] {eps = 1.000000e-05 : f64, momentum = 1.000000e-01 : f64} : (tensor<8x3x4x4xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> (tensor<8x3x4x4xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>)
  %y, %mean, %invstd, %nrm, %nrv = nn.batch_norm %x, %w, %b, %rm, %rv {momentum = 0.1, eps = 1.0e-5}
      : (tensor<8x3x4x4xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>)
      -> (tensor<8x3x4x4xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>)
  // BatchNorm1d: [N, C].
  // CHECK: nn.batch_norm %[[X1]], {{.*}} -> (tensor<16x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>)
  %y1:5 = nn.batch_norm %x1, %w, %b, %rm, %rv {momentum = 0.0, eps = 0.0}
      : (tensor<16x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>)
      -> (tensor<16x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>)
  // CHECK: nn.batch_norm_grad %[[DY]], %[[X]], %[[W]], %[[MEAN]], %[[INVSTD]] : (tensor<8x3x4x4xf32>, tensor<8x3x4x4xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> (tensor<8x3x4x4xf32>, tensor<3xf32>, tensor<3xf32>)
  %dx, %dw, %db = nn.batch_norm_grad %dy, %x, %w, %mean, %invstd
      : (tensor<8x3x4x4xf32>, tensor<8x3x4x4xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>)
      -> (tensor<8x3x4x4xf32>, tensor<3xf32>, tensor<3xf32>)
  // CHECK: nn.increment %[[N]] : tensor<i64>
  %n1 = nn.increment %n {amount = 1 : i64} : tensor<i64>
  // CHECK: nn.increment %[[N]] {amount = 3 : i64} : tensor<i64>
  %n2 = nn.increment %n {amount = 3 : i64} : tensor<i64>
  return
}

// CHECK-LABEL: func.func @pooling
// CHECK-SAME: (%[[X:.*]]: tensor<2x3x9x9xf32>, %[[DY:.*]]: tensor<2x3x5x5xf32>, %[[DY4:.*]]: tensor<2x3x4x4xf32>, %[[DA:.*]]: tensor<2x3x2x3xf32>)
func.func @pooling(%x: tensor<2x3x9x9xf32>, %dy: tensor<2x3x5x5xf32>, %dy4: tensor<2x3x4x4xf32>,
                   %da: tensor<2x3x2x3xf32>) {
  // CHECK: nn.max_pool2d %[[X]] {dilation = array<i64: 1, 1>, kernel_size = array<i64: 3, 3>, padding = array<i64: 1, 1>, stride = array<i64: 2, 2>} : tensor<2x3x9x9xf32> -> tensor<2x3x5x5xf32>
  %0 = nn.max_pool2d %x {kernel_size = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, dilation = array<i64: 1, 1>}
      : tensor<2x3x9x9xf32> -> tensor<2x3x5x5xf32>
  // ceil_mode keeps a last, partial window: ceil((9 - 2) / 2) + 1 = 5.
  // CHECK: nn.max_pool2d %[[X]] {ceil_mode, dilation = array<i64: 1, 1>, kernel_size = array<i64: 2, 2>, padding = array<i64: 0, 0>, stride = array<i64: 2, 2>} : tensor<2x3x9x9xf32> -> tensor<2x3x5x5xf32>
  %1 = nn.max_pool2d %x {kernel_size = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0>, dilation = array<i64: 1, 1>, ceil_mode}
      : tensor<2x3x9x9xf32> -> tensor<2x3x5x5xf32>
  // CHECK: nn.max_pool2d_grad %[[DY]], %[[X]] {{.*}} : (tensor<2x3x5x5xf32>, tensor<2x3x9x9xf32>) -> tensor<2x3x9x9xf32>
  %2 = nn.max_pool2d_grad %dy, %x {kernel_size = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, dilation = array<i64: 1, 1>}
      : (tensor<2x3x5x5xf32>, tensor<2x3x9x9xf32>) -> tensor<2x3x9x9xf32>
  // CHECK: nn.avg_pool2d %[[X]] {count_include_pad, kernel_size = array<i64: 3, 3>, padding = array<i64: 1, 1>, stride = array<i64: 2, 2>} : tensor<2x3x9x9xf32> -> tensor<2x3x5x5xf32>
  %3 = nn.avg_pool2d %x {kernel_size = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, count_include_pad}
      : tensor<2x3x9x9xf32> -> tensor<2x3x5x5xf32>
  // CHECK: nn.avg_pool2d %[[X]] {divisor_override = 4 : i64, kernel_size = array<i64: 2, 2>, padding = array<i64: 0, 0>, stride = array<i64: 2, 2>} : tensor<2x3x9x9xf32> -> tensor<2x3x4x4xf32>
  %4 = nn.avg_pool2d %x {kernel_size = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0>, divisor_override = 4 : i64}
      : tensor<2x3x9x9xf32> -> tensor<2x3x4x4xf32>
  // CHECK: nn.avg_pool2d_grad %[[DY4]] {kernel_size = array<i64: 2, 2>, padding = array<i64: 0, 0>, stride = array<i64: 2, 2>} : tensor<2x3x4x4xf32> -> tensor<2x3x9x9xf32>
  %5 = nn.avg_pool2d_grad %dy4 {kernel_size = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0>}
      : tensor<2x3x4x4xf32> -> tensor<2x3x9x9xf32>
  // CHECK: nn.adaptive_avg_pool2d %[[X]] {output_size = array<i64: 2, 3>} : tensor<2x3x9x9xf32> -> tensor<2x3x2x3xf32>
  %6 = nn.adaptive_avg_pool2d %x {output_size = array<i64: 2, 3>} : tensor<2x3x9x9xf32> -> tensor<2x3x2x3xf32>
  // CHECK: nn.adaptive_avg_pool2d_grad %[[DA]] : tensor<2x3x2x3xf32> -> tensor<2x3x9x9xf32>
  %7 = nn.adaptive_avg_pool2d_grad %da : tensor<2x3x2x3xf32> -> tensor<2x3x9x9xf32>
  return
}
