// RUN: not %dpc-opt %s --dpc-dp-replicate="devices=0 batch=10" 2>&1 | FileCheck %s
// RUN: not %dpc-opt %s --dpc-dp-replicate="devices=2" 2>&1 | FileCheck %s --check-prefix=BATCH

// CHECK: error: dpc-dp-replicate needs devices >= 1 and batch >= 1, got devices=0 batch=10
// BATCH: error: dpc-dp-replicate needs devices >= 1 and batch >= 1, got devices=2 batch=0
func.func @forward(%x: tensor<4x8xf32> {dpc.kind = "input", dpc.name = "x"}) -> tensor<4x8xf32> {
  return %x : tensor<4x8xf32>
}
