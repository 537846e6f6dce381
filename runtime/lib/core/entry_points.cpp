//===- entry_points.cpp - The exported dpcrt_* kernels --------------------===//
//
// A model.so calls the same dpcrt_* entry points on every backend (the ABI
// does not change with the device). Each one is generated here from
// kernels.def and runs the kernel of the context's backend through its
// table (backend.h): the CPU's (cpu/cpu_backend.h) or the cuda plugin's. A
// null context (white-box tests) means the CPU.
//
//===----------------------------------------------------------------------===//

#include "core/backend.h"

#include <string_view>

namespace {

constexpr bool isIdentifierChar(char c) {
  return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9');
}

constexpr std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ')
    s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ')
    s.remove_suffix(1);
  return s;
}

/// Whether `names` ("(ctx, out, n)", as kernels.def spells the forwarding
/// list) names the parameters of `parameters` ("(dpcrt_context *ctx, float
/// *out, int64_t n)") in order, so that an entry point cannot forward its
/// arguments to the wrong parameters.
constexpr bool namesParameters(std::string_view parameters,
                               std::string_view names) {
  parameters = parameters.substr(1, parameters.size() - 2);
  names = names.substr(1, names.size() - 2);
  for (;;) {
    size_t parameterEnd = parameters.find(','), nameEnd = names.find(',');
    std::string_view parameter = trim(parameters.substr(0, parameterEnd));
    size_t begin = parameter.size();
    while (begin > 0 && isIdentifierChar(parameter[begin - 1]))
      --begin;
    if (parameter.substr(begin) != trim(names.substr(0, nameEnd)))
      return false;
    if (parameterEnd == std::string_view::npos ||
        nameEnd == std::string_view::npos)
      return parameterEnd == nameEnd;
    parameters.remove_prefix(parameterEnd + 1);
    names.remove_prefix(nameEnd + 1);
  }
}

} // namespace

#define DPC_KERNEL(name, return_type, parameters, names)                       \
  static_assert(namesParameters(#parameters, #names),                          \
                "kernels.def: the names of dpcrt_" #name                       \
                " must be its parameters' names, in order");                   \
  extern "C" return_type dpcrt_##name parameters {                             \
    return ::dpc::backendOf(ctx).name names;                                   \
  }
#include "dpc/kernels.def"
