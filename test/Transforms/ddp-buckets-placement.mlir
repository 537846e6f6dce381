// RUN: %dpc-opt %s -split-input-file --dpc-ddp-buckets | FileCheck %s

// dp.all_reduce_start donates its operands to the in-place collective, so a
// gradient that is read by anything else (another op, a second all-reduce,
// or a function argument) is copied into the bucket first; the other readers
// keep the original. A gradient read only by its all-reduce is not copied.
// The copies are made right before the start.

// CHECK-LABEL: func.func @train_step(
// CHECK-SAME: %[[X:[^:]*]]: tensor<4xf32> {dpc.kind = "parameter", dpc.name = "x"},
// CHECK: %[[GS:.*]] = nn.scale
// CHECK-NEXT: %[[GPQ:.*]] = nn.scale
// CHECK-NEXT: %[[GR:.*]] = nn.scale
// CHECK-NEXT: %[[CX:.*]] = nn.copy %[[X]] : tensor<4xf32>
// CHECK-NEXT: %[[CQ:.*]] = nn.copy %[[GPQ]] : tensor<4xf32>
// CHECK-NEXT: %[[CP:.*]] = nn.copy %[[GPQ]] : tensor<4xf32>
// CHECK-NEXT: %[[CR:.*]] = nn.copy %[[GR]] : tensor<4xf32>
// CHECK-NEXT: %[[T:.*]] = dp.all_reduce_start %[[CX]], %[[GS]], %[[CQ]], %[[CP]], %[[CR]] {bucket = 0 : i64}
// CHECK-NEXT: %[[OTHER:.*]] = nn.relu %[[GR]] : tensor<4xf32>
// CHECK-NEXT: %[[W:.*]]:5 = dp.wait %[[T]]
// CHECK-NEXT: %[[NX:.*]] = nn.sgd_update %[[X]], %[[W]]#0
// CHECK-NEXT: %[[NS:.*]] = nn.sgd_update %{{.*}}, %[[W]]#1
// CHECK-NEXT: %[[NQ:.*]] = nn.sgd_update %{{.*}}, %[[W]]#2
// CHECK-NEXT: %[[NP:.*]] = nn.sgd_update %{{.*}}, %[[W]]#3
// CHECK-NEXT: %[[NR:.*]] = nn.sgd_update %{{.*}}, %[[W]]#4
// CHECK-NEXT: return %{{.*}}, %[[NX]], %[[NP]], %[[NQ]], %[[NR]], %[[NS]], %[[OTHER]] :
func.func @train_step(%x: tensor<4xf32> {dpc.kind = "parameter", dpc.name = "x"},
                      %p: tensor<4xf32> {dpc.kind = "parameter", dpc.name = "p"},
                      %q: tensor<4xf32> {dpc.kind = "parameter", dpc.name = "q"},
                      %r: tensor<4xf32> {dpc.kind = "parameter", dpc.name = "r"},
                      %s: tensor<4xf32> {dpc.kind = "parameter", dpc.name = "s"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"},
        tensor<4xf32> {dpc.kind = "parameter", dpc.name = "x"},
        tensor<4xf32> {dpc.kind = "parameter", dpc.name = "p"},
        tensor<4xf32> {dpc.kind = "parameter", dpc.name = "q"},
        tensor<4xf32> {dpc.kind = "parameter", dpc.name = "r"},
        tensor<4xf32> {dpc.kind = "parameter", dpc.name = "s"},
        tensor<4xf32>) {
  %gx_avg = dp.all_reduce %x : tensor<4xf32>
  %loss = nn.fill 0.5 : tensor<f32>
  %gs = nn.scale %s, 2.0 : tensor<4xf32>
  %gs_avg = dp.all_reduce %gs : tensor<4xf32>
  %gpq = nn.scale %p, 2.0 : tensor<4xf32>
  %gq_avg = dp.all_reduce %gpq : tensor<4xf32>
  %gp_avg = dp.all_reduce %gpq : tensor<4xf32>
  %gr = nn.scale %r, 2.0 : tensor<4xf32>
  %gr_avg = dp.all_reduce %gr : tensor<4xf32>
  %other = nn.relu %gr : tensor<4xf32>
  %nx = nn.sgd_update %x, %gx_avg {lr = 0.1 : f32} : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %ns = nn.sgd_update %s, %gs_avg {lr = 0.1 : f32} : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %nq = nn.sgd_update %q, %gq_avg {lr = 0.1 : f32} : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %np = nn.sgd_update %p, %gp_avg {lr = 0.1 : f32} : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %nr = nn.sgd_update %r, %gr_avg {lr = 0.1 : f32} : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %loss, %nx, %np, %nq, %nr, %ns, %other : tensor<f32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
}

// -----

// The wait goes right before the first use of any result of its bucket,
// whatever that use is.
// CHECK-LABEL: func.func @train_step(
// CHECK: %[[G1:.*]] = nn.scale
// CHECK-NEXT: %[[G2:.*]] = nn.scale
// CHECK-NEXT: %[[T:.*]] = dp.all_reduce_start %[[G1]], %[[G2]] {bucket = 0 : i64}
// CHECK-NEXT: nn.fill
// CHECK-NEXT: %[[W:.*]]:2 = dp.wait %[[T]]
// CHECK-NEXT: nn.relu %[[W]]#1
// CHECK-NEXT: nn.fill
// CHECK-NEXT: nn.sgd_update %{{.*}}, %[[W]]#0
// CHECK-NEXT: nn.sgd_update %{{.*}}, %[[W]]#1
func.func @train_step(%p: tensor<4xf32> {dpc.kind = "parameter", dpc.name = "p"},
                      %q: tensor<4xf32> {dpc.kind = "parameter", dpc.name = "q"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"},
        tensor<4xf32> {dpc.kind = "parameter", dpc.name = "p"},
        tensor<4xf32> {dpc.kind = "parameter", dpc.name = "q"},
        tensor<4xf32>) {
  %g1 = nn.scale %p, 2.0 : tensor<4xf32>
  %g1_avg = dp.all_reduce %g1 : tensor<4xf32>
  %g2 = nn.scale %q, 2.0 : tensor<4xf32>
  %g2_avg = dp.all_reduce %g2 : tensor<4xf32>
  %loss = nn.fill 0.5 : tensor<f32>
  %u = nn.relu %g2_avg : tensor<4xf32>
  %z = nn.fill 0.0 : tensor<4xf32>
  %np = nn.sgd_update %p, %g1_avg {lr = 0.1 : f32} : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %nq = nn.sgd_update %q, %g2_avg {lr = 0.1 : f32} : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %loss, %np, %nq, %u : tensor<f32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
}

// -----

// Without an optimizer the averaged gradients are only returned: the wait
// comes right before the return.
// CHECK-LABEL: func.func @train_step(
// CHECK: %[[T:.*]] = dp.all_reduce_start
// CHECK-NEXT: %[[W:.*]]:2 = dp.wait %[[T]]
// CHECK-NEXT: return %{{.*}}, %[[W]]#0, %[[W]]#1 :
func.func @train_step(%p: tensor<4xf32> {dpc.kind = "parameter", dpc.name = "p"},
                      %q: tensor<4xf32> {dpc.kind = "parameter", dpc.name = "q"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"},
        tensor<4xf32> {dpc.kind = "gradient", dpc.name = "p", dpc.parameter = "p"},
        tensor<4xf32> {dpc.kind = "gradient", dpc.name = "q", dpc.parameter = "q"}) {
  %loss = nn.fill 0.5 : tensor<f32>
  %g1 = nn.scale %p, 2.0 : tensor<4xf32>
  %g1_avg = dp.all_reduce %g1 : tensor<4xf32>
  %g2 = nn.scale %q, 2.0 : tensor<4xf32>
  %g2_avg = dp.all_reduce %g2 : tensor<4xf32>
  return %loss, %g1_avg, %g2_avg : tensor<f32>, tensor<4xf32>, tensor<4xf32>
}

// -----

// No all-reduce (world size 1 never ran dpc-ddp): nothing to do.
// CHECK-LABEL: func.func @train_step(
// CHECK-NOT: dp.
// CHECK: return
func.func @train_step(%p: tensor<4xf32> {dpc.kind = "parameter", dpc.name = "p"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"},
        tensor<4xf32> {dpc.kind = "parameter", dpc.name = "p"}) {
  %loss = nn.fill 0.5 : tensor<f32>
  %g = nn.scale %p, 2.0 : tensor<4xf32>
  %np = nn.sgd_update %p, %g {lr = 0.1 : f32} : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %loss, %np : tensor<f32>, tensor<4xf32>
}

// -----

// A gradient that is a view (nn.reshape) of another value has no storage of
// its own to place in the bucket: it is copied.
// CHECK-LABEL: func.func @train_step(
// CHECK: %[[DW:.*]] = nn.matmul
// CHECK-NEXT: %[[G:.*]] = nn.reshape %[[DW]] : tensor<3x8xf32> to tensor<24xf32>
// CHECK-NEXT: %[[C:.*]] = nn.copy %[[G]] : tensor<24xf32>
// CHECK-NEXT: %[[T:.*]] = dp.all_reduce_start %[[C]] {bucket = 0 : i64} : tensor<24xf32>
// CHECK-NEXT: %[[W:.*]] = dp.wait %[[T]] : tensor<24xf32>
// CHECK-NEXT: nn.sgd_update %{{.*}}, %[[W]]
func.func @train_step(%x: tensor<2x8xf32> {dpc.kind = "input", dpc.name = "x"},
                      %w: tensor<24xf32> {dpc.kind = "parameter", dpc.name = "w"},
                      %dy: tensor<2x3xf32> {dpc.kind = "input", dpc.name = "dy"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"},
        tensor<24xf32> {dpc.kind = "parameter", dpc.name = "w"}) {
  %loss = nn.fill 0.5 : tensor<f32>
  %dw = nn.matmul %dy, %x {transpose_lhs} : (tensor<2x3xf32>, tensor<2x8xf32>) -> tensor<3x8xf32>
  %g = nn.reshape %dw : tensor<3x8xf32> to tensor<24xf32>
  %g_avg = dp.all_reduce %g : tensor<24xf32>
  %nw = nn.sgd_update %w, %g_avg {lr = 0.1 : f32} : (tensor<24xf32>, tensor<24xf32>) -> tensor<24xf32>
  return %loss, %nw : tensor<f32>, tensor<24xf32>
}
