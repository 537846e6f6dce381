//===- NNRandomOps.td - nn random ops --------------------*- tablegen -*-===//
//
// The Random family (docs/ARCHITECTURE.md, "Dropout"); included by NNOps.td.
// Shape inference and VJPs live in NNRandomOps.cpp, the import in
// compiler/Import/ImportRandomOps.cpp, the runtime calls in
// compiler/Conversion/NNToRuntime/LowerRandomOps.cpp.
//
// A random op draws from a counter-based generator (Philox4x32-10, keyed by
// the run's seed): its draws are a function of the op's coordinates (its
// `site`, micro-batch, replica) and the runtime's rank and step, never of a
// hidden state that execution order would advance. Two ops with the same
// operand and attributes therefore compute the same tensor, which is what
// lets the backward redraw the forward's mask and keeps the ops Pure.
//
//===----------------------------------------------------------------------===//

#ifndef DPC_NN_RANDOM_OPS
#define DPC_NN_RANDOM_OPS

def NN_DropoutOp : NN_DiffOp<"dropout"> {
  let summary = "training-mode dropout (aten::dropout with train=True)";
  let description = [{
    `result = input * noise`, `noise = keep ? 1 / (1 - p) : 0` in float, as
    torch 1.13's `_dropout_impl` (`noise.bernoulli_(1 - p).div_(1 - p)`);
    each element is kept with probability `1 - p`. The draws are Philox4x32-10
    with the run's seed as key and (element / 4, `site`,
    `micro_batch << 16 | rank + replica`, step) as counter
    (runtime/lib/philox.h): `site` numbers the model's dropout calls in
    program order, `micro_batch` is set by --accumulate's unrolling and the
    replica (--mode dp) is the op's `dp.replica`.

    Its VJP is the same dropout applied to the result's gradient: the same
    coordinates redraw the same noise, the gradient of torch's multiply, so
    no mask is stored.

    ```mlir
    %y = nn.dropout %x {p = 1.000000e-01 : f64, site = 0 : i64} : tensor<4x8xf32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$input, F64Attr:$p, I64Attr:$site,
                       DefaultValuedAttr<I64Attr, "0">:$micro_batch);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def NN_BernoulliOp : NN_Op<"bernoulli"> {
  let summary = "a tensor of Bernoulli draws (torch's bernoulli_(p) on a "
                "fresh tensor)";
  let description = [{
    Each element is 1 with probability `p`, else 0, drawn like dropout's
    masks (Philox4x32-10, counter (element / 4, `site`,
    `micro_batch << 16 | rank + replica`, step)): element i is 1 when the top
    24 bits m of its word satisfy m * 2^-24 < p, so the draw of `1 - p` at
    dropout's coordinates is dropout's keep mask. `site` numbers the model's
    random calls (dropouts and bernoullis together) in program order.

    The result depends on no operand, so it has no gradient: torchvision's
    StochasticDepth (`noise = empty(size).bernoulli_(1 - p)`,
    `noise.div_(1 - p)`, `input * noise`) imports as this op, an nn.div by
    the survival rate and an nn.mul, whose VJP carries the gradient to
    `input`.

    ```mlir
    %noise = nn.bernoulli {p = 8.000000e-01 : f64, site = 0 : i64} : tensor<4x1x1x1xf32>
    ```
  }];
  let arguments = (ins F64Attr:$p, I64Attr:$site,
                       DefaultValuedAttr<I64Attr, "0">:$micro_batch);
  let results = (outs NN_FloatTensor:$result);
  let assemblyFormat = "attr-dict `:` type($result)";
  let hasVerifier = 1;
}

#endif // DPC_NN_RANDOM_OPS
