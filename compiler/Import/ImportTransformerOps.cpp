//===- ImportTransformerOps.cpp - aten ops for embedding, normalization, attention and shape ops (Transformers) ---===//

#include "compiler/Import/Importer.h"

#include "dialects/NN/NNOps.h"

using namespace mlir;
using namespace dpc;

void dpc::registerTransformerImporters(NodeImporterTable &table) {}
