//===- npy_test.cpp - Reading .npy files ----------------------------------===//

#include "test_util.h"

#include <sys/stat.h>

namespace {

using namespace dpc;
using namespace dpc::test;

TEST(NpyTest, ReadsFloat32Version1) {
  TempDir dir;
  std::vector<float> values = {1, 2, 3, 4, 5, 6};
  writeNpy(dir.path("a.npy"), "<f4", "(2, 3)", values);
  HostTensor t = readNpy(dir.path("a.npy"));
  EXPECT_EQ(t.dtype, DType::F32);
  EXPECT_EQ(t.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(std::vector<float>(t.data<float>(), t.data<float>() + 6), values);
}

TEST(NpyTest, ReadsVersions2And3AndOddShapes) {
  TempDir dir;
  std::vector<int64_t> values = {7, -8, 9};
  for (int major : {2, 3}) {
    std::string path = dir.path("v" + std::to_string(major) + ".npy");
    writeBytes(path, npyBytes("<i8", "(3,)", values.data(), 24, major));
    HostTensor t = readNpy(path, DType::I64);
    EXPECT_EQ(t.shape, (std::vector<int64_t>{3}));
    EXPECT_EQ(t.data<int64_t>()[1], -8);
  }
  float scalar = 4.5f;
  writeBytes(dir.path("s.npy"), npyBytes("<f4", "()", &scalar, 4));
  HostTensor s = readNpy(dir.path("s.npy"));
  EXPECT_TRUE(s.shape.empty());
  EXPECT_EQ(s.data<float>()[0], 4.5f);

  writeBytes(dir.path("e.npy"), npyBytes("<f4", "(0, 3)", nullptr, 0));
  EXPECT_EQ(readNpy(dir.path("e.npy")).shape, (std::vector<int64_t>{0, 3}));
}

TEST(NpyTest, Converts) {
  TempDir dir;
  writeNpy(dir.path("d.npy"), "<f8", "(2,)", std::vector<double>{0.1, -2.5});
  HostTensor f = readNpy(dir.path("d.npy"), DType::F32);
  EXPECT_EQ(f.dtype, DType::F32);
  EXPECT_EQ(f.bytes.size(), 8u);
  EXPECT_EQ(f.data<float>()[0], 0.1f);
  EXPECT_EQ(readNpy(dir.path("d.npy")).dtype, DType::F64);

  writeNpy(dir.path("i.npy"), "<i4", "(3,)", std::vector<int32_t>{1, -2, 3});
  HostTensor i = readNpy(dir.path("i.npy"), DType::I64);
  EXPECT_EQ(i.dtype, DType::I64);
  EXPECT_EQ(i.data<int64_t>()[1], -2);
  EXPECT_EQ(readNpy(dir.path("i.npy")).dtype, DType::I64);
}

TEST(NpyTest, RejectsWrongDtypes) {
  TempDir dir;
  writeNpy(dir.path("l.npy"), "<i8", "(2,)", std::vector<int64_t>{1, 2});
  EXPECT_DPC_ERROR(readNpy(dir.path("l.npy"), DType::F32),
                   "l.npy: holds '<i8' data, which cannot be used as f32");
  writeNpy(dir.path("f.npy"), "<f4", "(2,)", std::vector<float>{1, 2});
  EXPECT_DPC_ERROR(readNpy(dir.path("f.npy"), DType::I64),
                   "holds '<f4' data, which cannot be used as i64");
  writeNpy(dir.path("b.npy"), ">f4", "(2,)", std::vector<float>{1, 2});
  EXPECT_DPC_ERROR(readNpy(dir.path("b.npy")),
                   "b.npy: dtype '>f4' is not supported");
  writeNpy(dir.path("u.npy"), "|u1", "(2,)", std::vector<uint8_t>{1, 2});
  EXPECT_DPC_ERROR(readNpy(dir.path("u.npy")), "dtype '|u1' is not supported");
}

TEST(NpyTest, RejectsBadFiles) {
  TempDir dir;
  EXPECT_DPC_ERROR(readNpy(dir.path("missing.npy")),
                   "cannot open .npy file '" + dir.path("missing.npy") + "'");

  writeBytes(dir.path("garbage.npy"), "hello, world, this is not numpy");
  EXPECT_DPC_ERROR(readNpy(dir.path("garbage.npy")), "not a .npy file");

  std::vector<float> values = {1, 2, 3, 4};
  writeBytes(dir.path("fortran.npy"),
             npyBytes("<f4", "(2, 2)", values.data(), 16, 1, /*fortran=*/true));
  EXPECT_DPC_ERROR(readNpy(dir.path("fortran.npy")), "Fortran-order");

  std::string full = npyBytes("<f4", "(2, 2)", values.data(), 16);
  writeBytes(dir.path("short.npy"), full.substr(0, full.size() - 4));
  EXPECT_DPC_ERROR(readNpy(dir.path("short.npy")),
                   "truncated: shape [2, 2] needs 16 bytes of data, the file "
                   "has 12");
  writeBytes(dir.path("header.npy"), full.substr(0, 30));
  EXPECT_DPC_ERROR(readNpy(dir.path("header.npy")), "truncated .npy header");

  std::string v9 = full;
  v9[6] = 9;
  writeBytes(dir.path("v9.npy"), v9);
  EXPECT_DPC_ERROR(readNpy(dir.path("v9.npy")),
                   "unsupported .npy format version 9.0");

  std::string bad = full;
  bad.replace(bad.find("'shape'"), 7, "'shapa'");
  writeBytes(dir.path("noshape.npy"), bad);
  EXPECT_DPC_ERROR(readNpy(dir.path("noshape.npy")),
                   "malformed .npy header (no 'shape')");
  bad = full;
  bad.replace(bad.find("(2, 2)"), 6, "(2, x)");
  writeBytes(dir.path("badshape.npy"), bad);
  EXPECT_DPC_ERROR(readNpy(dir.path("badshape.npy")), "malformed .npy header");
}

TEST(NpyTest, ReadsOnlyRegularFiles) {
  TempDir dir;
  // /dev/zero used to be read until memory ran out, a FIFO to block
  // forever, a directory to say "basic_filebuf::underflow error".
  EXPECT_DPC_ERROR(readNpy("/dev/zero"),
                   "cannot read .npy file '/dev/zero': it is a character "
                   "device, not a regular file");
  std::string fifo = dir.path("x.npy");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_DPC_ERROR(readNpy(fifo), "cannot read .npy file '" + fifo +
                                      "': it is a FIFO, not a regular file");
  EXPECT_DPC_ERROR(readNpy(dir.str()), "cannot read .npy file '" + dir.str() +
                                           "': it is a directory");
}

TEST(NpyTest, EscapesBytesFromTheFile) {
  TempDir dir;
  // Terminal control sequences in a header are not echoed raw.
  float v = 1;
  writeBytes(dir.path("e.npy"), npyBytes("\x1b]0;owned\x07<f4", "(1,)", &v, 4));
  EXPECT_DPC_ERROR(readNpy(dir.path("e.npy")),
                   "dtype '\\x1b]0;owned\\x07<f4' is not supported");
}

} // namespace
