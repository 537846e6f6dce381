//===- npy.cpp - Reading NumPy .npy files
//----------------------------------===//
//
// Format:
// https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html A
// magic string, a version, a header length, and a Python dict literal
// {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), } padded with
// spaces; then the raw data.
//
//===----------------------------------------------------------------------===//

#include "io/npy.h"

#include "io/file_io.h"

#include "dpc/runtime.h"

#include <cctype>
#include <cerrno>
#include <cstring>
#include <map>
#include <variant>

using namespace dpc;

namespace {

/// A value of the header dict: a string, a bool, or a tuple of integers.
using HeaderValue = std::variant<std::string, bool, std::vector<int64_t>>;

/// Parses the subset of Python literal syntax that .npy headers use.
class HeaderParser {
public:
  HeaderParser(const std::string &text, const std::string &path)
      : text(text), path(path) {}

  std::map<std::string, HeaderValue> parseDict() {
    std::map<std::string, HeaderValue> dict;
    expect('{');
    while (!consume('}')) {
      std::string key = parseString();
      expect(':');
      dict[key] = parseValue();
      if (!consume(',')) {
        expect('}');
        break;
      }
    }
    return dict;
  }

private:
  [[noreturn]] void fail(const std::string &what) const {
    throw Error(path + ": malformed .npy header (" + what + ")");
  }
  void skipSpace() {
    while (pos < text.size() &&
           std::isspace(static_cast<unsigned char>(text[pos])))
      ++pos;
  }
  bool consume(char c) {
    skipSpace();
    if (pos < text.size() && text[pos] == c) {
      ++pos;
      return true;
    }
    return false;
  }
  void expect(char c) {
    if (!consume(c))
      fail(std::string("expected '") + c + "'");
  }
  std::string parseString() {
    skipSpace();
    if (pos >= text.size() || (text[pos] != '\'' && text[pos] != '"'))
      fail("expected a quoted string");
    char quote = text[pos++];
    size_t end = text.find(quote, pos);
    if (end == std::string::npos)
      fail("unterminated string");
    std::string s = text.substr(pos, end - pos);
    pos = end + 1;
    return s;
  }
  HeaderValue parseValue() {
    skipSpace();
    if (pos >= text.size())
      fail("unexpected end");
    char c = text[pos];
    if (c == '\'' || c == '"')
      return parseString();
    if (text.compare(pos, 4, "True") == 0) {
      pos += 4;
      return true;
    }
    if (text.compare(pos, 5, "False") == 0) {
      pos += 5;
      return false;
    }
    if (c != '(')
      fail("unexpected value");
    ++pos;
    std::vector<int64_t> dims;
    while (!consume(')')) {
      skipSpace();
      size_t start = pos;
      while (pos < text.size() &&
             std::isdigit(static_cast<unsigned char>(text[pos])))
        ++pos;
      // Python 2 era files may write 3L.
      std::string digits = text.substr(start, pos - start);
      if (pos < text.size() && text[pos] == 'L')
        ++pos;
      if (digits.empty() || digits.size() > 17)
        fail("bad shape");
      dims.push_back(std::stoll(digits));
      if (!consume(',')) {
        expect(')');
        break;
      }
    }
    return dims;
  }

  const std::string &text;
  const std::string &path;
  size_t pos = 0;
};

} // namespace

NpyLayout dpc::readNpyLayout(const InputFile &file) {
  // Read piece by piece, each sized by what came before: the file is never
  // read further than its header says.
  const std::string &path = file.path();
  static const unsigned char kMagic[] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
  unsigned char preamble[12] = {};
  if (file.size() >= 10)
    file.read(0, preamble, 10);
  if (file.size() < 10 || std::memcmp(preamble, kMagic, 6) != 0)
    throw Error(path + ": not a .npy file");
  int major = preamble[6], minor = preamble[7];
  size_t headerLen = 0, headerStart = 0;
  if (major == 1) {
    headerLen = preamble[8] | (size_t(preamble[9]) << 8);
    headerStart = 10;
  } else if (major == 2 || major == 3) {
    if (file.size() < 12)
      throw Error(path + ": truncated .npy header");
    file.read(10, preamble + 10, 2);
    headerLen = preamble[8] | (size_t(preamble[9]) << 8) |
                (size_t(preamble[10]) << 16) | (size_t(preamble[11]) << 24);
    headerStart = 12;
  } else {
    throw Error(path + ": unsupported .npy format version " +
                std::to_string(major) + "." + std::to_string(minor));
  }
  if (headerLen > file.size() - headerStart)
    throw Error(path + ": truncated .npy header");
  std::vector<unsigned char> headerBytes = file.read(headerStart, headerLen);
  std::string header(headerBytes.begin(), headerBytes.end());
  std::map<std::string, HeaderValue> dict =
      HeaderParser(header, path).parseDict();

  auto field = [&](const char *key) -> const HeaderValue & {
    auto it = dict.find(key);
    if (it == dict.end())
      throw Error(path + ": malformed .npy header (no '" + key + "')");
    return it->second;
  };
  const auto *descr = std::get_if<std::string>(&field("descr"));
  const auto *fortran = std::get_if<bool>(&field("fortran_order"));
  const auto *shape = std::get_if<std::vector<int64_t>>(&field("shape"));
  if (!descr || !fortran || !shape)
    throw Error(path + ": malformed .npy header (wrong value types)");
  if (*fortran)
    throw Error(path + ": Fortran-order arrays are not supported; save a "
                       "C-order array (np.ascontiguousarray)");

  NpyType type;
  if (*descr == "<f4")
    type = NpyType::F4;
  else if (*descr == "<f8")
    type = NpyType::F8;
  else if (*descr == "<i4")
    type = NpyType::I4;
  else if (*descr == "<i8")
    type = NpyType::I8;
  else
    throw Error(path + ": dtype '" + escapeBytes(*descr) +
                "' is not supported (expected '<f4', '<f8', '<i4' or '<i8')");
  size_t itemSize = type == NpyType::F4 || type == NpyType::I4 ? 4 : 8;

  int64_t count = 1;
  for (int64_t d : *shape) {
    if (d != 0 && count > (int64_t(1) << 56) / d)
      throw Error(path + ": shape " + formatShape(*shape) + " is too large");
    count *= d;
  }
  uint64_t dataStart = headerStart + headerLen;
  uint64_t dataBytes = static_cast<uint64_t>(count) * itemSize;
  if (file.size() - dataStart < dataBytes)
    throw Error(path + ": truncated: shape " + formatShape(*shape) + " needs " +
                std::to_string(dataBytes) + " bytes of data, the file has " +
                std::to_string(file.size() - dataStart));
  NpyLayout layout;
  layout.type = type;
  layout.descr = *descr;
  layout.shape = *shape;
  layout.count = count;
  layout.itemSize = itemSize;
  layout.dataStart = dataStart;
  return layout;
}

DType dpc::npyTargetDType(const NpyLayout &layout, std::optional<DType> want,
                          const std::string &path) {
  DType natural = layout.type == NpyType::F4   ? DType::F32
                  : layout.type == NpyType::F8 ? DType::F64
                                               : DType::I64;
  DType target = want.value_or(natural);
  bool ok = target == natural ||
            (layout.type == NpyType::F8 && target == DType::F32) ||
            (layout.type == NpyType::F4 && target == DType::F64);
  if (!ok)
    throw Error(path + ": holds '" + escapeBytes(layout.descr) +
                "' data, which cannot be used as " + dtypeName(target));
  return target;
}

void dpc::convertNpyElements(NpyType from, DType to, const void *source,
                             void *dest, int64_t count) {
  auto convert = [&](auto fromValue, auto toValue) {
    using From = decltype(fromValue);
    using To = decltype(toValue);
    const auto *in = static_cast<const unsigned char *>(source);
    auto *out = static_cast<unsigned char *>(dest);
    for (int64_t i = 0; i < count; ++i) {
      From v;
      std::memcpy(&v, in + i * sizeof(From), sizeof(From));
      To w = static_cast<To>(v);
      std::memcpy(out + i * sizeof(To), &w, sizeof(To));
    }
  };
  size_t fromSize = from == NpyType::F4 || from == NpyType::I4 ? 4 : 8;
  if (fromSize == dtypeSize(to) && from != NpyType::I4)
    std::memcpy(dest, source, static_cast<size_t>(count) * fromSize);
  else if (from == NpyType::F8)
    convert(double(), float());
  else if (from == NpyType::F4)
    convert(float(), double());
  else
    convert(int32_t(), int64_t());
}

HostTensor dpc::readNpy(const std::string &path, std::optional<DType> want) {
  InputFile file(path, ".npy file");
  NpyLayout layout = readNpyLayout(file);
  DType target = npyTargetDType(layout, want, path);
  HostTensor t;
  t.dtype = target;
  t.shape = layout.shape;
  t.bytes.resize(static_cast<size_t>(layout.count) * dtypeSize(target));
  if (layout.count == 0)
    return t;
  std::vector<unsigned char> raw =
      file.read(layout.dataStart, layout.count * layout.itemSize);
  convertNpyElements(layout.type, target, raw.data(), t.bytes.data(),
                     layout.count);
  return t;
}
