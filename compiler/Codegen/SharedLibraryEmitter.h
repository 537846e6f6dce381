//===- SharedLibraryEmitter.h - model.so from the lowered module -*- C++
//-*-===//
//
// The last step of `dpc`: the training step, already lowered to the LLVM
// dialect, becomes LLVM IR; the manifest and the initial weights are added
// as constant globals (the three symbols of runtime/include/dpc/abi.h); the
// native target emits an object file, and the system compiler driver links
// it into a shared library. The output appears atomically: it is written
// under a temporary name and renamed into place only when complete.
//
//===----------------------------------------------------------------------===//

#ifndef DPC_COMPILER_CODEGEN_SHAREDLIBRARYEMITTER_H
#define DPC_COMPILER_CODEGEN_SHAREDLIBRARYEMITTER_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <memory>
#include <string>

namespace llvm {
class LLVMContext;
class Module;
} // namespace llvm

namespace dpc {

/// Translates `module` (LLVM dialect) to LLVM IR and adds the manifest and
/// weight globals. Returns null after emitting a diagnostic.
std::unique_ptr<llvm::Module> translateToLLVMIR(mlir::ModuleOp module,
                                                llvm::LLVMContext &llvmContext,
                                                llvm::StringRef manifestJson,
                                                llvm::StringRef weights);

/// Checks, before any work, that `outputPath` may be written: it is new or
/// a regular file (renaming over a device node, FIFO, directory or symbolic
/// link would replace that itself), it is not one of `inputs` (the same
/// file, whatever its name), and its directory takes a new file.
llvm::Error checkOutputFile(llvm::StringRef outputPath,
                            llvm::ArrayRef<std::string> inputs);

/// Compiles `llvmModule` for the host and links `outputPath`, ending in the
/// checksum trailer of abi.h. On failure returns an error message and
/// leaves no file behind (nor when interrupted by a signal).
llvm::Error emitSharedLibrary(llvm::Module &llvmModule,
                              llvm::StringRef outputPath);

} // namespace dpc

#endif // DPC_COMPILER_CODEGEN_SHAREDLIBRARYEMITTER_H
