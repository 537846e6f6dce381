//===- replay_main.cpp - Run a fuzz target over files, without libFuzzer
//---===//
//
// usage: <target>-replay FILE_OR_DIR...
//
// Links with one fuzz target (the build makes dpcrt-fuzz-<target>-replay
// with the ordinary compiler) and feeds it every file given, or every file
// of every directory given: the committed corpus is replayed as a test in
// every build, while scripts/fuzz.sh runs the same targets under libFuzzer
// with clang. Prints "<n> inputs" and exits 0 when no input crashed.
//
//===----------------------------------------------------------------------===//

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv) {
  std::vector<std::filesystem::path> files;
  for (int i = 1; i < argc; ++i) {
    std::filesystem::path arg = argv[i];
    if (std::filesystem::is_directory(arg)) {
      for (const auto &entry : std::filesystem::directory_iterator(arg))
        if (entry.is_regular_file())
          files.push_back(entry.path());
    } else {
      files.push_back(arg);
    }
  }
  for (const std::filesystem::path &file : files) {
    std::ifstream in(file, std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)),
                            std::istreambuf_iterator<char>());
    if (!in.eof() && in.fail()) {
      std::fprintf(stderr, "cannot read %s\n", file.c_str());
      return 1;
    }
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t *>(bytes.data()),
                           bytes.size());
  }
  std::printf("%zu inputs\n", files.size());
  return 0;
}
