// RUN: %dpc-opt %s | %dpc-opt | FileCheck %s

// The optimizer group's ops round-trip through their custom forms.

// CHECK-LABEL: func.func @adam
// CHECK: %new_param, %new_exp_avg, %new_exp_avg_sq = nn.adam_update %arg0, %arg1, %arg2, %arg3 {beta1 = 9.000000e-01 : f64, beta2 = 0.99899999999999999 : f64, eps = 1.000000e-08 : f64, lr = 1.000000e-03 : f64} : tensor<4x8xf32>
// CHECK: nn.adam_update %arg0, %arg1, %arg2, %arg3 {beta1 = 9.000000e-01 : f64, beta2 = 0.99899999999999999 : f64, decoupled_weight_decay, eps = 1.000000e-08 : f64, lr = 1.000000e-03 : f64, weight_decay = 1.000000e-02 : f64} : tensor<4x8xf32>
func.func @adam(%p: tensor<4x8xf32>, %g: tensor<4x8xf32>, %m: tensor<4x8xf32>, %v: tensor<4x8xf32>)
    -> (tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>) {
  %0:3 = nn.adam_update %p, %g, %m, %v {lr = 1.0e-3 : f64, beta1 = 0.9 : f64, beta2 = 0.999 : f64, eps = 1.0e-8 : f64} : tensor<4x8xf32>
  %1:3 = nn.adam_update %p, %g, %m, %v {lr = 1.0e-3 : f64, beta1 = 0.9 : f64, beta2 = 0.999 : f64, eps = 1.0e-8 : f64, weight_decay = 0.01 : f64, decoupled_weight_decay} : tensor<4x8xf32>
  return %1#0, %1#1, %1#2 : tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>
}

// CHECK-LABEL: func.func @micro_batch
// CHECK: nn.micro_batch %arg0 {count = 4 : i64, index = 0 : i64} : tensor<64x32xf32> to tensor<16x32xf32>
// CHECK: nn.micro_batch %arg1 {count = 4 : i64, index = 3 : i64} : tensor<64xi64> to tensor<16xi64>
func.func @micro_batch(%x: tensor<64x32xf32>, %y: tensor<64xi64>) -> (tensor<16x32xf32>, tensor<16xi64>) {
  %0 = nn.micro_batch %x {index = 0, count = 4} : tensor<64x32xf32> to tensor<16x32xf32>
  %1 = nn.micro_batch %y {index = 3, count = 4} : tensor<64xi64> to tensor<16xi64>
  return %0, %1 : tensor<16x32xf32>, tensor<16xi64>
}
