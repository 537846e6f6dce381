// RUN: %dpc-opt %s --dpc-autodiff | FileCheck %s

// The VJPs of maximum (torch's: half the gradient to each operand on a tie,
// none to the smaller one), where (the gradient to the selected operand)
// and pow of two tensors (pow_backward_self and pow_backward_exponent).

// CHECK-LABEL: func.func @train_step(
// CHECK-SAME: %[[X:[^:]*]]: tensor<4x8xf32> {dpc.kind = "input", dpc.name = "x"}, %[[A:[^:]*]]: tensor<4x8xf32> {{.*}}, %[[B:[^:]*]]: tensor<8xf32>
// CHECK: %[[M:.*]] = nn.maximum %[[A]], %[[B]]
// CHECK-NEXT: %[[W:.*]] = nn.where %[[X]], %[[M]], %[[A]]
// CHECK-NEXT: %[[P:.*]] = nn.pow %[[W]], %[[A]]
// CHECK: %[[DP:.*]] = nn.mse_loss_grad
// pow_backward_self: where(exponent == 0, 0, grad * (exponent * self ** (exponent - 1)))
// CHECK-NEXT: %[[ONE:.*]] = nn.fill 1.000000e+00 : tensor<f32>
// CHECK-NEXT: %[[E1:.*]] = nn.sub %[[A]], %[[ONE]]
// CHECK-NEXT: %[[PE1:.*]] = nn.pow %[[W]], %[[E1]]
// CHECK-NEXT: %[[SLOPE:.*]] = nn.mul %[[A]], %[[PE1]]
// CHECK-NEXT: %[[Z0:.*]] = nn.fill 0.000000e+00 : tensor<f32>
// CHECK-NEXT: %[[E0:.*]] = nn.compare %[[A]], %[[Z0]] {predicate = "eq"}
// CHECK-NEXT: %[[G:.*]] = nn.mul %[[DP]], %[[SLOPE]]
// CHECK-NEXT: %[[DW:.*]] = nn.masked_fill %[[G]], %[[E0]] {value = 0.000000e+00 : f32}
// pow_backward_exponent: grad * where(self == 0 & exponent >= 0, 0, result * log(self))
// CHECK-NEXT: %[[LOG:.*]] = nn.log %[[W]]
// CHECK-NEXT: %[[Z1:.*]] = nn.fill 0.000000e+00 : tensor<f32>
// CHECK-NEXT: %[[B0:.*]] = nn.compare %[[W]], %[[Z1]] {predicate = "eq"}
// CHECK-NEXT: %[[Z2:.*]] = nn.fill 0.000000e+00 : tensor<f32>
// CHECK-NEXT: %[[NN:.*]] = nn.compare %[[A]], %[[Z2]] {predicate = "ge"}
// CHECK-NEXT: %[[BOTH:.*]] = nn.mul %[[B0]], %[[NN]]
// CHECK-NEXT: %[[RL:.*]] = nn.mul %[[P]], %[[LOG]]
// CHECK-NEXT: %[[RATE:.*]] = nn.masked_fill %[[RL]], %[[BOTH]] {value = 0.000000e+00 : f32}
// CHECK-NEXT: %[[DA1:.*]] = nn.mul %[[DP]], %[[RATE]]
// where: the gradient to the operand each element selects.
// CHECK-NEXT: %[[Z3:.*]] = nn.fill 0.000000e+00 : tensor<f32>
// CHECK-NEXT: %[[NOT:.*]] = nn.compare %[[X]], %[[Z3]] {predicate = "eq"}
// CHECK-NEXT: %[[DM:.*]] = nn.masked_fill %[[DW]], %[[NOT]] {value = 0.000000e+00 : f32}
// CHECK-NEXT: %[[DA2:.*]] = nn.masked_fill %[[DW]], %[[X]] {value = 0.000000e+00 : f32}
// CHECK-NEXT: %[[DA12:.*]] = nn.add %[[DA1]], %[[DA2]]
// maximum: half to each on a tie, none to the smaller operand.
// CHECK-NEXT: %[[TIE:.*]] = nn.compare %[[A]], %[[B]] {predicate = "eq"}
// CHECK-NEXT: %[[HALF:.*]] = nn.scale %[[DM]], 5.000000e-01
// CHECK-NEXT: %[[SHARED:.*]] = nn.where %[[TIE]], %[[HALF]], %[[DM]]
// CHECK-NEXT: %[[LT:.*]] = nn.compare %[[A]], %[[B]] {predicate = "lt"}
// CHECK-NEXT: %[[DA3:.*]] = nn.masked_fill %[[SHARED]], %[[LT]] {value = 0.000000e+00 : f32}
// CHECK-NEXT: %[[GT:.*]] = nn.compare %[[A]], %[[B]] {predicate = "gt"}
// CHECK-NEXT: %[[DBFULL:.*]] = nn.masked_fill %[[SHARED]], %[[GT]] {value = 0.000000e+00 : f32}
// CHECK-NEXT: %[[DB:.*]] = nn.sum_to %[[DBFULL]] : tensor<4x8xf32> to tensor<8xf32>
// CHECK-NEXT: %[[DA:.*]] = nn.add %[[DA12]], %[[DA3]]
// CHECK-NEXT: return %{{.*}}, %[[DA]], %[[DB]]
func.func @train_step(
    %x: tensor<4x8xf32> {dpc.kind = "input", dpc.name = "x"},
    %a: tensor<4x8xf32> {dpc.kind = "parameter", dpc.name = "a"},
    %b: tensor<8xf32> {dpc.kind = "parameter", dpc.name = "b"},
    %y: tensor<4x8xf32> {dpc.kind = "label", dpc.name = "y"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"}) {
  %m = nn.maximum %a, %b : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  %w = nn.where %x, %m, %a : tensor<4x8xf32>
  %p = nn.pow %w, %a : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %loss = nn.mse_loss %p, %y : tensor<4x8xf32>
  return %loss : tensor<f32>
}
