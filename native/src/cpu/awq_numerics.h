/*
 * awq_numerics.h — internal interface of convert.c, quantize.c and pack.c: the one-value format
 * conversions (static inline, so other kernels can decode an fp16 scale without a call) and the
 * scalar/AVX2/AVX-512 array variants that the public functions dispatch to and ctest compares.
 *
 * The one-value functions ARE the scalar reference. They work on the bit patterns with integer
 * arithmetic only, so they do not depend on MXCSR (rounding mode, FTZ/DAZ) and they are what the
 * managed Fp16/Bf16 classes mirror line for line.
 */
#ifndef AWQ_NUMERICS_H
#define AWQ_NUMERICS_H

#include "awq_internal.h"

#include <stdint.h>
#include <string.h>

static inline uint32_t awq_f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static inline float awq_bits_f32(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* fp32 -> fp16, round to nearest even; bit-identical to VCVTPS2PH with imm8 = RNE:
 *  NaN  -> sign | 0x7E00 | top 9 payload bits (quiet bit forced, as the instruction does),
 *  |x| >= 65520 (halfway between 65504 and 2^16, ties to even = up) -> ±Inf,
 *  |x| <= 2^-25 (half the smallest subnormal, ties to even = 0) -> ±0, subnormals rounded exactly. */
static inline uint16_t awq_fp32_to_fp16_1(float f) {
    uint32_t x = awq_f32_bits(f);
    uint32_t sign = (x >> 16) & 0x8000u;
    uint32_t ax = x & 0x7FFFFFFFu;
    if (ax > 0x7F800000u) return (uint16_t)(sign | 0x7E00u | ((ax >> 13) & 0x3FFu));
    if (ax >= 0x477FF000u) return (uint16_t)(sign | 0x7C00u);
    if (ax >= 0x38800000u) {
        /* Normal result: rebias the exponent (127 -> 15), then round the 13 dropped mantissa bits
         * half-to-even. A carry out of the mantissa correctly bumps the exponent. */
        uint32_t r = ax - 0x38000000u;
        r += 0x0FFFu + ((r >> 13) & 1u);
        return (uint16_t)(sign | (r >> 13));
    }
    if (ax <= 0x33000000u) return (uint16_t)sign;
    /* Subnormal result: units of 2^-24. The 24-bit significand m has value m * 2^(e-150), so the
     * result is m >> (126 - e) rounded half-to-even (shift is 14..24 here). A carry to 0x400 is
     * the smallest normal, encoded correctly by the same bits. */
    uint32_t e = ax >> 23;
    uint32_t m = (ax & 0x7FFFFFu) | 0x800000u;
    uint32_t shift = 126u - e;
    uint32_t q = m >> shift;
    uint32_t rem = m & ((1u << shift) - 1u);
    uint32_t half = 1u << (shift - 1u);
    if (rem > half || (rem == half && (q & 1u))) q++;
    return (uint16_t)(sign | q);
}

/* fp16 -> fp32, exact; NaN -> sign | 0x7FC00000 | payload << 13 (signalling NaNs are quieted,
 * as VCVTPH2PS does). */
static inline float awq_fp16_to_fp32_1(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t e = (h >> 10) & 0x1Fu;
    uint32_t m = h & 0x3FFu;
    if (e == 0x1Fu) return awq_bits_f32(m == 0 ? (sign | 0x7F800000u) : (sign | 0x7FC00000u | (m << 13)));
    if (e != 0) return awq_bits_f32(sign | ((e + 112u) << 23) | (m << 13));
    if (m == 0) return awq_bits_f32(sign);
    /* Subnormal m * 2^-24: with the leading one at bit p (0..9) the value is 1.f * 2^(p-24). */
    uint32_t p = 31u - (uint32_t)__builtin_clz(m);
    return awq_bits_f32(sign | ((p + 103u) << 23) | ((m << (23u - p)) & 0x7FFFFFu));
}

/* fp32 -> bf16, round to nearest even INCLUDING fp32 subnormals (bf16 shares fp32's exponent, so
 * a subnormal rounds like any other value); overflow past the largest bf16 -> ±Inf;
 * NaN -> top 16 bits with the quiet bit (0x0040) set, sign and top payload kept.
 * Deliberately NOT AVX-512 BF16's VCVTNEPS2BF16: that instruction flushes subnormal inputs to
 * zero (measured: 0x007FFFFF -> 0x0000, exact RNE gives 0x0080), and we want exact rounding. */
static inline uint16_t awq_fp32_to_bf16_1(float f) {
    uint32_t x = awq_f32_bits(f);
    if ((x & 0x7FFFFFFFu) > 0x7F800000u) return (uint16_t)((x >> 16) | 0x0040u);
    return (uint16_t)((x + 0x7FFFu + ((x >> 16) & 1u)) >> 16);
}

/* bf16 -> fp32: bf16 is by definition the top half of an fp32, so widening is a shift and is
 * exact for every pattern (a signalling NaN stays signalling, like every bf16 implementation). */
static inline float awq_bf16_to_fp32_1(uint16_t b) { return awq_bits_f32((uint32_t)b << 16); }

/* Array variants. n >= 0; no argument checks (the public functions do them). The SIMD variants
 * exist only on x86-64 and must only be called when awq_features() reports the ISA detected. */
void awq_fp32_to_fp16_scalar(const float *src, uint16_t *dst, int64_t n);
void awq_fp16_to_fp32_scalar(const uint16_t *src, float *dst, int64_t n);
void awq_fp32_to_bf16_scalar(const float *src, uint16_t *dst, int64_t n);
void awq_bf16_to_fp32_scalar(const uint16_t *src, float *dst, int64_t n);
#if AWQ_X86
void awq_fp32_to_fp16_avx2(const float *src, uint16_t *dst, int64_t n);
void awq_fp16_to_fp32_avx2(const uint16_t *src, float *dst, int64_t n);
void awq_fp32_to_bf16_avx2(const float *src, uint16_t *dst, int64_t n);
void awq_bf16_to_fp32_avx2(const uint16_t *src, float *dst, int64_t n);
void awq_fp32_to_fp16_avx512(const float *src, uint16_t *dst, int64_t n);
void awq_fp16_to_fp32_avx512(const uint16_t *src, float *dst, int64_t n);
void awq_fp32_to_bf16_avx512(const float *src, uint16_t *dst, int64_t n);
void awq_bf16_to_fp32_avx512(const uint16_t *src, float *dst, int64_t n);
#endif

#endif /* AWQ_NUMERICS_H */
