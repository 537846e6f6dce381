// RUN: %dpc-opt %s | %dpc-opt | FileCheck %s

// A model.double() model's ops: float64 tensors, and the float constants of
// ops with float64 kernels in float64 (not rounded to float32; 0.1 is not a
// float32 value).
// CHECK-LABEL: func.func @float64_ops
func.func @float64_ops(%x: tensor<4x8xf64>, %w: tensor<3x8xf64>, %b: tensor<3xf64>,
                       %y: tensor<4xi64>) -> tensor<f64> {
  // CHECK: nn.linear {{.*}} -> tensor<4x3xf64>
  %h = nn.linear %x, %w, %b : (tensor<4x8xf64>, tensor<3x8xf64>, tensor<3xf64>) -> tensor<4x3xf64>
  // CHECK: nn.scale %{{.*}}, 1.000000e-01 : tensor<4x3xf64>
  %s = nn.scale %h, 0.1 : tensor<4x3xf64>
  // CHECK: nn.tanh %{{.*}} : tensor<4x3xf64>
  %t = nn.tanh %s : tensor<4x3xf64>
  // CHECK: nn.fill 1.000000e-01 : tensor<f64>
  %c = nn.fill 0.1 : tensor<f64>
  // CHECK: nn.add %{{.*}}, %{{.*}} {alpha = 1.000000e-01 : f64}
  %a = nn.add %t, %c {alpha = 0.1 : f64} : (tensor<4x3xf64>, tensor<f64>) -> tensor<4x3xf64>
  // CHECK: nn.cross_entropy %{{.*}}, %{{.*}} : tensor<4x3xf64>, tensor<4xi64>
  %l = nn.cross_entropy %a, %y : tensor<4x3xf64>, tensor<4xi64>
  return %l : tensor<f64>
}

// nn.fill and nn.scale write their constant without its type (the tensor's
// element type); the forms without a decimal (infinities) round-trip in
// both widths.
// CHECK-LABEL: func.func @constants
func.func @constants(%x: tensor<4xf32>) -> (tensor<f32>, tensor<f64>, tensor<4xf32>) {
  // CHECK: nn.fill 0xFF800000 : tensor<f32>
  %a = nn.fill 0xFF800000 : tensor<f32>
  // CHECK: nn.fill 0x7FF0000000000000 : tensor<f64>
  %b = nn.fill 0x7FF0000000000000 : tensor<f64>
  // CHECK: nn.scale %{{.*}}, -2.000000e+00 : tensor<4xf32>
  %c = nn.scale %x, -2.0 : tensor<4xf32>
  return %a, %b, %c : tensor<f32>, tensor<f64>, tensor<4xf32>
}
