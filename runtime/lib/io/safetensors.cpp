//===- safetensors.cpp - Reading and writing safetensors files ------------===//
//
// Format (https://github.com/huggingface/safetensors): an 8-byte little-endian
// header length N, N bytes of JSON {"name": {"dtype", "shape",
// "data_offsets": [begin, end]}, "__metadata__": {string: string}}, then the
// tensor data, offsets relative to the end of the header.
//
//===----------------------------------------------------------------------===//

#include "io/file_io.h"

#include "dpc/runtime.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>
#include <tuple>

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
  case DType::Bool:
    return "BOOL";
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
  if (name == "BOOL")
    return DType::Bool;
  return std::nullopt;
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

  // Written next to the destination and renamed, so that a crash or a full
  // disk never leaves a half-written checkpoint under the final name.
  writeFileAtomically(path, "", [&](int fd) {
    bool ok = writeAll(fd, length, 8) && writeAll(fd, text.data(), text.size());
    for (const TensorView &t : tensors)
      ok =
          ok && writeAll(fd, t.data, numElements(t.shape) * dtypeSize(t.dtype));
    return ok;
  });
}

SafetensorsFile dpc::readSafetensors(const std::string &path) {
  InputFile file(path, "");
  auto fail = [&](const std::string &what) -> Error {
    return Error(path + ": " + what);
  };
  if (file.size() < 8)
    throw fail(
        "not a safetensors file (shorter than its 8-byte header length)");
  unsigned char length[8];
  file.read(0, length, 8);
  uint64_t headerLen = 0;
  for (int i = 7; i >= 0; --i)
    headerLen = (headerLen << 8) | length[i];
  if (headerLen > file.size() - 8)
    throw fail("not a safetensors file (header length " +
               std::to_string(headerLen) + " exceeds the file size " +
               std::to_string(file.size()) + ")");
  // The reference implementation's limit: a header is never larger.
  constexpr uint64_t kMaxHeaderBytes = 100'000'000;
  if (headerLen > kMaxHeaderBytes)
    throw fail("not a safetensors file (header length " +
               std::to_string(headerLen) + " exceeds the format's limit of " +
               std::to_string(kMaxHeaderBytes) + " bytes)");
  std::vector<unsigned char> headerBytes = file.read(8, headerLen);

  // nlohmann::json keeps the last of two equal keys; the format forbids
  // them (two entries for one tensor would silently change which data is
  // loaded), so a parser callback spots them.
  std::vector<std::set<std::string>> openObjects;
  std::optional<std::string> duplicate;
  json::parser_callback_t noteKeys = [&](int, json::parse_event_t event,
                                         json &parsed) {
    if (event == json::parse_event_t::object_start)
      openObjects.emplace_back();
    else if (event == json::parse_event_t::object_end && !openObjects.empty())
      openObjects.pop_back();
    else if (event == json::parse_event_t::key && !openObjects.empty() &&
             !openObjects.back().insert(parsed.get<std::string>()).second &&
             !duplicate)
      duplicate = parsed.get<std::string>();
    return true;
  };
  json header;
  try {
    header = json::parse(headerBytes.begin(), headerBytes.end(), noteKeys);
  } catch (const json::exception &) {
    throw fail("not a safetensors file (header is not valid JSON)");
  }
  if (!header.is_object())
    throw fail("not a safetensors file (header is not a JSON object)");
  if (duplicate)
    throw fail("the header names '" + escapeBytes(*duplicate) +
               "' twice (the format forbids duplicate keys)");

  uint64_t dataStart = 8 + headerLen;
  uint64_t dataSize = file.size() - dataStart;
  SafetensorsFile result;
  // (begin, end, name) of every tensor: together they must cover the data
  // exactly once.
  std::vector<std::tuple<uint64_t, uint64_t, std::string>> extents;
  for (const auto &[name, entry] : header.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object())
        throw fail("__metadata__ is not an object");
      for (const auto &[key, value] : entry.items())
        if (value.is_string())
          result.metadata[key] = value.get<std::string>();
      continue;
    }
    std::string where = "tensor '" + escapeBytes(name) + "' ";
    if (!entry.is_object() || !entry.contains("dtype") ||
        !entry["dtype"].is_string() || !entry.contains("shape") ||
        !entry["shape"].is_array() || !entry.contains("data_offsets") ||
        !entry["data_offsets"].is_array() || entry["data_offsets"].size() != 2)
      throw fail(where + "has a malformed header entry");
    std::string dtypeText = entry["dtype"].get<std::string>();
    std::optional<DType> dtype = parseSafetensorsDType(dtypeText);
    if (!dtype)
      throw fail(where + "has dtype " + escapeBytes(dtypeText) +
                 "; only F32, F64 and I64 are supported");
    HostTensor t;
    t.dtype = *dtype;
    int64_t count = 1;
    for (const json &d : entry["shape"]) {
      if (!d.is_number_unsigned())
        throw fail(where + "has a malformed shape");
      uint64_t dim = d.get<uint64_t>();
      if (dim > (uint64_t(1) << 56) ||
          (dim != 0 && count > (int64_t(1) << 56) / int64_t(dim)))
        throw fail(where + "has a malformed shape");
      count *= int64_t(dim);
      t.shape.push_back(int64_t(dim));
    }
    const json &offsets = entry["data_offsets"];
    if (!offsets[0].is_number_unsigned() || !offsets[1].is_number_unsigned())
      throw fail(where + "has malformed data_offsets");
    uint64_t begin = offsets[0].get<uint64_t>(),
             end = offsets[1].get<uint64_t>();
    if (begin > end || end > dataSize)
      throw fail(where + "has data_offsets [" + std::to_string(begin) + ", " +
                 std::to_string(end) + "] outside the " +
                 std::to_string(dataSize) + " data bytes (truncated file?)");
    if (end - begin != static_cast<uint64_t>(count) * dtypeSize(t.dtype))
      throw fail(where + "has " + std::to_string(end - begin) +
                 " data bytes for shape " + formatShape(t.shape));
    t.bytes = file.read(dataStart + begin, end - begin);
    extents.emplace_back(begin, end, name);
    result.tensors.emplace(name, std::move(t));
  }

  // The data is the tensors back to back: an overlap would make two tensors
  // share bytes, a gap or trailing bytes hide data no tensor accounts for.
  std::sort(extents.begin(), extents.end());
  uint64_t covered = 0;
  const std::string *previous = nullptr;
  for (const auto &[begin, end, name] : extents) {
    if (begin < covered)
      throw fail("the data of tensor '" + escapeBytes(name) +
                 "' overlaps that of '" + escapeBytes(*previous) +
                 "' (data_offsets)");
    if (begin > covered)
      throw fail("bytes [" + std::to_string(covered) + ", " +
                 std::to_string(begin) + ") of the data belong to no tensor");
    covered = end;
    previous = &name;
  }
  if (covered != dataSize)
    throw fail(std::to_string(dataSize - covered) +
               " bytes after the last tensor's data belong to no tensor");
  return result;
}
