//===- Schedule.cpp - The compiled order of compute and communication -----===//

#include "compiler/Codegen/Schedule.h"

#include "compiler/TrainStep/StepLayout.h"
#include "compiler/TrainStep/TrainStep.h"
#include "dialects/DP/IR/DPDialect.h"

#include "llvm/Support/Format.h"

using namespace mlir;
using namespace dpc;

namespace {

std::string locString(Location loc) {
  if (auto name = dyn_cast<NameLoc>(loc))
    loc = name.getChildLoc();
  if (auto file = dyn_cast<FileLineColLoc>(loc)) {
    StringRef path = file.getFilename().getValue();
    return (path.rsplit('/').second.empty() ? path : path.rsplit('/').second)
               .str() +
           ":" + std::to_string(file.getLine());
  }
  return "";
}

/// "fc1.weight, fc1.bias": the parameters whose gradients a bucket carries.
std::string bucketParameters(func::FuncOp func, dp::AllReduceStartOp start) {
  std::string names;
  for (Operation *wait : start.getToken().getUsers())
    for (Value averaged : wait->getResults())
      for (Operation *use : averaged.getUsers())
        for (Value operand : use->getOperands())
          if (auto arg = dyn_cast<BlockArgument>(operand))
            if (getArgKind(func, arg.getArgNumber()) == kind::kParameter &&
                use->getNumResults() > 0) {
              if (!names.empty())
                names += ", ";
              names += getArgName(func, arg.getArgNumber()).str();
              break;
            }
  return names;
}

std::string typeString(Operation *op) {
  if (op->getNumResults() == 0)
    return "";
  std::string s;
  llvm::raw_string_ostream os(s);
  os << op->getResult(0).getType();
  return s;
}

} // namespace

StringRef dpc::getBucketCommDType(Operation *allReduceStart) {
  std::optional<Type> compress =
      cast<dp::AllReduceStartOp>(allReduceStart).getCompress();
  if (!compress)
    return "f32";
  return compress->isBF16() ? "bf16" : "f16";
}

int64_t dpc::getBucketBytes(Operation *allReduceStart) {
  auto start = cast<dp::AllReduceStartOp>(allReduceStart);
  int64_t bytes = 0;
  for (Value input : start.getInputs())
    bytes += getTensorBytes(input.getType());
  // The gradients are f32; a compressed bucket travels in 16 bits.
  return start.getCompress() ? bytes / 2 : bytes;
}

llvm::json::Array dpc::buildScheduleJson(func::FuncOp func) {
  llvm::json::Array schedule;
  for (Operation &op : getScheduledOps(func)) {
    llvm::json::Object entry{{"op", op.getName().getStringRef()},
                             {"loc", locString(op.getLoc())}};
    if (auto start = dyn_cast<dp::AllReduceStartOp>(op)) {
      entry["bucket"] = start.getBucket();
      entry["bytes"] = getBucketBytes(start);
      entry["comm_dtype"] = getBucketCommDType(start);
    } else if (auto wait = dyn_cast<dp::WaitOp>(op)) {
      entry["bucket"] = wait.getStartOp().getBucket();
    }
    schedule.push_back(std::move(entry));
  }
  return schedule;
}

void dpc::printSchedule(func::FuncOp func, llvm::raw_ostream &os) {
  int64_t numOps = 0, numBuckets = 0, bucketTotal = 0;
  for (Operation &op : getScheduledOps(func)) {
    ++numOps;
    if (auto start = dyn_cast<dp::AllReduceStartOp>(op)) {
      ++numBuckets;
      bucketTotal += getBucketBytes(start);
    }
  }
  os << "schedule of @" << func.getSymName() << ": " << numOps << " ops, "
     << numBuckets << " bucket(s), " << bucketTotal
     << " bytes all-reduced per step\n";
  os << llvm::format("%-5s %-58s | %s\n", static_cast<const char *>("#"),
                     static_cast<const char *>("compute stream"),
                     static_cast<const char *>("communication stream"));
  int64_t index = 0;
  for (Operation &op : getScheduledOps(func)) {
    std::string compute = op.getName().getStringRef().str();
    std::string comm;
    if (auto start = dyn_cast<dp::AllReduceStartOp>(op)) {
      compute += " bucket " + std::to_string(start.getBucket());
      comm = "all-reduce bucket " + std::to_string(start.getBucket()) + " (" +
             std::to_string(getBucketBytes(start)) + " B";
      if (start.getCompress())
        comm += " in " + getBucketCommDType(start).str();
      comm += ": " + bucketParameters(func, start) + ")";
    } else if (auto wait = dyn_cast<dp::WaitOp>(op)) {
      compute += " bucket " + std::to_string(wait.getStartOp().getBucket());
      comm = "  <- compute waits for bucket " +
             std::to_string(wait.getStartOp().getBucket());
    } else {
      compute += " " + typeString(&op);
      std::string where = locString(op.getLoc());
      if (!where.empty())
        compute += "  " + where;
    }
    os << llvm::format("%-5lld %-58s | %s\n", static_cast<long long>(index++),
                       compute.c_str(), comm.c_str());
  }
}
