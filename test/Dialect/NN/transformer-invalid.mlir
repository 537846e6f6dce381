// RUN: %dpc-opt %s -split-input-file -verify-diagnostics

// Malformed transformer ops are diagnostics that name the shapes or
// attributes involved. Ops whose custom form states the result type report
// the problem and then "failed to infer returned types" (ops whose form
// leaves it out stop at the first); ops without type inference
// (embedding_grad, slice_grad, broadcast_to, nll_loss_grad) fail their
// verifier.

func.func @embedding_weight_rank(%w: tensor<64xf32>, %i: tensor<4xi64>) {
  // expected-error @below {{embedding: expected a weight [V, D], got [64]}}
  // expected-error @below {{failed to infer returned types}}
  %0 = nn.embedding %w, %i : (tensor<64xf32>, tensor<4xi64>) -> tensor<4xf32>
  return
}

// -----

func.func @embedding_padding(%w: tensor<64x8xf32>, %i: tensor<4xi64>) {
  // expected-error @below {{embedding: padding_idx 64 is out of range [0, 64)}}
  // expected-error @below {{failed to infer returned types}}
  %0 = nn.embedding %w, %i {padding_idx = 64 : i64} : (tensor<64x8xf32>, tensor<4xi64>) -> tensor<4x8xf32>
  return
}

// -----

func.func @embedding_indices_type(%w: tensor<64x8xf32>, %i: tensor<4xf32>) {
  // expected-error @below {{operand #1 must be statically shaped tensor of 64-bit signless integer values}}
  %0 = nn.embedding %w, %i : (tensor<64x8xf32>, tensor<4xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @embedding_grad_shape(%g: tensor<4x9xf32>, %i: tensor<4xi64>) {
  // expected-error @below {{'nn.embedding_grad' op gradient shape [4, 9] does not match indices [4] and rows of 8}}
  %0 = nn.embedding_grad %g, %i : (tensor<4x9xf32>, tensor<4xi64>) -> tensor<64x8xf32>
  return
}

// -----

func.func @layer_norm_weight(%x: tensor<4x8xf32>, %w: tensor<4xf32>) {
  // expected-error @below {{layer_norm: weight shape [4] does not match the last 1 dimensions of [4, 8]}}
  // expected-error @below {{failed to infer returned types}}
  %0 = nn.layer_norm %x, %w, %w {normalized_rank = 1 : i64, eps = 1.0e-05 : f32} : (tensor<4x8xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @layer_norm_bias(%x: tensor<4x8xf32>, %w: tensor<8xf32>, %b: tensor<1x8xf32>) {
  // expected-error @below {{layer_norm: bias shape [1, 8] differs from the weight shape [8]}}
  // expected-error @below {{failed to infer returned types}}
  %0 = nn.layer_norm %x, %w, %b {normalized_rank = 1 : i64, eps = 1.0e-05 : f32} : (tensor<4x8xf32>, tensor<8xf32>, tensor<1x8xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @layer_norm_rank(%x: tensor<8xf32>, %w: tensor<8xf32>) {
  // expected-error @below {{layer_norm: cannot normalize the last 2 dimensions of [8]}}
  // expected-error @below {{failed to infer returned types}}
  %0 = nn.layer_norm %x, %w, %w {normalized_rank = 2 : i64, eps = 1.0e-05 : f32} : (tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  return
}

// -----

func.func @layer_norm_grad_type(%g: tensor<4x7xf32>, %x: tensor<4x8xf32>, %w: tensor<8xf32>) {
  // expected-error @below {{layer_norm_grad: gradient 'tensor<4x7xf32>' and input 'tensor<4x8xf32>' differ}}
  // expected-error @below {{failed to infer returned types}}
  %0:3 = nn.layer_norm_grad %g, %x, %w {normalized_rank = 1 : i64, eps = 1.0e-05 : f32} : (tensor<4x7xf32>, tensor<4x8xf32>, tensor<8xf32>) -> (tensor<4x8xf32>, tensor<8xf32>, tensor<8xf32>)
  return
}

// -----

func.func @gelu_approximate(%x: tensor<4xf32>) {
  // expected-error @below {{gelu: approximate must be 'none' or 'tanh', got "sigmoid"}}
  %0 = nn.gelu %x {approximate = "sigmoid"} : tensor<4xf32>
  return
}

// -----

func.func @softmax_dim(%x: tensor<4x8xf32>) {
  // expected-error @below {{softmax: dim 2 is out of range for [4, 8]}}
  %0 = nn.softmax %x {dim = 2 : i64} : tensor<4x8xf32>
  return
}

// -----

func.func @log_softmax_grad_types(%g: tensor<4x8xf32>, %y: tensor<4x9xf32>) {
  // expected-error @below {{'nn.log_softmax_grad' op failed to verify that all of {grad, output} have same type}}
  %0 = "nn.log_softmax_grad"(%g, %y) {dim = 1 : i64} : (tensor<4x8xf32>, tensor<4x9xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @div_broadcast(%a: tensor<4x8xf32>, %b: tensor<3xf32>) {
  // expected-error @below {{div: shapes [4, 8] and [3] do not broadcast}}
  // expected-error @below {{failed to infer returned types}}
  %0 = nn.div %a, %b : (tensor<4x8xf32>, tensor<3xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @compare_predicate(%a: tensor<4xf32>, %b: tensor<f32>) {
  // expected-error @below {{compare: unknown predicate 'gte' (expected eq, ne, lt, le, gt or ge)}}
  // expected-error @below {{failed to infer returned types}}
  %0 = nn.compare %a, %b {predicate = "gte"} : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  return
}

// -----

// The mask must broadcast to the input; the input is never broadcast.
func.func @masked_fill_mask(%x: tensor<1x8xf32>, %m: tensor<4x8xf32>) {
  // expected-error @below {{masked_fill: mask [4, 8] does not broadcast to the input [1, 8]}}
  // expected-error @below {{failed to infer returned types}}
  %0 = nn.masked_fill %x, %m {value = 0.0 : f32} : (tensor<1x8xf32>, tensor<4x8xf32>) -> tensor<1x8xf32>
  return
}

// -----

func.func @sum_dims_order(%x: tensor<4x8x3xf32>) {
  // expected-error @below {{sum: dims must be sorted and distinct, got [2, 0]}}
  // expected-error @below {{failed to infer returned types}}
  %0 = nn.sum %x {dims = array<i64: 2, 0>} : tensor<4x8x3xf32> -> tensor<8xf32>
  return
}

// -----

func.func @mean_dim_range(%x: tensor<4x8xf32>) {
  // expected-error @below {{mean: dim 2 is out of range for [4, 8]}}
  // expected-error @below {{failed to infer returned types}}
  %0 = nn.mean %x {dims = array<i64: 2>} : tensor<4x8xf32> -> tensor<4x8xf32>
  return
}

// -----

func.func @permute_invalid(%x: tensor<4x8x3xf32>) {
  // expected-error @below {{permute: [0, 1, 1] is not a permutation of the dimensions of [4, 8, 3]}}
  // expected-error @below {{failed to infer returned types}}
  %0 = nn.permute %x {permutation = array<i64: 0, 1, 1>} : tensor<4x8x3xf32> -> tensor<4x8x8xf32>
  return
}

// -----

func.func @broadcast_to_invalid(%x: tensor<3x8xf32>) {
  // expected-error @below {{'nn.broadcast_to' op input shape [3, 8] does not broadcast to [4, 8]}}
  %0 = nn.broadcast_to %x : tensor<3x8xf32> to tensor<4x8xf32>
  return
}

// -----

func.func @slice_bounds(%x: tensor<4x8xf32>) {
  // expected-error @below {{slice: bounds [2, 9) do not fit dimension 1 of [4, 8]}}
  // expected-error @below {{failed to infer returned types}}
  %0 = nn.slice %x {dim = 1 : i64, start = 2 : i64, end = 9 : i64} : tensor<4x8xf32> -> tensor<4x7xf32>
  return
}

// -----

func.func @slice_step(%x: tensor<4x8xf32>) {
  // expected-error @below {{slice: step 0 must be positive}}
  // expected-error @below {{failed to infer returned types}}
  %0 = nn.slice %x {dim = 1 : i64, start = 0 : i64, end = 8 : i64, step = 0 : i64} : tensor<4x8xf32> -> tensor<4x8xf32>
  return
}

// -----

func.func @slice_grad_shape(%g: tensor<4x3xf32>) {
  // expected-error @below {{'nn.slice_grad' op gradient shape [4, 3] is not the slice shape [4, 4]}}
  %0 = nn.slice_grad %g {dim = 1 : i64, start = 0 : i64, end = 8 : i64, step = 2 : i64} : tensor<4x3xf32> to tensor<4x8xf32>
  return
}

// -----

func.func @split_sizes(%x: tensor<4x96xf32>) {
  // expected-error @below {{split: sizes [32, 32, 16] do not add up to dimension 1 of [4, 96]}}
  // expected-error @below {{failed to infer returned types}}
  %0:3 = nn.split %x {dim = 1 : i64, sizes = array<i64: 32, 32, 16>} : tensor<4x96xf32> -> tensor<4x32xf32>, tensor<4x32xf32>, tensor<4x16xf32>
  return
}

// -----

func.func @concat_shapes(%a: tensor<4x8xf32>, %b: tensor<3x8xf32>) {
  // expected-error @below {{concat: operand shapes [4, 8] and [3, 8] differ outside dimension 1}}
  // expected-error @below {{failed to infer returned types}}
  %0 = nn.concat %a, %b {dim = 1 : i64} : (tensor<4x8xf32>, tensor<3x8xf32>) -> tensor<4x16xf32>
  return
}

// -----

func.func @concat_types(%a: tensor<4x8xf32>, %b: tensor<4x8xi64>) {
  // expected-error @below {{concat: operands 'tensor<4x8xf32>' and 'tensor<4x8xi64>' differ in element type or rank}}
  // expected-error @below {{failed to infer returned types}}
  %0 = nn.concat %a, %b {dim = 0 : i64} : (tensor<4x8xf32>, tensor<4x8xi64>) -> tensor<8x8xf32>
  return
}

// -----

func.func @nll_loss_labels(%x: tensor<6x5xf32>, %y: tensor<5xi64>) {
  // expected-error @below {{nll_loss: labels [5] do not match input [6, 5] (expected [6])}}
  %0 = nn.nll_loss %x, %y : tensor<6x5xf32>, tensor<5xi64>
  return
}

// -----

func.func @nll_loss_grad_shape(%g: tensor<f32>, %y: tensor<5xi64>) {
  // expected-error @below {{nll_loss: labels [5] do not match input [6, 5] (expected [6])}}
  %0 = nn.nll_loss_grad %g, %y : (tensor<f32>, tensor<5xi64>) -> tensor<6x5xf32>
  return
}

// -----

func.func @constant_type() {
  // expected-error @below {{'nn.constant' op result #0 must be statically shaped tensor of 32-bit float or 64-bit float or 64-bit signless integer values}}
  %0 = nn.constant dense<[1, 2]> : tensor<2xi32>
  return
}
