//===- dpc-opt.cpp - Run dpc's passes on MLIR files -----------------------===//
//
// mlir-opt with dpc's dialects and passes, so that every pass can be run and
// tested alone: `dpc-opt --dpc-autodiff in.mlir`, and with dpc's pipeline,
// so that `dpc-opt --dpc-training-pipeline="..."` on the imported module
// (`dpc --emit=import`) does what dpc does.
//
//===----------------------------------------------------------------------===//

#include "compiler/Conversion/Passes.h"
#include "compiler/Pipeline/Pipeline.h"
#include "compiler/Transforms/Passes.h"
#include "dialects/DP/IR/DPDialect.h"
#include "dialects/NN/IR/NNDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char **argv) {
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
