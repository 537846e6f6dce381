//===- safetensors_test.cpp - Reading and writing safetensors -------------===//

#include "test_util.h"

#include <dirent.h>

namespace {

using namespace dpc;
using namespace dpc::test;

std::string withHeader(const std::string &json, const std::string &data) {
  std::string out;
  uint64_t n = json.size();
  for (int i = 0; i < 8; ++i)
    out += static_cast<char>((n >> (8 * i)) & 0xff);
  return out + json + data;
}

size_t countFiles(const std::string &dir) {
  size_t n = 0;
  DIR *d = opendir(dir.c_str());
  while (dirent *e = readdir(d))
    n += e->d_name[0] != '.';
  closedir(d);
  return n;
}

TEST(SafetensorsTest, RoundTrip) {
  TempDir dir;
  std::vector<float> w = {1.5f, -2, 3, 4, 5, 6};
  std::vector<double> d = {0.25};
  int64_t step = 42;
  std::vector<TensorView> views = {
      {"fc1.weight", DType::F32, {2, 3}, w.data()},
      {"x.f64", DType::F64, {1}, d.data()},
      {"optimizer.step", DType::I64, {}, &step},
  };
  writeSafetensors(dir.path("c.safetensors"), views, {{"format", "pt"}});
  EXPECT_EQ(countFiles(dir.str()), 1u); // no temporary left behind

  std::string bytes = readBytes(dir.path("c.safetensors"));
  uint64_t headerLen = 0;
  std::memcpy(&headerLen, bytes.data(), 8);
  EXPECT_EQ((8 + headerLen) % 8, 0u);
  EXPECT_EQ(bytes.size(), 8 + headerLen + 24 + 8 + 8);

  SafetensorsFile f = readSafetensors(dir.path("c.safetensors"));
  EXPECT_EQ(f.metadata.at("format"), "pt");
  ASSERT_EQ(f.tensors.size(), 3u);
  const HostTensor &t = f.tensors.at("fc1.weight");
  EXPECT_EQ(t.dtype, DType::F32);
  EXPECT_EQ(t.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(std::vector<float>(t.data<float>(), t.data<float>() + 6), w);
  EXPECT_EQ(f.tensors.at("x.f64").data<double>()[0], 0.25);
  EXPECT_TRUE(f.tensors.at("optimizer.step").shape.empty());
  EXPECT_EQ(f.tensors.at("optimizer.step").data<int64_t>()[0], 42);
}

TEST(SafetensorsTest, OverwritesAtomically) {
  TempDir dir;
  float a = 1, b = 2;
  writeSafetensors(dir.path("c.safetensors"), {{"a", DType::F32, {}, &a}});
  writeSafetensors(dir.path("c.safetensors"), {{"a", DType::F32, {}, &b}});
  EXPECT_EQ(countFiles(dir.str()), 1u);
  EXPECT_EQ(readSafetensors(dir.path("c.safetensors"))
                .tensors.at("a")
                .data<float>()[0],
            2.0f);
}

TEST(SafetensorsTest, WriteErrors) {
  TempDir dir;
  float a = 1;
  EXPECT_DPC_ERROR(
      writeSafetensors(dir.path("no/such/dir/c.safetensors"),
                       {{"a", DType::F32, {}, &a}}),
      "cannot write '" + dir.path("no/such/dir/c.safetensors") +
          "': No such file or directory");
  EXPECT_DPC_ERROR(writeSafetensors(dir.path("c.safetensors"),
                                    {{"a", DType::F32, {}, &a},
                                     {"a", DType::F32, {}, &a}}),
                   "tensor name 'a' appears twice");
  EXPECT_EQ(countFiles(dir.str()), 0u);
}

TEST(SafetensorsTest, RejectsBadFiles) {
  TempDir dir;
  std::string p = dir.path("bad.safetensors");
  EXPECT_DPC_ERROR(readSafetensors(p), "cannot open '" + p + "'");

  writeBytes(p, "abc");
  EXPECT_DPC_ERROR(readSafetensors(p), p + ": not a safetensors file");
  writeBytes(p, "this is definitely not a safetensors file");
  EXPECT_DPC_ERROR(readSafetensors(p), "exceeds the file size");
  writeBytes(p, withHeader("{not json", ""));
  EXPECT_DPC_ERROR(readSafetensors(p), "header is not valid JSON");
  writeBytes(p, withHeader("[1, 2]", ""));
  EXPECT_DPC_ERROR(readSafetensors(p), "header is not a JSON object");

  writeBytes(p, withHeader(R"({"a": {"dtype": "BF16", "shape": [1],
                               "data_offsets": [0, 2]}})", "xx"));
  EXPECT_DPC_ERROR(readSafetensors(p),
                   "tensor 'a' has dtype BF16; only F32, F64 and I64");
  writeBytes(p, withHeader(R"({"a": {"dtype": "F32", "shape": [2],
                               "data_offsets": [0, 4]}})", "xxxx"));
  EXPECT_DPC_ERROR(readSafetensors(p), "tensor 'a' has 4 data bytes for shape [2]");
  writeBytes(p, withHeader(R"({"a": {"dtype": "F32", "shape": [-1],
                               "data_offsets": [0, 4]}})", "xxxx"));
  EXPECT_DPC_ERROR(readSafetensors(p), "tensor 'a' has a malformed shape");
  writeBytes(p, withHeader(R"({"a": {"dtype": "F32"}})", ""));
  EXPECT_DPC_ERROR(readSafetensors(p), "tensor 'a' has a malformed header entry");

  // A good file cut short.
  std::vector<float> w(16, 1.0f);
  writeSafetensors(p, {{"w", DType::F32, {16}, w.data()}});
  std::string full = readBytes(p);
  writeBytes(p, full.substr(0, full.size() - 10));
  EXPECT_DPC_ERROR(readSafetensors(p), "(truncated file?)");
  writeBytes(p, full.substr(0, 20));
  EXPECT_DPC_ERROR(readSafetensors(p), "exceeds the file size");
}

} // namespace
