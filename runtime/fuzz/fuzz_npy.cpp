//===- fuzz_npy.cpp - Fuzz target: the .npy reader ------------------------===//
//
// Any bytes: readNpy returns a tensor or throws dpc::Error, nothing else
// (no crash, no other exception, no allocation beyond the file's size).

#include "fuzz_input_file.h"

#include "dpc/runtime.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const std::string &path = dpc::fuzz::asFile(data, size);
  for (std::optional<dpc::DType> want :
       {std::optional<dpc::DType>(), std::optional(dpc::DType::F32),
        std::optional(dpc::DType::I64)}) {
    try {
      dpc::HostTensor t = dpc::readNpy(path, want);
      if (static_cast<int64_t>(t.bytes.size()) !=
          t.numElements() * static_cast<int64_t>(dpc::dtypeSize(t.dtype)))
        __builtin_trap(); // a tensor whose bytes do not match its shape
    } catch (const dpc::Error &) {
    }
  }
  return 0;
}
