//===- safetensors.cpp - Reading and writing safetensors files ------------===//
//
// Format (https://github.com/huggingface/safetensors): an 8-byte little-endian
// header length N, N bytes of JSON {"name": {"dtype", "shape",
// "data_offsets": [begin, end]}, "__metadata__": {string: string}}, then the
// tensor data, offsets relative to the end of the header.
//
//===----------------------------------------------------------------------===//

#include "dpc/runtime.h"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace dpc;
using nlohmann::json;

namespace {

const char *safetensorsDType(DType dtype) {
  switch (dtype) {
  case DType::F32:
    return "F32";
  case DType::F64:
    return "F64";
  case DType::I64:
    return "I64";
  }
  return "?";
}

std::optional<DType> parseSafetensorsDType(const std::string &name) {
  if (name == "F32")
    return DType::F32;
  if (name == "F64")
    return DType::F64;
  if (name == "I64")
    return DType::I64;
  return std::nullopt;
}

/// Writes all of `bytes` to `fd`, retrying short writes.
bool writeAll(int fd, const void *bytes, size_t size) {
  const char *p = static_cast<const char *>(bytes);
  while (size > 0) {
    ssize_t n = ::write(fd, p, size);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    p += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

} // namespace

void dpc::writeSafetensors(const std::string &path,
                           const std::vector<TensorView> &tensors,
                           const std::map<std::string, std::string> &metadata) {
  json header = json::object();
  if (!metadata.empty())
    header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const TensorView &t : tensors) {
    uint64_t bytes = numElements(t.shape) * dtypeSize(t.dtype);
    if (header.contains(t.name))
      throw Error("cannot write '" + path + "': tensor name '" + t.name +
                  "' appears twice");
    header[t.name] = {{"dtype", safetensorsDType(t.dtype)},
                      {"shape", t.shape},
                      {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text = header.dump();
  // Pad with spaces so that the data starts 8-byte aligned, as the reference
  // implementation does.
  text.append((8 - (8 + text.size()) % 8) % 8, ' ');
  unsigned char length[8];
  for (int i = 0; i < 8; ++i)
    length[i] = static_cast<unsigned char>(uint64_t(text.size()) >> (8 * i));

  // Write next to the destination and rename, so that a crash or a full disk
  // never leaves a half-written checkpoint under the final name.
  std::string tmp = path + ".tmp.XXXXXX";
  int fd = ::mkstemp(tmp.data());
  if (fd < 0)
    throw Error("cannot write '" + path + "': " + std::strerror(errno));
  mode_t mask = ::umask(0);
  ::umask(mask);
  ::fchmod(fd, 0666 & ~mask);
  bool ok = writeAll(fd, length, 8) && writeAll(fd, text.data(), text.size());
  for (const TensorView &t : tensors)
    ok = ok && writeAll(fd, t.data, numElements(t.shape) * dtypeSize(t.dtype));
  int savedErrno = errno;
  ok = ok && ::fsync(fd) == 0;
  if (!ok)
    savedErrno = errno;
  ok = (::close(fd) == 0) && ok;
  if (ok && ::rename(tmp.c_str(), path.c_str()) != 0) {
    ok = false;
    savedErrno = errno;
  }
  if (!ok) {
    ::unlink(tmp.c_str());
    throw Error("cannot write '" + path + "': " + std::strerror(savedErrno));
  }
}

SafetensorsFile dpc::readSafetensors(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw Error("cannot open '" + path + "': " + std::strerror(errno));
  std::vector<unsigned char> file((std::istreambuf_iterator<char>(in)),
                                  std::istreambuf_iterator<char>());
  if (in.bad())
    throw Error("cannot read '" + path + "'");
  auto fail = [&](const std::string &what) -> Error {
    return Error(path + ": " + what);
  };
  if (file.size() < 8)
    throw fail("not a safetensors file (shorter than its 8-byte header length)");
  uint64_t headerLen = 0;
  for (int i = 7; i >= 0; --i)
    headerLen = (headerLen << 8) | file[i];
  if (headerLen > file.size() - 8)
    throw fail("not a safetensors file (header length " +
               std::to_string(headerLen) + " exceeds the file size " +
               std::to_string(file.size()) + ")");
  json header;
  try {
    header = json::parse(file.begin() + 8, file.begin() + 8 + headerLen);
  } catch (const json::exception &) {
    throw fail("not a safetensors file (header is not valid JSON)");
  }
  if (!header.is_object())
    throw fail("not a safetensors file (header is not a JSON object)");

  const unsigned char *data = file.data() + 8 + headerLen;
  uint64_t dataSize = file.size() - 8 - headerLen;
  SafetensorsFile result;
  for (const auto &[name, entry] : header.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object())
        throw fail("__metadata__ is not an object");
      for (const auto &[key, value] : entry.items())
        if (value.is_string())
          result.metadata[key] = value.get<std::string>();
      continue;
    }
    std::string where = "tensor '" + name + "' ";
    if (!entry.is_object() || !entry.contains("dtype") ||
        !entry["dtype"].is_string() || !entry.contains("shape") ||
        !entry["shape"].is_array() || !entry.contains("data_offsets") ||
        !entry["data_offsets"].is_array() || entry["data_offsets"].size() != 2)
      throw fail(where + "has a malformed header entry");
    std::string dtypeText = entry["dtype"].get<std::string>();
    std::optional<DType> dtype = parseSafetensorsDType(dtypeText);
    if (!dtype)
      throw fail(where + "has dtype " + dtypeText +
                 "; only F32, F64 and I64 are supported");
    HostTensor t;
    t.dtype = *dtype;
    int64_t count = 1;
    for (const json &d : entry["shape"]) {
      if (!d.is_number_unsigned())
        throw fail(where + "has a malformed shape");
      int64_t dim = d.get<int64_t>();
      if (dim < 0 || (dim != 0 && count > (int64_t(1) << 56) / dim))
        throw fail(where + "has a malformed shape");
      count *= dim;
      t.shape.push_back(dim);
    }
    const json &offsets = entry["data_offsets"];
    if (!offsets[0].is_number_unsigned() || !offsets[1].is_number_unsigned())
      throw fail(where + "has malformed data_offsets");
    uint64_t begin = offsets[0].get<uint64_t>(), end = offsets[1].get<uint64_t>();
    if (begin > end || end > dataSize)
      throw fail(where + "has data_offsets [" + std::to_string(begin) + ", " +
                 std::to_string(end) + "] outside the " +
                 std::to_string(dataSize) + " data bytes (truncated file?)");
    if (end - begin != static_cast<uint64_t>(count) * dtypeSize(t.dtype))
      throw fail(where + "has " + std::to_string(end - begin) +
                 " data bytes for shape " + formatShape(t.shape));
    t.bytes.assign(data + begin, data + end);
    result.tensors.emplace(name, std::move(t));
  }
  return result;
}
