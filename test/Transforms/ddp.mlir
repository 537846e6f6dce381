// RUN: %dpc-opt %s -split-input-file --dpc-ddp | FileCheck %s

// dpc-ddp averages every gradient result over the ranks with a dp.all_reduce
// placed right after the op that computes the gradient; the loss and the
// rest of the step are untouched.

// CHECK-LABEL: func.func @train_step(
// CHECK-SAME: -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"},
// CHECK-SAME: tensor<16x8xf32> {dpc.kind = "gradient", dpc.name = "fc1.weight", dpc.parameter = "fc1.weight"},
// CHECK-SAME: tensor<16xf32> {dpc.kind = "gradient", dpc.name = "fc1.bias", dpc.parameter = "fc1.bias"},
// CHECK-SAME: tensor<10x16xf32> {dpc.kind = "gradient", dpc.name = "fc2.weight", dpc.parameter = "fc2.weight"},
// CHECK-SAME: tensor<10xf32> {dpc.kind = "gradient", dpc.name = "fc2.bias", dpc.parameter = "fc2.bias"})
// CHECK: %[[LOSS:.*]] = nn.cross_entropy
// CHECK: %[[DY:.*]] = nn.cross_entropy_grad
// CHECK-NEXT: %[[DA:.*]] = nn.matmul %[[DY]], %{{.*}} :
// CHECK-NEXT: %[[DW2:.*]] = nn.matmul %[[DY]], %{{.*}} {transpose_lhs}
// CHECK-NEXT: %[[DW2_AVG:.*]] = dp.all_reduce %[[DW2]] : tensor<10x16xf32>
// CHECK-NEXT: %[[DB2:.*]] = nn.sum_to %[[DY]]
// CHECK-NEXT: %[[DB2_AVG:.*]] = dp.all_reduce %[[DB2]] : tensor<10xf32>
// CHECK-NEXT: %[[DH:.*]] = nn.relu_grad %[[DA]]
// CHECK-NEXT: %[[DW1:.*]] = nn.matmul %[[DH]], %{{.*}} {transpose_lhs}
// CHECK-NEXT: %[[DW1_AVG:.*]] = dp.all_reduce %[[DW1]] : tensor<16x8xf32>
// CHECK-NEXT: %[[DB1:.*]] = nn.sum_to %[[DH]]
// CHECK-NEXT: %[[DB1_AVG:.*]] = dp.all_reduce %[[DB1]] : tensor<16xf32>
// CHECK-NEXT: return %[[LOSS]], %[[DW1_AVG]], %[[DB1_AVG]], %[[DW2_AVG]], %[[DB2_AVG]] :
func.func @train_step(%x: tensor<4x8xf32> {dpc.kind = "input", dpc.name = "x"},
                      %w1: tensor<16x8xf32> {dpc.kind = "parameter", dpc.name = "fc1.weight"},
                      %b1: tensor<16xf32> {dpc.kind = "parameter", dpc.name = "fc1.bias"},
                      %w2: tensor<10x16xf32> {dpc.kind = "parameter", dpc.name = "fc2.weight"},
                      %b2: tensor<10xf32> {dpc.kind = "parameter", dpc.name = "fc2.bias"},
                      %label: tensor<4xi64> {dpc.kind = "label", dpc.name = "label"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"},
        tensor<16x8xf32> {dpc.kind = "gradient", dpc.name = "fc1.weight", dpc.parameter = "fc1.weight"},
        tensor<16xf32> {dpc.kind = "gradient", dpc.name = "fc1.bias", dpc.parameter = "fc1.bias"},
        tensor<10x16xf32> {dpc.kind = "gradient", dpc.name = "fc2.weight", dpc.parameter = "fc2.weight"},
        tensor<10xf32> {dpc.kind = "gradient", dpc.name = "fc2.bias", dpc.parameter = "fc2.bias"}) {
  %h = nn.linear %x, %w1, %b1 : (tensor<4x8xf32>, tensor<16x8xf32>, tensor<16xf32>) -> tensor<4x16xf32>
  %a = nn.relu %h : tensor<4x16xf32>
  %y = nn.linear %a, %w2, %b2 : (tensor<4x16xf32>, tensor<10x16xf32>, tensor<10xf32>) -> tensor<4x10xf32>
  %loss = nn.cross_entropy %y, %label : tensor<4x10xf32>, tensor<4xi64>
  %seed = nn.fill 1.0 : tensor<f32>
  %dy = nn.cross_entropy_grad %seed, %y, %label : (tensor<f32>, tensor<4x10xf32>, tensor<4xi64>) -> tensor<4x10xf32>
  %da = nn.matmul %dy, %w2 : (tensor<4x10xf32>, tensor<10x16xf32>) -> tensor<4x16xf32>
  %dw2 = nn.matmul %dy, %a {transpose_lhs} : (tensor<4x10xf32>, tensor<4x16xf32>) -> tensor<10x16xf32>
  %db2 = nn.sum_to %dy : tensor<4x10xf32> to tensor<10xf32>
  %dh = nn.relu_grad %da, %h : tensor<4x16xf32>
  %dw1 = nn.matmul %dh, %x {transpose_lhs} : (tensor<4x16xf32>, tensor<4x8xf32>) -> tensor<16x8xf32>
  %db1 = nn.sum_to %dh : tensor<4x16xf32> to tensor<16xf32>
  return %loss, %dw1, %db1, %dw2, %db2
      : tensor<f32>, tensor<16x8xf32>, tensor<16xf32>, tensor<10x16xf32>, tensor<10xf32>
}

// -----

// A gradient value that is also read by other ops keeps those uses; only the
// returned gradient is averaged. Two parameters with the same gradient value
// (p and q below, both d(p + q)) get one all-reduce each.
// CHECK-LABEL: func.func @train_step(
// CHECK: %[[G:.*]] = nn.mul %{{.*}}, %{{.*}} : (tensor<4x8xf32>, tensor<8xf32>)
// CHECK-NEXT: %[[G_AVG_1:.*]] = dp.all_reduce %[[G]] : tensor<4x8xf32>
// CHECK-NEXT: %[[G_AVG_2:.*]] = dp.all_reduce %[[G]] : tensor<4x8xf32>
// CHECK-NEXT: %[[R:.*]] = nn.relu %[[G]]
// CHECK-NEXT: %[[R_AVG:.*]] = dp.all_reduce %[[R]] : tensor<4x8xf32>
// CHECK-NEXT: return %{{.*}}, %[[G_AVG_2]], %[[G_AVG_1]], %[[R_AVG]] :
func.func @train_step(%p: tensor<4x8xf32> {dpc.kind = "parameter", dpc.name = "p"},
                      %q: tensor<4x8xf32> {dpc.kind = "parameter", dpc.name = "q"},
                      %r: tensor<4x8xf32> {dpc.kind = "parameter", dpc.name = "r"},
                      %s: tensor<8xf32> {dpc.kind = "input", dpc.name = "s"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"},
        tensor<4x8xf32> {dpc.kind = "gradient", dpc.name = "p", dpc.parameter = "p"},
        tensor<4x8xf32> {dpc.kind = "gradient", dpc.name = "q", dpc.parameter = "q"},
        tensor<4x8xf32> {dpc.kind = "gradient", dpc.name = "r", dpc.parameter = "r"}) {
  %loss = nn.fill 0.5 : tensor<f32>
  %d = nn.fill 1.0 : tensor<4x8xf32>
  %g = nn.mul %d, %s : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  %gr = nn.relu %g : tensor<4x8xf32>
  return %loss, %g, %g, %gr : tensor<f32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>
}
