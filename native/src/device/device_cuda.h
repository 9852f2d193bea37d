/*
 * device_cuda.h — what device.c (the checked C ABI of contexts, buffers and kernels over views)
 * asks of the CUDA side in native/src/cuda/. Arguments arrive validated: pointers are device
 * pointers of this context's allocations, sizes positive and in range. Every function returns an
 * awq status; on failure the reason (with cudaGetErrorString's text) is in awq_cuda_error(ctx),
 * or in `err` where there is no context yet. Kernels are queued on the context's stream.
 *
 * The CUDA side is its own shared library, libawq_kernels_cuda.so, loaded by device.c with dlopen
 * the first time a CUDA device is asked for (so libawq_kernels.so itself never depends on CUDA and
 * loads on every machine). It exports one symbol, awq_cuda_plugin(), returning the table below;
 * device.c refuses a table whose version differs from AWQ_CUDA_API_VERSION. The runtime is linked
 * statically into the plugin, so only the driver (libcuda.so.1) is needed where it runs.
 * Not installed.
 */
#ifndef AWQ_DEVICE_CUDA_H
#define AWQ_DEVICE_CUDA_H

#include "awq_kernels.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct awq_cuda_ctx awq_cuda_ctx;

int awq_cuda_count(void);
int awq_cuda_props(int ordinal, awq_device_props *props, char *err, size_t err_len);
int awq_cuda_ctx_create(int ordinal, awq_cuda_ctx **out, char *err, size_t err_len);
void awq_cuda_ctx_free(awq_cuda_ctx *c);
const char *awq_cuda_error(const awq_cuda_ctx *c);
int awq_cuda_sync(awq_cuda_ctx *c);

/* zero-filled device memory */
int awq_cuda_alloc(awq_cuda_ctx *c, int64_t bytes, void **out);
void awq_cuda_release(awq_cuda_ctx *c, void *p);
int awq_cuda_upload(awq_cuda_ctx *c, void *dst, const void *src, int64_t bytes);
/* waits for the stream, then copies */
int awq_cuda_download(awq_cuda_ctx *c, void *dst, const void *src, int64_t bytes);
int awq_cuda_copy(awq_cuda_ctx *c, void *dst, const void *src, int64_t bytes);

int awq_cuda_f32_gemm(awq_cuda_ctx *c, const float *x, int64_t M, int64_t K, const float *w, int64_t N, float *y);
int awq_cuda_f16_gemm(awq_cuda_ctx *c, const float *x, int64_t M, int64_t K, const uint16_t *w, int64_t N, float *y);
int awq_cuda_w4a16(awq_cuda_ctx *c, const float *x, int64_t M, int64_t K, const uint8_t *qweight,
                   const uint16_t *scales, const uint8_t *zeros, int64_t N, int64_t group_size, float *y);
int awq_cuda_add_bias(awq_cuda_ctx *c, float *y, int64_t M, int64_t N, const float *bias);
int awq_cuda_rmsnorm(awq_cuda_ctx *c, const float *x, const float *weight, int64_t M, int64_t D, float eps, float *y);
int awq_cuda_add_rmsnorm(awq_cuda_ctx *c, float *x, const float *delta, const float *weight, int64_t M, int64_t D,
                         float eps, float *y);
/* pos [M] and freq_factors [rot_dim/2] (or NULL) are host arrays: the call copies them to the device */
int awq_cuda_rope(awq_cuda_ctx *c, float *x, int64_t M, int64_t n_heads, int64_t head_dim, int64_t rot_dim,
                  const int32_t *pos, float theta, const float *freq_factors);
int awq_cuda_attention(awq_cuda_ctx *c, const float *q, const float *k_cache, const float *v_cache, int64_t M,
                       int64_t n_past, int64_t n_ctx, int64_t n_heads, int64_t n_kv_heads, int64_t head_dim,
                       int64_t window, float *out);
int awq_cuda_silu_mul(awq_cuda_ctx *c, const float *gate, const float *up, int64_t n, float *out);
int awq_cuda_add(awq_cuda_ctx *c, float *x, const float *y, int64_t n);
/* act_scale > 0: static parameters; else dynamic per row (a non-finite row gets a NaN scale) */
int awq_cuda_quantize_act_u8(awq_cuda_ctx *c, const float *x, int64_t M, int64_t K, float act_scale, int32_t act_zero,
                             uint8_t *xq, float *x_scale, int32_t *x_zero);
int awq_cuda_int8_gemm_f32(awq_cuda_ctx *c, const uint8_t *xq, const int32_t *x_zero, const float *x_scale, int64_t M,
                           int64_t K, const int8_t *wq, const float *w_scale, int64_t N, float *y);
int awq_cuda_softmax(awq_cuda_ctx *c, float *x, int64_t M, int64_t n);
/* src_type, dst_type: awq_dtype, one of F32 → F16/BF16, F16/BF16 → F32 */
int awq_cuda_convert(awq_cuda_ctx *c, const void *src, int src_type, void *dst, int dst_type, int64_t n);


/* The plugin's table: the functions above, in this order. */
#define AWQ_CUDA_API_VERSION 1
typedef struct awq_cuda_api {
    int version;
    int (*count)(void);
    int (*props)(int, awq_device_props *, char *, size_t);
    int (*ctx_create)(int, awq_cuda_ctx **, char *, size_t);
    void (*ctx_free)(awq_cuda_ctx *);
    const char *(*error)(const awq_cuda_ctx *);
    int (*sync)(awq_cuda_ctx *);
    int (*alloc)(awq_cuda_ctx *, int64_t, void **);
    void (*release)(awq_cuda_ctx *, void *);
    int (*upload)(awq_cuda_ctx *, void *, const void *, int64_t);
    int (*download)(awq_cuda_ctx *, void *, const void *, int64_t);
    int (*copy)(awq_cuda_ctx *, void *, const void *, int64_t);
    int (*f32_gemm)(awq_cuda_ctx *, const float *, int64_t, int64_t, const float *, int64_t, float *);
    int (*f16_gemm)(awq_cuda_ctx *, const float *, int64_t, int64_t, const uint16_t *, int64_t, float *);
    int (*w4a16)(awq_cuda_ctx *, const float *, int64_t, int64_t, const uint8_t *, const uint16_t *, const uint8_t *,
                 int64_t, int64_t, float *);
    int (*add_bias)(awq_cuda_ctx *, float *, int64_t, int64_t, const float *);
    int (*rmsnorm)(awq_cuda_ctx *, const float *, const float *, int64_t, int64_t, float, float *);
    int (*add_rmsnorm)(awq_cuda_ctx *, float *, const float *, const float *, int64_t, int64_t, float, float *);
    int (*rope)(awq_cuda_ctx *, float *, int64_t, int64_t, int64_t, int64_t, const int32_t *, float, const float *);
    int (*attention)(awq_cuda_ctx *, const float *, const float *, const float *, int64_t, int64_t, int64_t, int64_t,
                     int64_t, int64_t, int64_t, float *);
    int (*silu_mul)(awq_cuda_ctx *, const float *, const float *, int64_t, float *);
    int (*add)(awq_cuda_ctx *, float *, const float *, int64_t);
    int (*quantize_act_u8)(awq_cuda_ctx *, const float *, int64_t, int64_t, float, int32_t, uint8_t *, float *, int32_t *);
    int (*int8_gemm_f32)(awq_cuda_ctx *, const uint8_t *, const int32_t *, const float *, int64_t, int64_t, const int8_t *,
                         const float *, int64_t, float *);
    int (*softmax)(awq_cuda_ctx *, float *, int64_t, int64_t);
    int (*convert)(awq_cuda_ctx *, const void *, int, void *, int, int64_t);
} awq_cuda_api;

/* The one symbol libawq_kernels_cuda.so exports. */
typedef const awq_cuda_api *(*awq_cuda_plugin_fn)(void);

#ifdef __cplusplus
}
#endif

#endif
