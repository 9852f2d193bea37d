/*
 * activations.c — SwiGLU's silu(gate) * up and the row softmax (also used by awq_attention).
 *
 * The scalar path uses libm's expf (< 1 ulp); the AVX2/AVX-512 paths use the vector exp of
 * simd_math.h (≤ 2 ulp), because AWQ calibration evaluates attention's softmax billions of times.
 * Rows / elements are spread over the pool when there are enough of them.
 */
#include "layers_internal.h"
#include "simd_math.h"

#include <math.h>

#define SILU_MIN_ELEMS_PER_CHUNK (32 * 1024)
#define SOFTMAX_MIN_ELEMS_PER_CHUNK (32 * 1024)

/* ---- silu(gate) * up ---------------------------------------------------------------------------- */
typedef struct silu_job {
    const float *gate, *up;
    float *out;
} silu_job;

static void silu_scalar(const float *gate, const float *up, int64_t n, float *out) {
    for (int64_t i = 0; i < n; i++) {
        float g = gate[i];
        /* g -> -inf: expf(-g) = inf and g / inf = -0, the right limit, no overflow trap */
        out[i] = (g / (1.0f + expf(-g))) * up[i];
    }
}

#if AWQ_X86
AWQ_TARGET_AVX512 static void silu_avx512(const float *gate, const float *up, int64_t n, float *out) {
    const __m512 one = _mm512_set1_ps(1.0f);
    for (int64_t i = 0; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - i)) - 1);
        __m512 g = _mm512_maskz_loadu_ps(m, gate + i), u = _mm512_maskz_loadu_ps(m, up + i);
        __m512 e = awq_exp_avx512(_mm512_sub_ps(_mm512_setzero_ps(), g));
        _mm512_mask_storeu_ps(out + i, m, _mm512_mul_ps(_mm512_div_ps(g, _mm512_add_ps(one, e)), u));
    }
}

AWQ_TARGET_AVX2 static void silu_avx2(const float *gate, const float *up, int64_t n, float *out) {
    const __m256 one = _mm256_set1_ps(1.0f);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 g = _mm256_loadu_ps(gate + i), u = _mm256_loadu_ps(up + i);
        __m256 e = awq_exp_avx2(_mm256_sub_ps(_mm256_setzero_ps(), g));
        _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_div_ps(g, _mm256_add_ps(one, e)), u));
    }
    silu_scalar(gate + i, up + i, n - i, out + i);
}
#endif

void awq_silu_mul_isa(awq_isa isa, const float *gate, const float *up, int64_t n, float *out) {
#if AWQ_X86
    if (isa == AWQ_ISA_AVX512) { silu_avx512(gate, up, n, out); return; }
    if (isa == AWQ_ISA_AVX2) { silu_avx2(gate, up, n, out); return; }
#endif
    silu_scalar(gate, up, n, out);
}

static void silu_range(void *ctx, int64_t begin, int64_t end) {
    const silu_job *j = (const silu_job *)ctx;
    awq_silu_mul_isa(awq_isa_level(), j->gate + begin, j->up + begin, end - begin, j->out + begin);
}

int awq_silu_mul(const float *gate, const float *up, int64_t n, float *out) {
    static const char fn[] = "awq_silu_mul";
    AWQ_REQUIRE_PTR(fn, gate);
    AWQ_REQUIRE_PTR(fn, up);
    AWQ_REQUIRE_PTR(fn, out);
    AWQ_REQUIRE_POSITIVE(fn, n);
    int64_t bytes;
    int st = awq_mul_size(fn, "out", n, (int64_t)sizeof(float), &bytes);
    if (st != AWQ_OK) return st;
    silu_job j = {gate, up, out};
    awq_parallel_for(n, SILU_MIN_ELEMS_PER_CHUNK, silu_range, &j);
    return AWQ_OK;
}

/* ---- softmax ------------------------------------------------------------------------------------ */
#if AWQ_X86
AWQ_TARGET_AVX512 static void softmax_row_avx512(float *x, int64_t n) {
    __m512 vmax = _mm512_set1_ps(-INFINITY);
    for (int64_t i = 0; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - i)) - 1);
        vmax = _mm512_mask_max_ps(vmax, m, vmax, _mm512_maskz_loadu_ps(m, x + i));
    }
    const __m512 mx = _mm512_set1_ps(_mm512_reduce_max_ps(vmax));
    __m512d sum = _mm512_setzero_pd();
    for (int64_t i = 0; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - i)) - 1);
        __m512 e = _mm512_maskz_mov_ps(m, awq_exp_avx512(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + i), mx)));
        _mm512_mask_storeu_ps(x + i, m, e);
        sum = _mm512_add_pd(sum, _mm512_cvtps_pd(_mm512_castps512_ps256(e)));
        sum = _mm512_add_pd(sum, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(e), 1))));
    }
    const __m512d s = _mm512_set1_pd(_mm512_reduce_add_pd(sum));
    for (int64_t i = 0; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - i)) - 1);
        __m512 e = _mm512_maskz_loadu_ps(m, x + i);
        __m256 lo = _mm512_cvtpd_ps(_mm512_div_pd(_mm512_cvtps_pd(_mm512_castps512_ps256(e)), s));
        __m256 hi = _mm512_cvtpd_ps(_mm512_div_pd(
            _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(e), 1))), s));
        _mm512_mask_storeu_ps(x + i, m, _mm512_insertf32x8(_mm512_castps256_ps512(lo), hi, 1));
    }
}

AWQ_TARGET_AVX2 static void softmax_row_avx2(float *x, int64_t n) {
    float mx = x[0];
    for (int64_t i = 1; i < n; i++)
        if (x[i] > mx) mx = x[i];
    const __m256 vmx = _mm256_set1_ps(mx);
    __m256d sum = _mm256_setzero_pd();
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 e = awq_exp_avx2(_mm256_sub_ps(_mm256_loadu_ps(x + i), vmx));
        _mm256_storeu_ps(x + i, e);
        sum = _mm256_add_pd(sum, _mm256_cvtps_pd(_mm256_castps256_ps128(e)));
        sum = _mm256_add_pd(sum, _mm256_cvtps_pd(_mm256_extractf128_ps(e, 1)));
    }
    double tail[4];
    _mm256_storeu_pd(tail, sum);
    double total = (tail[0] + tail[1]) + (tail[2] + tail[3]);
    for (int64_t t = i; t < n; t++) {
        x[t] = expf(x[t] - mx);
        total += (double)x[t];
    }
    const __m256d s = _mm256_set1_pd(total);
    for (i = 0; i + 4 <= n; i += 4)
        _mm_storeu_ps(x + i, _mm256_cvtpd_ps(_mm256_div_pd(_mm256_cvtps_pd(_mm_loadu_ps(x + i)), s)));
    for (; i < n; i++) x[i] = (float)((double)x[i] / total);
}
#endif

void awq_softmax_row_isa(awq_isa isa, float *x, int64_t n) {
#if AWQ_X86
    if (isa == AWQ_ISA_AVX512) { softmax_row_avx512(x, n); return; }
    if (isa == AWQ_ISA_AVX2) { softmax_row_avx2(x, n); return; }
#endif
    awq_softmax_row(x, n);
}

void awq_softmax_row(float *x, int64_t n) {
    float mx = x[0];
    for (int64_t i = 1; i < n; i++)
        if (x[i] > mx) mx = x[i];
    /* every exponent is <= 0 after subtracting the max: no overflow, and the max maps to 1 */
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++) {
        float e = expf(x[i] - mx);
        x[i] = e;
        sum += (double)e;
    }
    /* the sum is >= 1, so the division is safe; done in double and rounded once */
    for (int64_t i = 0; i < n; i++) x[i] = (float)((double)x[i] / sum);
}

typedef struct softmax_job {
    float *x;
    int64_t n;
} softmax_job;

static void softmax_rows(void *ctx, int64_t begin, int64_t end) {
    const softmax_job *j = (const softmax_job *)ctx;
    awq_isa isa = awq_isa_level();
    for (int64_t m = begin; m < end; m++) awq_softmax_row_isa(isa, j->x + m * j->n, j->n);
}

int awq_softmax(float *x, int64_t M, int64_t n) {
    static const char fn[] = "awq_softmax";
    AWQ_REQUIRE_PTR(fn, x);
    AWQ_REQUIRE_POSITIVE(fn, M);
    AWQ_REQUIRE_POSITIVE(fn, n);
    int64_t elems, bytes;
    int st;
    if ((st = awq_mul_size(fn, "x", M, n, &elems)) != AWQ_OK) return st;
    if ((st = awq_mul_size(fn, "x", elems, (int64_t)sizeof(float), &bytes)) != AWQ_OK) return st;
    softmax_job j = {x, n};
    awq_parallel_for(M, SOFTMAX_MIN_ELEMS_PER_CHUNK / n + 1, softmax_rows, &j);
    return AWQ_OK;
}
