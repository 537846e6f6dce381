//===- RuntimeCallBuilderTest.cpp - Runtime calls against kernels.def -----===//
//
// RuntimeCallBuilder::call declares each dpcrt_* callee with the signature
// runtime/include/dpc/kernels.def gives it and rejects, as a compiler bug
// with one error at the op being lowered, a call whose arguments or result
// do not match that signature.
//
//===----------------------------------------------------------------------===//

#include "compiler/Conversion/NNToRuntime/RuntimeCallBuilder.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

using namespace mlir;

namespace {

std::string str(Type type) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << type;
  return s;
}

class RuntimeCallBuilderTest : public ::testing::Test {
protected:
  RuntimeCallBuilderTest()
      : builder(&context), handler(&context, [this](Diagnostic &d) {
          errors.push_back(d.str());
          return success();
        }) {
    context.loadDialect<LLVM::LLVMDialect>();
    Location loc = UnknownLoc::get(&context);
    module = ModuleOp::create(loc);
    builder.setInsertionPointToEnd(module->getBody());
    Type ptr = LLVM::LLVMPointerType::get(&context);
    auto step = builder.create<LLVM::LLVMFuncOp>(
        loc, "step",
        LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(&context),
                                    {ptr, ptr}));
    Block *entry = step.addEntryBlock(builder);
    builder.setInsertionPointToStart(entry);
    pointer = entry->getArgument(1);
    rt.emplace(*module, entry->getArgument(0), builder);
  }

  /// The type the module declares `name` with ("" when undeclared).
  std::string declaredType(llvm::StringRef name) {
    auto fn = module->lookupSymbol<LLVM::LLVMFuncOp>(name);
    return fn ? str(fn.getFunctionType()) : "";
  }

  MLIRContext context;
  OpBuilder builder;
  OwningOpRef<ModuleOp> module;
  Value pointer;
  std::optional<dpc::RuntimeCallBuilder> rt;
  std::vector<std::string> errors;
  ScopedDiagnosticHandler handler;
};

TEST_F(RuntimeCallBuilderTest, DeclaresTheCalleeWithItsSignature) {
  rt->call("dpcrt_fill_f32", {pointer, rt->i64(4), rt->f32(1.0f)});
  rt->call("dpcrt_fill_f32", {pointer, rt->i64(8), rt->f32(0.0f)});
  EXPECT_FALSE(rt->hasFailedCall());
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(declaredType("dpcrt_fill_f32"),
            "!llvm.func<void (ptr, ptr, i64, f32)>");
  int calls = 0;
  module->walk([&](LLVM::CallOp) { ++calls; });
  EXPECT_EQ(calls, 2);
}

TEST_F(RuntimeCallBuilderTest, MapsEveryCType) {
  // double -> f64, int32_t -> i32, const float * -> ptr.
  Value f64 = builder.create<LLVM::ConstantOp>(builder.getUnknownLoc(),
                                               builder.getF64Type(),
                                               builder.getF64FloatAttr(0.5));
  rt->call("dpcrt_adam_update_f32",
           {pointer, pointer, pointer, pointer, rt->i64(3), f64, f64, f64, f64,
            f64, rt->i32(1)});
  EXPECT_FALSE(rt->hasFailedCall());
  EXPECT_EQ(declaredType("dpcrt_adam_update_f32"),
            "!llvm.func<void (ptr, ptr, ptr, ptr, ptr, i64, f64, f64, f64, "
            "f64, f64, i32)>");
}

TEST_F(RuntimeCallBuilderTest, ReturnsTheKernelsResult) {
  Value handle =
      rt->call("dpcrt_allreduce_start", {rt->i32(0), pointer, rt->i64(16)},
               builder.getI64Type());
  ASSERT_TRUE(handle);
  EXPECT_TRUE(handle.getType().isInteger(64));
  EXPECT_FALSE(rt->hasFailedCall());
  EXPECT_EQ(declaredType("dpcrt_allreduce_start"),
            "!llvm.func<i64 (ptr, i32, ptr, i64)>");
  EXPECT_FALSE(rt->call("dpcrt_allreduce_wait", {handle}));
  EXPECT_FALSE(rt->hasFailedCall());
}

TEST_F(RuntimeCallBuilderTest, RejectsAWrongArgumentType) {
  // n is int64_t: an i32 is a bug of the lowering, not a new signature.
  rt->call("dpcrt_fill_f32", {pointer, rt->i32(4), rt->f32(1.0f)});
  EXPECT_TRUE(rt->hasFailedCall());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0],
            "dpc internal error: call of dpcrt_fill_f32 with (!llvm.ptr, "
            "!llvm.ptr, i32, f32) does not match kernels.def: void "
            "dpcrt_fill_f32(dpcrt_context *ctx, float *out, int64_t n, float "
            "value), i.e. !llvm.func<void (ptr, ptr, i64, f32)>");
  EXPECT_EQ(declaredType("dpcrt_fill_f32"), "");
}

TEST_F(RuntimeCallBuilderTest, RejectsAMissingArgument) {
  rt->call("dpcrt_copy", {pointer, pointer});
  EXPECT_TRUE(rt->hasFailedCall());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("call of dpcrt_copy with (!llvm.ptr, !llvm.ptr, "
                           "!llvm.ptr) does not match kernels.def: void "
                           "dpcrt_copy(dpcrt_context *ctx, void *out, const "
                           "void *in, int64_t bytes)"),
            std::string::npos)
      << errors[0];
}

TEST_F(RuntimeCallBuilderTest, RejectsAWrongResultType) {
  Value handle =
      rt->call("dpcrt_allreduce_start", {rt->i32(0), pointer, rt->i64(16)},
               builder.getI32Type());
  EXPECT_TRUE(rt->hasFailedCall());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("-> i32 does not match kernels.def: int64_t "
                           "dpcrt_allreduce_start("),
            std::string::npos)
      << errors[0];
  // Still a value of the type asked for, so the caller can go on.
  ASSERT_TRUE(handle);
  EXPECT_TRUE(handle.getType().isInteger(32));
}

TEST_F(RuntimeCallBuilderTest, RejectsAnUnknownFunction) {
  rt->call("dpcrt_fill_f16", {pointer, rt->i64(4)});
  EXPECT_TRUE(rt->hasFailedCall());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0], "dpc internal error: 'dpcrt_fill_f16' is not a "
                       "runtime function of kernels.def");
  EXPECT_EQ(declaredType("dpcrt_fill_f16"), "");
}

TEST_F(RuntimeCallBuilderTest, KnowsTheHostOnlyTraceFunction) {
  rt->call("dpcrt_trace_op", {rt->i32(-1)});
  EXPECT_FALSE(rt->hasFailedCall());
  EXPECT_EQ(declaredType("dpcrt_trace_op"), "!llvm.func<void (ptr, i32)>");
}

} // namespace
