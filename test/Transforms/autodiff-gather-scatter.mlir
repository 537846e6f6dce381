// RUN: %dpc-opt %s --dpc-autodiff | FileCheck %s

// gather's VJP is scatter_add of the result gradient into zeros;
// scatter_add's passes the result gradient to its input and gathers it for
// src (torch's formulas). The int64 mask made float by nn.convert and the
// index get no gradient.

// CHECK-LABEL: func.func @train_step(
// CHECK-SAME: %[[X:[^:]*]]: tensor<4x10xf32> {dpc.kind = "input", dpc.name = "x"},
// CHECK-SAME: %[[I:[^:]*]]: tensor<4x3xi64> {dpc.kind = "input", dpc.name = "i"},
// CHECK-SAME: %[[M:[^:]*]]: tensor<4x10xi64> {dpc.kind = "input", dpc.name = "m"},
// CHECK-SAME: %[[W:[^:]*]]: tensor<10x10xf32> {dpc.kind = "parameter", dpc.name = "fc.weight"},
// CHECK-SAME: %[[V:[^:]*]]: tensor<4x3xf32> {dpc.kind = "parameter", dpc.name = "v"},
// CHECK: %[[H:.*]] = nn.linear %[[X]], %[[W]]
// CHECK-NEXT: %[[MF:.*]] = nn.convert %[[M]]
// CHECK-NEXT: %[[HM:.*]] = nn.mul %[[H]], %[[MF]]
// CHECK-NEXT: %[[G:.*]] = nn.gather %[[HM]], %[[I]] {dim = 1 : i64}
// CHECK-NEXT: %[[S:.*]] = nn.scatter_add %[[HM]], %[[I]], %[[V]] {dim = 1 : i64}
// CHECK: %[[DS:.*]] = nn.mse_loss_grad %{{.*}}, %[[S]], %[[H]]
// CHECK: %[[DG:.*]] = nn.mse_loss_grad %{{.*}}, %[[G]], %{{.*}}
// CHECK-NEXT: %[[DV:.*]] = nn.gather %[[DS]], %[[I]] {dim = 1 : i64} : (tensor<4x10xf32>, tensor<4x3xi64>) -> tensor<4x3xf32>
// CHECK-NEXT: %[[Z:.*]] = nn.fill 0.000000e+00 : tensor<4x10xf32>
// CHECK-NEXT: %[[DHG:.*]] = nn.scatter_add %[[Z]], %[[I]], %[[DG]] {dim = 1 : i64}
// CHECK-NEXT: %[[DHM:.*]] = nn.add %[[DS]], %[[DHG]]
// CHECK-NEXT: nn.mul %[[DHM]], %[[MF]]
// CHECK-NOT: nn.convert
// CHECK: return %{{.*}}, %{{.*}}, %[[DV]]
func.func @train_step(
    %x: tensor<4x10xf32> {dpc.kind = "input", dpc.name = "x"},
    %i: tensor<4x3xi64> {dpc.kind = "input", dpc.name = "i"},
    %m: tensor<4x10xi64> {dpc.kind = "input", dpc.name = "m"},
    %w: tensor<10x10xf32> {dpc.kind = "parameter", dpc.name = "fc.weight"},
    %v: tensor<4x3xf32> {dpc.kind = "parameter", dpc.name = "v"},
    %y: tensor<4x3xf32> {dpc.kind = "label", dpc.name = "y"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"}) {
  %h = nn.linear %x, %w : (tensor<4x10xf32>, tensor<10x10xf32>) -> tensor<4x10xf32>
  %mf = nn.convert %m : tensor<4x10xi64> -> tensor<4x10xf32>
  %hm = nn.mul %h, %mf : (tensor<4x10xf32>, tensor<4x10xf32>) -> tensor<4x10xf32>
  %g = nn.gather %hm, %i {dim = 1 : i64} : (tensor<4x10xf32>, tensor<4x3xi64>) -> tensor<4x3xf32>
  %s = nn.scatter_add %hm, %i, %v {dim = 1 : i64} : (tensor<4x10xf32>, tensor<4x3xi64>, tensor<4x3xf32>) -> tensor<4x10xf32>
  %l1 = nn.mse_loss %g, %y : tensor<4x3xf32>
  %l2 = nn.mse_loss %s, %h : tensor<4x10xf32>
  %loss = nn.add %l1, %l2 {alpha = 1.0 : f32} : (tensor<f32>, tensor<f32>) -> tensor<f32>
  return %loss : tensor<f32>
}
