// RUN: %dpc-opt %s -split-input-file -verify-diagnostics

func.func @scatter_past_the_end(%x: tensor<10x8xf32>) -> tensor<4x8xf32> {
  // expected-error @below {{'dp.scatter' op rows [8, 12) lie outside the 10 rows of the input}}
  %0 = dp.scatter %x {offset = 8 : i64} : tensor<10x8xf32> to tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @scatter_other_columns(%x: tensor<10x8xf32>) -> tensor<4x4xf32> {
  // expected-error @below {{'dp.scatter' op result 'tensor<4x4xf32>' is not a chunk of 'tensor<10x8xf32>' along dimension 0}}
  %0 = dp.scatter %x {offset = 0 : i64} : tensor<10x8xf32> to tensor<4x4xf32>
  return %0 : tensor<4x4xf32>
}

// -----

func.func @scatter_scalar(%x: tensor<f32>) -> tensor<f32> {
  // expected-error @below {{'dp.scatter' op result 'tensor<f32>' is not a chunk of 'tensor<f32>' along dimension 0}}
  %0 = dp.scatter %x {offset = 0 : i64} : tensor<f32> to tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @scatter_negative_offset(%x: tensor<10x8xf32>) -> tensor<4x8xf32> {
  // expected-error @below {{'dp.scatter' op attribute 'offset' failed to satisfy constraint}}
  %0 = dp.scatter %x {offset = -1 : i64} : tensor<10x8xf32> to tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @gather_wrong_rows(%a: tensor<4x3xf32>, %b: tensor<2x3xf32>) -> tensor<10x3xf32> {
  // expected-error @below {{'dp.gather' op operands have 6 rows in all, the result 10}}
  %0 = dp.gather %a, %b : (tensor<4x3xf32>, tensor<2x3xf32>) -> tensor<10x3xf32>
  return %0 : tensor<10x3xf32>
}

// -----

func.func @gather_mixed_types(%a: tensor<4x3xf32>, %b: tensor<2x3xi64>) -> tensor<6x3xf32> {
  // expected-error @below {{'dp.gather' op operand 'tensor<2x3xi64>' has another element type than 'tensor<6x3xf32>'}}
  %0 = dp.gather %a, %b : (tensor<4x3xf32>, tensor<2x3xi64>) -> tensor<6x3xf32>
  return %0 : tensor<6x3xf32>
}

// -----

func.func @gather_nothing() -> tensor<6x3xf32> {
  // expected-error @below {{'dp.gather' op needs at least one tensor}}
  %0 = dp.gather : () -> tensor<6x3xf32>
  return %0 : tensor<6x3xf32>
}

// -----

func.func @replicate_other_type(%w: tensor<3x8xf32>) {
  // expected-error @below {{'dp.replicate' op result 'tensor<8x3xf32>' is not a copy of 'tensor<3x8xf32>'}}
  %0:2 = dp.replicate %w : tensor<3x8xf32> -> tensor<3x8xf32>, tensor<8x3xf32>
  return
}

// -----

func.func @replicate_nowhere(%w: tensor<3x8xf32>) {
  // expected-error @below {{'dp.replicate' op needs at least one replica}}
  "dp.replicate"(%w) : (tensor<3x8xf32>) -> ()
  return
}

// -----

func.func @reduce_add_mixed(%a: tensor<3xf32>, %b: tensor<4xf32>) -> tensor<3xf32> {
  // expected-error @below {{'dp.reduce_add' op requires the same type for all operands and results}}
  %0 = "dp.reduce_add"(%a, %b) : (tensor<3xf32>, tensor<4xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

func.func @negative_replica(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @below {{'dp.replica' must be a non-negative integer}}
  %0 = nn.relu %x {dp.replica = -1 : i64} : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @stage_not_integer(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @below {{'dp.stage' must be a non-negative integer}}
  %0 = nn.relu %x {dp.stage = "forward"} : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @unknown_dp_attribute(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @below {{unknown dp attribute 'dp.device'}}
  %0 = nn.relu %x {dp.device = 1 : i64} : tensor<4xf32>
  return %0 : tensor<4xf32>
}
