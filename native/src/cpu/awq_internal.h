/*
 * awq_internal.h — what every kernel source shares: argument checks that set the thread-local
 * error message, the thread pool's parallel_for, and the SIMD path chosen once at first use.
 * Not installed; never included by users of the library.
 */
#ifndef AWQ_INTERNAL_H
#define AWQ_INTERNAL_H

#include "awq_kernels.h"

#include <stdint.h>

/* Record a failure for awq_last_error() and return status (printf-style message, prefixed by func). */
int awq_fail(int status, const char *func, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Argument checks. They return from the calling function with a named status; `fn` is the
 * public function name, so the message reads "awq_rope: argument 'pos' is NULL". */
#define AWQ_REQUIRE_PTR(fn, p)                                                                     \
    do {                                                                                           \
        if ((p) == NULL) return awq_fail(AWQ_ERR_NULL_POINTER, fn, "argument '%s' is NULL", #p);   \
    } while (0)

#define AWQ_REQUIRE_POSITIVE(fn, n)                                                                \
    do {                                                                                           \
        if ((n) <= 0)                                                                              \
            return awq_fail(AWQ_ERR_INVALID_SIZE, fn, "argument '%s' must be positive (got %lld)", \
                            #n, (long long)(n));                                                   \
    } while (0)

#define AWQ_REQUIRE_GROUP_SIZE(fn, g)                                                              \
    do {                                                                                           \
        if ((g) <= 0)                                                                              \
            return awq_fail(AWQ_ERR_INVALID_GROUP_SIZE, fn,                                        \
                            "argument '%s' must be positive (got %lld)", #g, (long long)(g));      \
    } while (0)

/* Product of two sizes with overflow check (sizes must already be positive). */
int awq_mul_size(const char *fn, const char *what, int64_t a, int64_t b, int64_t *out);

/* Groups of group_size along a row of len values, the last one shorter: ceil(len / group_size). */
static inline int64_t awq_n_groups(int64_t len, int64_t group_size) {
    return len / group_size + (len % group_size != 0);
}

/* Zero points of a 4-bit weight layout [n_rows, n_groups] must be 0..15: anything else means a
 * layout mix-up (e.g. AutoAWQ's packed int32 qzeros passed as bytes). AWQ_OK, or an error naming
 * the first bad entry. Shared by the W4A16 and W4A8 GEMMs. */
int awq_check_int4_zeros(const char *fn, const uint8_t *zeros, int64_t n_rows, int64_t n_groups);
/* zero points [n_rows, n_groups] within 0..2^bits-1; else AWQ_ERR_INVALID_ARGUMENT naming the first bad one */
int awq_check_zeros(const char *fn, const uint8_t *zeros, int64_t n_rows, int64_t n_groups, int bits);

/* The argument checks of awq_rope_ext and awq_attention_ext, shared with the device entry points
 * (awq_dev_rope, awq_dev_attention), which must refuse what the CPU kernels refuse. */
int awq_rope_validate(const char *fn, const float *x, int64_t M, int64_t n_heads, int64_t head_dim, int64_t rot_dim,
                      const int32_t *pos, float theta, const float *freq_factors);
int awq_attention_validate(const char *fn, const float *q, const float *k_cache, const float *v_cache, int64_t M,
                           int64_t n_past, int64_t n_ctx, int64_t n_heads, int64_t n_kv_heads, int64_t head_dim,
                           int64_t window, const float *out);

/* 1 when the CUDA plugin (libawq_kernels_cuda.so) is loaded, loading it on first call (device.c). */
int awq_cuda_plugin_loaded(void);

/* ---- thread pool ---------------------------------------------------------------------------- */
/* fn is called on disjoint [begin, end) ranges covering [0, n). Ranges are at least `grain` long
 * (except the last). If n <= grain, the pool has one thread, the caller is itself a worker, or
 * another thread owns the pool right now, the whole range runs on the calling thread. */
typedef void (*awq_range_fn)(void *ctx, int64_t begin, int64_t end);
void awq_parallel_for(int64_t n, int64_t grain, awq_range_fn fn, void *ctx);

/* ---- SIMD dispatch ---------------------------------------------------------------------------- */
typedef enum awq_isa { AWQ_ISA_SCALAR = 0, AWQ_ISA_AVX2 = 1, AWQ_ISA_AVX512 = 2 } awq_isa;
/* Best path that is compiled, detected, and allowed by AWQ_SIMD. Detected once, then constant. */
awq_isa awq_isa_level(void);
/* 1 when this CPU runs the path (scalar always; AVX2 / AVX-512 when detected), whatever AWQ_SIMD says:
 * the *_isa entry points that tests call on every path check it. */
int awq_isa_detected(awq_isa isa);

/* Function attributes for the SIMD paths: every path is compiled into the one library and chosen
 * at run time, so the library itself is built for baseline x86-64. */
#if defined(__x86_64__) || defined(_M_X64)
#define AWQ_X86 1
#define AWQ_TARGET_AVX2 __attribute__((target("avx2,fma,f16c")))
#define AWQ_TARGET_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,f16c")))
#define AWQ_TARGET_AVX512VNNI                                                                      \
    __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma,f16c")))
#else
#define AWQ_X86 0
#endif

#endif /* AWQ_INTERNAL_H */
