// RUN: %dpc-opt %s -split-input-file -verify-diagnostics

// Shapes are checked by result type inference, so every malformed op is a
// diagnostic that names the shapes involved. Ops whose custom form states the
// result type report the mismatch and then "failed to infer returned types".

func.func @linear_features(%x: tensor<4x7xf32>, %w: tensor<16x8xf32>) {
  // expected-error @below {{linear: input has 7 features (shape [4, 7]) but the weight [16, 8] expects 8}}
  // expected-error @below {{'nn.linear' op failed to infer returned types}}
  %0 = nn.linear %x, %w : (tensor<4x7xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  return
}

// -----

func.func @linear_bias(%x: tensor<4x8xf32>, %w: tensor<16x8xf32>, %b: tensor<8xf32>) {
  // expected-error @below {{linear: bias shape [8] does not match 16 output features}}
  // expected-error @below {{failed to infer returned types}}
  %0 = nn.linear %x, %w, %b : (tensor<4x8xf32>, tensor<16x8xf32>, tensor<8xf32>) -> tensor<4x16xf32>
  return
}

// -----

func.func @linear_bias_rank(%x: tensor<4x8xf32>, %w: tensor<16x8xf32>, %b: tensor<1x16xf32>) {
  // expected-error @below {{linear: bias shape [1, 16] does not match 16 output features}}
  // expected-error @below {{failed to infer returned types}}
  %0 = nn.linear %x, %w, %b : (tensor<4x8xf32>, tensor<16x8xf32>, tensor<1x16xf32>) -> tensor<4x16xf32>
  return
}

// -----

func.func @linear_rank(%x: tensor<f32>, %w: tensor<16x8xf32>) {
  // expected-error @below {{linear: expected input [..., K] and weight [N, K], got input [] and weight [16, 8]}}
  // expected-error @below {{failed to infer returned types}}
  %0 = nn.linear %x, %w : (tensor<f32>, tensor<16x8xf32>) -> tensor<16xf32>
  return
}

// -----

func.func @linear_result(%x: tensor<4x8xf32>, %w: tensor<16x8xf32>) {
  // expected-error @below {{'nn.linear' op inferred type(s) 'tensor<4x16xf32>' are incompatible with return type(s) of operation 'tensor<4x17xf32>'}}
  // expected-error @below {{failed to infer returned types}}
  %0 = nn.linear %x, %w : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x17xf32>
  return
}

// -----

func.func @matmul_inner(%a: tensor<4x8xf32>, %b: tensor<4x8xf32>) {
  // expected-error @below {{matmul: inner dimensions differ: [4, 8] @ [4, 8]}}
  // expected-error @below {{failed to infer returned types}}
  %0 = nn.matmul %a, %b : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  return
}

// -----

// The flags decide which dimensions are contracted: [8, 4]^T @ [8, 4]^T
// contracts 8 with 4.
func.func @matmul_inner_transposed(%a: tensor<8x4xf32>, %b: tensor<8x4xf32>) {
  // expected-error @below {{matmul: inner dimensions differ: [8, 4]^T @ [8, 4]^T}}
  // expected-error @below {{failed to infer returned types}}
  %0 = nn.matmul %a, %b {transpose_lhs, transpose_rhs} : (tensor<8x4xf32>, tensor<8x4xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @matmul_rank(%a: tensor<8xf32>, %b: tensor<8x4xf32>) {
  // expected-error @below {{matmul: operands need rank >= 2, got [8] and [8, 4]}}
  // expected-error @below {{failed to infer returned types}}
  %0 = nn.matmul %a, %b : (tensor<8xf32>, tensor<8x4xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @matmul_batch(%a: tensor<2x4x8xf32>, %b: tensor<3x8x4xf32>) {
  // expected-error @below {{matmul: batch dimensions of [2, 4, 8] and [3, 8, 4] do not broadcast}}
  // expected-error @below {{failed to infer returned types}}
  %0 = nn.matmul %a, %b : (tensor<2x4x8xf32>, tensor<3x8x4xf32>) -> tensor<2x4x4xf32>
  return
}

// -----

func.func @transpose_rank(%a: tensor<2x4x8xf32>) {
  // expected-error @below {{transpose: expected a 2-d tensor, got [2, 4, 8]}}
  // expected-error @below {{failed to infer returned types}}
  %0 = nn.transpose %a : tensor<2x4x8xf32> -> tensor<8x4x2xf32>
  return
}

// -----

// Trailing dimensions are aligned: [4] against [4, 8] compares 4 with 8.
func.func @add_broadcast(%a: tensor<4x8xf32>, %b: tensor<4xf32>) {
  // expected-error @below {{add: shapes [4, 8] and [4] do not broadcast}}
  // expected-error @below {{failed to infer returned types}}
  %0 = nn.add %a, %b : (tensor<4x8xf32>, tensor<4xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @sub_broadcast(%a: tensor<3x1xf32>, %b: tensor<2x5xf32>) {
  // expected-error @below {{sub: shapes [3, 1] and [2, 5] do not broadcast}}
  // expected-error @below {{failed to infer returned types}}
  %0 = nn.sub %a, %b : (tensor<3x1xf32>, tensor<2x5xf32>) -> tensor<3x5xf32>
  return
}

// -----

func.func @mul_broadcast_result(%a: tensor<3x1xf32>, %b: tensor<5xf32>) {
  // expected-error @below {{'nn.mul' op inferred type(s) 'tensor<3x5xf32>' are incompatible with return type(s) of operation 'tensor<3x1xf32>'}}
  // expected-error @below {{failed to infer returned types}}
  %0 = nn.mul %a, %b : (tensor<3x1xf32>, tensor<5xf32>) -> tensor<3x1xf32>
  return
}

// -----

func.func @dynamic_shape(%a: tensor<?x8xf32>) {
  // expected-error @below {{'nn.relu' op operand #0 must be statically shaped tensor of 32-bit float or 64-bit float values, but got 'tensor<?x8xf32>'}}
  %0 = nn.relu %a : tensor<?x8xf32>
  return
}

// -----

// cross_entropy infers its result while parsing, so a bad operand is one
// error.
func.func @cross_entropy_labels(%logits: tensor<4x10xf32>, %labels: tensor<10xi64>) {
  // expected-error @below {{cross_entropy: labels [10] do not match logits [4, 10] (expected [4])}}
  %0 = nn.cross_entropy %logits, %labels : tensor<4x10xf32>, tensor<10xi64>
  return
}

// -----

func.func @cross_entropy_labels_rank(%logits: tensor<4x10xf32>, %labels: tensor<4x1xi64>) {
  // expected-error @below {{cross_entropy: labels [4, 1] do not match logits [4, 10] (expected [4])}}
  %0 = nn.cross_entropy %logits, %labels : tensor<4x10xf32>, tensor<4x1xi64>
  return
}

// -----

func.func @cross_entropy_logits_rank(%logits: tensor<4x10x2xf32>, %labels: tensor<4xi64>) {
  // expected-error @below {{cross_entropy: expected logits [N, C], got [4, 10, 2]}}
  %0 = nn.cross_entropy %logits, %labels : tensor<4x10x2xf32>, tensor<4xi64>
  return
}

// -----

func.func @cross_entropy_label_type(%logits: tensor<4x10xf32>, %labels: tensor<4xf32>) {
  // expected-error @below {{'nn.cross_entropy' op operand #1 must be statically shaped tensor of 64-bit signless integer values, but got 'tensor<4xf32>'}}
  %0 = "nn.cross_entropy"(%logits, %labels) : (tensor<4x10xf32>, tensor<4xf32>) -> tensor<f32>
  return
}

// -----

func.func @cross_entropy_not_scalar(%logits: tensor<4x10xf32>, %labels: tensor<4xi64>) {
  // expected-error @below {{'nn.cross_entropy' op result #0 must be 0-d float tensor, but got 'tensor<1xf32>'}}
  %0 = "nn.cross_entropy"(%logits, %labels) : (tensor<4x10xf32>, tensor<4xi64>) -> tensor<1xf32>
  return
}

// -----

func.func @cross_entropy_grad_labels(%g: tensor<f32>, %logits: tensor<4x10xf32>, %labels: tensor<5xi64>) {
  // expected-error @below {{cross_entropy: labels [5] do not match logits [4, 10] (expected [4])}}
  // expected-error @below {{failed to infer returned types}}
  %0 = nn.cross_entropy_grad %g, %logits, %labels : (tensor<f32>, tensor<4x10xf32>, tensor<5xi64>) -> tensor<4x10xf32>
  return
}

// -----

func.func @mse_shape(%a: tensor<4x8xf32>, %b: tensor<8x4xf32>) {
  // expected-error @below {{'nn.mse_loss' op failed to verify that all of {input, target} have same type}}
  %0 = "nn.mse_loss"(%a, %b) : (tensor<4x8xf32>, tensor<8x4xf32>) -> tensor<f32>
  return
}

// -----

func.func @mse_grad_shape(%g: tensor<f32>, %a: tensor<4x8xf32>, %b: tensor<8x4xf32>) {
  // expected-error @below {{mse_loss_grad: gradient 'tensor<4x8xf32>' and saved value 'tensor<8x4xf32>' differ}}
  // expected-error @below {{failed to infer returned types}}
  %0 = nn.mse_loss_grad %g, %a, %b : (tensor<f32>, tensor<4x8xf32>, tensor<8x4xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @relu_grad_shape(%g: tensor<4x8xf32>, %x: tensor<8x4xf32>) {
  // expected-error @below {{'nn.relu_grad' op failed to verify that all of {grad, input} have same type}}
  %0 = "nn.relu_grad"(%g, %x) : (tensor<4x8xf32>, tensor<8x4xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @sum_to_not_broadcastable(%a: tensor<4x7xf32>) {
  // expected-error @below {{'nn.sum_to' op result shape [3] does not broadcast to the input shape [4, 7]}}
  %0 = nn.sum_to %a : tensor<4x7xf32> to tensor<3xf32>
  return
}

// -----

// sum_to only reduces: a result that broadcasting would expand is invalid.
func.func @sum_to_expands(%a: tensor<4x1xf32>) {
  // expected-error @below {{'nn.sum_to' op result shape [4, 7] does not broadcast to the input shape [4, 1]}}
  %0 = nn.sum_to %a : tensor<4x1xf32> to tensor<4x7xf32>
  return
}

// -----

func.func @sum_to_more_dims(%a: tensor<7xf32>) {
  // expected-error @below {{'nn.sum_to' op result shape [1, 7] does not broadcast to the input shape [7]}}
  %0 = nn.sum_to %a : tensor<7xf32> to tensor<1x7xf32>
  return
}

// -----

func.func @sgd_momentum_without_buffer(%p: tensor<4x8xf32>, %g: tensor<4x8xf32>) {
  // expected-error @below {{'nn.sgd_update' op has a momentum buffer exactly when momentum != 0}}
  %0 = nn.sgd_update %p, %g {lr = 0.1 : f32, momentum = 0.9 : f32} : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @sgd_buffer_without_momentum(%p: tensor<4x8xf32>, %g: tensor<4x8xf32>, %buf: tensor<4x8xf32>) {
  // expected-error @below {{'nn.sgd_update' op has a momentum buffer exactly when momentum != 0}}
  %0:2 = nn.sgd_update %p, %g, %buf {lr = 0.1 : f32} : (tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>)
  return
}

// -----

func.func @sgd_nesterov_without_momentum(%p: tensor<4x8xf32>, %g: tensor<4x8xf32>) {
  // expected-error @below {{'nn.sgd_update' op nesterov needs a non-zero momentum}}
  %0 = nn.sgd_update %p, %g {lr = 0.1 : f32, nesterov} : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @sgd_grad_type(%p: tensor<4x8xf32>, %g: tensor<8x4xf32>) {
  // expected-error @below {{sgd_update: parameter, gradient and momentum buffer types differ}}
  // expected-error @below {{failed to infer returned types}}
  %0 = nn.sgd_update %p, %g {lr = 0.1 : f32} : (tensor<4x8xf32>, tensor<8x4xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @sgd_buffer_type(%p: tensor<4x8xf32>, %g: tensor<4x8xf32>, %buf: tensor<8xf32>) {
  // expected-error @below {{sgd_update: parameter, gradient and momentum buffer types differ}}
  // expected-error @below {{failed to infer returned types}}
  %0:2 = nn.sgd_update %p, %g, %buf {lr = 0.1 : f32, momentum = 0.9 : f32} : (tensor<4x8xf32>, tensor<4x8xf32>, tensor<8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>)
  return
}

// -----

func.func @sgd_no_lr(%p: tensor<4x8xf32>, %g: tensor<4x8xf32>) {
  // expected-error @below {{'nn.sgd_update' op requires attribute 'lr'}}
  %0 = nn.sgd_update %p, %g : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @reshape_element_count(%x: tensor<2x3x4xf32>) {
  // expected-error @below {{'nn.reshape' op has 24 input elements but 20 result elements}}
  %0 = nn.reshape %x : tensor<2x3x4xf32> to tensor<5x4xf32>
  return
}

// -----

func.func @reshape_element_type(%x: tensor<2x3xf32>) {
  // expected-error @below {{'nn.reshape' op changes the element type}}
  %0 = nn.reshape %x : tensor<2x3xf32> to tensor<6xi64>
  return
}

// -----

// float64 (model.double() models) only in ops with float64 kernels.
func.func @f64_without_kernels(%x: tensor<2x8xf64>) -> tensor<2x8xf64> {
  // expected-error @below {{'nn.gelu' op has no float64 kernels; a float64 (model.double()) model may use}}
  %y = nn.gelu %x {approximate = "none"} : tensor<2x8xf64>
  return %y : tensor<2x8xf64>
}

// -----

func.func @f32_and_f64(%x: tensor<2x8xf64>, %b: tensor<8xf32>) -> tensor<2x8xf64> {
  // expected-error @below {{'nn.add' op mixes float32 and float64 tensors; convert one explicitly (.double() or .float())}}
  %y = "nn.add"(%x, %b) : (tensor<2x8xf64>, tensor<8xf32>) -> tensor<2x8xf64>
  return %y : tensor<2x8xf64>
}

// -----

func.func @f64_op_with_f32_constant(%x: tensor<2x8xf64>) -> tensor<2x8xf64> {
  // expected-error @below {{'nn.scale' op computes in float64 but its 'factor' is a float32 constant}}
  %y = "nn.scale"(%x) {factor = 1.000000e-01 : f32} : (tensor<2x8xf64>) -> tensor<2x8xf64>
  return %y : tensor<2x8xf64>
}
