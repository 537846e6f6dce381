//===- manifest_test.cpp - Manifest parsing and validation ----------------===//

#include "test_util.h"

#include <nlohmann/json.hpp>

namespace {

using namespace dpc;
using nlohmann::json;

/// The schema's example: a two-layer MLP trained with momentum SGD on 2 ranks.
json validManifest() {
  return json::parse(R"({
    "abi_version": 1, "producer": "dpc 0.1.0", "mode": "ddp", "world_size": 2,
    "inputs": [{"name": "x", "dtype": "f32", "shape": [16, 32], "slot": 5}],
    "label": {"name": "y", "dtype": "i64", "shape": [16], "slot": 6},
    "loss": {"kind": "cross_entropy", "slot": 7},
    "optimizer": {"kind": "sgd", "lr": 0.1, "momentum": 0.9, "dampening": 0.0,
                  "weight_decay": 0.0001, "nesterov": false},
    "parameters": [
      {"name": "fc1.weight", "dtype": "f32", "shape": [64, 32], "weights_offset": 0, "slot": 0},
      {"name": "fc1.bias", "dtype": "f32", "shape": [64], "weights_offset": 8192, "slot": 1}],
    "buffers": [
      {"name": "bn.num_batches_tracked", "dtype": "i64", "shape": [], "weights_offset": 8448, "slot": 2}],
    "optimizer_state": [
      {"name": "fc1.weight.momentum_buffer", "parameter": "fc1.weight", "dtype": "f32", "shape": [64, 32], "slot": 3},
      {"name": "fc1.bias.momentum_buffer", "parameter": "fc1.bias", "dtype": "f32", "shape": [64], "slot": 4}],
    "buckets": [{"index": 0, "bytes": 8448, "parameters": ["fc1.bias", "fc1.weight"]}],
    "arena": {"bytes": 40960, "slot": 8},
    "num_slots": 9
  })");
}

Manifest parse(const json &j) { return Manifest::parse(j.dump(), "model.so"); }

TEST(ManifestTest, ParsesTheSchemaExample) {
  Manifest m = parse(validManifest());
  EXPECT_EQ(m.abiVersion, DPC_ABI_VERSION);
  EXPECT_EQ(m.producer, "dpc 0.1.0");
  EXPECT_EQ(m.mode, "ddp");
  EXPECT_EQ(m.worldSize, 2);
  ASSERT_EQ(m.inputs.size(), 1u);
  EXPECT_EQ(m.inputs[0].name, "x");
  EXPECT_EQ(m.inputs[0].shape, (std::vector<int64_t>{16, 32}));
  EXPECT_EQ(m.inputs[0].numBytes(), 16 * 32 * 4);
  ASSERT_TRUE(m.label.has_value());
  EXPECT_EQ(m.label->dtype, DType::I64);
  EXPECT_EQ(m.loss.kind, "cross_entropy");
  EXPECT_EQ(m.loss.slot, 7);
  EXPECT_EQ(m.optimizer.kind, "sgd");
  EXPECT_DOUBLE_EQ(m.optimizer.momentum, 0.9);
  EXPECT_DOUBLE_EQ(m.optimizer.weightDecay, 0.0001);
  EXPECT_FALSE(m.optimizer.nesterov);
  ASSERT_EQ(m.parameters.size(), 2u);
  EXPECT_EQ(m.parameters[1].weightsOffset, 8192);
  ASSERT_EQ(m.buffers.size(), 1u);
  EXPECT_TRUE(m.buffers[0].shape.empty());
  EXPECT_EQ(m.buffers[0].numBytes(), 8);
  EXPECT_EQ(m.optimizerState[0].parameter, "fc1.weight");
  EXPECT_EQ(m.buckets[0].parameters,
            (std::vector<std::string>{"fc1.bias", "fc1.weight"}));
  EXPECT_EQ(m.arenaBytes, 40960);
  EXPECT_EQ(m.arenaSlot, 8);
  EXPECT_EQ(m.numSlots, 9);
  EXPECT_FALSE(m.weightsBytes.has_value());
}

TEST(ManifestTest, BoolBuffersAreOneBytePerElement) {
  json j = validManifest();
  j["buffers"][0]["dtype"] = "bool";
  j["buffers"][0]["shape"] = {8, 8};
  Manifest m = parse(j);
  EXPECT_EQ(m.buffers[0].dtype, DType::Bool);
  EXPECT_EQ(m.buffers[0].numBytes(), 64);
}

TEST(ManifestTest, LossNoneNeedsNoLabel) {
  json j = validManifest();
  j["label"] = nullptr;
  j["loss"]["kind"] = "none";
  j["inputs"].push_back(
      {{"name", "y"}, {"dtype", "i64"}, {"shape", {16}}, {"slot", 6}});
  Manifest m = parse(j);
  EXPECT_FALSE(m.label.has_value());
  EXPECT_EQ(m.inputs.size(), 2u);
}

TEST(ManifestTest, AbiVersionMismatch) {
  json j = validManifest();
  j["abi_version"] = 7;
  EXPECT_DPC_ERROR(parse(j),
                   "model.so was built for dpc ABI 7, this runtime speaks 1");
}

TEST(ManifestTest, SyntaxAndTypeErrors) {
  EXPECT_DPC_ERROR(Manifest::parse("{\"abi_version\": 1,", "m.so"),
                   "m.so: manifest is not valid JSON: parse error");
  // nlohmann throws out_of_range, not parse_error, for a number beyond a
  // double (found by fuzzing).
  EXPECT_DPC_ERROR(Manifest::parse("{\"abi_version\": 1E400}", "m.so"),
                   "m.so: manifest is not valid JSON: number overflow");
  EXPECT_DPC_ERROR(Manifest::parse("[]", "m.so"),
                   "m.so: manifest: the top level must be a JSON object");

  json j = validManifest();
  j.erase("world_size");
  EXPECT_DPC_ERROR(parse(j), "model.so: manifest: 'world_size' is missing");
  j = validManifest();
  j["parameters"][1].erase("weights_offset");
  EXPECT_DPC_ERROR(parse(j), "'parameters[1].weights_offset' is missing");
  j = validManifest();
  j["inputs"][0]["dtype"] = "bf16";
  EXPECT_DPC_ERROR(parse(j),
                   "'inputs[0].dtype' is 'bf16'; expected f32, f64 or i64");
  // bool is a buffer's dtype only (a constant of the step), never an
  // input's, a label's or a parameter's.
  j = validManifest();
  j["inputs"][0]["dtype"] = "bool";
  EXPECT_DPC_ERROR(parse(j),
                   "'inputs[0].dtype' is 'bool'; expected f32, f64 or i64");
  j = validManifest();
  j["parameters"][0]["dtype"] = "bool";
  EXPECT_DPC_ERROR(parse(j),
                   "'parameters[0].dtype' is 'bool'; expected f32, f64 or i64");
  j = validManifest();
  j["inputs"][0]["shape"] = {16, -1};
  EXPECT_DPC_ERROR(
      parse(j), "'inputs[0].shape' must be an array of non-negative integers");
  j = validManifest();
  j["optimizer"]["lr"] = "fast";
  EXPECT_DPC_ERROR(parse(j), "'optimizer.lr' must be a number");
  j = validManifest();
  j["optimizer"]["kind"] = "lbfgs";
  EXPECT_DPC_ERROR(parse(j), "'optimizer.kind' is 'lbfgs'");
  j = validManifest();
  j["mode"] = "fsdp";
  EXPECT_DPC_ERROR(parse(j), "'mode' is 'fsdp'; expected ddp or dp");
  j = validManifest();
  j["world_size"] = 0;
  EXPECT_DPC_ERROR(parse(j), "'world_size' must be at least 1");
  j = validManifest();
  j["arena"]["bytes"] = -5;
  EXPECT_DPC_ERROR(parse(j), "'arena.bytes' must not be negative");
}

// "grad_scaler" (dpc --grad-scaler): GradScaler's arguments, checked as
// GradScaler checks them; absent without a scaler.
TEST(ManifestTest, GradScaler) {
  EXPECT_FALSE(parse(validManifest()).gradScaler.has_value());
  json j = validManifest();
  j["grad_scaler"] = {{"init_scale", 1024.0},
                      {"growth_factor", 2.0},
                      {"backoff_factor", 0.25},
                      {"growth_interval", 100}};
  Manifest m = parse(j);
  ASSERT_TRUE(m.gradScaler.has_value());
  EXPECT_EQ(m.gradScaler->initScale, 1024.0);
  EXPECT_EQ(m.gradScaler->backoffFactor, 0.25);
  EXPECT_EQ(m.gradScaler->growthInterval, 100);
  j["grad_scaler"]["backoff_factor"] = 1.0;
  EXPECT_DPC_ERROR(parse(j), "'grad_scaler.backoff_factor' must be in (0, 1)");
  j["grad_scaler"]["backoff_factor"] = 0.5;
  j["grad_scaler"]["init_scale"] = 1e39;
  EXPECT_DPC_ERROR(parse(j), "'grad_scaler.init_scale' must be positive and "
                             "finite in float32");
  j["grad_scaler"]["init_scale"] = 1024.0;
  j["grad_scaler"].erase("growth_interval");
  EXPECT_DPC_ERROR(parse(j), "'grad_scaler.growth_interval' is missing");
}

TEST(ManifestTest, SlotsMustBeUsedExactlyOnce) {
  json j = validManifest();
  j["label"]["slot"] = 5;
  EXPECT_DPC_ERROR(parse(j), "slot 5 is used by both input 'x' and label 'y'");
  j = validManifest();
  j["num_slots"] = 10;
  EXPECT_DPC_ERROR(parse(j), "slot 9 is not used by any tensor");
  j = validManifest();
  j["arena"]["slot"] = 9;
  EXPECT_DPC_ERROR(parse(j), "slot 9 of the arena is outside [0, num_slots=9)");
  j = validManifest();
  j["loss"]["slot"] = -1;
  EXPECT_DPC_ERROR(parse(j), "slot -1 of the loss is outside");
}

TEST(ManifestTest, NamesAndReferences) {
  json j = validManifest();
  j["optimizer_state"][0]["parameter"] = "fc9.weight";
  EXPECT_DPC_ERROR(parse(j),
                   "optimizer state 'fc1.weight.momentum_buffer' refers "
                   "to unknown parameter 'fc9.weight'");
  j = validManifest();
  j["buckets"][0]["parameters"].push_back("nope");
  EXPECT_DPC_ERROR(parse(j), "bucket 0 refers to unknown parameter 'nope'");
  j = validManifest();
  j["buffers"][0]["name"] = "fc1.bias";
  EXPECT_DPC_ERROR(parse(j), "parameter/buffer name 'fc1.bias' appears twice");
  j = validManifest();
  j["label"]["name"] = "x";
  EXPECT_DPC_ERROR(parse(j), "label name 'x' is also an input name");
}

TEST(ManifestTest, LossNeedsAMatchingLabel) {
  json j = validManifest();
  j["label"]["dtype"] = "f32";
  EXPECT_DPC_ERROR(parse(j), "loss 'cross_entropy' needs a label of dtype i64, "
                             "but label 'y' is f32");
  j = validManifest();
  j.erase("label");
  j["num_slots"] = 9;
  j["loss"]["kind"] = "mse";
  EXPECT_DPC_ERROR(parse(j),
                   "loss 'mse' needs a label, but the manifest has none");
  j = validManifest();
  j["loss"]["kind"] = "hinge";
  EXPECT_DPC_ERROR(parse(j), "'loss.kind' is 'hinge'");
}

TEST(ManifestTest, WeightsBytesBoundsOffsets) {
  json j = validManifest();
  j["weights_bytes"] = 8456;
  EXPECT_EQ(*parse(j).weightsBytes, 8456);
  j["weights_bytes"] = 8455;
  EXPECT_DPC_ERROR(parse(j), "the initial value of 'bn.num_batches_tracked' "
                             "(offset 8448, 8 bytes) lies outside the weights "
                             "(8455 bytes)");
}

TEST(ManifestTest, ExternalWeightsHaveNoOffsets) {
  json j = validManifest();
  EXPECT_FALSE(parse(j).externalWeights);
  // Embedded weights (the default) need their offsets.
  j["parameters"][0].erase("weights_offset");
  EXPECT_DPC_ERROR(parse(j), "parameters[0].weights_offset");
  j["weights"] = "external";
  j["weights_bytes"] = 0;
  Manifest m = parse(j);
  EXPECT_TRUE(m.externalWeights);
  EXPECT_EQ(m.parameters[0].name, "fc1.weight");
  j["weights"] = "inline";
  EXPECT_DPC_ERROR(parse(j), "\"inline\"");
}

} // namespace

namespace {

/// The schema example's evaluation step: its own slots, the training step's
/// parameters and buffer by name.
json validEval() {
  return json::parse(R"({
    "inputs": [{"name": "x", "dtype": "f32", "shape": [8, 32], "slot": 0}],
    "label": {"name": "y", "dtype": "i64", "shape": [8], "slot": 4},
    "parameters": [{"name": "fc1.weight", "slot": 1}, {"name": "fc1.bias", "slot": 2}],
    "buffers": [{"name": "bn.num_batches_tracked", "slot": 3}],
    "loss": {"slot": 5},
    "outputs": [{"name": "output", "dtype": "f32", "shape": [8, 64], "slot": 6}],
    "arena": {"bytes": 4096, "slot": 7},
    "num_slots": 8
  })");
}

} // namespace

TEST(ManifestTest, ParsesTheEvaluationStep) {
  EXPECT_FALSE(parse(validManifest()).eval.has_value());
  json j = validManifest();
  j["eval"] = validEval();
  Manifest m = parse(j);
  ASSERT_TRUE(m.eval.has_value());
  EXPECT_EQ(m.eval->inputs[0].shape, (std::vector<int64_t>{8, 32}));
  EXPECT_EQ(m.eval->label->slot, 4);
  ASSERT_EQ(m.eval->tensors.size(), 3u);
  EXPECT_EQ(m.eval->tensors[2],
            (std::pair<std::string, int64_t>{"bn.num_batches_tracked", 3}));
  EXPECT_EQ(m.eval->lossSlot, 5);
  EXPECT_EQ(m.eval->outputs[0].numBytes(), 8 * 64 * 4);
  EXPECT_EQ(m.eval->arenaBytes, 4096);
  EXPECT_EQ(m.eval->numSlots, 8);
}

TEST(ManifestTest, RefusesABadEvaluationStep) {
  json j = validManifest();
  j["eval"] = validEval();
  j["eval"]["parameters"][0]["name"] = "fc9.weight";
  EXPECT_DPC_ERROR(parse(j), "'eval.parameters[0].name' is 'fc9.weight', not "
                             "a parameter or buffer");
  j["eval"] = validEval();
  j["eval"]["outputs"][0]["slot"] = 5;
  EXPECT_DPC_ERROR(parse(j),
                   "eval slot 5 is used by both the loss and output 'output'");
  j["eval"] = validEval();
  j["eval"]["num_slots"] = 9;
  EXPECT_DPC_ERROR(parse(j), "eval slot 8 is not used by any tensor");
  j["eval"] = validEval();
  j["eval"]["arena"]["slot"] = 8;
  EXPECT_DPC_ERROR(parse(j), "eval slot 8 of the arena is outside [0, "
                             "eval.num_slots=8)");
  j["eval"] = validEval();
  j["eval"]["inputs"][0]["name"] = "z";
  EXPECT_DPC_ERROR(parse(j), "eval input 'z' is not the training step's "
                             "input 'x'");
  j["eval"] = validEval();
  j["eval"]["label"]["dtype"] = "f32";
  EXPECT_DPC_ERROR(parse(j), "eval's label is not the training step's");
  j["eval"] = validEval();
  j["eval"].erase("outputs");
  EXPECT_DPC_ERROR(parse(j), "'eval.outputs' is missing");
}
