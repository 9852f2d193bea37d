/*
 * convert.c — fp32 <-> fp16 / bf16 over arrays.
 *
 * fp16 uses the hardware converters (F16C VCVTPS2PH/VCVTPH2PS, their AVX-512 forms) with the
 * rounding mode in the immediate, so MXCSR never matters; the scalar one-value functions in
 * awq_numerics.h reproduce them bit for bit, NaN payloads included (ctest checks every pattern).
 * bf16 has no usable instruction (VCVTNEPS2BF16 flushes subnormals), so its SIMD paths run the
 * same integer rounding as the scalar code, 8 or 16 lanes at a time.
 *
 * Large arrays are split over the thread pool; the conversions are memory-bound, so the grain is
 * large enough that a chunk costs far more than waking a worker.
 */
#include "awq_numerics.h"

#if AWQ_X86
#include <immintrin.h>
#endif

#define CONVERT_GRAIN ((int64_t)1 << 16)

/* ---- scalar reference ------------------------------------------------------------------------ */
void awq_fp32_to_fp16_scalar(const float *src, uint16_t *dst, int64_t n) {
    for (int64_t i = 0; i < n; i++) dst[i] = awq_fp32_to_fp16_1(src[i]);
}

void awq_fp16_to_fp32_scalar(const uint16_t *src, float *dst, int64_t n) {
    for (int64_t i = 0; i < n; i++) dst[i] = awq_fp16_to_fp32_1(src[i]);
}

void awq_fp32_to_bf16_scalar(const float *src, uint16_t *dst, int64_t n) {
    for (int64_t i = 0; i < n; i++) dst[i] = awq_fp32_to_bf16_1(src[i]);
}

void awq_bf16_to_fp32_scalar(const uint16_t *src, float *dst, int64_t n) {
    for (int64_t i = 0; i < n; i++) dst[i] = awq_bf16_to_fp32_1(src[i]);
}

#if AWQ_X86
/* ---- AVX2 + F16C ------------------------------------------------------------------------------ */
AWQ_TARGET_AVX2 void awq_fp32_to_fp16_avx2(const float *src, uint16_t *dst, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        _mm_storeu_si128((__m128i *)(dst + i), h);
    }
    awq_fp32_to_fp16_scalar(src + i, dst + i, n - i);
}

AWQ_TARGET_AVX2 void awq_fp16_to_fp32_avx2(const uint16_t *src, float *dst, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(src + i))));
    awq_fp16_to_fp32_scalar(src + i, dst + i, n - i);
}

/* The scalar bf16 rounding on 8 lanes: NaN lanes take (x >> 16) | 0x40, the rest
 * (x + 0x7FFF + ((x >> 16) & 1)) >> 16. Results are 0..0xFFFF, so the unsigned-saturating pack
 * cannot clip; it interleaves 128-bit lanes, which the permute undoes. */
AWQ_TARGET_AVX2 static inline __m256i bf16_round_avx2(__m256i x) {
    const __m256i abs_mask = _mm256_set1_epi32(0x7FFFFFFF);
    const __m256i inf = _mm256_set1_epi32(0x7F800000);
    __m256i is_nan = _mm256_cmpgt_epi32(_mm256_and_si256(x, abs_mask), inf);
    __m256i hi = _mm256_srli_epi32(x, 16);
    __m256i lsb = _mm256_and_si256(hi, _mm256_set1_epi32(1));
    __m256i rounded = _mm256_srli_epi32(_mm256_add_epi32(_mm256_add_epi32(x, _mm256_set1_epi32(0x7FFF)), lsb), 16);
    __m256i quiet = _mm256_or_si256(hi, _mm256_set1_epi32(0x0040));
    return _mm256_blendv_epi8(rounded, quiet, is_nan);
}

AWQ_TARGET_AVX2 void awq_fp32_to_bf16_avx2(const float *src, uint16_t *dst, int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256i a = bf16_round_avx2(_mm256_loadu_si256((const __m256i *)(src + i)));
        __m256i b = bf16_round_avx2(_mm256_loadu_si256((const __m256i *)(src + i + 8)));
        __m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi32(a, b), 0xD8);
        _mm256_storeu_si256((__m256i *)(dst + i), packed);
    }
    awq_fp32_to_bf16_scalar(src + i, dst + i, n - i);
}

AWQ_TARGET_AVX2 void awq_bf16_to_fp32_avx2(const uint16_t *src, float *dst, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(src + i)));
        _mm256_storeu_si256((__m256i *)(dst + i), _mm256_slli_epi32(w, 16));
    }
    awq_bf16_to_fp32_scalar(src + i, dst + i, n - i);
}

/* ---- AVX-512 ---------------------------------------------------------------------------------- */
AWQ_TARGET_AVX512 void awq_fp32_to_fp16_avx512(const float *src, uint16_t *dst, int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256i h = _mm512_cvtps_ph(_mm512_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        _mm256_storeu_si256((__m256i *)(dst + i), h);
    }
    awq_fp32_to_fp16_avx2(src + i, dst + i, n - i);
}

AWQ_TARGET_AVX512 void awq_fp16_to_fp32_avx512(const uint16_t *src, float *dst, int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(dst + i, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(src + i))));
    awq_fp16_to_fp32_avx2(src + i, dst + i, n - i);
}

AWQ_TARGET_AVX512 void awq_fp32_to_bf16_avx512(const float *src, uint16_t *dst, int64_t n) {
    const __m512i abs_mask = _mm512_set1_epi32(0x7FFFFFFF);
    const __m512i inf = _mm512_set1_epi32(0x7F800000);
    const __m512i bias = _mm512_set1_epi32(0x7FFF);
    const __m512i one = _mm512_set1_epi32(1);
    const __m512i quiet_bit = _mm512_set1_epi32(0x0040);
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512i x = _mm512_loadu_si512((const void *)(src + i));
        __mmask16 is_nan = _mm512_cmpgt_epi32_mask(_mm512_and_si512(x, abs_mask), inf);
        __m512i hi = _mm512_srli_epi32(x, 16);
        __m512i rounded = _mm512_srli_epi32(_mm512_add_epi32(_mm512_add_epi32(x, bias), _mm512_and_si512(hi, one)), 16);
        __m512i r = _mm512_mask_or_epi32(rounded, is_nan, hi, quiet_bit);
        _mm256_storeu_si256((__m256i *)(dst + i), _mm512_cvtepi32_epi16(r));
    }
    awq_fp32_to_bf16_avx2(src + i, dst + i, n - i);
}

AWQ_TARGET_AVX512 void awq_bf16_to_fp32_avx512(const uint16_t *src, float *dst, int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512i w = _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)(src + i)));
        _mm512_storeu_si512((void *)(dst + i), _mm512_slli_epi32(w, 16));
    }
    awq_bf16_to_fp32_avx2(src + i, dst + i, n - i);
}
#endif /* AWQ_X86 */

/* ---- dispatch --------------------------------------------------------------------------------- */
/* The four conversions have two signatures: narrowing (fp32 -> 16-bit) and widening. */
typedef void (*narrow_fn)(const float *src, uint16_t *dst, int64_t n);
typedef void (*widen_fn)(const uint16_t *src, float *dst, int64_t n);

typedef struct narrow_job { narrow_fn fn; const float *src; uint16_t *dst; } narrow_job;
typedef struct widen_job { widen_fn fn; const uint16_t *src; float *dst; } widen_job;

static void narrow_range(void *ctx, int64_t begin, int64_t end) {
    const narrow_job *job = (const narrow_job *)ctx;
    job->fn(job->src + begin, job->dst + begin, end - begin);
}

static void widen_range(void *ctx, int64_t begin, int64_t end) {
    const widen_job *job = (const widen_job *)ctx;
    job->fn(job->src + begin, job->dst + begin, end - begin);
}

#if AWQ_X86
#define PICK(name)                                                                                 \
    (awq_isa_level() == AWQ_ISA_AVX512 ? name##_avx512                                             \
     : awq_isa_level() == AWQ_ISA_AVX2 ? name##_avx2                                               \
                                       : name##_scalar)
#else
#define PICK(name) name##_scalar
#endif

#define CONVERT_CHECKS(fn)                                                                         \
    AWQ_REQUIRE_POSITIVE(fn, n);                                                                   \
    AWQ_REQUIRE_PTR(fn, src);                                                                      \
    AWQ_REQUIRE_PTR(fn, dst)

int awq_fp32_to_fp16(const float *src, uint16_t *dst, int64_t n) {
    CONVERT_CHECKS("awq_fp32_to_fp16");
    narrow_job job = {PICK(awq_fp32_to_fp16), src, dst};
    awq_parallel_for(n, CONVERT_GRAIN, narrow_range, &job);
    return AWQ_OK;
}

int awq_fp16_to_fp32(const uint16_t *src, float *dst, int64_t n) {
    CONVERT_CHECKS("awq_fp16_to_fp32");
    widen_job job = {PICK(awq_fp16_to_fp32), src, dst};
    awq_parallel_for(n, CONVERT_GRAIN, widen_range, &job);
    return AWQ_OK;
}

int awq_fp32_to_bf16(const float *src, uint16_t *dst, int64_t n) {
    CONVERT_CHECKS("awq_fp32_to_bf16");
    narrow_job job = {PICK(awq_fp32_to_bf16), src, dst};
    awq_parallel_for(n, CONVERT_GRAIN, narrow_range, &job);
    return AWQ_OK;
}

int awq_bf16_to_fp32(const uint16_t *src, float *dst, int64_t n) {
    CONVERT_CHECKS("awq_bf16_to_fp32");
    widen_job job = {PICK(awq_bf16_to_fp32), src, dst};
    awq_parallel_for(n, CONVERT_GRAIN, widen_range, &job);
    return AWQ_OK;
}
