//===- data_test.cpp - NpyFile and DataLoader (dpc/data.h) ----------------===//
//
// The sample order itself is compared with PyTorch in
// test/Data/sampler-order.test; these check reading: samples that straddle
// the mapped windows, conversions, the loader's batches and positions.
//
//===----------------------------------------------------------------------===//

#include "dpc/data.h"

#include "test_util.h"

#include <gtest/gtest.h>

#include <cstring>

using namespace dpc;
using namespace dpc::test;

namespace {

// 3 f64 values per sample (24 bytes) over more than 8 MiB: the 8 MiB
// windows cut samples in two, and f64 is read as f32.
TEST(NpyFileTest, ReadsSamplesAcrossWindowsAndConverts) {
  TempDir dir;
  const int64_t samples = 400000; // 9.6 MB of data
  std::vector<double> values(samples * 3);
  for (size_t i = 0; i < values.size(); ++i)
    values[i] = static_cast<double>(i) + 0.25;
  writeNpy(dir.path("x.npy"), "<f8", "(400000, 3)", values);
  NpyFile file = NpyFile::open(dir.path("x.npy"), DType::F32);
  ASSERT_EQ(file.shape(), (std::vector<int64_t>{samples, 3}));
  EXPECT_EQ(file.sampleBytes(), 12);
  // Every sample, in an order that keeps changing windows.
  float got[3];
  for (int64_t k = 0; k < samples; ++k) {
    int64_t i = (k * 7919) % samples;
    file.readSample(i, got);
    for (int j = 0; j < 3; ++j)
      ASSERT_EQ(got[j], static_cast<float>(values[i * 3 + j])) << i;
  }
  EXPECT_THROW(file.readSample(samples, got), Error);
}

TEST(NpyFileTest, RefusesWhatReadNpyRefuses) {
  TempDir dir;
  writeNpy(dir.path("y.npy"), "<f4", "(4,)", std::vector<float>{1, 2, 3, 4});
  EXPECT_THROW(NpyFile::open(dir.path("y.npy"), DType::I64), Error);
  writeBytes(dir.path("bad.npy"), "not a npy file");
  EXPECT_THROW(NpyFile::open(dir.path("bad.npy"), DType::F32), Error);
}

// File order, 2 ranks: rank 1's batches are the second slice of each
// global batch, i32 labels widened to i64; seek() continues anywhere and
// the position wraps into the next epoch.
TEST(DataLoaderTest, BatchesInFileOrderWithPositions) {
  TempDir dir;
  std::vector<int32_t> labels(10);
  for (int i = 0; i < 10; ++i)
    labels[i] = 100 + i;
  writeNpy(dir.path("y.npy"), "<i4", "(10,)", labels);
  std::vector<NpyFile> files;
  files.push_back(NpyFile::open(dir.path("y.npy"), DType::I64));
  SamplerOptions order;
  order.samples = 10;
  order.batchSize = 2;
  order.rank = 1;
  order.worldSize = 2;
  DataLoader loader(std::move(files), order);
  ASSERT_EQ(loader.sampler().batchesPerEpoch(), 2); // 10 = 2 x 4 + 2 left out
  EXPECT_EQ(loader.sampler().remainderPerEpoch(), 2);
  auto batch = [&]() {
    const auto *p = static_cast<const int64_t *>(loader.next()[0]);
    return std::vector<int64_t>(p, p + 2);
  };
  EXPECT_EQ(batch(), (std::vector<int64_t>{102, 103}));
  EXPECT_EQ(batch(), (std::vector<int64_t>{106, 107}));
  EXPECT_EQ(loader.epoch(), 1);
  EXPECT_EQ(loader.batchInEpoch(), 0);
  EXPECT_EQ(batch(), (std::vector<int64_t>{102, 103}));
  loader.seek(5, 1);
  EXPECT_EQ(batch(), (std::vector<int64_t>{106, 107}));
  EXPECT_THROW(loader.seek(0, 2), Error);
}

TEST(DataLoaderTest, RefusesFilesOfDifferentLengths) {
  TempDir dir;
  writeNpy(dir.path("a.npy"), "<f4", "(4,)", std::vector<float>{1, 2, 3, 4});
  writeNpy(dir.path("b.npy"), "<f4", "(3,)", std::vector<float>{1, 2, 3});
  std::vector<NpyFile> files;
  files.push_back(NpyFile::open(dir.path("a.npy"), DType::F32));
  files.push_back(NpyFile::open(dir.path("b.npy"), DType::F32));
  SamplerOptions order;
  order.samples = 4;
  order.batchSize = 2;
  EXPECT_THROW(DataLoader(std::move(files), order), Error);
}

} // namespace
