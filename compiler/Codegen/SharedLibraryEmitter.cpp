//===- SharedLibraryEmitter.cpp - model.so from the lowered module --------===//

#include "compiler/Codegen/SharedLibraryEmitter.h"

#include "runtime/include/dpc/abi.h"

#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/GlobalVariable.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Host.h"

using namespace mlir;

std::unique_ptr<llvm::Module>
dpc::translateToLLVMIR(ModuleOp module, llvm::LLVMContext &llvmContext,
                       llvm::StringRef manifestJson, llvm::StringRef weights) {
  registerBuiltinDialectTranslation(*module.getContext());
  registerLLVMDialectTranslation(*module.getContext());
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, llvmContext, "dpc_model");
  if (!llvmModule) {
    module.emitError("failed to translate the training step to LLVM IR");
    return nullptr;
  }

  auto *manifest = llvm::ConstantDataArray::getString(llvmContext, manifestJson,
                                                      /*AddNull=*/true);
  new llvm::GlobalVariable(*llvmModule, manifest->getType(), /*isConstant=*/true,
                           llvm::GlobalValue::ExternalLinkage, manifest,
                           DPC_MODEL_MANIFEST_SYMBOL);

  // At least one byte, so that a model without weights still exports the
  // symbol.
  std::string blob = weights.empty() ? std::string(1, '\0') : weights.str();
  auto *data = llvm::ConstantDataArray::getRaw(
      blob, blob.size(), llvm::Type::getInt8Ty(llvmContext));
  auto *global = new llvm::GlobalVariable(
      *llvmModule, data->getType(), /*isConstant=*/true,
      llvm::GlobalValue::ExternalLinkage, data, DPC_MODEL_WEIGHTS_SYMBOL);
  global->setAlignment(llvm::Align(64));
  return llvmModule;
}

/// Removes a temporary file when it goes out of scope, unless kept.
struct TempFile {
  llvm::SmallString<128> path;
  ~TempFile() {
    if (!path.empty())
      llvm::sys::fs::remove(path);
  }
};

llvm::Error dpc::emitSharedLibrary(llvm::Module &llvmModule,
                                   llvm::StringRef outputPath) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  std::string triple = llvm::sys::getDefaultTargetTriple();
  std::string error;
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return llvm::createStringError("no code generator for " + triple + ": " + error);
  std::unique_ptr<llvm::TargetMachine> machine(target->createTargetMachine(
      triple, "generic", "", llvm::TargetOptions(), llvm::Reloc::PIC_));
  llvmModule.setDataLayout(machine->createDataLayout());
  llvmModule.setTargetTriple(triple);

  TempFile object;
  int fd;
  if (std::error_code ec =
          llvm::sys::fs::createTemporaryFile("dpc-model", "o", fd, object.path))
    return llvm::createStringError("cannot create a temporary object file: " +
                                   ec.message());
  {
    llvm::raw_fd_ostream out(fd, /*shouldClose=*/true);
    llvm::legacy::PassManager passes;
    if (machine->addPassesToEmitFile(passes, out, nullptr,
                                     llvm::CodeGenFileType::ObjectFile))
      return llvm::createStringError("the target cannot emit object files");
    passes.run(llvmModule);
    out.flush();
    if (out.has_error())
      return llvm::createStringError("cannot write the object file: " +
                                     out.error().message());
  }

  // Link next to the output, then rename: a reader never sees a partial file.
  auto linker = llvm::sys::findProgramByName("cc");
  if (!linker)
    return llvm::createStringError("cannot find the C compiler driver 'cc' "
                                   "to link the shared library");
  TempFile library;
  llvm::SmallString<128> model(outputPath);
  if (std::error_code ec = llvm::sys::fs::createUniqueFile(
          model + ".tmp-%%%%%%", library.path))
    return llvm::createStringError("cannot write '" + outputPath.str() +
                                   "': " + ec.message());
  std::string message;
  llvm::SmallVector<llvm::StringRef> args = {*linker, "-shared", "-o",
                                             library.path, object.path};
  int status = llvm::sys::ExecuteAndWait(*linker, args, std::nullopt, {}, 0, 0,
                                         &message);
  if (status != 0)
    return llvm::createStringError("linking '" + outputPath.str() + "' failed" +
                                   (message.empty() ? "" : ": " + message));
  if (std::error_code ec = llvm::sys::fs::rename(library.path, outputPath))
    return llvm::createStringError("cannot write '" + outputPath.str() +
                                   "': " + ec.message());
  library.path.clear();
  return llvm::Error::success();
}
