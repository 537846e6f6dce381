// RUN: %dpc-opt %s -split-input-file --dpc-build-train-step | FileCheck %s --check-prefix=BUILD
// RUN: %dpc-opt %s -split-input-file --dpc-build-train-step --dpc-autodiff --canonicalize --dpc-sgd="lr=0.1 momentum=0.9" | FileCheck %s --check-prefix=SGD

// Buffers the forward updates (returned after its output with
// dpc.kind = "buffer") stay the last results of @train_step through every
// pass that rebuilds the result list (compiler/TrainStep/TrainStep.h).

// BUILD-LABEL: func.func @train_step(
// BUILD-SAME: -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"},
// BUILD-SAME: tensor<3xf32> {dpc.kind = "buffer", dpc.name = "bn.running_mean"},
// BUILD-SAME: tensor<3xf32> {dpc.kind = "buffer", dpc.name = "bn.running_var"},
// BUILD-SAME: tensor<i64> {dpc.kind = "buffer", dpc.name = "bn.num_batches_tracked"})
// BUILD: %[[N1:.*]] = nn.increment
// BUILD: %[[Y:[^,]*]], %{{[^,]*}}, %{{[^,]*}}, %[[RM1:[^,]*]], %[[RV1:[^ ]*]] = nn.batch_norm
// BUILD: %[[LOSS:.*]] = nn.cross_entropy %[[Y]]
// BUILD: return %[[LOSS]], %[[RM1]], %[[RV1]], %[[N1]]

// SGD-LABEL: func.func @train_step(
// SGD-SAME: %[[W:[^:]*]]: tensor<3xf32> {dpc.kind = "parameter", dpc.name = "bn.weight"},
// SGD-SAME: %[[B:[^:]*]]: tensor<3xf32> {dpc.kind = "parameter", dpc.name = "bn.bias"},
// SGD-SAME: -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"},
// SGD-SAME: tensor<3xf32> {dpc.kind = "parameter", dpc.name = "bn.weight"},
// SGD-SAME: tensor<3xf32> {dpc.kind = "parameter", dpc.name = "bn.bias"},
// SGD-SAME: tensor<3xf32> {dpc.kind = "optimizer_state", dpc.name = "bn.weight.momentum_buffer", dpc.parameter = "bn.weight"},
// SGD-SAME: tensor<3xf32> {dpc.kind = "optimizer_state", dpc.name = "bn.bias.momentum_buffer", dpc.parameter = "bn.bias"},
// SGD-SAME: tensor<3xf32> {dpc.kind = "buffer", dpc.name = "bn.running_mean"},
// SGD-SAME: tensor<3xf32> {dpc.kind = "buffer", dpc.name = "bn.running_var"},
// SGD-SAME: tensor<i64> {dpc.kind = "buffer", dpc.name = "bn.num_batches_tracked"})
// SGD: %[[N1:.*]] = nn.increment
// SGD: %{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}}, %[[RM1:[^,]*]], %[[RV1:[^ ]*]] = nn.batch_norm
// SGD: return %{{.*}}, %[[RM1]], %[[RV1]], %[[N1]] :
func.func @forward(%x: tensor<4x3xf32> {dpc.kind = "input", dpc.name = "x"},
                   %w: tensor<3xf32> {dpc.kind = "parameter", dpc.name = "bn.weight"},
                   %b: tensor<3xf32> {dpc.kind = "parameter", dpc.name = "bn.bias"},
                   %rm: tensor<3xf32> {dpc.kind = "buffer", dpc.name = "bn.running_mean"},
                   %rv: tensor<3xf32> {dpc.kind = "buffer", dpc.name = "bn.running_var"},
                   %n: tensor<i64> {dpc.kind = "buffer", dpc.name = "bn.num_batches_tracked"})
    -> (tensor<4x3xf32>, tensor<3xf32> {dpc.kind = "buffer", dpc.name = "bn.running_mean"},
        tensor<3xf32> {dpc.kind = "buffer", dpc.name = "bn.running_var"},
        tensor<i64> {dpc.kind = "buffer", dpc.name = "bn.num_batches_tracked"}) {
  %n1 = nn.increment %n : tensor<i64>
  %y:5 = nn.batch_norm %x, %w, %b, %rm, %rv {momentum = 0.1, eps = 1.0e-5}
      : (tensor<4x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>)
      -> (tensor<4x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>)
  return %y#0, %y#3, %y#4, %n1 : tensor<4x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<i64>
}
