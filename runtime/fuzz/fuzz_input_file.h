//===- fuzz_input_file.h - Fuzz inputs as files -----------------*- C++ -*-===//
//
// The readers under test take paths (they refuse what is not a regular
// file), so each input is written to one scratch file first.
//
//===----------------------------------------------------------------------===//

#ifndef DPC_RUNTIME_FUZZ_FUZZ_INPUT_FILE_H
#define DPC_RUNTIME_FUZZ_FUZZ_INPUT_FILE_H

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <unistd.h>

namespace dpc::fuzz {

/// Writes `data` to this process's scratch file and returns its path.
inline const std::string &asFile(const uint8_t *data, size_t size) {
  static const std::string path = [] {
    const char *dir = std::getenv("TMPDIR");
    return std::string(dir && *dir ? dir : "/tmp") + "/dpc-fuzz-" +
           std::to_string(::getpid());
  }();
  FILE *f = std::fopen(path.c_str(), "wb");
  if (!f || std::fwrite(data, 1, size, f) != size || std::fclose(f) != 0)
    std::abort(); // the harness itself failed
  return path;
}

} // namespace dpc::fuzz

#endif // DPC_RUNTIME_FUZZ_FUZZ_INPUT_FILE_H
