/*
 * rmsnorm.c — y[m,:] = x[m,:] / sqrt(mean(x[m,:]^2) + eps) * weight[:]
 *
 * Arithmetic follows ggml's rms_norm (what llama.cpp's F32 logits come from): the sum of squares
 * is accumulated in double, mean = (float)(sum / D), scale = 1 / sqrtf(mean + eps) in fp32, and
 * y = (x * scale) * weight with two fp32 roundings. The squares are formed in double too (a
 * float*float product is exact there), so the only rounding before the final cast is the
 * double accumulation itself. The SIMD paths only change the order of that double sum; the
 * scaling pass is the same two multiplications in every path (a product of products offers the
 * compiler nothing to contract into an FMA), and a square formed in double is exact whether or
 * not it is fused with the add.
 *
 * awq_add_rmsnorm fuses the residual add before it (x += delta, then y = rmsnorm(x)): the same
 * fp32 adds and the same row function, one pass over x instead of two and one call instead of two.
 */
#include "layers_internal.h"

#include <math.h>

#if AWQ_X86
#include <immintrin.h>
#endif

/* Rows per chunk so one chunk scales at least this many elements (a 4096-wide row is 32 KiB). */
#define RMSNORM_MIN_ELEMS_PER_CHUNK (64 * 1024)

static float rms_scale(double sum_sq, int64_t D, float eps) {
    float mean = (float)(sum_sq / (double)D);
    return 1.0f / sqrtf(mean + eps);
}

static void row_scalar(const float *x, const float *w, int64_t D, float eps, float *y) {
    double ss = 0.0;
    for (int64_t i = 0; i < D; i++) ss += (double)x[i] * (double)x[i];
    float scale = rms_scale(ss, D, eps);
    for (int64_t i = 0; i < D; i++) y[i] = (x[i] * scale) * w[i];
}

#if AWQ_X86
AWQ_TARGET_AVX2 static void row_avx2(const float *x, const float *w, int64_t D, float eps, float *y) {
    __m256d a0 = _mm256_setzero_pd(), a1 = _mm256_setzero_pd();
    int64_t i = 0;
    for (; i + 8 <= D; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        __m256d lo = _mm256_cvtps_pd(_mm256_castps256_ps128(v));
        __m256d hi = _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1));
        a0 = _mm256_fmadd_pd(lo, lo, a0);
        a1 = _mm256_fmadd_pd(hi, hi, a1);
    }
    __m256d a = _mm256_add_pd(a0, a1);
    __m128d s2 = _mm_add_pd(_mm256_castpd256_pd128(a), _mm256_extractf128_pd(a, 1));
    double ss = _mm_cvtsd_f64(_mm_add_sd(s2, _mm_unpackhi_pd(s2, s2)));
    for (; i < D; i++) ss += (double)x[i] * (double)x[i];
    float scale = rms_scale(ss, D, eps);
    __m256 vs = _mm256_set1_ps(scale);
    for (i = 0; i + 8 <= D; i += 8) {
        __m256 v = _mm256_mul_ps(_mm256_loadu_ps(x + i), vs);
        _mm256_storeu_ps(y + i, _mm256_mul_ps(v, _mm256_loadu_ps(w + i)));
    }
    for (; i < D; i++) y[i] = (x[i] * scale) * w[i];
}

AWQ_TARGET_AVX512 static void row_avx512(const float *x, const float *w, int64_t D, float eps, float *y) {
    __m512d a0 = _mm512_setzero_pd(), a1 = _mm512_setzero_pd();
    int64_t i = 0;
    for (; i + 16 <= D; i += 16) {
        __m512 v = _mm512_loadu_ps(x + i);
        __m512d lo = _mm512_cvtps_pd(_mm512_castps512_ps256(v));
        __m512d hi = _mm512_cvtps_pd(_mm512_extractf32x8_ps(v, 1));
        a0 = _mm512_fmadd_pd(lo, lo, a0);
        a1 = _mm512_fmadd_pd(hi, hi, a1);
    }
    if (i < D) {
        __mmask16 mask = (__mmask16)((1u << (D - i)) - 1u);
        __m512 v = _mm512_maskz_loadu_ps(mask, x + i);
        __m512d lo = _mm512_cvtps_pd(_mm512_castps512_ps256(v));
        __m512d hi = _mm512_cvtps_pd(_mm512_extractf32x8_ps(v, 1));
        a0 = _mm512_fmadd_pd(lo, lo, a0);
        a1 = _mm512_fmadd_pd(hi, hi, a1);
    }
    double ss = _mm512_reduce_add_pd(_mm512_add_pd(a0, a1));
    __m512 vs = _mm512_set1_ps(rms_scale(ss, D, eps));
    for (i = 0; i + 16 <= D; i += 16) {
        __m512 v = _mm512_mul_ps(_mm512_loadu_ps(x + i), vs);
        _mm512_storeu_ps(y + i, _mm512_mul_ps(v, _mm512_loadu_ps(w + i)));
    }
    if (i < D) {
        __mmask16 mask = (__mmask16)((1u << (D - i)) - 1u);
        __m512 v = _mm512_mul_ps(_mm512_maskz_loadu_ps(mask, x + i), vs);
        _mm512_mask_storeu_ps(y + i, mask, _mm512_mul_ps(v, _mm512_maskz_loadu_ps(mask, w + i)));
    }
}
#endif

typedef void (*rms_row_fn)(const float *x, const float *w, int64_t D, float eps, float *y);

typedef struct rms_job {
    rms_row_fn row;
    float *x_add;        /* awq_add_rmsnorm: x, which first gets delta added; else NULL */
    const float *delta;
    const float *x, *w;
    float *y;
    int64_t D;
    float eps;
} rms_job;

static void rms_rows(void *ctx, int64_t begin, int64_t end) {
    const rms_job *j = (const rms_job *)ctx;
    for (int64_t m = begin; m < end; m++) {
        if (j->x_add != NULL) {
            float *xr = j->x_add + m * j->D;
            const float *dr = j->delta + m * j->D;
            for (int64_t i = 0; i < j->D; i++) xr[i] = xr[i] + dr[i];
        }
        j->row(j->x + m * j->D, j->w, j->D, j->eps, j->y + m * j->D);
    }
}

static void rmsnorm_run(awq_isa isa, float *x_add, const float *delta, const float *x, const float *weight,
                        int64_t M, int64_t D, float eps, float *y) {
    rms_job j = {row_scalar, x_add, delta, x, weight, y, D, eps};
#if AWQ_X86
    if (isa == AWQ_ISA_AVX512) j.row = row_avx512;
    else if (isa == AWQ_ISA_AVX2) j.row = row_avx2;
#endif
    int64_t grain = RMSNORM_MIN_ELEMS_PER_CHUNK / D + 1;
    awq_parallel_for(M, grain, rms_rows, &j);
}

void awq_rmsnorm_isa(awq_isa isa, const float *x, const float *weight, int64_t M, int64_t D, float eps,
                     float *y) {
    rmsnorm_run(isa, NULL, NULL, x, weight, M, D, eps, y);
}

void awq_add_rmsnorm_isa(awq_isa isa, float *x, const float *delta, const float *weight, int64_t M, int64_t D,
                         float eps, float *y) {
    rmsnorm_run(isa, x, delta, x, weight, M, D, eps, y);
}

/* argument checks shared by awq_rmsnorm and awq_add_rmsnorm */
static int rmsnorm_check(const char *fn, const float *x, const float *weight, int64_t M, int64_t D, float eps,
                         const float *y) {
    AWQ_REQUIRE_PTR(fn, x);
    AWQ_REQUIRE_PTR(fn, weight);
    AWQ_REQUIRE_PTR(fn, y);
    AWQ_REQUIRE_POSITIVE(fn, M);
    AWQ_REQUIRE_POSITIVE(fn, D);
    int64_t n, bytes;
    int st;
    if ((st = awq_mul_size(fn, "x", M, D, &n)) != AWQ_OK) return st;
    if ((st = awq_mul_size(fn, "x", n, (int64_t)sizeof(float), &bytes)) != AWQ_OK) return st;
    /* eps = 0 is allowed (a zero row then gives NaN, as the formula says); a negative or NaN eps
     * is a caller bug that would silently turn small rows into NaN */
    if (!(eps >= 0.0f) || isinf(eps))
        return awq_fail(AWQ_ERR_INVALID_ARGUMENT, fn, "argument 'eps' must be finite and >= 0 (got %g)",
                        (double)eps);
    return AWQ_OK;
}

int awq_rmsnorm(const float *x, const float *weight, int64_t M, int64_t D, float eps, float *y) {
    int st = rmsnorm_check("awq_rmsnorm", x, weight, M, D, eps, y);
    if (st != AWQ_OK) return st;
    awq_rmsnorm_isa(awq_isa_level(), x, weight, M, D, eps, y);
    return AWQ_OK;
}

int awq_add_rmsnorm(float *x, const float *delta, const float *weight, int64_t M, int64_t D, float eps, float *y) {
    static const char fn[] = "awq_add_rmsnorm";
    AWQ_REQUIRE_PTR(fn, delta);
    int st = rmsnorm_check(fn, x, weight, M, D, eps, y);
    if (st != AWQ_OK) return st;
    if (y == x || y == delta)
        return awq_fail(AWQ_ERR_INVALID_ARGUMENT, fn, "argument 'y' must not alias 'x' or 'delta' (x keeps the sum)");
    awq_add_rmsnorm_isa(awq_isa_level(), x, delta, weight, M, D, eps, y);
    return AWQ_OK;
}
