// RUN: %dpc-opt %s -split-input-file -verify-diagnostics

// Malformed convolution, normalization and pooling ops are diagnostics that
// name the shapes involved, with PyTorch's rules for output sizes.

func.func @conv2d_channels(%x: tensor<2x4x9x9xf32>, %w: tensor<6x3x3x3xf32>) {
  // expected-error @below {{conv2d: input [2, 4, 9, 9] has 4 channels, but weight [6, 3, 3, 3] with groups=1 expects 3}}
  // expected-error @below {{'nn.conv2d' op failed to infer returned types}}
  %0 = nn.conv2d %x, %w {stride = array<i64: 1, 1>, padding = array<i64: 0, 0>, dilation = array<i64: 1, 1>}
      : (tensor<2x4x9x9xf32>, tensor<6x3x3x3xf32>) -> tensor<2x6x7x7xf32>
  return
}

// -----

func.func @conv2d_groups(%x: tensor<2x4x9x9xf32>, %w: tensor<5x2x3x3xf32>) {
  // expected-error @below {{conv2d: 5 output channels are not divisible by groups=2}}
  // expected-error @below {{failed to infer returned types}}
  %0 = nn.conv2d %x, %w {stride = array<i64: 1, 1>, padding = array<i64: 0, 0>, dilation = array<i64: 1, 1>, groups = 2 : i64}
      : (tensor<2x4x9x9xf32>, tensor<5x2x3x3xf32>) -> tensor<2x5x7x7xf32>
  return
}

// -----

func.func @conv2d_kernel_too_large(%x: tensor<2x4x4x4xf32>, %w: tensor<6x4x3x3xf32>) {
  // expected-error @below {{conv2d: the kernel [3, 3] (dilation [2, 2]) is larger than the padded input [4, 4]}}
  // expected-error @below {{failed to infer returned types}}
  %0 = nn.conv2d %x, %w {stride = array<i64: 1, 1>, padding = array<i64: 0, 0>, dilation = array<i64: 2, 2>}
      : (tensor<2x4x4x4xf32>, tensor<6x4x3x3xf32>) -> tensor<2x6x1x1xf32>
  return
}

// -----

func.func @conv2d_bias(%x: tensor<2x4x9x9xf32>, %w: tensor<6x4x3x3xf32>, %b: tensor<4xf32>) {
  // expected-error @below {{conv2d: bias shape [4] does not match 6 output channels}}
  // expected-error @below {{failed to infer returned types}}
  %0 = nn.conv2d %x, %w, %b {stride = array<i64: 1, 1>, padding = array<i64: 0, 0>, dilation = array<i64: 1, 1>}
      : (tensor<2x4x9x9xf32>, tensor<6x4x3x3xf32>, tensor<4xf32>) -> tensor<2x6x7x7xf32>
  return
}

// -----

func.func @conv2d_stride(%x: tensor<2x4x9x9xf32>, %w: tensor<6x4x3x3xf32>) {
  // expected-error @below {{conv2d: 'stride' must be positive, got [0, 1]}}
  // expected-error @below {{failed to infer returned types}}
  %0 = nn.conv2d %x, %w {stride = array<i64: 0, 1>, padding = array<i64: 0, 0>, dilation = array<i64: 1, 1>}
      : (tensor<2x4x9x9xf32>, tensor<6x4x3x3xf32>) -> tensor<2x6x7x7xf32>
  return
}

// -----

func.func @conv2d_stride_arity(%x: tensor<2x4x9x9xf32>, %w: tensor<6x4x3x3xf32>) {
  // expected-error @below {{'nn.conv2d' op attribute 'stride' failed to satisfy constraint: i64 dense array attribute with exactly 2 elements}}
  %0 = nn.conv2d %x, %w {stride = array<i64: 1, 1, 1>, padding = array<i64: 0, 0>, dilation = array<i64: 1, 1>}
      : (tensor<2x4x9x9xf32>, tensor<6x4x3x3xf32>) -> tensor<2x6x7x7xf32>
  return
}

// -----

func.func @conv2d_missing_attribute(%x: tensor<2x4x9x9xf32>, %w: tensor<6x4x3x3xf32>) {
  // expected-error @below {{'nn.conv2d' op requires attribute 'stride'}}
  %0 = nn.conv2d %x, %w {padding = array<i64: 0, 0>, dilation = array<i64: 1, 1>}
      : (tensor<2x4x9x9xf32>, tensor<6x4x3x3xf32>) -> tensor<2x6x7x7xf32>
  return
}

// -----

func.func @conv2d_input_grad(%dy: tensor<2x6x4x4xf32>, %w: tensor<6x4x3x3xf32>) {
  // A stride-2 3x3 convolution of 12x12 gives 5x5, not 4x4.
  // expected-error @below {{'nn.conv2d_input_grad' op result [2, 4, 12, 12] convolves to [2, 6, 5, 5], not to the gradient's shape [2, 6, 4, 4]}}
  %0 = nn.conv2d_input_grad %dy, %w {stride = array<i64: 2, 2>, padding = array<i64: 0, 0>, dilation = array<i64: 1, 1>}
      : (tensor<2x6x4x4xf32>, tensor<6x4x3x3xf32>) -> tensor<2x4x12x12xf32>
  return
}

// -----

func.func @conv2d_weight_grad(%dy: tensor<2x6x7x7xf32>, %x: tensor<2x4x9x9xf32>) {
  // expected-error @below {{'nn.conv2d_weight_grad' op input [2, 4, 9, 9] convolved with a weight [6, 4, 5, 5] gives [2, 6, 5, 5], not the gradient's shape [2, 6, 7, 7]}}
  %0 = nn.conv2d_weight_grad %dy, %x {stride = array<i64: 1, 1>, padding = array<i64: 0, 0>, dilation = array<i64: 1, 1>}
      : (tensor<2x6x7x7xf32>, tensor<2x4x9x9xf32>) -> tensor<6x4x5x5xf32>
  return
}

// -----

func.func @batch_norm_channels(%x: tensor<8x3x4x4xf32>, %w: tensor<4xf32>) {
  // expected-error @below {{batch_norm: expected per-channel operands of shape [3] for input [8, 3, 4, 4], got [4]}}
  // expected-error @below {{failed to infer returned types}}
  %0:5 = nn.batch_norm %x, %w, %w, %w, %w {momentum = 0.1, eps = 1.0e-5}
      : (tensor<8x3x4x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
      -> (tensor<8x3x4x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
  return
}

// -----

func.func @batch_norm_one_value(%x: tensor<1x3x1x1xf32>, %w: tensor<3xf32>) {
  // PyTorch: "Expected more than 1 value per channel when training".
  // expected-error @below {{batch_norm: expected more than 1 value per channel when training, got input [1, 3, 1, 1]}}
  // expected-error @below {{failed to infer returned types}}
  %0:5 = nn.batch_norm %x, %w, %w, %w, %w {momentum = 0.1, eps = 1.0e-5}
      : (tensor<1x3x1x1xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>)
      -> (tensor<1x3x1x1xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>)
  return
}

// -----

func.func @batch_norm_momentum(%x: tensor<8x3xf32>, %w: tensor<3xf32>) {
  // expected-error @below {{'nn.batch_norm' op momentum must be in [0, 1], got 1.5}}
  %0:5 = nn.batch_norm %x, %w, %w, %w, %w {momentum = 1.5, eps = 1.0e-5}
      : (tensor<8x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>)
      -> (tensor<8x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>)
  return
}

// -----

func.func @batch_norm_grad(%dy: tensor<8x3x2x2xf32>, %x: tensor<8x3x4x4xf32>, %w: tensor<3xf32>) {
  // expected-error @below {{batch_norm_grad: gradient 'tensor<8x3x2x2xf32>' and input 'tensor<8x3x4x4xf32>' differ}}
  // expected-error @below {{failed to infer returned types}}
  %0:3 = nn.batch_norm_grad %dy, %x, %w, %w, %w
      : (tensor<8x3x2x2xf32>, tensor<8x3x4x4xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>)
      -> (tensor<8x3x4x4xf32>, tensor<3xf32>, tensor<3xf32>)
  return
}

// -----

func.func @increment_float(%x: tensor<f32>) {
  // expected-error @below {{'nn.increment' op operand #0 must be statically shaped tensor of 64-bit signless integer values}}
  %0 = nn.increment %x : tensor<f32>
  return
}

// -----

func.func @max_pool2d_padding(%x: tensor<2x3x9x9xf32>) {
  // expected-error @below {{max_pool2d: padding [2, 2] must be at most half of the kernel size [3, 3]}}
  // expected-error @below {{failed to infer returned types}}
  %0 = nn.max_pool2d %x {kernel_size = array<i64: 3, 3>, stride = array<i64: 1, 1>, padding = array<i64: 2, 2>, dilation = array<i64: 1, 1>}
      : tensor<2x3x9x9xf32> -> tensor<2x3x11x11xf32>
  return
}

// -----

func.func @max_pool2d_rank(%x: tensor<3x9x9xf32>) {
  // expected-error @below {{max_pool2d: expected input [N, C, H, W], got [3, 9, 9]}}
  // expected-error @below {{failed to infer returned types}}
  %0 = nn.max_pool2d %x {kernel_size = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0>, dilation = array<i64: 1, 1>}
      : tensor<3x9x9xf32> -> tensor<3x4x4xf32>
  return
}

// -----

func.func @max_pool2d_too_small(%x: tensor<2x3x2x2xf32>) {
  // expected-error @below {{max_pool2d: the input [2, 3, 2, 2] is too small for the kernel [3, 3] (the output would be empty)}}
  // expected-error @below {{failed to infer returned types}}
  %0 = nn.max_pool2d %x {kernel_size = array<i64: 3, 3>, stride = array<i64: 1, 1>, padding = array<i64: 0, 0>, dilation = array<i64: 1, 1>}
      : tensor<2x3x2x2xf32> -> tensor<2x3x1x1xf32>
  return
}

// -----

func.func @max_pool2d_grad(%dy: tensor<2x3x4x4xf32>, %x: tensor<2x3x9x9xf32>) {
  // expected-error @below {{max_pool2d_grad: input [2, 3, 9, 9] pools to [2, 3, 3, 3], not to the gradient's shape [2, 3, 4, 4]}}
  // expected-error @below {{failed to infer returned types}}
  %0 = nn.max_pool2d_grad %dy, %x {kernel_size = array<i64: 3, 3>, stride = array<i64: 3, 3>, padding = array<i64: 0, 0>, dilation = array<i64: 1, 1>}
      : (tensor<2x3x4x4xf32>, tensor<2x3x9x9xf32>) -> tensor<2x3x9x9xf32>
  return
}

// -----

func.func @avg_pool2d_divisor(%x: tensor<2x3x8x8xf32>) {
  // expected-error @below {{avg_pool2d: divisor_override must be non-zero}}
  // expected-error @below {{failed to infer returned types}}
  %0 = nn.avg_pool2d %x {kernel_size = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0>, divisor_override = 0 : i64}
      : tensor<2x3x8x8xf32> -> tensor<2x3x4x4xf32>
  return
}

// -----

func.func @avg_pool2d_grad(%dy: tensor<2x3x4x4xf32>) {
  // expected-error @below {{'nn.avg_pool2d_grad' op result [2, 3, 10, 10] pools to [2, 3, 5, 5], not to the gradient's shape [2, 3, 4, 4]}}
  %0 = nn.avg_pool2d_grad %dy {kernel_size = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0>}
      : tensor<2x3x4x4xf32> -> tensor<2x3x10x10xf32>
  return
}

// -----

func.func @adaptive_avg_pool2d_grad(%dy: tensor<2x3x1x1xf32>) {
  // expected-error @below {{'nn.adaptive_avg_pool2d_grad' op result [2, 4, 4, 4] does not pool to the gradient's shape [2, 3, 1, 1]}}
  %0 = nn.adaptive_avg_pool2d_grad %dy : tensor<2x3x1x1xf32> -> tensor<2x4x4x4xf32>
  return
}
