//===- optimizer_manifest_test.cpp - Adam and accumulate in the manifest --===//
//
// The manifest fields of the optimizer group: Adam's betas and eps, the
// Adam state, and gradient accumulation ("accumulate"), which the runtime
// checks against every input and label.
//
//===----------------------------------------------------------------------===//

#include "test_util.h"

#include <nlohmann/json.hpp>

namespace {

using namespace dpc;
using nlohmann::json;

/// A linear layer trained with Adam, 4 micro-batches of 4 samples per step.
json adamManifest() {
  return json::parse(R"({
    "abi_version": 1, "producer": "dpc 0.1.0", "mode": "ddp", "world_size": 1,
    "inputs": [{"name": "x", "dtype": "f32", "shape": [16, 8], "slot": 0}],
    "label": {"name": "y", "dtype": "i64", "shape": [16], "slot": 3},
    "loss": {"kind": "cross_entropy", "slot": 6},
    "optimizer": {"kind": "adamw", "lr": 0.001, "betas": [0.85, 0.995],
                  "eps": 1e-06, "weight_decay": 0.01},
    "accumulate": 4,
    "parameters": [
      {"name": "fc.weight", "dtype": "f32", "shape": [4, 8], "weights_offset": 0, "slot": 1},
      {"name": "fc.bias", "dtype": "f32", "shape": [4], "weights_offset": 128, "slot": 2}],
    "optimizer_state": [
      {"name": "fc.weight.exp_avg", "parameter": "fc.weight", "dtype": "f32", "shape": [4, 8], "slot": 4},
      {"name": "fc.weight.exp_avg_sq", "parameter": "fc.weight", "dtype": "f32", "shape": [4, 8], "slot": 5}],
    "arena": {"bytes": 4096, "slot": 7},
    "num_slots": 8
  })");
}

Manifest parse(const json &j) { return Manifest::parse(j.dump(), "model.so"); }

TEST(OptimizerManifestTest, ParsesAdamAndAccumulate) {
  Manifest m = parse(adamManifest());
  EXPECT_EQ(m.optimizer.kind, "adamw");
  EXPECT_DOUBLE_EQ(m.optimizer.beta1, 0.85);
  EXPECT_DOUBLE_EQ(m.optimizer.beta2, 0.995);
  EXPECT_DOUBLE_EQ(m.optimizer.eps, 1e-6);
  EXPECT_DOUBLE_EQ(m.optimizer.weightDecay, 0.01);
  EXPECT_EQ(m.accumulate, 4);
  ASSERT_EQ(m.optimizerState.size(), 2u);
  EXPECT_EQ(m.optimizerState[1].name, "fc.weight.exp_avg_sq");
}

TEST(OptimizerManifestTest, AccumulateDefaultsToOne) {
  json j = adamManifest();
  j.erase("accumulate");
  EXPECT_EQ(parse(j).accumulate, 1);
}

TEST(OptimizerManifestTest, AccumulateMustBePositive) {
  json j = adamManifest();
  j["accumulate"] = 0;
  EXPECT_DPC_ERROR(parse(j), "'accumulate' must be at least 1");
  j["accumulate"] = "4";
  EXPECT_DPC_ERROR(parse(j), "'accumulate' must be an integer");
}

TEST(OptimizerManifestTest, AccumulateMustDivideEveryBatch) {
  json j = adamManifest();
  j["accumulate"] = 3;
  EXPECT_DPC_ERROR(parse(j), "input 'x' [16, 8] does not hold accumulate=3 "
                             "micro-batches along dimension 0");
  j = adamManifest();
  j["label"]["shape"] = {18};
  j["inputs"][0]["shape"] = {20, 8};
  EXPECT_DPC_ERROR(parse(j), "label 'y' [18] does not hold accumulate=4");
}

TEST(OptimizerManifestTest, BetasMustBeTwoNumbers) {
  json j = adamManifest();
  j["optimizer"]["betas"] = {0.9};
  EXPECT_DPC_ERROR(parse(j),
                   "'optimizer.betas' must be an array of two numbers");
}

} // namespace
