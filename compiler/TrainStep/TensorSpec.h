//===- TensorSpec.h - Tensors the compiler is told about --------*- C++ -*-===//
//
// The element types and tensor descriptions of the compiler: the `--input`
// and `--label` specs of the driver, and the model's parameters and buffers
// that the importer reads and codegen embeds. The element types are the
// runtime's (runtime/include/dpc/dtype.h, plain C++), so both sides spell
// and size them alike.
//
//===----------------------------------------------------------------------===//

#ifndef DPC_COMPILER_TRAINSTEP_TENSORSPEC_H
#define DPC_COMPILER_TRAINSTEP_TENSORSPEC_H

#include "runtime/include/dpc/dtype.h"

#include <cstdint>
#include <string>
#include <vector>

namespace dpc {

/// One `--input NAME:DTYPE[SHAPE]` of the forward function.
struct TensorSpec {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
};

/// A parameter or buffer of the model with its initial value.
struct ModelTensor {
  std::string name; // state_dict key, e.g. "layer1.0.conv1.weight"
  bool isParameter = true;
  // F32, I64 for buffers (num_batches_tracked), Bool for bool buffers (a
  // causal mask): those are compile-time constants of the step.
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  std::vector<char> bytes; // row-major
};

} // namespace dpc

#endif // DPC_COMPILER_TRAINSTEP_TENSORSPEC_H
