/*===- test_module.c - A hand-written model.so for runtime tests ----------===*
 *
 * What dpc would emit for a bias-free linear regression, y = x @ w, trained
 * with MSE and SGD: the three exported symbols, and a train step made of
 * dpcrt_* calls on slots and the arena. It links nothing: like a compiled
 * module, it relies on the loading process to provide libdpcrt's symbols.
 *
 * Variants are built from this file with macros:
 *   DPC_TEST_BATCH       per-rank batch (default 8)
 *   DPC_TEST_WORLD_SIZE  manifest world_size (default 1)
 *   DPC_TEST_MOMENTUM    SGD momentum; when defined, adds a momentum buffer
 *   DPC_TEST_ABI         manifest abi_version (default 1); another value also
 *                        calls a kernel this runtime does not have
 *   DPC_TEST_BUFFER      adds a buffer b (f32[1], initially 0) that the step
 *                        adds to the loss and then sets to the rank's first
 *                        input value, so that a multi-rank run shows whether
 *                        the runtime broadcast rank 0's buffer before the
 *                        step (DDP's broadcast_buffers)
 *
 *===----------------------------------------------------------------------===*/

#include "dpc/abi.h"

#include <stddef.h>

#ifndef DPC_TEST_BATCH
#define DPC_TEST_BATCH 8
#endif
#ifndef DPC_TEST_WORLD_SIZE
#define DPC_TEST_WORLD_SIZE 1
#endif
#ifdef DPC_TEST_MOMENTUM
#define MOMENTUM DPC_TEST_MOMENTUM
#else
#define MOMENTUM 0
#endif
#ifndef DPC_TEST_ABI
#define DPC_TEST_ABI DPC_ABI_VERSION
#endif

#define STR2(x) #x
#define STR(x) STR2(x)
#define B DPC_TEST_BATCH

/* Arena layout in floats: pred[B], dpred[B], grad_w[4], dloss[1]; 4096
 * bytes hold it for B up to 500. */

const char dpc_model_manifest[] = "{\"abi_version\": " STR(
    DPC_TEST_ABI) ","
                  " \"producer\": \"test_module.c\", \"mode\": \"ddp\","
                  " \"world_size\": " STR(
                      DPC_TEST_WORLD_SIZE) ","
                                           " \"inputs\": [{\"name\": \"x\", "
                                           "\"dtype\": \"f32\", \"shape\": "
                                           "[" STR(
                                               B) ", 4], \"slot\": 1}],"
                                                  " \"label\": {\"name\": "
                                                  "\"y\", \"dtype\": \"f32\", "
                                                  "\"shape\": [" STR(
                                                      B) ", 1], \"slot\": 2},"
                                                         " \"loss\": "
                                                         "{\"kind\": \"mse\", "
                                                         "\"slot\": 3},"
                                                         " \"optimizer\": "
                                                         "{\"kind\": \"sgd\", "
                                                         "\"lr\": 0.1, "
                                                         "\"momentum\": " STR(
                                                             MOMENTUM) ","
                                                                       " \"damp"
                                                                       "ening\""
                                                                       ": 0.0, "
                                                                       "\"weigh"
                                                                       "t_"
                                                                       "decay\""
                                                                       ": 0.0, "
                                                                       "\"neste"
                                                                       "rov\": "
                                                                       "false},"
                                                                       " \"para"
                                                                       "meters"
                                                                       "\": "
                                                                       "[{"
                                                                       "\"name"
                                                                       "\": "
                                                                       "\"w\", "
                                                                       "\"dtype"
                                                                       "\": "
                                                                       "\"f32\""
                                                                       ", "
                                                                       "\"shape"
                                                                       "\": "
                                                                       "[4, "
                                                                       "1], "
                                                                       "\"weigh"
                                                                       "ts_"
                                                                       "offset"
                                                                       "\": 0, "
                                                                       "\"slot"
                                                                       "\": "
                                                                       "0}],"
#ifdef DPC_TEST_BUFFER
                                                                       " \"buff"
                                                                       "ers\": "
                                                                       "[{"
                                                                       "\"name"
                                                                       "\": "
                                                                       "\"b\", "
                                                                       "\"dtype"
                                                                       "\": "
                                                                       "\"f32\""
                                                                       ", "
                                                                       "\"shape"
                                                                       "\": "
                                                                       "[1], "
                                                                       "\"weigh"
                                                                       "ts_"
                                                                       "offset"
                                                                       "\": "
                                                                       "16, "
                                                                       "\"slot"
                                                                       "\": "
                                                                       "5}],"
#else
                                                                       " \"buff"
                                                                       "ers\": "
                                                                       "[],"
#endif
#ifdef DPC_TEST_MOMENTUM
                                                                       " \"opti"
                                                                       "mizer_"
                                                                       "state\""
                                                                       ": "
                                                                       "[{"
                                                                       "\"name"
                                                                       "\": "
                                                                       "\"w."
                                                                       "momentu"
                                                                       "m_"
                                                                       "buffer"
                                                                       "\", "
                                                                       "\"param"
                                                                       "eter\":"
                                                                       " \"w\","
                                                                       " \"dtyp"
                                                                       "e\": "
                                                                       "\"f32\""
                                                                       ", "
                                                                       "\"shape"
                                                                       "\": "
                                                                       "[4, "
                                                                       "1], "
                                                                       "\"slot"
                                                                       "\": "
                                                                       "5}],"
#else
                                                                       " \"opti"
                                                                       "mizer_"
                                                                       "state\""
                                                                       ": [],"
#endif
                                                                       " \"buck"
                                                                       "ets\": "
                                                                       "[{"
                                                                       "\"index"
                                                                       "\": 0, "
                                                                       "\"bytes"
                                                                       "\": "
                                                                       "16, "
                                                                       "\"param"
                                                                       "eters\""
                                                                       ": "
                                                                       "[\"w\"]"
                                                                       "}],"
                                                                       " \"aren"
                                                                       "a\": "
                                                                       "{\"byte"
                                                                       "s\": "
                                                                       "4096, "
                                                                       "\"slot"
                                                                       "\": 4},"
#if defined(DPC_TEST_MOMENTUM) || defined(DPC_TEST_BUFFER)
                                                                       " \"num_"
                                                                       "slots\""
                                                                       ": 6,"
#else
                                                                       " \"num_"
                                                                       "slots\""
                                                                       ": 5,"
#endif
                                                                       " \"weig"
                                                                       "hts_"
                                                                       "bytes\""
                                                                       ": 20}";

#if defined(DPC_TEST_MOMENTUM) && defined(DPC_TEST_BUFFER)
#error "the momentum buffer and the buffer b share slot 5"
#endif

/* w = [0.5, -0.25, 0.125, 1.0], then b = 0, as little-endian float32. */
__attribute__((aligned(64))) const unsigned char dpc_model_weights[20] = {
    0x00, 0x00, 0x00, 0x3f, 0x00, 0x00, 0x80, 0xbe, 0x00, 0x00,
    0x00, 0x3e, 0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0x00};

#if DPC_TEST_ABI != DPC_ABI_VERSION
void dpcrt_kernel_from_the_future(dpcrt_context *ctx);
#endif

void dpc_model_train_step(dpcrt_context *ctx, void *const *slots) {
  float *w = (float *)slots[0];
  const float *x = (const float *)slots[1];
  const float *y = (const float *)slots[2];
  float *loss = (float *)slots[3];
  float *arena = (float *)slots[4];
  float *pred = arena, *dpred = arena + B, *gradW = arena + 2 * B;
  float *dloss = arena + 2 * B + 4;
#ifdef DPC_TEST_MOMENTUM
  float *momentumBuf = (float *)slots[5];
#else
  float *momentumBuf = NULL;
#endif
#if DPC_TEST_ABI != DPC_ABI_VERSION
  dpcrt_kernel_from_the_future(ctx);
#endif

  dpcrt_gemm_f32(ctx, pred, x, w, B, 1, 4, 0, 0, 0.0f);
  dpcrt_mse_loss_f32(ctx, loss, pred, y, B);
  dpcrt_fill_f32(ctx, dloss, 1, 1.0f);
  dpcrt_mse_loss_grad_f32(ctx, dpred, dloss, pred, y, B);
  /* grad_w = x^T @ dpred */
  dpcrt_gemm_f32(ctx, gradW, x, dpred, 4, 1, B, 1, 0, 0.0f);
#ifdef DPC_TEST_BUFFER
  float *b = (float *)slots[5];
  /* loss += b through a kernel, so the step also runs on the GPU. */
  dpcrt_binary_f32(ctx, DPCRT_BINARY_ADD, loss, loss, b, 0, NULL, 1.0f);
  dpcrt_copy(ctx, b, x, 4);
#endif
  int64_t handle = dpcrt_allreduce_start(ctx, 0, gradW, 4);
  dpcrt_allreduce_wait(ctx, handle);
  dpcrt_sgd_update_f32(ctx, w, momentumBuf, gradW, 4, 0.1f, (float)MOMENTUM,
                       0.0f, 0.0f, 0);
}
