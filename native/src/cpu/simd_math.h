/*
 * simd_math.h — vectorised expf for the softmax in attention and for SiLU.
 *
 * Why: at calibration time attention evaluates ~10^9 exponentials per block (every AWQ candidate
 * reruns it), and libm's expf per element was over 40% of the whole quantization profile.
 *
 * Method (Cephes expf): x = n·ln2 + r with n = round(x·log2 e) and a two-constant Cody–Waite
 * reduction (|r| <= ln2/2), exp(r) from a degree-7 polynomial, then scaled by 2^n. Maximum
 * relative error about 1.2e-7 (1 ulp) against exp in double, checked over the whole input
 * range by test_simd_math.c. Inputs are clamped to [-104, 89], where expf's result is already 0 or
 * +Inf; the 2^n scaling is done so that denormal results and overflow to +Inf come out as libm's.
 */
#ifndef AWQ_SIMD_MATH_H
#define AWQ_SIMD_MATH_H

#include "awq_internal.h"

#if AWQ_X86
#include <immintrin.h>

#define AWQ_EXP_LOG2E 1.44269504088896341f
#define AWQ_EXP_C1 0.693359375f
#define AWQ_EXP_C2 -2.12194440e-4f
#define AWQ_EXP_P0 1.9875691500e-4f
#define AWQ_EXP_P1 1.3981999507e-3f
#define AWQ_EXP_P2 8.3334519073e-3f
#define AWQ_EXP_P3 4.1665795894e-2f
#define AWQ_EXP_P4 1.6666665459e-1f
#define AWQ_EXP_P5 5.0000001201e-1f

AWQ_TARGET_AVX512 static inline __m512 awq_exp_avx512(__m512 x) {
    x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-104.0f)), _mm512_set1_ps(89.0f));
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(AWQ_EXP_LOG2E)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(AWQ_EXP_C1), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(AWQ_EXP_C2), r);
    __m512 p = _mm512_set1_ps(AWQ_EXP_P0);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(AWQ_EXP_P1));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(AWQ_EXP_P2));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(AWQ_EXP_P3));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(AWQ_EXP_P4));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(AWQ_EXP_P5));
    p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    return _mm512_scalef_ps(p, n); /* p · 2^n, denormal results handled by the instruction */
}

AWQ_TARGET_AVX2 static inline __m256 awq_exp_avx2(__m256 x) {
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-104.0f)), _mm256_set1_ps(89.0f));
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(AWQ_EXP_LOG2E)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(AWQ_EXP_C1), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(AWQ_EXP_C2), r);
    __m256 p = _mm256_set1_ps(AWQ_EXP_P0);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(AWQ_EXP_P1));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(AWQ_EXP_P2));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(AWQ_EXP_P3));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(AWQ_EXP_P4));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(AWQ_EXP_P5));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    /* 2^n for n in [-150, 129] as 2^n1 · 2^n2 with both halves normal floats, so that the product
     * underflows to denormals / 0 and overflows to +Inf exactly like a single correct scaling */
    __m256i ni = _mm256_cvtps_epi32(n);
    __m256i n1 = _mm256_srai_epi32(ni, 1), n2 = _mm256_sub_epi32(ni, n1);
    __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, _mm256_set1_epi32(127)), 23));
    __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, _mm256_set1_epi32(127)), 23));
    return _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
}
#endif

/* Row softmax and silu·mul per path (softmax: max subtraction, double sum, one division in double
 * per element — the scalar path's arithmetic with a vector exp). */
void awq_softmax_row_isa(awq_isa isa, float *x, int64_t n);
void awq_silu_mul_isa(awq_isa isa, const float *gate, const float *up, int64_t n, float *out);

#endif
