// RUN: %dpc-opt %s -split-input-file --dpc-autodiff --canonicalize | FileCheck %s

// The VJPs of the CNN ops, as dpc runs them (dead backward ops of the
// input, which has no gradient, are cleaned up by the canonicalizer).
// Updated buffers (BatchNorm's running statistics and num_batches_tracked)
// stay the last results, after the gradients; they carry no gradient.

// CHECK-LABEL: func.func @train_step(
// CHECK-SAME: %[[X:[^:]*]]: tensor<2x3x8x8xf32> {dpc.kind = "input", dpc.name = "x"},
// CHECK-SAME: %[[W:[^:]*]]: tensor<4x3x3x3xf32> {dpc.kind = "parameter", dpc.name = "conv.weight"},
// CHECK-SAME: %[[B:[^:]*]]: tensor<4xf32> {dpc.kind = "parameter", dpc.name = "conv.bias"},
// CHECK-SAME: %[[GAMMA:[^:]*]]: tensor<4xf32> {dpc.kind = "parameter", dpc.name = "bn.weight"},
// CHECK-SAME: %[[BETA:[^:]*]]: tensor<4xf32> {dpc.kind = "parameter", dpc.name = "bn.bias"},
// CHECK-SAME: %[[FCW:[^:]*]]: tensor<10x4xf32> {dpc.kind = "parameter", dpc.name = "fc.weight"},
// CHECK-SAME: %[[RM:[^:]*]]: tensor<4xf32> {dpc.kind = "buffer", dpc.name = "bn.running_mean"},
// CHECK-SAME: %[[RV:[^:]*]]: tensor<4xf32> {dpc.kind = "buffer", dpc.name = "bn.running_var"},
// CHECK-SAME: %[[N:[^:]*]]: tensor<i64> {dpc.kind = "buffer", dpc.name = "bn.num_batches_tracked"},
// CHECK-SAME: %[[LABEL:[^:]*]]: tensor<2xi64>
// CHECK-SAME: -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"},
// CHECK-SAME: tensor<4x3x3x3xf32> {dpc.kind = "gradient", dpc.name = "conv.weight", dpc.parameter = "conv.weight"},
// CHECK-SAME: tensor<4xf32> {dpc.kind = "gradient", dpc.name = "conv.bias", dpc.parameter = "conv.bias"},
// CHECK-SAME: tensor<4xf32> {dpc.kind = "gradient", dpc.name = "bn.weight", dpc.parameter = "bn.weight"},
// CHECK-SAME: tensor<4xf32> {dpc.kind = "gradient", dpc.name = "bn.bias", dpc.parameter = "bn.bias"},
// CHECK-SAME: tensor<10x4xf32> {dpc.kind = "gradient", dpc.name = "fc.weight", dpc.parameter = "fc.weight"},
// CHECK-SAME: tensor<4xf32> {dpc.kind = "buffer", dpc.name = "bn.running_mean"},
// CHECK-SAME: tensor<4xf32> {dpc.kind = "buffer", dpc.name = "bn.running_var"},
// CHECK-SAME: tensor<i64> {dpc.kind = "buffer", dpc.name = "bn.num_batches_tracked"})
// CHECK: %[[C:.*]] = nn.conv2d %[[X]], %[[W]], %[[B]]
// CHECK: %[[N1:.*]] = nn.increment %[[N]]
// CHECK: %[[Y:[^,]*]], %[[MEAN:[^,]*]], %[[INVSTD:[^,]*]], %[[RM1:[^,]*]], %[[RV1:[^ ]*]] = nn.batch_norm %[[C]], %[[GAMMA]], %[[BETA]], %[[RM]], %[[RV]]
// CHECK: %[[R:.*]] = nn.relu %[[Y]]
// CHECK: %[[M:.*]] = nn.max_pool2d %[[R]]
// CHECK: %[[F:.*]] = nn.reshape
// CHECK: %[[DLOGITS:.*]] = nn.cross_entropy_grad
// CHECK: %[[DF:.*]] = nn.matmul %[[DLOGITS]], %[[FCW]]
// CHECK: %[[DFCW:.*]] = nn.matmul %[[DLOGITS]], %[[F]] {transpose_lhs}
// The pools' VJPs, in reverse: the view, the adaptive pool, the average
// pool (result type = the forward input's), the max pool (recomputing the
// argmax from its input).
// CHECK: %[[DG:.*]] = nn.reshape %[[DF]] : tensor<2x4xf32> to tensor<2x4x1x1xf32>
// CHECK: %[[DA:.*]] = nn.adaptive_avg_pool2d_grad %[[DG]] : tensor<2x4x1x1xf32> -> tensor<2x4x4x4xf32>
// CHECK: %[[DM:.*]] = nn.avg_pool2d_grad %[[DA]] {kernel_size = array<i64: 3, 3>, padding = array<i64: 1, 1>, stride = array<i64: 1, 1>} : tensor<2x4x4x4xf32> -> tensor<2x4x4x4xf32>
// CHECK: %[[DR:.*]] = nn.max_pool2d_grad %[[DM]], %[[R]] {dilation = array<i64: 1, 1>, kernel_size = array<i64: 2, 2>, padding = array<i64: 0, 0>, stride = array<i64: 2, 2>}
// CHECK: %[[DY:.*]] = nn.relu_grad %[[DR]], %[[Y]]
// batch_norm's VJP uses the saved statistics; the running statistics get
// no gradient.
// CHECK: %[[DC:[^,]*]], %[[DGAMMA:[^,]*]], %[[DBETA:[^ ]*]] = nn.batch_norm_grad %[[DY]], %[[C]], %[[GAMMA]], %[[MEAN]], %[[INVSTD]]
// conv2d: the weight gradient, and the bias gradient summed over N, OH, OW.
// CHECK: %[[DW:.*]] = nn.conv2d_weight_grad %[[DC]], %[[X]] {dilation = array<i64: 1, 1>, padding = array<i64: 1, 1>, stride = array<i64: 1, 1>} : (tensor<2x4x8x8xf32>, tensor<2x3x8x8xf32>) -> tensor<4x3x3x3xf32>
// CHECK: %[[DB3:.*]] = nn.sum_to %[[DC]] : tensor<2x4x8x8xf32> to tensor<4x1x1xf32>
// CHECK: %[[DB:.*]] = nn.reshape %[[DB3]] : tensor<4x1x1xf32> to tensor<4xf32>
// CHECK-NOT: nn.conv2d_input_grad
// CHECK: return %{{.*}}, %[[DW]], %[[DB]], %[[DGAMMA]], %[[DBETA]], %[[DFCW]], %[[RM1]], %[[RV1]], %[[N1]]
func.func @train_step(%x: tensor<2x3x8x8xf32> {dpc.kind = "input", dpc.name = "x"},
                      %w: tensor<4x3x3x3xf32> {dpc.kind = "parameter", dpc.name = "conv.weight"},
                      %b: tensor<4xf32> {dpc.kind = "parameter", dpc.name = "conv.bias"},
                      %gamma: tensor<4xf32> {dpc.kind = "parameter", dpc.name = "bn.weight"},
                      %beta: tensor<4xf32> {dpc.kind = "parameter", dpc.name = "bn.bias"},
                      %fcw: tensor<10x4xf32> {dpc.kind = "parameter", dpc.name = "fc.weight"},
                      %rm: tensor<4xf32> {dpc.kind = "buffer", dpc.name = "bn.running_mean"},
                      %rv: tensor<4xf32> {dpc.kind = "buffer", dpc.name = "bn.running_var"},
                      %n: tensor<i64> {dpc.kind = "buffer", dpc.name = "bn.num_batches_tracked"},
                      %label: tensor<2xi64> {dpc.kind = "label", dpc.name = "label"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"},
        tensor<4xf32> {dpc.kind = "buffer", dpc.name = "bn.running_mean"},
        tensor<4xf32> {dpc.kind = "buffer", dpc.name = "bn.running_var"},
        tensor<i64> {dpc.kind = "buffer", dpc.name = "bn.num_batches_tracked"}) {
  %c = nn.conv2d %x, %w, %b {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, dilation = array<i64: 1, 1>}
      : (tensor<2x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<2x4x8x8xf32>
  %n1 = nn.increment %n : tensor<i64>
  %y, %mean, %invstd, %rm1, %rv1 = nn.batch_norm %c, %gamma, %beta, %rm, %rv {momentum = 0.1, eps = 1.0e-5}
      : (tensor<2x4x8x8xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
      -> (tensor<2x4x8x8xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
  %r = nn.relu %y : tensor<2x4x8x8xf32>
  %m = nn.max_pool2d %r {kernel_size = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0>, dilation = array<i64: 1, 1>}
      : tensor<2x4x8x8xf32> -> tensor<2x4x4x4xf32>
  %a = nn.avg_pool2d %m {kernel_size = array<i64: 3, 3>, stride = array<i64: 1, 1>, padding = array<i64: 1, 1>}
      : tensor<2x4x4x4xf32> -> tensor<2x4x4x4xf32>
  %g = nn.adaptive_avg_pool2d %a {output_size = array<i64: 1, 1>} : tensor<2x4x4x4xf32> -> tensor<2x4x1x1xf32>
  %f = nn.reshape %g : tensor<2x4x1x1xf32> to tensor<2x4xf32>
  %logits = nn.linear %f, %fcw : (tensor<2x4xf32>, tensor<10x4xf32>) -> tensor<2x10xf32>
  %loss = nn.cross_entropy %logits, %label : tensor<2x10xf32>, tensor<2xi64>
  return %loss, %rm1, %rv1, %n1 : tensor<f32>, tensor<4xf32>, tensor<4xf32>, tensor<i64>
}

// -----

// A strided, grouped convolution whose input has a gradient: the input
// gradient's type is the forward input's (9x9, not 8x8, which would also
// give 4x4 outputs).
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME: %[[X:[^:]*]]: tensor<2x4x9x9xf32>
// CHECK-SAME: %[[W0:[^:]*]]: tensor<4x4x1x1xf32>
// CHECK-SAME: %[[W:[^:]*]]: tensor<6x2x3x3xf32>
// CHECK: %[[H:.*]] = nn.conv2d %[[X]], %[[W0]]
// CHECK: %[[D:.*]] = nn.mse_loss_grad
// CHECK: %[[DH:.*]] = nn.conv2d_input_grad %[[D]], %[[W]] {dilation = array<i64: 1, 1>, groups = 2 : i64, padding = array<i64: 0, 0>, stride = array<i64: 2, 2>} : (tensor<2x6x4x4xf32>, tensor<6x2x3x3xf32>) -> tensor<2x4x9x9xf32>
// CHECK: nn.conv2d_weight_grad %[[D]], %[[H]] {dilation = array<i64: 1, 1>, groups = 2 : i64, padding = array<i64: 0, 0>, stride = array<i64: 2, 2>} : (tensor<2x6x4x4xf32>, tensor<2x4x9x9xf32>) -> tensor<6x2x3x3xf32>
// CHECK: nn.conv2d_weight_grad %[[DH]], %[[X]] {{.*}} : (tensor<2x4x9x9xf32>, tensor<2x4x9x9xf32>) -> tensor<4x4x1x1xf32>
func.func @train_step(%x: tensor<2x4x9x9xf32> {dpc.kind = "input", dpc.name = "x"},
                      %w0: tensor<4x4x1x1xf32> {dpc.kind = "parameter", dpc.name = "conv0.weight"},
                      %w: tensor<6x2x3x3xf32> {dpc.kind = "parameter", dpc.name = "conv.weight"},
                      %t: tensor<2x6x4x4xf32> {dpc.kind = "label", dpc.name = "label"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"}) {
  %h = nn.conv2d %x, %w0 {stride = array<i64: 1, 1>, padding = array<i64: 0, 0>, dilation = array<i64: 1, 1>}
      : (tensor<2x4x9x9xf32>, tensor<4x4x1x1xf32>) -> tensor<2x4x9x9xf32>
  %y = nn.conv2d %h, %w {stride = array<i64: 2, 2>, padding = array<i64: 0, 0>, dilation = array<i64: 1, 1>, groups = 2 : i64}
      : (tensor<2x4x9x9xf32>, tensor<6x2x3x3xf32>) -> tensor<2x6x4x4xf32>
  %loss = nn.mse_loss %y, %t : tensor<2x6x4x4xf32>
  return %loss : tensor<f32>
}
