//===- DPDialect.cpp - The dp dialect -------------------------------------===//

#include "dialects/DP/IR/DPDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace dpc::dp;

#include "dialects/DP/IR/DPDialect.cpp.inc"

#define GET_TYPEDEF_CLASSES
#include "dialects/DP/IR/DPTypes.cpp.inc"

void DPDialect::initialize() {
  addTypes<
#define GET_TYPEDEF_LIST
#include "dialects/DP/IR/DPTypes.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "dialects/DP/IR/DPOps.cpp.inc"
      >();
}

LogicalResult DPDialect::verifyOperationAttribute(Operation *op,
                                                  NamedAttribute attr) {
  StringRef name = attr.getName().getValue();
  if (name != kReplicaAttrName && name != kStageAttrName)
    return op->emitError() << "unknown dp attribute '" << name << "'";
  auto value = dyn_cast<IntegerAttr>(attr.getValue());
  if (!value || value.getInt() < 0)
    return op->emitError() << "'" << name << "' must be a non-negative integer";
  return success();
}

std::optional<int64_t> dpc::dp::getReplica(Operation *op) {
  if (auto replica = op->getAttrOfType<IntegerAttr>(kReplicaAttrName))
    return replica.getInt();
  return std::nullopt;
}

void dpc::dp::setReplica(Operation *op, int64_t replica) {
  op->setAttr(
      kReplicaAttrName,
      IntegerAttr::get(IntegerType::get(op->getContext(), 64), replica));
}

SmallVector<int64_t> dpc::dp::getChunkSizes(int64_t batch, int64_t devices) {
  int64_t chunk = (batch + devices - 1) / devices;
  SmallVector<int64_t> sizes;
  for (int64_t begin = 0; begin < batch; begin += chunk)
    sizes.push_back(std::min(chunk, batch - begin));
  return sizes;
}

//===----------------------------------------------------------------------===//
// Collectives
//===----------------------------------------------------------------------===//

LogicalResult AllReduceStartOp::verify() {
  if (getInputs().empty())
    return emitOpError("needs at least one tensor");
  // getBucket() is unsigned (I64Attr); the sign lives in the APInt.
  if (getBucketAttr().getInt() < 0)
    return emitOpError("bucket index must be non-negative");
  if (std::optional<Type> compress = getCompress();
      compress && !compress->isF16() && !compress->isBF16())
    return emitOpError("can compress to f16 or bf16 only, not ") << *compress;
  // One element type per bucket: the runtime all-reduces a bucket as one
  // flat array (allreduce_start or allreduce_start_f64).
  Type element =
      cast<RankedTensorType>(getInputs()[0].getType()).getElementType();
  for (Value input : getInputs())
    if (cast<RankedTensorType>(input.getType()).getElementType() != element)
      return emitOpError("mixes element types in one bucket");
  if (element.isF64() && getCompress())
    return emitOpError("cannot compress a float64 bucket");
  Value token = getToken();
  if (!token.hasOneUse() || !isa<WaitOp>(*token.getUsers().begin()))
    return emitOpError("token must be consumed by exactly one dp.wait");
  return success();
}

AllReduceStartOp WaitOp::getStartOp() {
  return getToken().getDefiningOp<AllReduceStartOp>();
}

LogicalResult WaitOp::verify() {
  AllReduceStartOp start = getStartOp();
  if (!start)
    return emitOpError("token must come from dp.all_reduce_start");
  if (start.getInputs().getTypes() != getResults().getTypes())
    return emitOpError("result types must match the operands of the start op");
  if (start->getBlock() != (*this)->getBlock() ||
      !start->isBeforeInBlock(*this))
    return emitOpError("must follow its start op in the same block");
  return success();
}

//===----------------------------------------------------------------------===//
// Single-process data parallelism
//===----------------------------------------------------------------------===//

namespace {

/// Checks that `chunk` can be rows of `whole`: same element type and rank
/// (at least 1), same dimensions after the first.
LogicalResult verifyChunkOf(Operation *op, RankedTensorType chunk,
                            RankedTensorType whole, StringRef what) {
  if (chunk.getElementType() != whole.getElementType())
    return op->emitOpError() << what << " " << chunk
                             << " has another element type than " << whole;
  if (whole.getRank() == 0 || chunk.getRank() != whole.getRank() ||
      chunk.getShape().drop_front() != whole.getShape().drop_front())
    return op->emitOpError() << what << " " << chunk << " is not a chunk of "
                             << whole << " along dimension 0";
  return success();
}

} // namespace

LogicalResult ScatterOp::verify() {
  auto chunk = cast<RankedTensorType>(getType());
  auto whole = cast<RankedTensorType>(getInput().getType());
  if (failed(verifyChunkOf(*this, chunk, whole, "result")))
    return failure();
  int64_t offset = getOffset();
  if (offset + chunk.getDimSize(0) > whole.getDimSize(0))
    return emitOpError() << "rows [" << offset << ", "
                         << offset + chunk.getDimSize(0) << ") lie outside the "
                         << whole.getDimSize(0) << " rows of the input";
  return success();
}

OpFoldResult ScatterOp::fold(FoldAdaptor) {
  // The whole batch on a single replica.
  if (getOffset() == 0 && getType() == getInput().getType())
    return getInput();
  return {};
}

LogicalResult GatherOp::verify() {
  if (getInputs().empty())
    return emitOpError("needs at least one tensor");
  auto whole = cast<RankedTensorType>(getType());
  int64_t rows = 0;
  for (Value input : getInputs()) {
    auto chunk = cast<RankedTensorType>(input.getType());
    if (failed(verifyChunkOf(*this, chunk, whole, "operand")))
      return failure();
    rows += chunk.getDimSize(0);
  }
  if (rows != whole.getDimSize(0))
    return emitOpError() << "operands have " << rows
                         << " rows in all, the result " << whole.getDimSize(0);
  return success();
}

OpFoldResult GatherOp::fold(FoldAdaptor) {
  if (getInputs().size() == 1)
    return getInputs().front();
  return {};
}

SmallVector<Value> GatherOp::buildVJP(OpBuilder &b, ValueRange resultGrads) {
  // Gather's adjoint is Scatter: replica r gets its rows of the gradient.
  SmallVector<Value> grads;
  int64_t offset = 0;
  for (auto [replica, input] : llvm::enumerate(getInputs())) {
    auto scatter =
        b.create<ScatterOp>(getLoc(), input.getType(), resultGrads[0], offset);
    setReplica(scatter, replica);
    grads.push_back(scatter);
    offset += cast<RankedTensorType>(input.getType()).getDimSize(0);
  }
  return grads;
}

LogicalResult ReplicateOp::verify() {
  if (getResults().empty())
    return emitOpError("needs at least one replica");
  for (Type type : getResultTypes())
    if (type != getInput().getType())
      return emitOpError() << "result " << type << " is not a copy of "
                           << getInput().getType();
  return success();
}

LogicalResult ReplicateOp::fold(FoldAdaptor,
                                SmallVectorImpl<OpFoldResult> &results) {
  if (getNumResults() != 1)
    return failure();
  results.push_back(getInput());
  return success();
}

SmallVector<Value> ReplicateOp::buildVJP(OpBuilder &b, ValueRange resultGrads) {
  // Broadcast's adjoint is ReduceAddCoalesced: sum the replicas' gradients
  // on device 0, in replica order.
  SmallVector<Value> grads;
  for (Value grad : resultGrads)
    if (grad)
      grads.push_back(grad);
  if (grads.size() == 1)
    return {grads.front()};
  return {b.create<ReduceAddOp>(getLoc(), grads.front().getType(), grads)};
}

LogicalResult ReduceAddOp::verify() {
  if (getInputs().empty())
    return emitOpError("needs at least one tensor");
  return success();
}

OpFoldResult ReduceAddOp::fold(FoldAdaptor) {
  if (getInputs().size() == 1)
    return getInputs().front();
  return {};
}

SmallVector<Value> ReduceAddOp::buildVJP(OpBuilder &b, ValueRange resultGrads) {
  // ReduceAddCoalesced's adjoint is Broadcast.
  auto copies = b.create<ReplicateOp>(
      getLoc(), SmallVector<Type>(getInputs().size(), getType()),
      resultGrads[0]);
  return SmallVector<Value>(copies.getResults());
}

//===----------------------------------------------------------------------===//
// Storage aliases (StorageAliasOpInterface)
//===----------------------------------------------------------------------===//

// The averaged gradients are written over the bucket's inputs.
Value WaitOp::getAliasedValue(unsigned resultNumber) {
  return getStartOp().getInputs()[resultNumber];
}

// On the CPU backend a replica's chunk is a view of the batch, and its
// parameters are the originals; only `copies` makes storage of its own.
Value ScatterOp::getAliasedValue(unsigned) { return getInput(); }
bool ScatterOp::isStorageView() { return true; }

Value ReplicateOp::getAliasedValue(unsigned resultNumber) {
  return getCopies() && resultNumber > 0 ? Value() : getInput();
}
bool ReplicateOp::isStorageView() { return true; }

#define GET_OP_CLASSES
#include "dialects/DP/IR/DPOps.cpp.inc"
