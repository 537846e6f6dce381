// RUN: %dpc-opt %s -split-input-file -verify-diagnostics

func.func @adam_types(%p: tensor<4x8xf32>, %g: tensor<8x4xf32>) {
  // expected-error @below {{all of {param, grad, exp_avg, exp_avg_sq} have same type}}
  %0:3 = "nn.adam_update"(%p, %g, %p, %p) {lr = 1.0e-3 : f64, beta1 = 0.9 : f64, beta2 = 0.999 : f64, eps = 1.0e-8 : f64}
      : (tensor<4x8xf32>, tensor<8x4xf32>, tensor<4x8xf32>, tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>)
  return
}

// -----

func.func @adam_beta(%p: tensor<4xf32>) {
  // expected-error @below {{'nn.adam_update' op needs betas in [0, 1), got (9.000000e-01, 1.000000e+00)}}
  %0:3 = nn.adam_update %p, %p, %p, %p {lr = 1.0e-3 : f64, beta1 = 0.9 : f64, beta2 = 1.0 : f64, eps = 1.0e-8 : f64} : tensor<4xf32>
  return
}

// -----

func.func @adam_eps(%p: tensor<4xf32>) {
  // expected-error @below {{'nn.adam_update' op needs eps >= 0, got -1.000000e+00}}
  %0:3 = nn.adam_update %p, %p, %p, %p {lr = 1.0e-3 : f64, beta1 = 0.9 : f64, beta2 = 0.999 : f64, eps = -1.0 : f64} : tensor<4xf32>
  return
}

// -----

func.func @adam_f32_attr(%p: tensor<4xf32>) {
  // expected-error @below {{attribute 'lr' failed to satisfy constraint: 64-bit float attribute}}
  %0:3 = nn.adam_update %p, %p, %p, %p {lr = 1.0e-3 : f32, beta1 = 0.9 : f64, beta2 = 0.999 : f64, eps = 1.0e-8 : f64} : tensor<4xf32>
  return
}

// -----

func.func @micro_batch_split(%x: tensor<10x3xf32>) {
  // expected-error @below {{micro_batch: dimension 0 of 'tensor<10x3xf32>' does not split into 4 micro-batches}}
  // expected-error @below {{failed to infer returned types}}
  %0 = nn.micro_batch %x {index = 0, count = 4} : tensor<10x3xf32> to tensor<2x3xf32>
  return
}

// -----

func.func @micro_batch_index(%x: tensor<8x3xf32>) {
  // expected-error @below {{micro_batch: index 4 is not in [0, 4)}}
  // expected-error @below {{failed to infer returned types}}
  %0 = nn.micro_batch %x {index = 4, count = 4} : tensor<8x3xf32> to tensor<2x3xf32>
  return
}

// -----

func.func @micro_batch_scalar(%x: tensor<f32>) {
  // expected-error @below {{micro_batch: a scalar has no batch dimension to split}}
  // expected-error @below {{failed to infer returned types}}
  %0 = nn.micro_batch %x {index = 0, count = 1} : tensor<f32> to tensor<f32>
  return
}

// -----

func.func @micro_batch_result(%x: tensor<8x3xf32>) {
  // expected-error @below {{'nn.micro_batch' op inferred type(s) 'tensor<2x3xf32>' are incompatible with return type(s) of operation 'tensor<4x3xf32>'}}
  // expected-error @below {{failed to infer returned types}}
  %0 = nn.micro_batch %x {index = 0, count = 4} : tensor<8x3xf32> to tensor<4x3xf32>
  return
}
