//===- dtype.h - Element types of the compiler and the runtime --*- C++ -*-===//
//
// The element types of inputs, labels, parameters, buffers and checkpoint
// tensors, with their spelling (in `--input x:f32[...]`, the manifest and
// messages) and size, written once for both sides of the contract: the
// runtime (dpc/runtime.h) and the compiler (compiler/TrainStep/TensorSpec.h,
// which includes this file as "runtime/include/dpc/dtype.h"). Plain C++17,
// no LLVM and no runtime library, so either side can include it.
//
//===----------------------------------------------------------------------===//

#ifndef DPC_DTYPE_H
#define DPC_DTYPE_H

#include <cstddef>
#include <optional>
#include <string_view>

namespace dpc {

/// One line per element type: DPC_DTYPE(ENUMERATOR, spelling, bytes).
#define DPC_DTYPES(DPC_DTYPE)                                                  \
  DPC_DTYPE(F32, "f32", 4)                                                     \
  DPC_DTYPE(F64, "f64", 8)                                                     \
  DPC_DTYPE(I64, "i64", 8)                                                     \
  DPC_DTYPE(Bool, "bool", 1)

enum class DType {
#define DPC_DTYPE_ENUMERATOR(NAME, SPELLING, BYTES) NAME,
  DPC_DTYPES(DPC_DTYPE_ENUMERATOR)
#undef DPC_DTYPE_ENUMERATOR
};

/// Element size in bytes.
constexpr size_t dtypeSize(DType dtype) {
  switch (dtype) {
#define DPC_DTYPE_SIZE(NAME, SPELLING, BYTES)                                  \
  case DType::NAME:                                                            \
    return BYTES;
    DPC_DTYPES(DPC_DTYPE_SIZE)
#undef DPC_DTYPE_SIZE
  }
  return 0;
}

/// The spelling: "f32", "f64", "i64", "bool" (torch.bool: one byte, 0 or 1;
/// bool buffers are constants of the step, see the importer).
constexpr const char *dtypeName(DType dtype) {
  switch (dtype) {
#define DPC_DTYPE_NAME(NAME, SPELLING, BYTES)                                  \
  case DType::NAME:                                                            \
    return SPELLING;
    DPC_DTYPES(DPC_DTYPE_NAME)
#undef DPC_DTYPE_NAME
  }
  return "?";
}

/// Parses a spelling; nullopt when unknown.
inline std::optional<DType> parseDType(std::string_view name) {
#define DPC_DTYPE_PARSE(NAME, SPELLING, BYTES)                                 \
  if (name == SPELLING)                                                        \
    return DType::NAME;
  DPC_DTYPES(DPC_DTYPE_PARSE)
#undef DPC_DTYPE_PARSE
  return std::nullopt;
}

} // namespace dpc

#endif // DPC_DTYPE_H
