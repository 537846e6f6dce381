//===- dtype.cpp - Shapes -------------------------------------------------===//
//
// The element types themselves are dpc/dtype.h's, shared with the compiler.
//
//===----------------------------------------------------------------------===//

#include "dpc/runtime.h"

using namespace dpc;

int64_t dpc::numElements(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

std::string dpc::formatShape(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}
