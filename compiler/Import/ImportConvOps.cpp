//===- ImportConvOps.cpp - aten ops for convolution, normalization and pooling (CNNs) ---===//

#include "compiler/Import/Importer.h"

#include "dialects/NN/NNOps.h"

using namespace mlir;
using namespace dpc;

void dpc::registerConvImporters(NodeImporterTable &table) {}
