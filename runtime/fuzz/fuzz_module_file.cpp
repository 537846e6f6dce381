//===- fuzz_module_file.cpp - Fuzz target: the model.so check -------------===//
//
// Any bytes: checkModuleFile (the ELF and checksum check before dlopen)
// accepts or throws dpc::Error, reading only inside the file.

#include "fuzz_input_file.h"

#include "io/file_io.h"

#include "dpc/runtime.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  try {
    dpc::checkModuleFile(dpc::fuzz::asFile(data, size));
  } catch (const dpc::Error &) {
  }
  return 0;
}
