//===- npy.h - The layout of NumPy .npy files -------------------*- C++ -*-===//
//
// Internal to libdpcrt: the header of a .npy file, parsed once, for readers
// that read the whole array (readNpy) and for those that map it and read
// samples on demand (NpyFile, dpc/data.h).
//
//===----------------------------------------------------------------------===//

#ifndef DPC_RUNTIME_LIB_IO_NPY_H
#define DPC_RUNTIME_LIB_IO_NPY_H

#include "dpc/runtime.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace dpc {

class InputFile;

/// The element types a .npy file may hold: '<f4', '<f8', '<i4', '<i8'.
enum class NpyType { F4, F8, I4, I8 };

/// Where a .npy file's array lies and how it is stored.
struct NpyLayout {
  NpyType type = NpyType::F4;
  std::string descr;
  std::vector<int64_t> shape;
  int64_t count = 0;      // elements
  size_t itemSize = 0;    // bytes per element in the file
  uint64_t dataStart = 0; // offset of the first element
};

/// Parses and checks the header: a supported version, dtype and C order, and
/// a file long enough for the shape it states.
NpyLayout readNpyLayout(const InputFile &file);
/// The dtype the array is read as: `want` where the conversion is the
/// expected one (f64 -> f32, f32 -> f64, i32 -> i64), else its own (i32 is
/// widened to i64); throws naming `path` for any other `want`.
DType npyTargetDType(const NpyLayout &layout, std::optional<DType> want,
                     const std::string &path);
/// Converts `count` elements stored as `from` at `source` to `to` at `dest`.
void convertNpyElements(NpyType from, DType to, const void *source, void *dest,
                        int64_t count);

} // namespace dpc

#endif // DPC_RUNTIME_LIB_IO_NPY_H
