// RUN: %dpc-opt %s --split-input-file --dpc-accumulate="micro-batches=2" | FileCheck %s
// RUN: %dpc-opt %s --split-input-file --dpc-accumulate="micro-batches=3" | FileCheck %s --check-prefix=THREE
// RUN: %dpc-opt %s --split-input-file --dpc-accumulate | FileCheck %s --check-prefix=ONE

// dpc-accumulate makes the inputs and the label hold K micro-batches back to
// back and unrolls the forward and backward pass once per micro-batch: the
// first copy is the original ops reading micro-batch 0, each later copy
// follows it completely (so one micro-batch's activations are live at a
// time). Each gradient is added up right after its micro-batch produced it
// and scaled by 1/K after the last one; the loss is the mean of the
// micro-batch losses.

// CHECK-LABEL: func.func @train_step(
// CHECK-SAME: %[[X:[^:]*]]: tensor<8x8xf32> {dpc.kind = "input", dpc.name = "x"},
// CHECK-SAME: %[[W:[^:]*]]: tensor<2x8xf32> {dpc.kind = "parameter", dpc.name = "fc.weight"},
// CHECK-SAME: %[[B:[^:]*]]: tensor<2xf32> {dpc.kind = "parameter", dpc.name = "fc.bias"},
// CHECK-SAME: %[[Y:[^:]*]]: tensor<8x2xf32> {dpc.kind = "label", dpc.name = "y"})
// CHECK-NEXT: %[[X0:.*]] = nn.micro_batch %[[X]] {count = 2 : i64, index = 0 : i64} : tensor<8x8xf32> to tensor<4x8xf32>
// CHECK-NEXT: %[[Y0:.*]] = nn.micro_batch %[[Y]] {count = 2 : i64, index = 0 : i64} : tensor<8x2xf32> to tensor<4x2xf32>
// CHECK-NEXT: %[[OUT0:.*]] = nn.linear %[[X0]], %[[W]], %[[B]]
// CHECK-NEXT: %[[LOSS0:.*]] = nn.mse_loss %[[OUT0]], %[[Y0]]
// CHECK-NEXT: %[[SEED0:.*]] = nn.fill
// CHECK-NEXT: %[[DOUT0:.*]] = nn.mse_loss_grad %[[SEED0]], %[[OUT0]], %[[Y0]]
// CHECK-NEXT: %[[DB0:.*]] = nn.sum_to %[[DOUT0]]
// CHECK-NEXT: %[[DW0:.*]] = nn.matmul %[[DOUT0]], %[[X0]] {transpose_lhs}
// CHECK-NEXT: %[[X1:.*]] = nn.micro_batch %[[X]] {count = 2 : i64, index = 1 : i64} : tensor<8x8xf32> to tensor<4x8xf32>
// CHECK-NEXT: %[[Y1:.*]] = nn.micro_batch %[[Y]] {count = 2 : i64, index = 1 : i64} : tensor<8x2xf32> to tensor<4x2xf32>
// CHECK-NEXT: %[[OUT1:.*]] = nn.linear %[[X1]], %[[W]], %[[B]]
// CHECK-NEXT: %[[LOSS1:.*]] = nn.mse_loss %[[OUT1]], %[[Y1]]
// CHECK-NEXT: %[[LOSS_SUM:.*]] = nn.add %[[LOSS0]], %[[LOSS1]]
// CHECK-NEXT: %[[LOSS:.*]] = nn.scale %[[LOSS_SUM]], 5.000000e-01 : tensor<f32>
// CHECK-NEXT: %[[SEED1:.*]] = nn.fill
// CHECK-NEXT: %[[DOUT1:.*]] = nn.mse_loss_grad %[[SEED1]], %[[OUT1]], %[[Y1]]
// CHECK-NEXT: %[[DB1:.*]] = nn.sum_to %[[DOUT1]]
// CHECK-NEXT: %[[DB_SUM:.*]] = nn.add %[[DB0]], %[[DB1]]
// CHECK-NEXT: %[[DB:.*]] = nn.scale %[[DB_SUM]], 5.000000e-01 : tensor<2xf32>
// CHECK-NEXT: %[[DW1:.*]] = nn.matmul %[[DOUT1]], %[[X1]] {transpose_lhs}
// CHECK-NEXT: %[[DW_SUM:.*]] = nn.add %[[DW0]], %[[DW1]]
// CHECK-NEXT: %[[DW:.*]] = nn.scale %[[DW_SUM]], 5.000000e-01 : tensor<2x8xf32>
// CHECK-NEXT: return %[[LOSS]], %[[DW]], %[[DB]]

// THREE-LABEL: func.func @train_step(
// THREE-SAME: tensor<12x8xf32> {dpc.kind = "input", dpc.name = "x"}
// THREE-SAME: tensor<12x2xf32> {dpc.kind = "label", dpc.name = "y"})
// THREE-COUNT-3: nn.mse_loss_grad
// THREE: %[[DW_SUM:.*]] = nn.add %{{.*}}, %{{.*}} : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
// THREE-NEXT: %[[DW:.*]] = nn.scale %[[DW_SUM]], 0.333333343 : tensor<2x8xf32>
// THREE-NEXT: return

// With one micro-batch nothing changes.
// ONE-LABEL: func.func @train_step(
// ONE-SAME: %[[X:[^:]*]]: tensor<4x8xf32> {dpc.kind = "input", dpc.name = "x"},
// ONE-NOT: nn.micro_batch
// ONE-NOT: nn.scale

func.func @train_step(%x: tensor<4x8xf32> {dpc.kind = "input", dpc.name = "x"},
                      %w: tensor<2x8xf32> {dpc.kind = "parameter", dpc.name = "fc.weight"},
                      %b: tensor<2xf32> {dpc.kind = "parameter", dpc.name = "fc.bias"},
                      %y: tensor<4x2xf32> {dpc.kind = "label", dpc.name = "y"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"},
        tensor<2x8xf32> {dpc.kind = "gradient", dpc.name = "fc.weight", dpc.parameter = "fc.weight"},
        tensor<2xf32> {dpc.kind = "gradient", dpc.name = "fc.bias", dpc.parameter = "fc.bias"}) {
  %out = nn.linear %x, %w, %b : (tensor<4x8xf32>, tensor<2x8xf32>, tensor<2xf32>) -> tensor<4x2xf32>
  %loss = nn.mse_loss %out, %y : tensor<4x2xf32>
  %seed = nn.fill 1.0 : tensor<f32>
  %dout = nn.mse_loss_grad %seed, %out, %y : (tensor<f32>, tensor<4x2xf32>, tensor<4x2xf32>) -> tensor<4x2xf32>
  %db = nn.sum_to %dout : tensor<4x2xf32> to tensor<2xf32>
  %dw = nn.matmul %dout, %x {transpose_lhs} : (tensor<4x2xf32>, tensor<4x8xf32>) -> tensor<2x8xf32>
  return %loss, %dw, %db : tensor<f32>, tensor<2x8xf32>, tensor<2xf32>
}

// -----

// A buffer the step updates (here a stand-in: the forward writes x's column
// sums into it) is threaded through the micro-batches: micro-batch 1 reads
// what micro-batch 0 wrote, and the step returns micro-batch 1's value.

// CHECK-LABEL: func.func @train_step(
// CHECK-SAME: %[[X:[^:]*]]: tensor<8x3xf32> {dpc.kind = "input", dpc.name = "x"},
// CHECK-SAME: %[[W:[^:]*]]: tensor<3xf32> {dpc.kind = "parameter", dpc.name = "w"},
// CHECK-SAME: %[[BUF:[^:]*]]: tensor<3xf32> {dpc.kind = "buffer", dpc.name = "running"})
// CHECK: %[[X0:.*]] = nn.micro_batch %[[X]] {count = 2 : i64, index = 0 : i64}
// CHECK: %[[NEW0:.*]] = nn.add %[[BUF]], %{{.*}}
// CHECK: %[[X1:.*]] = nn.micro_batch %[[X]] {count = 2 : i64, index = 1 : i64}
// CHECK: %[[NEW1:.*]] = nn.add %[[NEW0]], %{{.*}}
// CHECK: return %{{.*}}, %[[NEW1]], %{{.*}} : tensor<f32>, tensor<3xf32>, tensor<3xf32>
func.func @train_step(%x: tensor<4x3xf32> {dpc.kind = "input", dpc.name = "x"},
                      %w: tensor<3xf32> {dpc.kind = "parameter", dpc.name = "w"},
                      %running: tensor<3xf32> {dpc.kind = "buffer", dpc.name = "running"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"},
        tensor<3xf32> {dpc.kind = "buffer", dpc.name = "running"},
        tensor<3xf32> {dpc.kind = "gradient", dpc.name = "w", dpc.parameter = "w"}) {
  %colsum = nn.sum_to %x : tensor<4x3xf32> to tensor<3xf32>
  %new = nn.add %running, %colsum : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %xw = nn.mul %x, %w : (tensor<4x3xf32>, tensor<3xf32>) -> tensor<4x3xf32>
  %target = nn.fill 0.0 : tensor<4x3xf32>
  %loss = nn.mse_loss %xw, %target : tensor<4x3xf32>
  %seed = nn.fill 1.0 : tensor<f32>
  %dxw = nn.mse_loss_grad %seed, %xw, %target : (tensor<f32>, tensor<4x3xf32>, tensor<4x3xf32>) -> tensor<4x3xf32>
  %dprod = nn.mul %dxw, %x : (tensor<4x3xf32>, tensor<4x3xf32>) -> tensor<4x3xf32>
  %dw = nn.sum_to %dprod : tensor<4x3xf32> to tensor<3xf32>
  return %loss, %new, %dw : tensor<f32>, tensor<3xf32>, tensor<3xf32>
}

// -----

// With GradScaler (the backward pass seeded by nn.loss_scale) each
// micro-batch's backward pass starts from scale / K, as PyTorch's
// scaler.scale(loss / K).backward(), and the gradient sums are not divided.
// CHECK-LABEL: func.func @train_step(
// CHECK:      %[[SEED0:.*]] = nn.loss_scale : tensor<f32>
// CHECK-NEXT: %[[K0:.*]] = nn.fill 2.000000e+00 : tensor<f32>
// CHECK-NEXT: %[[S0:.*]] = nn.div %[[SEED0]], %[[K0]]
// CHECK-NEXT: nn.mse_loss_grad %[[S0]]
// CHECK:      %[[SEED1:.*]] = nn.loss_scale : tensor<f32>
// CHECK-NEXT: %[[K1:.*]] = nn.fill 2.000000e+00 : tensor<f32>
// CHECK-NEXT: %[[S1:.*]] = nn.div %[[SEED1]], %[[K1]]
// CHECK-NEXT: %[[D1:.*]] = nn.mse_loss_grad %[[S1]]
// CHECK:      %[[SUM:.*]] = nn.add %{{.*}}, %{{.*}} : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
// CHECK-NOT:  nn.scale %[[SUM]]
// CHECK:      return %{{.*}}, %{{.*}}, %[[SUM]]
func.func @train_step(%x: tensor<4x8xf32> {dpc.kind = "input", dpc.name = "x"},
                      %w: tensor<2x8xf32> {dpc.kind = "parameter", dpc.name = "fc.weight"},
                      %b: tensor<2xf32> {dpc.kind = "parameter", dpc.name = "fc.bias"},
                      %y: tensor<4x2xf32> {dpc.kind = "label", dpc.name = "y"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"},
        tensor<2x8xf32> {dpc.kind = "gradient", dpc.name = "fc.weight", dpc.parameter = "fc.weight"},
        tensor<2xf32> {dpc.kind = "gradient", dpc.name = "fc.bias", dpc.parameter = "fc.bias"}) {
  %out = nn.linear %x, %w, %b : (tensor<4x8xf32>, tensor<2x8xf32>, tensor<2xf32>) -> tensor<4x2xf32>
  %loss = nn.mse_loss %out, %y : tensor<4x2xf32>
  %seed = nn.loss_scale : tensor<f32>
  %dout = nn.mse_loss_grad %seed, %out, %y : (tensor<f32>, tensor<4x2xf32>, tensor<4x2xf32>) -> tensor<4x2xf32>
  %db = nn.sum_to %dout : tensor<4x2xf32> to tensor<2xf32>
  %dw = nn.matmul %dout, %x {transpose_lhs} : (tensor<4x2xf32>, tensor<4x8xf32>) -> tensor<2x8xf32>
  return %loss, %dw, %db : tensor<f32>, tensor<2x8xf32>, tensor<2xf32>
}
