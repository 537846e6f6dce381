//===- seal_module.cpp - Append dpc's checksum trailer to a test module ---===//
//
// usage: dpcrt-seal-module FILE.so
//
// The hand-written test modules are linked by CMake, not by dpc, so they
// get the trailer that dpc appends to every model.so (abi.h) from this tool,
// run after each link. A file that already ends in a valid trailer is left
// alone.
//
//===----------------------------------------------------------------------===//

#include "dpc/abi.h"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <vector>

int main(int argc, char **argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: dpcrt-seal-module FILE.so\n");
    return 1;
  }
  std::vector<char> image;
  {
    std::ifstream in(argv[1], std::ios::binary | std::ios::ate);
    std::streamoff size = in ? static_cast<std::streamoff>(in.tellg()) : -1;
    if (size > 0) {
      image.resize(static_cast<size_t>(size));
      in.seekg(0);
      in.read(image.data(), size);
    }
    if (!in || image.empty()) {
      std::fprintf(stderr, "dpcrt-seal-module: cannot read '%s'\n", argv[1]);
      return 1;
    }
  }
  auto field = [](const char *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i)
      v = (v << 8) | static_cast<unsigned char>(p[i]);
    return v;
  };
  if (image.size() >= DPC_MODULE_TRAILER_BYTES) {
    const char *t = image.data() + image.size() - DPC_MODULE_TRAILER_BYTES;
    uint64_t size = image.size() - DPC_MODULE_TRAILER_BYTES;
    if (std::memcmp(t, DPC_MODULE_TRAILER_MAGIC, 8) == 0 &&
        field(t + 8) == size &&
        field(t + 16) == dpc_checksum(image.data(), size))
      return 0;
  }
  uint64_t size = image.size(), sum = dpc_checksum(image.data(), size);
  char trailer[DPC_MODULE_TRAILER_BYTES] = {};
  std::memcpy(trailer, DPC_MODULE_TRAILER_MAGIC, 8);
  for (int i = 0; i < 8; ++i) {
    trailer[8 + i] = static_cast<char>(size >> (8 * i));
    trailer[16 + i] = static_cast<char>(sum >> (8 * i));
  }
  std::ofstream out(argv[1], std::ios::binary | std::ios::app);
  out.write(trailer, sizeof(trailer));
  out.close();
  if (!out) {
    std::fprintf(stderr, "dpcrt-seal-module: cannot write '%s'\n", argv[1]);
    return 1;
  }
  return 0;
}
