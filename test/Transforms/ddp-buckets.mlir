// RUN: %dpc-opt %s --dpc-ddp-buckets | FileCheck %s --check-prefix=DEFAULT
// RUN: %dpc-opt %s --dpc-ddp-buckets="bucket-cap-mb=0.00002 first-bucket-mb=0.00001" | FileCheck %s --check-prefix=TINY
// RUN: %dpc-opt %s --dpc-ddp-buckets="bucket-cap-mb=0.00001 first-bucket-mb=0.00002" | FileCheck %s --check-prefix=SWAPPED

// dpc-ddp-buckets assigns the all-reduces to buckets as DDP does: in the
// order the gradients are produced, a gradient joins the open bucket, and the
// bucket closes once it holds at least its cap (first-bucket-mb for bucket 0,
// bucket-cap-mb after). Each bucket becomes one dp.all_reduce_start right
// after its last gradient and one dp.wait right before the first use of its
// results.
//
// The gradients below are produced in the order a, b, d, c, e, f, g (not the
// parameter order) with sizes 8, 4, 32, 16, 4, 12 and 4 bytes.

// Default caps (1 MiB, then 25 MiB): all 80 bytes in one bucket, started after
// the last gradient (g) and waited for before the first update.
// DEFAULT-LABEL: func.func @train_step(
// DEFAULT: %[[GA:.*]] = nn.scale %{{.*}} : tensor<2xf32>
// DEFAULT-NEXT: %[[GB:.*]] = nn.scale %{{.*}} : tensor<1xf32>
// DEFAULT-NEXT: nn.relu
// DEFAULT-NEXT: %[[GD:.*]] = nn.mul
// DEFAULT-NEXT: %[[GC:.*]] = nn.scale %{{.*}} : tensor<4xf32>
// DEFAULT-NEXT: nn.relu
// DEFAULT-NEXT: %[[GE:.*]] = nn.scale %{{.*}} : tensor<1xf32>
// DEFAULT-NEXT: %[[GF:.*]] = nn.scale %{{.*}} : tensor<3xf32>
// DEFAULT-NEXT: %[[GG:.*]] = nn.scale %{{.*}} : tensor<1xf32>
// DEFAULT-NEXT: %[[T:.*]] = dp.all_reduce_start %[[GA]], %[[GB]], %[[GD]], %[[GC]], %[[GE]], %[[GF]], %[[GG]] {bucket = 0 : i64} : tensor<2xf32>, tensor<1xf32>, tensor<8xf32>, tensor<4xf32>, tensor<1xf32>, tensor<3xf32>, tensor<1xf32>
// DEFAULT-NEXT: %[[W:.*]]:7 = dp.wait %[[T]] : tensor<2xf32>, tensor<1xf32>, tensor<8xf32>, tensor<4xf32>, tensor<1xf32>, tensor<3xf32>, tensor<1xf32>
// DEFAULT-NEXT: nn.sgd_update %{{.*}}, %[[W]]#0
// DEFAULT-NEXT: nn.sgd_update %{{.*}}, %[[W]]#1
// DEFAULT-NEXT: nn.sgd_update %{{.*}}, %[[W]]#2
// DEFAULT-NEXT: nn.sgd_update %{{.*}}, %[[W]]#3
// DEFAULT-NEXT: nn.sgd_update %{{.*}}, %[[W]]#4
// DEFAULT-NEXT: nn.sgd_update %{{.*}}, %[[W]]#5
// DEFAULT-NEXT: nn.sgd_update %{{.*}}, %[[W]]#6
// DEFAULT-NEXT: return
// DEFAULT-NOT: dp.all_reduce_start

// Caps of 10 bytes (first) and 20 bytes (later; 0.00002 MiB is 20.97 bytes,
// truncated): bucket 0 closes at a + b = 12 >= 10; d alone is 32 >= 20, a
// bucket of its own; c + e = 20 reaches the cap exactly; f + g = 16 is the
// last, unfilled bucket.
// TINY-LABEL: func.func @train_step(
// TINY-SAME: %[[PA:[^:]*]]: tensor<2xf32> {dpc.kind = "parameter", dpc.name = "a"},
// TINY-SAME: %[[PB:[^:]*]]: tensor<1xf32> {dpc.kind = "parameter", dpc.name = "b"},
// TINY-SAME: %[[PC:[^:]*]]: tensor<4xf32> {dpc.kind = "parameter", dpc.name = "c"},
// TINY-SAME: %[[PD:[^:]*]]: tensor<8xf32> {dpc.kind = "parameter", dpc.name = "d"},
// TINY-SAME: %[[PE:[^:]*]]: tensor<1xf32> {dpc.kind = "parameter", dpc.name = "e"},
// TINY-SAME: %[[PF:[^:]*]]: tensor<3xf32> {dpc.kind = "parameter", dpc.name = "f"},
// TINY-SAME: %[[PG:[^:]*]]: tensor<1xf32> {dpc.kind = "parameter", dpc.name = "g"})
// TINY: %[[GA:.*]] = nn.scale %[[PA]]
// TINY-NEXT: %[[GB:.*]] = nn.scale %[[PB]]
// TINY-NEXT: %[[T0:.*]] = dp.all_reduce_start %[[GA]], %[[GB]] {bucket = 0 : i64} : tensor<2xf32>, tensor<1xf32>
// TINY-NEXT: %[[R:.*]] = nn.relu
// TINY-NEXT: %[[GD:.*]] = nn.mul %[[PD]], %[[R]]
// TINY-NEXT: %[[T1:.*]] = dp.all_reduce_start %[[GD]] {bucket = 1 : i64} : tensor<8xf32>
// TINY-NEXT: %[[GC:.*]] = nn.scale %[[PC]]
// TINY-NEXT: nn.relu %[[R]]
// TINY-NEXT: %[[GE:.*]] = nn.scale %[[PE]]
// TINY-NEXT: %[[T2:.*]] = dp.all_reduce_start %[[GC]], %[[GE]] {bucket = 2 : i64} : tensor<4xf32>, tensor<1xf32>
// TINY-NEXT: %[[GF:.*]] = nn.scale %[[PF]]
// TINY-NEXT: %[[GG:.*]] = nn.scale %[[PG]]
// TINY-NEXT: %[[T3:.*]] = dp.all_reduce_start %[[GF]], %[[GG]] {bucket = 3 : i64} : tensor<3xf32>, tensor<1xf32>
// Each wait comes right before the first update that needs its bucket.
// TINY-NEXT: %[[W0:.*]]:2 = dp.wait %[[T0]] : tensor<2xf32>, tensor<1xf32>
// TINY-NEXT: %[[NA:.*]] = nn.sgd_update %[[PA]], %[[W0]]#0
// TINY-NEXT: %[[NB:.*]] = nn.sgd_update %[[PB]], %[[W0]]#1
// TINY-NEXT: %[[W1:.*]] = dp.wait %[[T1]] : tensor<8xf32>
// TINY-NEXT: %[[ND:.*]] = nn.sgd_update %[[PD]], %[[W1]] {
// TINY-NEXT: %[[W2:.*]]:2 = dp.wait %[[T2]] : tensor<4xf32>, tensor<1xf32>
// TINY-NEXT: %[[NC:.*]] = nn.sgd_update %[[PC]], %[[W2]]#0
// TINY-NEXT: %[[NE:.*]] = nn.sgd_update %[[PE]], %[[W2]]#1
// TINY-NEXT: %[[W3:.*]]:2 = dp.wait %[[T3]] : tensor<3xf32>, tensor<1xf32>
// TINY-NEXT: %[[NF:.*]] = nn.sgd_update %[[PF]], %[[W3]]#0
// TINY-NEXT: %[[NG:.*]] = nn.sgd_update %[[PG]], %[[W3]]#1
// TINY-NEXT: return %{{.*}}, %[[NA]], %[[NB]], %[[NC]], %[[ND]], %[[NE]], %[[NF]], %[[NG]] :

// The first cap applies to the first bucket only: with 20 bytes first and 10
// after, bucket 0 is a, b, d (12 < 20, then 44); then c (16); e + f (16);
// g (4, unfilled).
// SWAPPED-LABEL: func.func @train_step(
// SWAPPED: dp.all_reduce_start %{{.*}}, %{{.*}}, %{{.*}} {bucket = 0 : i64} : tensor<2xf32>, tensor<1xf32>, tensor<8xf32>
// SWAPPED-NEXT: nn.scale
// SWAPPED-NEXT: dp.all_reduce_start %{{.*}} {bucket = 1 : i64} : tensor<4xf32>
// SWAPPED-NEXT: nn.relu
// SWAPPED-NEXT: nn.scale
// SWAPPED-NEXT: nn.scale
// SWAPPED-NEXT: dp.all_reduce_start %{{.*}}, %{{.*}} {bucket = 2 : i64} : tensor<1xf32>, tensor<3xf32>
// SWAPPED-NEXT: nn.scale
// SWAPPED-NEXT: dp.all_reduce_start %{{.*}} {bucket = 3 : i64} : tensor<1xf32>
// SWAPPED-NEXT: dp.wait

func.func @train_step(%x: tensor<8xf32> {dpc.kind = "input", dpc.name = "x"},
                      %pa: tensor<2xf32> {dpc.kind = "parameter", dpc.name = "a"},
                      %pb: tensor<1xf32> {dpc.kind = "parameter", dpc.name = "b"},
                      %pc: tensor<4xf32> {dpc.kind = "parameter", dpc.name = "c"},
                      %pd: tensor<8xf32> {dpc.kind = "parameter", dpc.name = "d"},
                      %pe: tensor<1xf32> {dpc.kind = "parameter", dpc.name = "e"},
                      %pf: tensor<3xf32> {dpc.kind = "parameter", dpc.name = "f"},
                      %pg: tensor<1xf32> {dpc.kind = "parameter", dpc.name = "g"})
    -> (tensor<f32> {dpc.kind = "loss", dpc.name = "loss"},
        tensor<2xf32> {dpc.kind = "parameter", dpc.name = "a"},
        tensor<1xf32> {dpc.kind = "parameter", dpc.name = "b"},
        tensor<4xf32> {dpc.kind = "parameter", dpc.name = "c"},
        tensor<8xf32> {dpc.kind = "parameter", dpc.name = "d"},
        tensor<1xf32> {dpc.kind = "parameter", dpc.name = "e"},
        tensor<3xf32> {dpc.kind = "parameter", dpc.name = "f"},
        tensor<1xf32> {dpc.kind = "parameter", dpc.name = "g"}) {
  %loss = nn.fill 0.5 : tensor<f32>
  %ga = nn.scale %pa, 2.0 : tensor<2xf32>
  %ga_avg = dp.all_reduce %ga : tensor<2xf32>
  %gb = nn.scale %pb, 2.0 : tensor<1xf32>
  %gb_avg = dp.all_reduce %gb : tensor<1xf32>
  %r0 = nn.relu %x : tensor<8xf32>
  %gd = nn.mul %pd, %r0 : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  %gd_avg = dp.all_reduce %gd : tensor<8xf32>
  %gc = nn.scale %pc, 2.0 : tensor<4xf32>
  %gc_avg = dp.all_reduce %gc : tensor<4xf32>
  %r1 = nn.relu %r0 : tensor<8xf32>
  %ge = nn.scale %pe, 2.0 : tensor<1xf32>
  %ge_avg = dp.all_reduce %ge : tensor<1xf32>
  %gf = nn.scale %pf, 2.0 : tensor<3xf32>
  %gf_avg = dp.all_reduce %gf : tensor<3xf32>
  %gg = nn.scale %pg, 2.0 : tensor<1xf32>
  %gg_avg = dp.all_reduce %gg : tensor<1xf32>
  %na = nn.sgd_update %pa, %ga_avg {lr = 0.1 : f32} : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  %nb = nn.sgd_update %pb, %gb_avg {lr = 0.1 : f32} : (tensor<1xf32>, tensor<1xf32>) -> tensor<1xf32>
  %nd = nn.sgd_update %pd, %gd_avg {lr = 0.1 : f32} : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  %nc = nn.sgd_update %pc, %gc_avg {lr = 0.1 : f32} : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %ne = nn.sgd_update %pe, %ge_avg {lr = 0.1 : f32} : (tensor<1xf32>, tensor<1xf32>) -> tensor<1xf32>
  %nf = nn.sgd_update %pf, %gf_avg {lr = 0.1 : f32} : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %ng = nn.sgd_update %pg, %gg_avg {lr = 0.1 : f32} : (tensor<1xf32>, tensor<1xf32>) -> tensor<1xf32>
  return %loss, %na, %nb, %nc, %nd, %ne, %nf, %ng
      : tensor<f32>, tensor<2xf32>, tensor<1xf32>, tensor<4xf32>, tensor<8xf32>, tensor<1xf32>, tensor<3xf32>, tensor<1xf32>
}
