// RUN: %dpc-opt %s --dpc-plan-memory --dpc-lower-to-llvm | FileCheck %s

// Every convolution, normalization and pooling op becomes one dpcrt_* call.
// Window geometry is a constant int64 array in the ABI's order
// (dpcrt_conv2d_dim, dpcrt_pool2d_dim). nn.batch_norm passes the running
// statistics' slots, which it updates in place, and nn.increment its
// counter's: the updated buffers returned by the step are those slots.

// The arrays (a forward op and its gradient each get one, with the same
// values): the conv2d ops' hold
//   N C H W O KH KW OH OW sh sw ph pw dh dw groups;
// the pools' are planes (N*C) H W OH OW KH KW sh sw ph pw dh dw.
// CHECK-DAG: @__dpc_dims_{{[0-9]+}}(dense<[2, 4, 9, 9, 6, 3, 3, 5, 5, 2, 2, 1, 1, 1, 1, 2]>
// CHECK-DAG: @__dpc_dims_{{[0-9]+}}(dense<[12, 5, 5, 3, 3, 3, 3, 2, 2, 1, 1, 1, 1]>
// CHECK-DAG: @__dpc_dims_{{[0-9]+}}(dense<[12, 3, 3, 2, 2, 2, 2, 1, 1, 0, 0, 1, 1]>

// CHECK-LABEL: llvm.func @dpc_model_train_step(
// CHECK: %[[X:.*]] = llvm.load
// CHECK: %[[W:.*]] = llvm.load
// CHECK: %[[B:.*]] = llvm.load
// CHECK: %[[GAMMA:.*]] = llvm.load
// CHECK: %[[RM:.*]] = llvm.load
// CHECK: %[[RV:.*]] = llvm.load
// CHECK: %[[N:.*]] = llvm.load
// CHECK: %[[T:.*]] = llvm.load
// CHECK: %[[LOSS:.*]] = llvm.load
// CHECK: %[[ARENA:.*]] = llvm.load
// CHECK: %[[C:.*]] = llvm.getelementptr %[[ARENA]][
// CHECK: %[[CDIMS:.*]] = llvm.mlir.addressof @__dpc_dims_
// CHECK: llvm.call @dpcrt_conv2d_f32(%{{.*}}, %[[C]], %[[X]], %[[W]], %[[B]], %[[CDIMS]])
// CHECK: llvm.call @dpcrt_increment_i64(%{{.*}}, %[[N]], %{{.*}}, %{{.*}}) : (!llvm.ptr, !llvm.ptr, i64, i64) -> ()
// CHECK: %[[Y:.*]] = llvm.getelementptr %[[ARENA]][
// CHECK: %[[MEAN:.*]] = llvm.getelementptr %[[ARENA]][
// CHECK: %[[INVSTD:.*]] = llvm.getelementptr %[[ARENA]][
// CHECK: llvm.call @dpcrt_batch_norm_f32(%{{.*}}, %[[Y]], %[[MEAN]], %[[INVSTD]], %[[RM]], %[[RV]], %[[C]], %[[GAMMA]], %[[B]], %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) : (!llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, i64, i64, i64, f64, f64) -> ()
// CHECK: llvm.call @dpcrt_max_pool2d_f32(
// count_include_pad = 1, divisor_override = 3
// CHECK: %[[CIP:.*]] = llvm.mlir.constant(1 : i32) : i32
// CHECK: %[[DIV:.*]] = llvm.mlir.constant(3 : i64) : i64
// CHECK: llvm.call @dpcrt_avg_pool2d_f32(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[CIP]], %[[DIV]])
// CHECK: llvm.call @dpcrt_adaptive_avg_pool2d_f32(
// CHECK: llvm.call @dpcrt_adaptive_avg_pool2d_grad_f32(
// CHECK: llvm.call @dpcrt_avg_pool2d_grad_f32(
// The max pool's gradient reads the forward's input to find the argmax.
// CHECK: llvm.call @dpcrt_max_pool2d_grad_f32(%{{.*}}, %{{.*}}, %{{.*}}, %[[Y]], %{{.*}})
// CHECK: llvm.call @dpcrt_batch_norm_grad_f32(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[C]], %[[GAMMA]], %[[MEAN]], %[[INVSTD]],
// CHECK: llvm.call @dpcrt_conv2d_input_grad_f32(%{{.*}}, %{{.*}}, %{{.*}}, %[[W]], %{{.*}})
// CHECK: llvm.call @dpcrt_conv2d_weight_grad_f32(%{{.*}}, %{{.*}}, %{{.*}}, %[[X]], %{{.*}})
func.func @train_step(%x: tensor<2x4x9x9xf32> {dpc.kind = "input", dpc.name = "x"},
                      %w: tensor<6x2x3x3xf32> {dpc.kind = "parameter", dpc.name = "conv.weight"},
                      %b: tensor<6xf32> {dpc.kind = "parameter", dpc.name = "conv.bias"},
                      %gamma: tensor<6xf32> {dpc.kind = "parameter", dpc.name = "bn.weight"},
                      %rm: tensor<6xf32> {dpc.kind = "buffer", dpc.name = "bn.running_mean"},
                      %rv: tensor<6xf32> {dpc.kind = "buffer", dpc.name = "bn.running_var"},
                      %n: tensor<i64> {dpc.kind = "buffer", dpc.name = "bn.num_batches_tracked"},
                      %t: tensor<2x6x2x2xf32> {dpc.kind = "label", dpc.name = "label"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"},
        tensor<6xf32> {dpc.kind = "buffer", dpc.name = "bn.running_mean"},
        tensor<6xf32> {dpc.kind = "buffer", dpc.name = "bn.running_var"},
        tensor<i64> {dpc.kind = "buffer", dpc.name = "bn.num_batches_tracked"}) {
  %c = nn.conv2d %x, %w, %b {stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, dilation = array<i64: 1, 1>, groups = 2 : i64}
      : (tensor<2x4x9x9xf32>, tensor<6x2x3x3xf32>, tensor<6xf32>) -> tensor<2x6x5x5xf32>
  %n1 = nn.increment %n : tensor<i64>
  %y, %mean, %invstd, %rm1, %rv1 = nn.batch_norm %c, %gamma, %b, %rm, %rv {momentum = 0.1, eps = 1.0e-5}
      : (tensor<2x6x5x5xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>)
      -> (tensor<2x6x5x5xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>)
  %m = nn.max_pool2d %y {kernel_size = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, dilation = array<i64: 1, 1>}
      : tensor<2x6x5x5xf32> -> tensor<2x6x3x3xf32>
  %a = nn.avg_pool2d %m {kernel_size = array<i64: 2, 2>, stride = array<i64: 1, 1>, padding = array<i64: 0, 0>, count_include_pad, divisor_override = 3 : i64}
      : tensor<2x6x3x3xf32> -> tensor<2x6x2x2xf32>
  %g = nn.adaptive_avg_pool2d %a {output_size = array<i64: 2, 2>} : tensor<2x6x2x2xf32> -> tensor<2x6x2x2xf32>
  %loss = nn.mse_loss %g, %t : tensor<2x6x2x2xf32>
  %s = nn.fill 1.0 : tensor<f32>
  %dg = nn.mse_loss_grad %s, %g, %t : (tensor<f32>, tensor<2x6x2x2xf32>, tensor<2x6x2x2xf32>) -> tensor<2x6x2x2xf32>
  %da = nn.adaptive_avg_pool2d_grad %dg : tensor<2x6x2x2xf32> -> tensor<2x6x2x2xf32>
  %dm = nn.avg_pool2d_grad %da {kernel_size = array<i64: 2, 2>, stride = array<i64: 1, 1>, padding = array<i64: 0, 0>, count_include_pad, divisor_override = 3 : i64}
      : tensor<2x6x2x2xf32> -> tensor<2x6x3x3xf32>
  %dy = nn.max_pool2d_grad %dm, %y {kernel_size = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, dilation = array<i64: 1, 1>}
      : (tensor<2x6x3x3xf32>, tensor<2x6x5x5xf32>) -> tensor<2x6x5x5xf32>
  %dc, %dgamma, %dbeta = nn.batch_norm_grad %dy, %c, %gamma, %mean, %invstd
      : (tensor<2x6x5x5xf32>, tensor<2x6x5x5xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>)
      -> (tensor<2x6x5x5xf32>, tensor<6xf32>, tensor<6xf32>)
  %dx = nn.conv2d_input_grad %dc, %w {stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, dilation = array<i64: 1, 1>, groups = 2 : i64}
      : (tensor<2x6x5x5xf32>, tensor<6x2x3x3xf32>) -> tensor<2x4x9x9xf32>
  %dw = nn.conv2d_weight_grad %dc, %x {stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, dilation = array<i64: 1, 1>, groups = 2 : i64}
      : (tensor<2x6x5x5xf32>, tensor<2x4x9x9xf32>) -> tensor<6x2x3x3xf32>
  return %loss, %rm1, %rv1, %n1 : tensor<f32>, tensor<6xf32>, tensor<6xf32>, tensor<i64>
}
