//===- ImportArgs.h - Argument readers of the family importers --*- C++ -*-===//
//
// Private to compiler/Import (includes LibTorch through Importer.h): how the
// importers of several op families (Import<Family>Ops.cpp) read a node's
// arguments and name its attributes, written once.
//
//===----------------------------------------------------------------------===//

#ifndef DPC_COMPILER_IMPORT_IMPORTARGS_H
#define DPC_COMPILER_IMPORT_IMPORTARGS_H

#include "compiler/Import/Importer.h"
#include "dialects/NN/IR/NNOps.h"

#include <string>

namespace dpc {

inline mlir::RankedTensorType typeOf(mlir::Value v) {
  return llvm::cast<mlir::RankedTensorType>(v.getType());
}

/// The aten operator of `node`, as diagnostics name it (`aten::add`).
inline std::string opName(jit::Node *node) {
  return node->kind().toQualString();
}

/// A constant int input, read exactly (slice bounds such as INT64_MAX do not
/// survive a trip through double).
inline mlir::FailureOr<int64_t> intArg(Importer &im, jit::Node *node,
                                       size_t input) {
  std::optional<c10::IValue> c = im.constant(node->input(input));
  if (c && c->isInt())
    return c->toInt();
  if (c && c->isBool())
    return static_cast<int64_t>(c->toBool());
  return im.error(node) << "'" << opName(node)
                        << "': expected a constant integer for argument '"
                        << node->input(input)->debugName() << "'",
         mlir::failure();
}

/// Resolves a possibly negative dim of a rank-`rank` tensor; an error when it
/// is out of range.
inline mlir::FailureOr<int64_t> normalizeDim(Importer &im, jit::Node *node,
                                             int64_t dim, int64_t rank) {
  int64_t d = dim < 0 ? dim + rank : dim;
  if (d < 0 || d >= rank)
    return im.error(node) << "'" << opName(node) << "': dim " << dim
                          << " is out of range for a " << rank << "-d tensor",
           mlir::failure();
  return d;
}

inline mlir::FailureOr<int64_t> dimArg(Importer &im, jit::Node *node,
                                       size_t input, int64_t rank) {
  auto d = intArg(im, node, input);
  if (mlir::failed(d))
    return mlir::failure();
  return normalizeDim(im, node, *d, rank);
}

/// A float32 tensor operand, or a float64 one (a model.double() model; the
/// ops without float64 kernels refuse it when they are verified).
inline mlir::FailureOr<mlir::Value>
floatTensorArg(Importer &im, jit::Node *node, size_t input) {
  auto t = im.tensorArg(node, input);
  if (mlir::failed(t))
    return mlir::failure();
  mlir::Type element = typeOf(*t).getElementType();
  if (!element.isF32() && !element.isF64())
    return im.error(node) << "'" << opName(node) << "' needs a float32 "
                          << "tensor, got " << t->getType(),
           mlir::failure();
  return t;
}

inline mlir::NamedAttribute i64Attr(Importer &im, llvm::StringRef name,
                                    int64_t value) {
  mlir::OpBuilder &b = im.getBuilder();
  return b.getNamedAttr(name, b.getI64IntegerAttr(value));
}

/// The `alpha` of add/sub (and of addmm's product) with operand `like`: in
/// its float type (nn::floatAttrFor).
inline mlir::NamedAttribute alphaAttr(mlir::OpBuilder &b, mlir::Value like,
                                      double alpha) {
  return b.getNamedAttr("alpha", nn::floatAttrFor(like.getType(), alpha));
}

} // namespace dpc

#endif // DPC_COMPILER_IMPORT_IMPORTARGS_H
