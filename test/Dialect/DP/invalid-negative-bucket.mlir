// Regression test: AllReduceStartOp::verify must reject negative bucket
// indices. The ODS getter of an I64Attr returns uint64_t, so the check reads
// the sign from the attribute (-1 is what the lowering passes to
// dpcrt_allreduce_start for the synchronous dp.all_reduce).
// RUN: %dpc-opt %s -verify-diagnostics

func.func @negative_bucket(%a: tensor<4x8xf32>) {
  // expected-error @below {{'dp.all_reduce_start' op bucket index must be non-negative}}
  %t = dp.all_reduce_start %a {bucket = -1 : i64} : tensor<4x8xf32>
  %0 = dp.wait %t : tensor<4x8xf32>
  return
}
