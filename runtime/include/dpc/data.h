//===- data.h - Training data as PyTorch's DataLoader gives it ---*- C++
//-*-===//
//
// What torch.utils.data.DataLoader over a DistributedSampler does for a
// training loop, for .npy files and a model with a static batch shape:
//
//   dpc::SamplerOptions order;               // which samples, in which order
//   order.samples = 60000; order.batchSize = 32;
//   order.rank = session.rank(); order.worldSize = session.worldSize();
//   order.shuffle = true; order.seed = 0;
//   dpc::DataLoader loader({dpc::NpyFile::open("x.npy", dpc::DType::F32),
//                           dpc::NpyFile::open("y.npy", dpc::DType::I64)},
//                          order);
//   float loss = session.step(loader.next());
//
// The files are memory-mapped a window at a time, so a data set larger than
// the process's memory (or address space) trains, and the loader gathers
// the next batch on a background thread while the current step runs.
//
//===----------------------------------------------------------------------===//

#ifndef DPC_DATA_H
#define DPC_DATA_H

#include "dpc/runtime.h"

#include <cstdint>
#include <future>
#include <memory>
#include <string>
#include <vector>

namespace dpc {

/// torch.randperm(n, generator=g) on the CPU for g = torch.Generator()
/// seeded with g.manual_seed(seed), bit for bit: a Fisher-Yates shuffle
/// drawing from torch's MT19937 (only the low 32 bits of the seed count, as
/// in torch). torch changes its algorithm for n >= 2^32 / 20, which is
/// refused (a dpc::Error) rather than approximated.
std::vector<int64_t> torchRandperm(int64_t n, uint64_t seed);

/// What happens to the samples that do not fill a last whole batch.
enum class LastBatch {
  /// Left out of the epoch, as DistributedSampler(drop_last=True) with
  /// DataLoader(drop_last=True).
  Drop,
  /// Used: DistributedSampler(drop_last=False)'s wrap-around (the epoch's
  /// order continues from its start) goes on until every rank's last batch
  /// is full; PyTorch's DataLoader would run a smaller last batch instead,
  /// which a module with a static batch shape cannot.
  Pad,
};

struct SamplerOptions {
  int64_t samples = 0;   // in the data set
  int64_t batchSize = 0; // per rank: the module's compiled (local) batch
  int rank = 0;
  int worldSize = 1;
  /// true: torch.utils.data.DistributedSampler(shuffle=True, seed=seed):
  /// epoch e's order is torchRandperm(samples, seed + e) and rank r takes
  /// every worldSize-th sample of it from the r-th on.
  /// false: file order, in consecutive global batches of worldSize x
  /// batchSize samples, of which rank r takes the r-th slice.
  bool shuffle = false;
  uint64_t seed = 0;
  LastBatch last = LastBatch::Drop;
};

/// The samples of each batch of each epoch on one rank.
class BatchSampler {
public:
  /// Throws a dpc::Error when the options give no batch at all.
  explicit BatchSampler(const SamplerOptions &options);

  const SamplerOptions &options() const { return opts; }
  int64_t batchesPerEpoch() const { return batches; }
  /// Samples of each epoch that no rank sees (LastBatch::Drop) or that
  /// some rank sees a second time (LastBatch::Pad); 0 when they divide.
  int64_t remainderPerEpoch() const;
  /// This rank's `batchSize` samples of batch `index` of `epoch` (indices
  /// into the data set), into `out`.
  void batch(int64_t epoch, int64_t index, std::vector<int64_t> &out);

private:
  SamplerOptions opts;
  int64_t batches = 0;
  int64_t orderEpoch = -1; // the epoch `order` holds (shuffle only)
  std::vector<int64_t> order;
};

/// A .npy file (as readNpy reads: '<f4', '<f8', '<i4', '<i8', C order)
/// read one sample at a time through memory mapping. At most a few windows
/// of the file are mapped at once, so the file may be larger than the
/// address space the process may use. Not for concurrent use.
class NpyFile {
public:
  /// Opens `path` to be read as `dtype` (converting f64 data for f32, f32
  /// for f64 and i32 for i64, as readNpy does).
  static NpyFile open(const std::string &path, DType dtype);

  NpyFile(NpyFile &&) noexcept;
  NpyFile &operator=(NpyFile &&) noexcept;
  ~NpyFile();

  const std::string &path() const;
  /// As stored; dimension 0 counts the samples.
  const std::vector<int64_t> &shape() const;
  DType dtype() const;
  /// Bytes of one sample as `dtype`.
  int64_t sampleBytes() const;
  /// Copies sample `index` (converted to `dtype`) to `dest`.
  void readSample(int64_t index, void *dest);

private:
  struct Impl;
  explicit NpyFile(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl;
};

/// Batches of one or more .npy files (a model's inputs, then its label) in a
/// BatchSampler's order, each gathered on a background thread while the
/// caller runs the previous one.
class DataLoader {
public:
  /// All files must hold the same number of samples, options.samples.
  DataLoader(std::vector<NpyFile> files, const SamplerOptions &options);
  ~DataLoader();
  DataLoader(const DataLoader &) = delete;
  DataLoader &operator=(const DataLoader &) = delete;

  BatchSampler &sampler() { return batchSampler; }
  /// Where next() continues: batch `index` of `epoch` (e.g. from a
  /// checkpoint). The default is the first batch of epoch 0.
  void seek(int64_t epoch, int64_t index);
  /// Position of the batch the next call of next() returns.
  int64_t epoch() const { return nextEpoch; }
  int64_t batchInEpoch() const { return nextIndex; }
  /// The batch at the current position (one pointer per file, to
  /// batchSize samples each), valid until the following call; moves on and
  /// starts gathering the batch after it. Throws what reading threw.
  const std::vector<const void *> &next();

private:
  struct Buffers {
    std::vector<std::vector<unsigned char>> perFile;
    std::vector<const void *> pointers;
  };
  void gather(int64_t epoch, int64_t index, Buffers &into);
  void startGathering();

  std::vector<NpyFile> files;
  BatchSampler batchSampler;
  std::vector<int64_t> indices; // used by the gathering thread only
  Buffers current, ahead;
  std::future<void> aheadReady; // valid while `ahead` is being gathered
  int64_t nextEpoch = 0, nextIndex = 0;
};

} // namespace dpc

#endif // DPC_DATA_H
