// RUN: %dpc-opt %s -split-input-file -verify-diagnostics

func.func @wait_types_swapped(%a: tensor<4x8xf32>, %b: tensor<8xf32>) {
  %t = dp.all_reduce_start %a, %b {bucket = 0 : i64} : tensor<4x8xf32>, tensor<8xf32>
  // expected-error @below {{'dp.wait' op result types must match the operands of the start op}}
  %0:2 = dp.wait %t : tensor<8xf32>, tensor<4x8xf32>
  return
}

// -----

func.func @wait_too_few_results(%a: tensor<4x8xf32>, %b: tensor<8xf32>) {
  %t = dp.all_reduce_start %a, %b {bucket = 0 : i64} : tensor<4x8xf32>, tensor<8xf32>
  // expected-error @below {{'dp.wait' op result types must match the operands of the start op}}
  %0 = dp.wait %t : tensor<4x8xf32>
  return
}

// -----

func.func @token_waited_twice(%a: tensor<4x8xf32>) {
  // expected-error @below {{'dp.all_reduce_start' op token must be consumed by exactly one dp.wait}}
  %t = dp.all_reduce_start %a {bucket = 0 : i64} : tensor<4x8xf32>
  %0 = dp.wait %t : tensor<4x8xf32>
  %1 = dp.wait %t : tensor<4x8xf32>
  return
}

// -----

func.func @token_never_waited(%a: tensor<4x8xf32>) {
  // expected-error @below {{'dp.all_reduce_start' op token must be consumed by exactly one dp.wait}}
  %t = dp.all_reduce_start %a {bucket = 0 : i64} : tensor<4x8xf32>
  return
}

// -----

func.func private @use_token(!dp.token)

func.func @token_escapes(%a: tensor<4x8xf32>) {
  // expected-error @below {{'dp.all_reduce_start' op token must be consumed by exactly one dp.wait}}
  %t = dp.all_reduce_start %a {bucket = 0 : i64} : tensor<4x8xf32>
  func.call @use_token(%t) : (!dp.token) -> ()
  return
}

// -----

func.func @wait_before_start(%a: tensor<4x8xf32>) {
  // expected-error @below {{'dp.wait' op must follow its start op in the same block}}
  %0 = dp.wait %t : tensor<4x8xf32>
  %t = dp.all_reduce_start %a {bucket = 0 : i64} : tensor<4x8xf32>
  return
}

// -----

func.func @token_not_from_start(%t: !dp.token) {
  // expected-error @below {{'dp.wait' op token must come from dp.all_reduce_start}}
  %0 = dp.wait %t : tensor<4x8xf32>
  return
}

// -----

func.func @empty_start() {
  // expected-error @below {{'dp.all_reduce_start' op needs at least one tensor}}
  %t = "dp.all_reduce_start"() {bucket = 0 : i64} : () -> !dp.token
  "dp.wait"(%t) : (!dp.token) -> ()
  return
}

// -----

func.func @start_without_bucket(%a: tensor<4x8xf32>) {
  // expected-error @below {{'dp.all_reduce_start' op requires attribute 'bucket'}}
  %t = dp.all_reduce_start %a : tensor<4x8xf32>
  %0 = dp.wait %t : tensor<4x8xf32>
  return
}

// -----

func.func @start_integer_tensor(%a: tensor<4xi64>) {
  // expected-error @below {{'dp.all_reduce_start' op operand #0 must be variadic of statically shaped tensor of 32-bit float or 64-bit float values, but got 'tensor<4xi64>'}}
  %t = dp.all_reduce_start %a {bucket = 0 : i64} : tensor<4xi64>
  return
}

// -----

func.func @all_reduce_result_type(%a: tensor<4x8xf32>) {
  // expected-error @below {{'dp.all_reduce' op requires the same type for all operands and results}}
  %0 = "dp.all_reduce"(%a) : (tensor<4x8xf32>) -> tensor<8x4xf32>
  return
}

// -----

func.func @all_reduce_integer_tensor(%a: tensor<4xi64>) {
  // expected-error @below {{'dp.all_reduce' op operand #0 must be statically shaped tensor of 32-bit float or 64-bit float values, but got 'tensor<4xi64>'}}
  %0 = dp.all_reduce %a : tensor<4xi64>
  return
}

// -----

func.func @compress_to_f32(%a: tensor<4x8xf32>) {
  // expected-error @below {{'dp.all_reduce_start' op can compress to f16 or bf16 only, not 'f32'}}
  %t = dp.all_reduce_start %a {bucket = 0 : i64, compress = f32} : tensor<4x8xf32>
  %0 = dp.wait %t : tensor<4x8xf32>
  return
}
