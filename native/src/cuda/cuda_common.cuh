/*
 * cuda_common.cuh — what the plugin's .cu files share: the context, error reporting, the launch
 * check and grid sizing. Internal to libawq_kernels_cuda.so (everything here is hidden).
 */
#ifndef AWQ_CUDA_COMMON_CUH
#define AWQ_CUDA_COMMON_CUH

#include "device_cuda.h"

#include <cuda_runtime.h>
#include <stddef.h>
#include <stdint.h>

struct awq_cuda_ctx {
    int device;
    cudaStream_t stream;
    char err[512];
    int smem_optin;        /* cudaDevAttrMaxSharedMemoryPerBlockOptin (bytes) */
    int attn_smem_set;     /* bytes the attention kernel's dynamic shared memory limit was raised to */
    /* rope's host arrays: staged in pinned memory, copied on the stream into device scratch */
    void *h_stage;         /* pinned */
    void *d_stage;
    int64_t stage_cap;     /* bytes of each */
    cudaEvent_t stage_done;/* recorded after the last copy out of h_stage */
    int stage_pending;
    int64_t stage_used;    /* bytes the last staging wrote (h_stage and d_stage hold them); 0 for none */
    int64_t stage_m;       /* ... its positions, and its frequency factors (0 for none) */
    int64_t stage_half;
};

/* Writes "<call>: <name>: <string>" into buf and returns the awq status for e. */
int awq_cu_status(cudaError_t e, const char *call, char *buf, size_t len);
/* The same into c->err. */
int awq_cu_fail(awq_cuda_ctx *c, const char *call, cudaError_t e);
/* Makes c's device current (no-op when it is). */
int awq_cu_enter(awq_cuda_ctx *c);

#define AWQ_CU(c, call)                                                   \
    do {                                                                  \
        cudaError_t e_ = (call);                                          \
        if (e_ != cudaSuccess) return awq_cu_fail((c), #call, e_);        \
    } while (0)

#define AWQ_CU_ENTER(c)                                                   \
    do {                                                                  \
        int st_ = awq_cu_enter(c);                                        \
        if (st_ != AWQ_OK) return st_;                                    \
    } while (0)

/* after a <<<>>> launch */
#define AWQ_CU_LAUNCHED(c, name)                                          \
    do {                                                                  \
        cudaError_t e_ = cudaGetLastError();                              \
        if (e_ != cudaSuccess) return awq_cu_fail((c), name, e_);         \
    } while (0)

/* Blocks for a grid-stride loop over `work` items, `per_block` items a block. */
static inline unsigned awq_cu_blocks(int64_t work, int64_t per_block) {
    int64_t b = (work + per_block - 1) / per_block;
    const int64_t cap = (int64_t)1 << 20;
    if (b > cap) b = cap;
    if (b < 1) b = 1;
    return (unsigned)b;
}

#endif
