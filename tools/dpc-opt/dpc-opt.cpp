//===- dpc-opt.cpp - Run dpc's passes on MLIR files -----------------------===//
//
// mlir-opt with dpc's dialects and passes, so that every pass can be run and
// tested alone: `dpc-opt --dpc-autodiff in.mlir`, and with dpc's pipeline,
// so that `dpc-opt --dpc-training-pipeline="..."` on the imported module
// (`dpc --emit=import`) does what dpc does.
//
// `dpc-opt --print-nn-op-records` prints instead a Markdown table of every
// registered nn op: the aten operator and runtime kind its record names
// (the record families, ElementwiseUnaryOpInterface and
// ElementwiseBinaryOpInterface) and whether it has a VJP; docs that list the
// supported ops are generated from it.
//
//===----------------------------------------------------------------------===//

#include "compiler/Conversion/Passes.h"
#include "compiler/Pipeline/Pipeline.h"
#include "compiler/Transforms/Passes.h"
#include "dialects/DP/IR/DPDialect.h"
#include "dialects/NN/IR/NNDialect.h"
#include "dialects/NN/IR/NNOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/raw_ostream.h"

#include <cstring>
#include <vector>

namespace {

const char *unaryKindName(int32_t kind) {
  switch (kind) {
#define DPC_UNARY_KIND(NAME, VALUE)                                            \
  case VALUE:                                                                  \
    return "DPCRT_UNARY_" #NAME;
#include "runtime/include/dpc/unary_kinds.def"
  }
  return "unknown";
}

const char *binaryKindName(int32_t kind) {
  switch (kind) {
#define DPC_BINARY_KIND(NAME, VALUE)                                           \
  case VALUE:                                                                  \
    return "DPCRT_BINARY_" #NAME;
#include "runtime/include/dpc/binary_kinds.def"
  }
  return "unknown";
}

/// One row per registered nn op, in name order.
void printNNOpRecords(llvm::raw_ostream &os) {
  mlir::MLIRContext context;
  context.getOrLoadDialect<dpc::nn::NNDialect>();
  os << "| op | aten | runtime kind | VJP |\n| --- | --- | --- | --- |\n";
  std::vector<mlir::RegisteredOperationName> names;
  for (mlir::RegisteredOperationName name : context.getRegisteredOperations())
    if (name.getDialectNamespace() == "nn")
      names.push_back(name);
  llvm::sort(names, [](mlir::OperationName a, mlir::OperationName b) {
    return a.getStringRef() < b.getStringRef();
  });
  for (mlir::RegisteredOperationName name : names) {
    llvm::StringRef aten = "", kind = "";
    if (auto *unary =
            name.getInterface<dpc::nn::ElementwiseUnaryOpInterface>()) {
      aten = unary->getAtenName();
      kind = unaryKindName(unary->getUnaryKind());
    } else if (auto *binary =
                   name.getInterface<dpc::nn::ElementwiseBinaryOpInterface>()) {
      aten = binary->getAtenName();
      kind = binaryKindName(binary->getBinaryKind());
    }
    auto cell = [&](llvm::StringRef text) {
      if (text.empty())
        os << " - |";
      else
        os << " `" << text << "` |";
    };
    os << "|";
    cell(name.getStringRef());
    cell(aten);
    cell(kind);
    os << (name.hasInterface<dpc::nn::VJPOpInterface>() ? " yes" : " no")
       << " |\n";
  }
}

} // namespace

int main(int argc, char **argv) {
  // A mode of its own, before MlirOptMain, which would expect an input file.
  if (argc == 2 && std::strcmp(argv[1], "--print-nn-op-records") == 0) {
    printNNOpRecords(llvm::outs());
    return 0;
  }
  mlir::DialectRegistry registry;
  registry.insert<dpc::nn::NNDialect, dpc::dp::DPDialect,
                  mlir::func::FuncDialect, mlir::LLVM::LLVMDialect>();
  dpc::registerDPCPasses();
  dpc::registerDPCConversionPasses();
  dpc::registerTrainingPipeline();
  mlir::registerCanonicalizerPass();
  mlir::registerCSEPass();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "dpc optimizer driver\n", registry));
}
