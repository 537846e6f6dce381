//===- manifest.cpp - Parsing and validating a module's manifest ----------===//
//
// The manifest is the whole contract between a compiled module and the
// runtime besides the kernel ABI, so it is checked strictly: a module that
// passes validation cannot make the runtime index out of bounds.
//
//===----------------------------------------------------------------------===//

#include "dpc/runtime.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <map>
#include <set>

using namespace dpc;
using nlohmann::json;

namespace {

/// Reads typed fields and names the offending field ("parameters[0].shape")
/// in every error.
class FieldReader {
public:
  explicit FieldReader(const std::string &where) : where(where) {}

  [[noreturn]] void fail(const std::string &message) const {
    throw Error(where + ": manifest: " + message);
  }
  [[noreturn]] void failField(const std::string &path,
                              const std::string &what) const {
    fail("'" + path + "' " + what);
  }

  const json &required(const json &obj, const std::string &key,
                       const std::string &prefix) const {
    auto it = obj.find(key);
    if (it == obj.end())
      failField(join(prefix, key), "is missing");
    return *it;
  }
  /// Null when the key is absent or explicitly null.
  const json *optional(const json &obj, const std::string &key) const {
    auto it = obj.find(key);
    return it == obj.end() || it->is_null() ? nullptr : &*it;
  }

  int64_t integer(const json &value, const std::string &path) const {
    if (!value.is_number_integer())
      failField(path, "must be an integer");
    return value.get<int64_t>();
  }
  int64_t nonNegative(const json &value, const std::string &path) const {
    int64_t v = integer(value, path);
    if (v < 0)
      failField(path, "must not be negative (is " + std::to_string(v) + ")");
    return v;
  }
  double number(const json &value, const std::string &path) const {
    if (!value.is_number())
      failField(path, "must be a number");
    return value.get<double>();
  }
  std::string string(const json &value, const std::string &path) const {
    if (!value.is_string())
      failField(path, "must be a string");
    return value.get<std::string>();
  }
  bool boolean(const json &value, const std::string &path) const {
    if (!value.is_boolean())
      failField(path, "must be true or false");
    return value.get<bool>();
  }
  const json &array(const json &value, const std::string &path) const {
    if (!value.is_array())
      failField(path, "must be an array");
    return value;
  }
  const json &object(const json &value, const std::string &path) const {
    if (!value.is_object())
      failField(path, "must be an object");
    return value;
  }

  std::vector<int64_t> shape(const json &value, const std::string &path) const {
    if (!value.is_array())
      failField(path, "must be an array of non-negative integers");
    std::vector<int64_t> dims;
    // Bound the element count so that byte sizes cannot overflow int64.
    constexpr int64_t kMaxElements = int64_t(1) << 56;
    int64_t count = 1;
    for (const json &d : value) {
      if (!d.is_number_integer() || d.get<int64_t>() < 0)
        failField(path, "must be an array of non-negative integers");
      dims.push_back(d.get<int64_t>());
      if (dims.back() != 0 && count > kMaxElements / dims.back())
        failField(path, "has too many elements");
      count *= dims.back();
    }
    return dims;
  }

  /// `allowBool`: bool tensors are buffers only (constants of the step:
  /// a causal mask), never inputs, labels or trained state.
  void tensor(const json &value, const std::string &path, TensorSpec &spec,
              bool allowBool = false) const {
    object(value, path);
    spec.name = string(required(value, "name", path), path + ".name");
    if (spec.name.empty())
      failField(path + ".name", "must not be empty");
    std::string dtype = string(required(value, "dtype", path), path + ".dtype");
    std::optional<DType> parsed = parseDType(dtype);
    if (!parsed || (*parsed == DType::Bool && !allowBool))
      failField(path + ".dtype", "is '" + dtype + "'; expected f32, f64" +
                                     (allowBool ? ", i64 or bool" : " or i64"));
    spec.dtype = *parsed;
    spec.shape = shape(required(value, "shape", path), path + ".shape");
    spec.slot = integer(required(value, "slot", path), path + ".slot");
  }

  /// A loss's optional "dtype": f32 (the default) or f64.
  DType lossDType(const json &loss, const std::string &path) const {
    const json *value = optional(loss, "dtype");
    if (!value)
      return DType::F32;
    std::string dtype = string(*value, path + ".dtype");
    if (dtype != "f32" && dtype != "f64")
      failField(path + ".dtype", "is '" + dtype + "'; expected f32 or f64");
    return dtype == "f64" ? DType::F64 : DType::F32;
  }

  static std::string join(const std::string &prefix, const std::string &key) {
    return prefix.empty() ? key : prefix + "." + key;
  }
  static std::string at(const std::string &name, size_t i) {
    return name + "[" + std::to_string(i) + "]";
  }

private:
  std::string where;
};

void parseOptimizer(const FieldReader &r, const json &value,
                    OptimizerSpec &opt) {
  r.object(value, "optimizer");
  opt.kind = r.string(r.required(value, "kind", "optimizer"), "optimizer.kind");
  if (opt.kind != "sgd" && opt.kind != "adam" && opt.kind != "adamw")
    r.failField("optimizer.kind",
                "is '" + opt.kind + "'; expected sgd, adam or adamw");
  opt.lr = r.number(r.required(value, "lr", "optimizer"), "optimizer.lr");
  if (const json *v = r.optional(value, "momentum"))
    opt.momentum = r.number(*v, "optimizer.momentum");
  if (const json *v = r.optional(value, "dampening"))
    opt.dampening = r.number(*v, "optimizer.dampening");
  if (const json *v = r.optional(value, "weight_decay"))
    opt.weightDecay = r.number(*v, "optimizer.weight_decay");
  if (const json *v = r.optional(value, "nesterov"))
    opt.nesterov = r.boolean(*v, "optimizer.nesterov");
  if (const json *v = r.optional(value, "betas")) {
    if (!v->is_array() || v->size() != 2 || !(*v)[0].is_number() ||
        !(*v)[1].is_number())
      r.failField("optimizer.betas", "must be an array of two numbers");
    opt.beta1 = (*v)[0].get<double>();
    opt.beta2 = (*v)[1].get<double>();
  }
  if (const json *v = r.optional(value, "eps"))
    opt.eps = r.number(*v, "optimizer.eps");
  if (const json *v = r.optional(value, "momentum_at_run_time"))
    opt.momentumAtRunTime = r.boolean(*v, "optimizer.momentum_at_run_time");
}

std::vector<WeightSpec> parseWeights(const FieldReader &r, const json &root,
                                     const std::string &key, bool required,
                                     bool external) {
  std::vector<WeightSpec> specs;
  const json *value =
      required ? &r.required(root, key, "") : r.optional(root, key);
  if (!value)
    return specs;
  r.array(*value, key);
  for (size_t i = 0; i < value->size(); ++i) {
    std::string path = FieldReader::at(key, i);
    WeightSpec spec;
    r.tensor((*value)[i], path, spec, /*allowBool=*/key == "buffers");
    if (!external)
      spec.weightsOffset =
          r.nonNegative(r.required((*value)[i], "weights_offset", path),
                        path + ".weights_offset");
    if (const json *aliases = r.optional((*value)[i], "aliases")) {
      r.array(*aliases, path + ".aliases");
      for (size_t j = 0; j < aliases->size(); ++j) {
        std::string aliasPath = FieldReader::at(path + ".aliases", j);
        spec.aliases.push_back(r.string((*aliases)[j], aliasPath));
        if (spec.aliases.back().empty())
          r.failField(aliasPath, "must not be empty");
      }
    }
    specs.push_back(std::move(spec));
  }
  return specs;
}

/// Every slot in [0, num_slots) must be used exactly once.
void checkSlots(const FieldReader &r, const Manifest &m) {
  std::map<int64_t, std::string> users;
  auto use = [&](int64_t slot, const std::string &what) {
    if (slot < 0 || slot >= m.numSlots)
      r.fail("slot " + std::to_string(slot) + " of " + what +
             " is outside [0, num_slots=" + std::to_string(m.numSlots) + ")");
    auto [it, inserted] = users.emplace(slot, what);
    if (!inserted)
      r.fail("slot " + std::to_string(slot) + " is used by both " + it->second +
             " and " + what);
  };
  for (const TensorSpec &s : m.inputs)
    use(s.slot, "input '" + s.name + "'");
  if (m.label)
    use(m.label->slot, "label '" + m.label->name + "'");
  use(m.loss.slot, "the loss");
  for (const WeightSpec &s : m.parameters)
    use(s.slot, "parameter '" + s.name + "'");
  for (const WeightSpec &s : m.buffers)
    use(s.slot, "buffer '" + s.name + "'");
  for (const OptimizerStateSpec &s : m.optimizerState)
    use(s.slot, "optimizer state '" + s.name + "'");
  use(m.arenaSlot, "the arena");
  for (int64_t slot = 0; slot < m.numSlots; ++slot)
    if (!users.count(slot))
      r.fail("slot " + std::to_string(slot) + " is not used by any tensor");
}

void checkNames(const FieldReader &r, const Manifest &m) {
  std::set<std::string> data;
  for (const TensorSpec &s : m.inputs)
    if (!data.insert(s.name).second)
      r.fail("input name '" + s.name + "' appears twice");
  if (m.label && !data.insert(m.label->name).second)
    r.fail("label name '" + m.label->name + "' is also an input name");

  std::set<std::string> stateDict;
  for (const auto *list : {&m.parameters, &m.buffers})
    for (const WeightSpec &s : *list)
      if (!stateDict.insert(s.name).second)
        r.fail("parameter/buffer name '" + s.name + "' appears twice");
  std::set<std::string> parameters;
  for (const WeightSpec &s : m.parameters)
    parameters.insert(s.name);

  std::set<std::string> state;
  for (const OptimizerStateSpec &s : m.optimizerState) {
    if (!state.insert(s.name).second)
      r.fail("optimizer state name '" + s.name + "' appears twice");
    // "optimizer.step" is the step counter's checkpoint key.
    if (s.name == "step")
      r.fail("optimizer state may not be named 'step'");
    if (!parameters.count(s.parameter))
      r.fail("optimizer state '" + s.name + "' refers to unknown parameter '" +
             s.parameter + "'");
  }
  std::set<std::string> grouped;
  for (const ParamGroupSpec &g : m.paramGroups)
    for (const std::string &p : g.parameters) {
      if (!parameters.count(p))
        r.fail("parameter group " + std::to_string(g.index) +
               " refers to unknown parameter '" + p + "'");
      if (!grouped.insert(p).second)
        r.fail("parameter '" + p + "' is in two parameter groups");
    }
  for (const BucketSpec &b : m.buckets)
    for (const std::string &p : b.parameters)
      if (!parameters.count(p))
        r.fail("bucket " + std::to_string(b.index) +
               " refers to unknown parameter '" + p + "'");
}

void checkLoss(const FieldReader &r, const Manifest &m) {
  const std::string &kind = m.loss.kind;
  if (kind != "cross_entropy" && kind != "mse" && kind != "none")
    r.failField("loss.kind",
                "is '" + kind + "'; expected cross_entropy, mse or none");
  if (kind == "none")
    return;
  if (!m.label)
    r.fail("loss '" + kind + "' needs a label, but the manifest has none");
  DType want = kind == "cross_entropy" ? DType::I64 : m.loss.dtype;
  if (m.label->dtype != want)
    r.fail("loss '" + kind + "' needs a label of dtype " + dtypeName(want) +
           ", but label '" + m.label->name + "' is " +
           dtypeName(m.label->dtype));
}

/// With gradient accumulation every input and label holds `accumulate`
/// micro-batches along dimension 0.
void checkAccumulate(const FieldReader &r, const Manifest &m) {
  if (m.accumulate == 1)
    return;
  auto check = [&](const TensorSpec &s, const std::string &what) {
    if (s.shape.empty() || s.shape[0] % m.accumulate != 0)
      r.fail(what + " '" + s.name + "' " + formatShape(s.shape) +
             " does not hold accumulate=" + std::to_string(m.accumulate) +
             " micro-batches along dimension 0");
  };
  for (const TensorSpec &s : m.inputs)
    check(s, "input");
  if (m.label)
    check(*m.label, "label");
}

/// The "eval" object: its slots in [0, eval.num_slots) used once each, its
/// inputs and label those of the training step (by name and dtype), and
/// every tensor it reads a parameter or buffer of the training step.
EvalSpec parseEval(const FieldReader &r, const json &value, const Manifest &m) {
  r.object(value, "eval");
  EvalSpec e;
  const json &inputs =
      r.array(r.required(value, "inputs", "eval"), "eval.inputs");
  for (size_t i = 0; i < inputs.size(); ++i) {
    TensorSpec spec;
    r.tensor(inputs[i], FieldReader::at("eval.inputs", i), spec);
    e.inputs.push_back(std::move(spec));
  }
  if (const json *v = r.optional(value, "label")) {
    e.label.emplace();
    r.tensor(*v, "eval.label", *e.label);
  }
  std::set<std::string> stateDict;
  for (const auto *list : {&m.parameters, &m.buffers})
    for (const WeightSpec &s : *list)
      stateDict.insert(s.name);
  for (const char *key : {"parameters", "buffers"}) {
    std::string listPath = std::string("eval.") + key;
    const json *list = r.optional(value, key);
    if (!list)
      continue;
    r.array(*list, listPath);
    for (size_t i = 0; i < list->size(); ++i) {
      std::string path = FieldReader::at(listPath, i);
      const json &entry = r.object((*list)[i], path);
      std::string name =
          r.string(r.required(entry, "name", path), path + ".name");
      if (!stateDict.count(name))
        r.failField(path + ".name",
                    "is '" + name + "', not a parameter or buffer");
      e.tensors.emplace_back(
          name, r.integer(r.required(entry, "slot", path), path + ".slot"));
    }
  }
  const json &loss = r.object(r.required(value, "loss", "eval"), "eval.loss");
  e.lossSlot =
      r.integer(r.required(loss, "slot", "eval.loss"), "eval.loss.slot");
  e.lossDType = r.lossDType(loss, "eval.loss");
  const json &outputs =
      r.array(r.required(value, "outputs", "eval"), "eval.outputs");
  for (size_t i = 0; i < outputs.size(); ++i) {
    TensorSpec spec;
    r.tensor(outputs[i], FieldReader::at("eval.outputs", i), spec);
    e.outputs.push_back(std::move(spec));
  }
  const json &arena =
      r.object(r.required(value, "arena", "eval"), "eval.arena");
  e.arenaBytes = r.nonNegative(r.required(arena, "bytes", "eval.arena"),
                               "eval.arena.bytes");
  e.arenaSlot =
      r.integer(r.required(arena, "slot", "eval.arena"), "eval.arena.slot");
  e.numSlots =
      r.nonNegative(r.required(value, "num_slots", "eval"), "eval.num_slots");

  // The batch the evaluation step takes is the training step's, by name and
  // dtype (its shapes are one micro-batch's).
  if (e.inputs.size() != m.inputs.size())
    r.fail("eval has " + std::to_string(e.inputs.size()) +
           " inputs, the training step " + std::to_string(m.inputs.size()));
  for (size_t i = 0; i < e.inputs.size(); ++i)
    if (e.inputs[i].name != m.inputs[i].name ||
        e.inputs[i].dtype != m.inputs[i].dtype)
      r.fail("eval input '" + e.inputs[i].name +
             "' is not the training step's input '" + m.inputs[i].name + "'");
  if (e.label.has_value() != m.label.has_value() ||
      (e.label &&
       (e.label->name != m.label->name || e.label->dtype != m.label->dtype)))
    r.fail("eval's label is not the training step's");

  std::map<int64_t, std::string> users;
  auto use = [&](int64_t slot, const std::string &what) {
    if (slot < 0 || slot >= e.numSlots)
      r.fail("eval slot " + std::to_string(slot) + " of " + what +
             " is outside [0, eval.num_slots=" + std::to_string(e.numSlots) +
             ")");
    auto [it, inserted] = users.emplace(slot, what);
    if (!inserted)
      r.fail("eval slot " + std::to_string(slot) + " is used by both " +
             it->second + " and " + what);
  };
  for (const TensorSpec &s : e.inputs)
    use(s.slot, "input '" + s.name + "'");
  if (e.label)
    use(e.label->slot, "label '" + e.label->name + "'");
  for (const auto &[name, slot] : e.tensors)
    use(slot, "'" + name + "'");
  use(e.lossSlot, "the loss");
  for (const TensorSpec &s : e.outputs)
    use(s.slot, "output '" + s.name + "'");
  use(e.arenaSlot, "the arena");
  for (int64_t slot = 0; slot < e.numSlots; ++slot)
    if (!users.count(slot))
      r.fail("eval slot " + std::to_string(slot) +
             " is not used by any tensor");
  return e;
}

} // namespace

Manifest Manifest::parse(const std::string &text, const std::string &where) {
  FieldReader r(where);
  json root;
  try {
    root = json::parse(text);
  } catch (const json::exception &e) {
    // A parse error, or a number too large for a double ("1E400":
    // out_of_range.406), found by fuzzing (test/Fuzz/corpus/manifest).
    std::string what = e.what();
    // Drop nlohmann's "[json.exception.parse_error.101] " tag.
    if (size_t close = what.find("] "); close != std::string::npos)
      what = what.substr(close + 2);
    throw Error(where + ": manifest is not valid JSON: " + what);
  }
  if (!root.is_object())
    r.fail("the top level must be a JSON object");

  Manifest m;
  // The version comes first: other fields may mean something else in
  // another version.
  m.abiVersion = r.integer(r.required(root, "abi_version", ""), "abi_version");
  if (m.abiVersion != DPC_ABI_VERSION)
    throw Error(where + " was built for dpc ABI " +
                std::to_string(m.abiVersion) + ", this runtime speaks " +
                std::to_string(DPC_ABI_VERSION));

  if (const json *v = r.optional(root, "producer"))
    m.producer = r.string(*v, "producer");
  m.mode = r.string(r.required(root, "mode", ""), "mode");
  if (m.mode != "ddp" && m.mode != "dp")
    r.failField("mode", "is '" + m.mode + "'; expected ddp or dp");
  m.worldSize = r.integer(r.required(root, "world_size", ""), "world_size");
  if (m.worldSize < 1)
    r.failField("world_size", "must be at least 1");
  if (m.mode == "dp") {
    if (m.worldSize != 1)
      r.failField("world_size", "must be 1 in mode dp (one process)");
    m.devices = r.integer(r.required(root, "devices", ""), "devices");
    if (m.devices < 1)
      r.failField("devices", "must be at least 1");
    m.replicas = r.integer(r.required(root, "replicas", ""), "replicas");
    if (m.replicas < 1 || m.replicas > m.devices)
      r.failField("replicas", "must be between 1 and devices (" +
                                  std::to_string(m.devices) + ")");
  }

  const json &inputs = r.array(r.required(root, "inputs", ""), "inputs");
  for (size_t i = 0; i < inputs.size(); ++i) {
    TensorSpec spec;
    r.tensor(inputs[i], FieldReader::at("inputs", i), spec);
    m.inputs.push_back(std::move(spec));
  }
  if (const json *v = r.optional(root, "label")) {
    m.label.emplace();
    r.tensor(*v, "label", *m.label);
  }

  const json &loss = r.object(r.required(root, "loss", ""), "loss");
  m.loss.kind = r.string(r.required(loss, "kind", "loss"), "loss.kind");
  m.loss.slot = r.integer(r.required(loss, "slot", "loss"), "loss.slot");
  m.loss.dtype = r.lossDType(loss, "loss");

  parseOptimizer(r, r.required(root, "optimizer", ""), m.optimizer);
  if (const json *groups = r.optional(root, "param_groups")) {
    r.array(*groups, "param_groups");
    for (size_t i = 0; i < groups->size(); ++i) {
      std::string path = FieldReader::at("param_groups", i);
      const json &g = r.object((*groups)[i], path);
      ParamGroupSpec spec;
      spec.index = r.nonNegative(r.required(g, "index", path), path + ".index");
      if (spec.index != static_cast<int64_t>(i))
        r.failField(path + ".index", "must be " + std::to_string(i));
      spec.lr = r.number(r.required(g, "lr", path), path + ".lr");
      if (!(spec.lr >= 0.0) || !std::isfinite(spec.lr))
        r.failField(path + ".lr", "must be a finite non-negative number");
      if (const json *v = r.optional(g, "weight_decay"))
        spec.weightDecay = r.number(*v, path + ".weight_decay");
      if (const json *v = r.optional(g, "pattern"))
        spec.pattern = r.string(*v, path + ".pattern");
      const json &params =
          r.array(r.required(g, "parameters", path), path + ".parameters");
      for (const json &p : params)
        spec.parameters.push_back(r.string(p, path + ".parameters"));
      m.paramGroups.push_back(std::move(spec));
    }
  }
  if (const json *v = r.optional(root, "grad_scaler"); v && !v->is_null()) {
    const json &g = r.object(*v, "grad_scaler");
    GradScalerSpec spec;
    spec.initScale = r.number(r.required(g, "init_scale", "grad_scaler"),
                              "grad_scaler.init_scale");
    spec.growthFactor = r.number(r.required(g, "growth_factor", "grad_scaler"),
                                 "grad_scaler.growth_factor");
    spec.backoffFactor =
        r.number(r.required(g, "backoff_factor", "grad_scaler"),
                 "grad_scaler.backoff_factor");
    spec.growthInterval =
        r.integer(r.required(g, "growth_interval", "grad_scaler"),
                  "grad_scaler.growth_interval");
    if (!(spec.initScale > 0.0) ||
        !std::isfinite(static_cast<float>(spec.initScale)))
      r.failField("grad_scaler.init_scale",
                  "must be positive and finite in float32");
    if (!(spec.growthFactor > 1.0) || !std::isfinite(spec.growthFactor))
      r.failField("grad_scaler.growth_factor", "must be a number above 1");
    if (!(spec.backoffFactor > 0.0 && spec.backoffFactor < 1.0))
      r.failField("grad_scaler.backoff_factor", "must be in (0, 1)");
    if (spec.growthInterval < 1)
      r.failField("grad_scaler.growth_interval", "must be at least 1");
    m.gradScaler = spec;
  }
  if (const json *v = r.optional(root, "accumulate")) {
    m.accumulate = r.integer(*v, "accumulate");
    if (m.accumulate < 1)
      r.failField("accumulate", "must be at least 1");
  }

  if (const json *v = r.optional(root, "weights")) {
    std::string weights = r.string(*v, "weights");
    if (weights != "embedded" && weights != "external")
      r.failField("weights", "must be \"embedded\" or \"external\", not \"" +
                                 weights + "\"");
    m.externalWeights = weights == "external";
  }
  m.parameters =
      parseWeights(r, root, "parameters", /*required=*/true, m.externalWeights);
  m.buffers =
      parseWeights(r, root, "buffers", /*required=*/false, m.externalWeights);

  if (const json *state = r.optional(root, "optimizer_state")) {
    r.array(*state, "optimizer_state");
    for (size_t i = 0; i < state->size(); ++i) {
      std::string path = FieldReader::at("optimizer_state", i);
      OptimizerStateSpec spec;
      r.tensor((*state)[i], path, spec);
      spec.parameter = r.string(r.required((*state)[i], "parameter", path),
                                path + ".parameter");
      m.optimizerState.push_back(std::move(spec));
    }
  }

  if (const json *buckets = r.optional(root, "buckets")) {
    r.array(*buckets, "buckets");
    for (size_t i = 0; i < buckets->size(); ++i) {
      std::string path = FieldReader::at("buckets", i);
      const json &b = r.object((*buckets)[i], path);
      BucketSpec spec;
      spec.index = r.nonNegative(r.required(b, "index", path), path + ".index");
      spec.bytes = r.nonNegative(r.required(b, "bytes", path), path + ".bytes");
      const json &params =
          r.array(r.required(b, "parameters", path), path + ".parameters");
      for (const json &p : params)
        spec.parameters.push_back(r.string(p, path + ".parameters"));
      m.buckets.push_back(std::move(spec));
    }
  }

  const json &arena = r.object(r.required(root, "arena", ""), "arena");
  m.arenaBytes =
      r.nonNegative(r.required(arena, "bytes", "arena"), "arena.bytes");
  m.arenaSlot = r.integer(r.required(arena, "slot", "arena"), "arena.slot");
  m.numSlots = r.nonNegative(r.required(root, "num_slots", ""), "num_slots");
  if (const json *v = r.optional(root, "weights_bytes"))
    m.weightsBytes = r.nonNegative(*v, "weights_bytes");
  // Informational (trace event names): tolerate what is not understood.
  if (const json *v = r.optional(root, "schedule"); v && v->is_array())
    for (const json &entry : *v) {
      std::string name =
          entry.is_object() && entry.contains("op") && entry["op"].is_string()
              ? entry["op"].get<std::string>()
              : "op";
      if (entry.is_object() && entry.contains("bucket") &&
          entry["bucket"].is_number_integer())
        name += " bucket " + std::to_string(entry["bucket"].get<int64_t>());
      else if (entry.is_object() && entry.contains("loc") &&
               entry["loc"].is_string() &&
               !entry["loc"].get<std::string>().empty())
        name += " " + entry["loc"].get<std::string>();
      m.schedule.push_back(std::move(name));
    }

  checkLoss(r, m);
  checkAccumulate(r, m);
  checkSlots(r, m);
  checkNames(r, m);
  if (const json *v = r.optional(root, "eval"))
    m.eval = parseEval(r, *v, m);
  if (m.weightsBytes && !m.externalWeights)
    for (const auto *list : {&m.parameters, &m.buffers})
      for (const WeightSpec &s : *list)
        if (s.weightsOffset > *m.weightsBytes ||
            s.numBytes() > *m.weightsBytes - s.weightsOffset)
          r.fail("the initial value of '" + s.name + "' (offset " +
                 std::to_string(s.weightsOffset) + ", " +
                 std::to_string(s.numBytes()) +
                 " bytes) lies outside the weights (" +
                 std::to_string(*m.weightsBytes) + " bytes)");
  return m;
}
