// BUG: AllReduceStartOp::verify (dialects/DP/DPDialect.cpp) rejects negative
// bucket indices with `getBucket() < 0`, but the ODS getter of an I64Attr
// returns uint64_t, so the comparison is always false and bucket = -1 is
// accepted (and -1 is what the lowering passes to dpcrt_allreduce_start for
// the synchronous dp.all_reduce). Checking `getBucketAttr().getInt() < 0`
// fixes it; then remove the XFAIL line below.
// XFAIL: *
// RUN: %dpc-opt %s -verify-diagnostics

func.func @negative_bucket(%a: tensor<4x8xf32>) {
  // expected-error @below {{'dp.all_reduce_start' op bucket index must be non-negative}}
  %t = dp.all_reduce_start %a {bucket = -1 : i64} : tensor<4x8xf32>
  %0 = dp.wait %t : tensor<4x8xf32>
  return
}
