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
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/Signals.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Host.h"

#include <cstring>

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
  new llvm::GlobalVariable(
      *llvmModule, manifest->getType(), /*isConstant=*/true,
      llvm::GlobalValue::ExternalLinkage, manifest, DPC_MODEL_MANIFEST_SYMBOL);

  // The runtime compares it with the manifest it finds at load.
  uint64_t manifestHash =
      dpc_checksum(manifestJson.data(), manifestJson.size());
  new llvm::GlobalVariable(
      *llvmModule, llvm::Type::getInt64Ty(llvmContext), /*isConstant=*/true,
      llvm::GlobalValue::ExternalLinkage,
      llvm::ConstantInt::get(llvm::Type::getInt64Ty(llvmContext), manifestHash),
      DPC_MODEL_MANIFEST_HASH_SYMBOL);

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

/// Removes a temporary file when it goes out of scope, unless kept, and
/// when a signal (Ctrl-C) ends dpc meanwhile.
struct TempFile {
  llvm::SmallString<128> path;
  void track() { llvm::sys::RemoveFileOnSignal(path); }
  void keep() {
    llvm::sys::DontRemoveFileOnSignal(path);
    path.clear();
  }
  ~TempFile() {
    if (path.empty())
      return;
    llvm::sys::fs::remove(path);
    llvm::sys::DontRemoveFileOnSignal(path);
  }
};

/// What a file that is not a regular one is, for error messages.
static const char *describeFileType(llvm::sys::fs::file_type type) {
  using llvm::sys::fs::file_type;
  switch (type) {
  case file_type::directory_file:
    return "a directory";
  case file_type::symlink_file:
    return "a symbolic link";
  case file_type::block_file:
    return "a block device";
  case file_type::character_file:
    return "a character device";
  case file_type::fifo_file:
    return "a FIFO";
  case file_type::socket_file:
    return "a socket";
  default:
    return "not a regular file";
  }
}

/// Refuses an existing `outputPath` that is not a regular file.
static llvm::Error checkReplaceable(llvm::StringRef outputPath) {
  llvm::sys::fs::file_status status;
  if (llvm::sys::fs::status(outputPath, status, /*Follow=*/false))
    return llvm::Error::success(); // does not exist (yet)
  if (status.type() == llvm::sys::fs::file_type::regular_file)
    return llvm::Error::success();
  return llvm::createStringError("refusing to write '" + outputPath.str() +
                                 "': it is " + describeFileType(status.type()) +
                                 ", which would be replaced by a regular file");
}

llvm::Error dpc::checkOutputFile(llvm::StringRef outputPath,
                                 llvm::ArrayRef<std::string> inputs) {
  if (llvm::Error err = checkReplaceable(outputPath))
    return err;
  for (const std::string &input : inputs) {
    bool same = false;
    if (!llvm::sys::fs::equivalent(input, outputPath, same) && same)
      return llvm::createStringError("refusing to write '" + outputPath.str() +
                                     "': it is the input '" + input + "'");
  }
  // Whether the directory takes a new file (permissions alone do not say:
  // root ignores them, a read-only file system does not).
  llvm::SmallString<128> probe;
  if (std::error_code ec =
          llvm::sys::fs::createUniqueFile(outputPath + ".tmp-%%%%%%", probe))
    return llvm::createStringError("cannot write '" + outputPath.str() +
                                   "': " + ec.message());
  llvm::sys::fs::remove(probe);
  return llvm::Error::success();
}

/// Appends the trailer of abi.h (magic, image size, checksum) to `path`.
static llvm::Error appendChecksumTrailer(llvm::StringRef path) {
  auto image = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                           /*RequiresNullTerminator=*/false);
  if (!image)
    return llvm::createStringError("cannot read back '" + path.str() +
                                   "': " + image.getError().message());
  uint64_t size = (*image)->getBufferSize();
  uint64_t checksum = dpc_checksum((*image)->getBufferStart(), size);
  char trailer[DPC_MODULE_TRAILER_BYTES] = {};
  std::memcpy(trailer, DPC_MODULE_TRAILER_MAGIC, 8);
  for (int i = 0; i < 8; ++i) {
    trailer[8 + i] = static_cast<char>(size >> (8 * i));
    trailer[16 + i] = static_cast<char>(checksum >> (8 * i));
  }
  std::error_code ec;
  llvm::raw_fd_ostream out(path, ec, llvm::sys::fs::OF_Append);
  if (!ec) {
    out.write(trailer, sizeof(trailer));
    out.close();
    ec = out.error();
  }
  if (ec)
    return llvm::createStringError("cannot write '" + path.str() +
                                   "': " + ec.message());
  return llvm::Error::success();
}

llvm::Error dpc::emitSharedLibrary(llvm::Module &llvmModule,
                                   llvm::StringRef outputPath) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  std::string triple = llvm::sys::getDefaultTargetTriple();
  std::string error;
  const llvm::Target *target =
      llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return llvm::createStringError("no code generator for " + triple + ": " +
                                   error);
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
  object.track();
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
  if (std::error_code ec =
          llvm::sys::fs::createUniqueFile(model + ".tmp-%%%%%%", library.path))
    return llvm::createStringError("cannot write '" + outputPath.str() +
                                   "': " + ec.message());
  library.track();
  std::string message;
  llvm::SmallVector<llvm::StringRef> args = {*linker, "-shared", "-o",
                                             library.path, object.path};
  int status = llvm::sys::ExecuteAndWait(*linker, args, std::nullopt, {}, 0, 0,
                                         &message);
  if (status != 0)
    return llvm::createStringError("linking '" + outputPath.str() + "' failed" +
                                   (message.empty() ? "" : ": " + message));
  if (llvm::Error err = appendChecksumTrailer(library.path))
    return err;
  // Again right before the rename: the check before the compilation may be
  // long ago.
  if (llvm::Error err = checkReplaceable(outputPath))
    return err;
  if (std::error_code ec = llvm::sys::fs::rename(library.path, outputPath))
    return llvm::createStringError("cannot write '" + outputPath.str() +
                                   "': " + ec.message());
  library.keep();
  return llvm::Error::success();
}
