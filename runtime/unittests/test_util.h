//===- test_util.h - Helpers shared by the runtime unit tests --*- C++ -*-===//

#ifndef DPC_RUNTIME_UNITTESTS_TEST_UTIL_H
#define DPC_RUNTIME_UNITTESTS_TEST_UTIL_H

#include "dpc/runtime.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace dpc::test {

/// n floats drawn uniformly from [lo, hi) with a fixed seed.
inline std::vector<float> randomVector(size_t n, unsigned seed,
                                       float lo = -1.0f, float hi = 1.0f) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float &x : v)
    x = dist(gen);
  return v;
}

/// A fresh directory, removed with its contents when the test ends.
class TempDir {
public:
  TempDir() {
    std::string pattern = "/tmp/dpcrt-test-XXXXXX";
    if (!mkdtemp(pattern.data()))
      throw std::runtime_error("mkdtemp failed");
    dir = pattern;
  }
  ~TempDir() { std::system(("rm -rf '" + dir + "'").c_str()); }
  std::string path(const std::string &name) const { return dir + "/" + name; }
  const std::string &str() const { return dir; }

private:
  std::string dir;
};

inline void writeBytes(const std::string &path, const std::string &bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline std::string readBytes(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)),
                     std::istreambuf_iterator<char>());
}

/// A .npy file as numpy.save writes it (version 1.0 unless told otherwise):
/// `shape` is the Python tuple text, e.g. "(3, 4)" or "(3,)".
inline std::string npyBytes(const std::string &descr, const std::string &shape,
                            const void *data, size_t bytes, int major = 1,
                            bool fortran = false) {
  std::string dict = "{'descr': '" + descr +
                     "', 'fortran_order': " + (fortran ? "True" : "False") +
                     ", 'shape': " + shape + ", }";
  size_t prefix = major == 1 ? 10 : 12;
  size_t total = (prefix + dict.size() + 1 + 63) / 64 * 64;
  dict.append(total - prefix - dict.size() - 1, ' ');
  dict += '\n';
  std::string out = "\x93NUMPY";
  out += static_cast<char>(major);
  out += '\0';
  size_t len = dict.size();
  out += static_cast<char>(len & 0xff);
  out += static_cast<char>((len >> 8) & 0xff);
  if (major != 1) {
    out += static_cast<char>((len >> 16) & 0xff);
    out += static_cast<char>((len >> 24) & 0xff);
  }
  out += dict;
  out.append(static_cast<const char *>(data), bytes);
  return out;
}

template <typename T>
void writeNpy(const std::string &path, const std::string &descr,
              const std::string &shape, const std::vector<T> &values) {
  writeBytes(path,
             npyBytes(descr, shape, values.data(), values.size() * sizeof(T)));
}

/// Runs `expr`, expects a dpc::Error whose message contains `needle`, and
/// that the message is one line.
#define EXPECT_DPC_ERROR(expr, needle)                                         \
  do {                                                                         \
    try {                                                                      \
      expr;                                                                    \
      ADD_FAILURE() << "expected dpc::Error containing: " << (needle);         \
    } catch (const dpc::Error &e) {                                            \
      std::string message = e.what();                                          \
      EXPECT_NE(message.find(needle), std::string::npos) << message;           \
      EXPECT_EQ(message.find('\n'), std::string::npos) << message;             \
    }                                                                          \
  } while (0)

} // namespace dpc::test

#endif // DPC_RUNTIME_UNITTESTS_TEST_UTIL_H
