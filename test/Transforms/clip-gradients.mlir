// RUN: %dpc-opt %s --dpc-sgd="lr=0.1" --dpc-clip-gradients="max-norm=1.0" | FileCheck %s --check-prefix=NORM
// RUN: %dpc-opt %s --dpc-sgd="lr=0.1" --dpc-clip-gradients="max-norm=1.0" \
// RUN:     --dpc-ddp-buckets="bucket-cap-mb=0.0005 first-bucket-mb=0.0001" | FileCheck %s --check-prefix=BUCKETS
// RUN: %dpc-opt %s --dpc-sgd="lr=0.1" --dpc-clip-gradients="clip-value=0.5" \
// RUN:     --dpc-ddp-buckets="bucket-cap-mb=0.0005 first-bucket-mb=0.0001" | FileCheck %s --check-prefix=VALUE
// RUN: %dpc-opt %s --dpc-sgd="lr=0.1" --dpc-clip-gradients | FileCheck %s --check-prefix=OFF
// RUN: not %dpc-opt %s --dpc-clip-gradients="max-norm=1.0" 2>&1 | FileCheck %s --check-prefix=NOUPDATE

// dpc-clip-gradients after dpc-sgd: by norm, one nn.clip_grad_norm of all
// the updates' averaged gradients right before the first update, whose
// results the updates read.
// NORM: %[[DW2:.*]] = dp.all_reduce
// NORM: %[[DB2:.*]] = dp.all_reduce
// NORM: %[[DW1:.*]] = dp.all_reduce
// NORM: %[[DB1:.*]] = dp.all_reduce
// NORM-NEXT: %[[C:.*]]:4 = nn.clip_grad_norm %[[DW2]], %[[DB2]], %[[DW1]], %[[DB1]] {max_norm = 1.000000e+00 : f64} : tensor<10x16xf32>, tensor<10xf32>, tensor<16x8xf32>, tensor<16xf32>
// NORM-NEXT: nn.sgd_update %{{.*}}, %[[C]]#0
// NORM-NEXT: nn.sgd_update %{{.*}}, %[[C]]#1
// NORM-NEXT: nn.sgd_update %{{.*}}, %[[C]]#2
// NORM-NEXT: nn.sgd_update %{{.*}}, %[[C]]#3

// With buckets, every wait precedes the clip: no update overlaps an
// all-reduce.
// BUCKETS-COUNT-3: dp.wait
// BUCKETS-NOT: dp.wait
// BUCKETS-NOT: nn.sgd_update
// BUCKETS: nn.clip_grad_norm
// BUCKETS-NOT: dp.wait
// BUCKETS-COUNT-4: nn.sgd_update

// By value, each update's gradient is clamped right before it, so the
// updates of a bucket still follow its own wait.
// VALUE: dp.wait
// VALUE-NEXT: nn.clip_grad_value %{{.*}} {clip_value = 5.000000e-01 : f64} : tensor<10x16xf32>
// VALUE-NEXT: nn.sgd_update
// VALUE: dp.wait
// VALUE: nn.clip_grad_value
// VALUE-NEXT: nn.sgd_update

// Without max-norm or clip-value the pass does nothing.
// OFF-NOT: nn.clip_grad

// NOUPDATE: error: has no optimizer update to clip the gradients of; run dpc-sgd or dpc-adam first

func.func @train_step(%x: tensor<4x8xf32> {dpc.kind = "input", dpc.name = "x"},
                      %w1: tensor<16x8xf32> {dpc.kind = "parameter", dpc.name = "fc1.weight"},
                      %b1: tensor<16xf32> {dpc.kind = "parameter", dpc.name = "fc1.bias"},
                      %u: tensor<3xf32> {dpc.kind = "parameter", dpc.name = "unused", dpc.unused},
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
  %dw2_avg = dp.all_reduce %dw2 : tensor<10x16xf32>
  %db2 = nn.sum_to %dy : tensor<4x10xf32> to tensor<10xf32>
  %db2_avg = dp.all_reduce %db2 : tensor<10xf32>
  %dh = nn.relu_grad %da, %h : tensor<4x16xf32>
  %dw1 = nn.matmul %dh, %x {transpose_lhs} : (tensor<4x16xf32>, tensor<4x8xf32>) -> tensor<16x8xf32>
  %dw1_avg = dp.all_reduce %dw1 : tensor<16x8xf32>
  %db1 = nn.sum_to %dh : tensor<4x16xf32> to tensor<16xf32>
  %db1_avg = dp.all_reduce %db1 : tensor<16xf32>
  return %loss, %dw1_avg, %db1_avg, %dw2_avg, %db2_avg
      : tensor<f32>, tensor<16x8xf32>, tensor<16xf32>, tensor<10x16xf32>, tensor<10xf32>
}
