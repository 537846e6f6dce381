//===- fuzz_safetensors.cpp - Fuzz target: the safetensors reader ---------===//
//
// Any bytes: readSafetensors returns tensors whose bytes match their shapes,
// or throws dpc::Error.

#include "fuzz_input_file.h"

#include "dpc/runtime.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  try {
    dpc::SafetensorsFile f =
        dpc::readSafetensors(dpc::fuzz::asFile(data, size));
    for (const auto &entry : f.tensors)
      if (static_cast<int64_t>(entry.second.bytes.size()) !=
          entry.second.numElements() *
              static_cast<int64_t>(dpc::dtypeSize(entry.second.dtype)))
        __builtin_trap();
  } catch (const dpc::Error &) {
  }
  return 0;
}
