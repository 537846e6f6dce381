//===- data.cpp - Sample order, mapped .npy files, batch prefetching ------===//
//
// torch's CPU randperm and DistributedSampler's order (BatchSampler), .npy
// files read through a few mapped windows (NpyFile), and the loader that
// gathers the next batch while a step runs (DataLoader). See dpc/data.h.
//
//===----------------------------------------------------------------------===//

#include "dpc/data.h"

#include "io/file_io.h"
#include "io/npy.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <random>
#include <sys/mman.h>
#include <unistd.h>

using namespace dpc;

//===----------------------------------------------------------------------===//
// torch.randperm
//===----------------------------------------------------------------------===//

std::vector<int64_t> dpc::torchRandperm(int64_t n, uint64_t seed) {
  // torch 1.13's randperm_cpu (ATen/native/TensorFactories.cpp) shuffles
  // with draws of CPUGeneratorImpl::random(), one 32-bit output of its
  // mt19937 (ATen/core/MT19937RNGEngine.h), which manual_seed initializes
  // from the low 32 bits of the seed exactly as std::mt19937 does; the
  // outputs of both are the reference MT19937 sequence.
  if (n < 0)
    throw Error("randperm: n must be non-negative, got " + std::to_string(n));
  if (n >= std::numeric_limits<uint32_t>::max() / 20)
    throw Error("shuffling " + std::to_string(n) +
                " samples: torch.randperm uses another algorithm from " +
                std::to_string(std::numeric_limits<uint32_t>::max() / 20) +
                " samples on, which dpc does not reproduce");
  std::mt19937 engine(static_cast<uint32_t>(seed));
  std::vector<int64_t> perm(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    perm[i] = i;
  for (int64_t i = 0; i + 1 < n; ++i) {
    int64_t z = static_cast<int64_t>(engine()) % (n - i);
    std::swap(perm[i], perm[z + i]);
  }
  return perm;
}

//===----------------------------------------------------------------------===//
// BatchSampler
//===----------------------------------------------------------------------===//

BatchSampler::BatchSampler(const SamplerOptions &options) : opts(options) {
  if (opts.samples < 0 || opts.batchSize <= 0 || opts.worldSize <= 0 ||
      opts.rank < 0 || opts.rank >= opts.worldSize)
    throw Error("sampler: bad options (" + std::to_string(opts.samples) +
                " samples, batch " + std::to_string(opts.batchSize) +
                ", rank " + std::to_string(opts.rank) + " of " +
                std::to_string(opts.worldSize) + ")");
  int64_t global = opts.batchSize * opts.worldSize;
  batches = opts.last == LastBatch::Drop ? opts.samples / global
                                         : (opts.samples + global - 1) / global;
  if (batches == 0)
    throw Error("sampler: " + std::to_string(opts.samples) +
                " samples make no batch of " + std::to_string(global));
}

int64_t BatchSampler::remainderPerEpoch() const {
  int64_t global = opts.batchSize * opts.worldSize;
  return opts.last == LastBatch::Drop ? opts.samples - batches * global
                                      : batches * global - opts.samples;
}

void BatchSampler::batch(int64_t epoch, int64_t index,
                         std::vector<int64_t> &out) {
  if (opts.shuffle && epoch != orderEpoch) {
    // DistributedSampler: g.manual_seed(self.seed + self.epoch).
    order =
        torchRandperm(opts.samples, opts.seed + static_cast<uint64_t>(epoch));
    orderEpoch = epoch;
  }
  out.resize(static_cast<size_t>(opts.batchSize));
  int64_t b = opts.batchSize, w = opts.worldSize, r = opts.rank;
  for (int64_t j = 0; j < b; ++j) {
    // The position in the epoch's order, which continues from its start
    // past the end (the sampler's padding, LastBatch::Pad only).
    int64_t position = opts.shuffle ? (index * b + j) * w + r  // indices[r::w]
                                    : (index * w + r) * b + j; // r-th slice
    int64_t wrapped = position % opts.samples;
    out[j] = opts.shuffle ? order[wrapped] : wrapped;
  }
}

//===----------------------------------------------------------------------===//
// NpyFile
//===----------------------------------------------------------------------===//

namespace {

/// Bytes of the file one mapping covers, and how many stay mapped: the
/// address space a file takes is bounded (a 100 GB data set trains under a
/// small `ulimit -v`), while sequential reading maps each window once.
constexpr uint64_t kWindowBytes = uint64_t(8) << 20;
constexpr size_t kMaxWindows = 2;

struct Window {
  uint64_t first = 0; // file offset
  size_t length = 0;
  const unsigned char *data = nullptr;
  uint64_t lastUse = 0;
};

} // namespace

struct NpyFile::Impl {
  Impl(const std::string &path) : file(path, ".npy file") {}
  ~Impl() {
    for (const Window &w : windows)
      ::munmap(const_cast<unsigned char *>(w.data), w.length);
  }

  /// The mapped window holding file byte `offset`, mapping it if needed.
  const Window &windowAt(uint64_t offset);

  InputFile file;
  NpyLayout layout;
  DType dtype = DType::F32;
  int64_t samples = 0;
  int64_t elementsPerSample = 0;
  uint64_t fileSampleBytes = 0;
  std::vector<Window> windows;
  uint64_t uses = 0;
  std::vector<unsigned char> raw; // a sample as stored, when converting
};

const Window &NpyFile::Impl::windowAt(uint64_t offset) {
  ++uses;
  uint64_t first = offset / kWindowBytes * kWindowBytes;
  for (Window &w : windows)
    if (w.first == first) {
      w.lastUse = uses;
      return w;
    }
  if (windows.size() == kMaxWindows) {
    auto oldest = std::min_element(
        windows.begin(), windows.end(),
        [](const Window &a, const Window &b) { return a.lastUse < b.lastUse; });
    ::munmap(const_cast<unsigned char *>(oldest->data), oldest->length);
    windows.erase(oldest);
  }
  size_t length = static_cast<size_t>(
      std::min<uint64_t>(kWindowBytes, file.size() - first));
  void *p = ::mmap(nullptr, length, PROT_READ, MAP_PRIVATE, file.descriptor(),
                   static_cast<off_t>(first));
  if (p == MAP_FAILED)
    throw Error("cannot map .npy file '" + file.path() + "' at offset " +
                std::to_string(first) + ": " + std::strerror(errno));
  windows.push_back(
      {first, length, static_cast<const unsigned char *>(p), uses});
  return windows.back();
}

NpyFile NpyFile::open(const std::string &path, DType dtype) {
  auto impl = std::make_unique<Impl>(path);
  impl->layout = readNpyLayout(impl->file);
  impl->dtype = npyTargetDType(impl->layout, dtype, path);
  // A scalar holds no samples (the caller says what it expected).
  const std::vector<int64_t> &shape = impl->layout.shape;
  impl->samples = shape.empty() ? 0 : shape[0];
  impl->elementsPerSample =
      shape.empty()
          ? 1
          : numElements(std::vector<int64_t>(shape.begin() + 1, shape.end()));
  impl->fileSampleBytes = impl->elementsPerSample * impl->layout.itemSize;
  // Allocated here, not by the thread that reads samples.
  impl->windows.reserve(kMaxWindows);
  impl->raw.reserve(impl->fileSampleBytes);
  return NpyFile(std::move(impl));
}

NpyFile::NpyFile(std::unique_ptr<Impl> impl) : impl(std::move(impl)) {}
NpyFile::NpyFile(NpyFile &&) noexcept = default;
NpyFile &NpyFile::operator=(NpyFile &&) noexcept = default;
NpyFile::~NpyFile() = default;

const std::string &NpyFile::path() const { return impl->file.path(); }
const std::vector<int64_t> &NpyFile::shape() const {
  return impl->layout.shape;
}
DType NpyFile::dtype() const { return impl->dtype; }
int64_t NpyFile::sampleBytes() const {
  return impl->elementsPerSample * static_cast<int64_t>(dtypeSize(impl->dtype));
}

void NpyFile::readSample(int64_t index, void *dest) {
  Impl &s = *impl;
  if (index < 0 || index >= s.samples)
    throw Error(path() + ": no sample " + std::to_string(index) + " (it has " +
                std::to_string(s.samples) + ")");
  bool converting =
      s.layout.type == NpyType::I4 || s.layout.itemSize != dtypeSize(s.dtype);
  unsigned char *out = static_cast<unsigned char *>(dest);
  if (converting) {
    s.raw.resize(s.fileSampleBytes);
    out = s.raw.data();
  }
  // A sample may straddle windows: copy it piece by piece.
  uint64_t offset = s.layout.dataStart + index * s.fileSampleBytes;
  uint64_t left = s.fileSampleBytes;
  while (left > 0) {
    const Window &w = s.windowAt(offset);
    uint64_t n = std::min<uint64_t>(left, w.first + w.length - offset);
    std::memcpy(out, w.data + (offset - w.first), n);
    out += n;
    offset += n;
    left -= n;
  }
  if (converting)
    convertNpyElements(s.layout.type, s.dtype, s.raw.data(), dest,
                       s.elementsPerSample);
}

//===----------------------------------------------------------------------===//
// DataLoader
//===----------------------------------------------------------------------===//

DataLoader::DataLoader(std::vector<NpyFile> filesIn,
                       const SamplerOptions &options)
    : files(std::move(filesIn)), batchSampler(options) {
  for (const NpyFile &f : files)
    if (f.shape().empty() || f.shape()[0] != options.samples)
      throw Error(f.path() + " has " +
                  std::to_string(f.shape().empty() ? 0 : f.shape()[0]) +
                  " samples, expected " + std::to_string(options.samples));
  indices.reserve(static_cast<size_t>(options.batchSize));
  for (Buffers *buffers : {&current, &ahead}) {
    for (const NpyFile &f : files)
      buffers->perFile.emplace_back(
          static_cast<size_t>(f.sampleBytes() * options.batchSize));
    for (const auto &bytes : buffers->perFile)
      buffers->pointers.push_back(bytes.data());
  }
}

DataLoader::~DataLoader() {
  // A batch being gathered writes into `ahead`: let it finish first.
  if (aheadReady.valid())
    aheadReady.wait();
}

void DataLoader::gather(int64_t epoch, int64_t index, Buffers &into) {
  batchSampler.batch(epoch, index, indices);
  for (size_t f = 0; f < files.size(); ++f) {
    int64_t bytes = files[f].sampleBytes();
    for (size_t j = 0; j < indices.size(); ++j)
      files[f].readSample(indices[j], into.perFile[f].data() + j * bytes);
  }
}

void DataLoader::startGathering() {
  aheadReady = std::async(std::launch::async,
                          [this, epoch = nextEpoch, index = nextIndex] {
                            gather(epoch, index, ahead);
                          });
}

void DataLoader::seek(int64_t epoch, int64_t index) {
  if (epoch < 0 || index < 0 || index >= batchSampler.batchesPerEpoch())
    throw Error("data loader: no batch " + std::to_string(index) +
                " in epoch " + std::to_string(epoch) + " (an epoch has " +
                std::to_string(batchSampler.batchesPerEpoch()) + ")");
  if (aheadReady.valid())
    aheadReady.wait();
  aheadReady = {};
  nextEpoch = epoch;
  nextIndex = index;
}

const std::vector<const void *> &DataLoader::next() {
  if (!aheadReady.valid())
    startGathering();
  aheadReady.get(); // rethrows what gathering threw
  std::swap(current, ahead);
  if (++nextIndex == batchSampler.batchesPerEpoch()) {
    nextIndex = 0;
    ++nextEpoch;
  }
  startGathering();
  return current.pointers;
}
