//===- fuzz_manifest.cpp - Fuzz target: the manifest parser ---------------===//
//
// Any text: Manifest::parse returns a manifest whose slots are all in range
// and used once (what the session relies on to index its slot table), or
// throws dpc::Error.

#include "dpc/runtime.h"

#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  try {
    dpc::Manifest m = dpc::Manifest::parse(
        std::string(reinterpret_cast<const char *>(data), size), "fuzz.so");
    std::vector<int> uses(static_cast<size_t>(m.numSlots));
    auto use = [&](int64_t slot) {
      if (slot < 0 || slot >= m.numSlots || uses[slot]++)
        __builtin_trap();
    };
    for (const dpc::TensorSpec &s : m.inputs)
      use(s.slot);
    if (m.label)
      use(m.label->slot);
    for (const auto *list : {&m.parameters, &m.buffers})
      for (const dpc::WeightSpec &s : *list)
        use(s.slot);
    for (const dpc::OptimizerStateSpec &s : m.optimizerState)
      use(s.slot);
    use(m.loss.slot);
    use(m.arenaSlot);
  } catch (const dpc::Error &) {
  }
  return 0;
}
