//===- sample_order.cpp - Print dpc::BatchSampler's order for tests -------===//
//
// dpcrt-sample-order SAMPLES BATCH WORLD SEED EPOCHS shuffle|file drop|pad
// prints every rank's batches of every epoch, one line each:
//   rank R epoch E batch K: I I I ...
// test/Data/sampler-order.test compares them with PyTorch's DistributedSampler
// and DataLoader.
//
//===----------------------------------------------------------------------===//

#include "dpc/data.h"

#include <cstdio>
#include <cstdlib>
#include <string>

int main(int argc, char **argv) {
  if (argc != 8) {
    std::fprintf(stderr, "usage: dpcrt-sample-order SAMPLES BATCH WORLD SEED "
                         "EPOCHS shuffle|file drop|pad\n");
    return 1;
  }
  try {
    dpc::SamplerOptions order;
    order.samples = std::stoll(argv[1]);
    order.batchSize = std::stoll(argv[2]);
    order.worldSize = std::stoi(argv[3]);
    order.seed = std::stoull(argv[4]);
    int64_t epochs = std::stoll(argv[5]);
    order.shuffle = std::string(argv[6]) == "shuffle";
    order.last = std::string(argv[7]) == "pad" ? dpc::LastBatch::Pad
                                               : dpc::LastBatch::Drop;
    std::vector<int64_t> indices;
    for (int rank = 0; rank < order.worldSize; ++rank) {
      order.rank = rank;
      dpc::BatchSampler sampler(order);
      for (int64_t epoch = 0; epoch < epochs; ++epoch)
        for (int64_t k = 0; k < sampler.batchesPerEpoch(); ++k) {
          sampler.batch(epoch, k, indices);
          std::printf("rank %d epoch %lld batch %lld:", rank,
                      static_cast<long long>(epoch), static_cast<long long>(k));
          for (int64_t i : indices)
            std::printf(" %lld", static_cast<long long>(i));
          std::printf("\n");
        }
    }
  } catch (const std::exception &e) {
    std::fprintf(stderr, "dpcrt-sample-order: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
