/* test_convert.c — fp32 <-> fp16 / bf16: every SIMD path against the scalar reference over every
 * input pattern (all 2^16 narrow ones, all 2^32 fp32 ones), the scalar reference against an
 * independent float64 rounding over a stride of fp32 patterns, named edge cases, the public
 * dispatching functions (tails, threads) and bad arguments. */
#include "awq_numerics.h"
#include "awq_test.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static float f32(uint32_t u) { return awq_bits_f32(u); }

/* ---- independent references (float64 arithmetic, libm rounding; no bit tricks shared with the code) ---- */

/* fp16 value of h as a double; NaN for NaN patterns. */
static double ref_fp16_value(uint16_t h) {
    int sign = h >> 15, e = (h >> 10) & 31, m = h & 1023;
    double v;
    if (e == 31) v = m ? NAN : INFINITY;
    else if (e == 0) v = ldexp((double)m, -24);
    else v = ldexp((double)(1024 + m), e - 25);
    return sign ? -v : v;
}

/* Round x to fp16 by scaling to units of the fp16 ulp and letting nearbyint (ties to even) round. */
static uint16_t ref_fp32_to_fp16(float x) {
    uint16_t sign = signbit(x) ? 0x8000 : 0;
    if (isnan(x)) return (uint16_t)(sign | 0x7E00 | ((awq_f32_bits(x) >> 13) & 0x3FF)); /* F16C NaN rule */
    double a = fabs((double)x);
    if (a >= 65520.0) return sign | 0x7C00;
    if (a == 0.0) return sign;
    int k;
    frexp(a, &k);          /* a = f * 2^k, f in [0.5, 1) -> exponent of the leading bit is k - 1 */
    int E = k - 1 < -14 ? -14 : k - 1;
    double r = nearbyint(ldexp(a, 10 - E)); /* integer count of ulps 2^(E-10) */
    if (r == 0) return sign;
    if (r >= 2048) { r /= 2; E++; }
    if (r < 1024) return (uint16_t)(sign | (uint16_t)r);                     /* subnormal */
    return (uint16_t)(sign | ((E + 15) << 10) | ((uint16_t)r - 1024));
}

/* Round x to bf16 (8 significant bits, fp32 exponent range, subnormals exact). */
static uint16_t ref_fp32_to_bf16(float x) {
    uint32_t bits = awq_f32_bits(x);
    if (isnan(x)) return (uint16_t)((bits >> 16) | 0x40);
    double a = fabs((double)x);
    uint16_t sign = (uint16_t)((bits >> 16) & 0x8000);
    if (a == 0.0 || isinf(a)) return (uint16_t)(bits >> 16);
    int k;
    frexp(a, &k);
    int E = k - 1 < -126 ? -126 : k - 1;
    double v = ldexp(nearbyint(ldexp(a, 7 - E)), E - 7);
    if (v >= ldexp(1.0, 128)) return sign | 0x7F80;
    return (uint16_t)(sign | (awq_f32_bits((float)v) >> 16));
}

/* ---- exhaustive SIMD-vs-scalar sweeps over all 2^32 fp32 patterns, on the thread pool ---- */
typedef struct sweep {
    int have_avx2, have_avx512;
    int64_t stride; /* every stride-th chunk; 1 = all 2^32 patterns */
    atomic_llong mismatches;
} sweep;

#define CHUNK 65536

static void sweep_range(void *ctx, int64_t begin, int64_t end) {
    sweep *s = (sweep *)ctx;
    /* heap, not stack: this runs on pool workers */
    float *src = malloc(CHUNK * sizeof *src);
    uint16_t *ref = malloc(CHUNK * sizeof *ref), *got = malloc(CHUNK * sizeof *got);
    const size_t bytes = CHUNK * sizeof *ref;
    long long bad = 0;
    for (int64_t c = begin; c < end; c++) {
        if (c % s->stride != 0) continue;
        for (uint32_t i = 0; i < CHUNK; i++) src[i] = f32((uint32_t)c * CHUNK + i);
        awq_fp32_to_fp16_scalar(src, ref, CHUNK);
#if AWQ_X86
        if (s->have_avx2) {
            awq_fp32_to_fp16_avx2(src, got, CHUNK);
            bad += memcmp(ref, got, bytes) != 0;
        }
        if (s->have_avx512) {
            awq_fp32_to_fp16_avx512(src, got, CHUNK);
            bad += memcmp(ref, got, bytes) != 0;
        }
#endif
        awq_fp32_to_bf16_scalar(src, ref, CHUNK);
#if AWQ_X86
        if (s->have_avx2) {
            awq_fp32_to_bf16_avx2(src, got, CHUNK);
            bad += memcmp(ref, got, bytes) != 0;
        }
        if (s->have_avx512) {
            awq_fp32_to_bf16_avx512(src, got, CHUNK);
            bad += memcmp(ref, got, bytes) != 0;
        }
#endif
    }
    free(src);
    free(ref);
    free(got);
    if (bad) atomic_fetch_add(&s->mismatches, bad);
}

/* AWQ_TEST_SWEEP_STRIDE=n sweeps every n-th chunk of 65536 patterns (scripts/sanitize.sh: the
 * plain ctest run has swept all of them; under ASan+UBSan a sample keeps the run short). */
static int64_t sweep_stride(void) {
    const char *env = getenv("AWQ_TEST_SWEEP_STRIDE");
    long long v = env ? atoll(env) : 1;
    return v >= 1 && v <= 65536 ? (int64_t)v : 1;
}

static void test_all_fp32_patterns(int have_avx2, int have_avx512) {
    sweep s = {have_avx2, have_avx512, sweep_stride(), 0};
    awq_parallel_for(65536, 16, sweep_range, &s);
    CHECK(atomic_load(&s.mismatches) == 0);
}

/* Scalar reference against the float64 references over a stride of fp32 patterns (a prime stride
 * hits every exponent and many mantissa bit patterns) plus every pattern near the fp16 range. */
static void test_scalar_against_float64(void) {
    long long bad16 = 0, bad_bf = 0;
    for (uint64_t u = 0; u < (1ull << 32); u += 997) {
        float x = f32((uint32_t)u);
        bad16 += awq_fp32_to_fp16_1(x) != ref_fp32_to_fp16(x);
        bad_bf += awq_fp32_to_bf16_1(x) != ref_fp32_to_bf16(x);
    }
    /* a dense stride over 2^-26 .. 2^17, the whole rounding range of fp16 (both signs), and every
     * pattern within 64 of each fp16 rounding tie point (where a wrong rounding would show) */
    for (uint32_t u = 0x32800000u; u <= 0x48000000u; u += 7) {
        bad16 += awq_fp32_to_fp16_1(f32(u)) != ref_fp32_to_fp16(f32(u));
        bad16 += awq_fp32_to_fp16_1(-f32(u)) != ref_fp32_to_fp16(-f32(u));
    }
    for (uint32_t h = 0; h < 0x7BFFu; h++) { /* 0x7BFF..Inf: the 65520 edge cases */
        /* midpoint between fp16 h and h+1, in fp32 (exact: fp32 has 13 more mantissa bits) */
        float mid = (float)((ref_fp16_value((uint16_t)h) + ref_fp16_value((uint16_t)(h + 1))) / 2);
        uint32_t m = awq_f32_bits(mid);
        for (uint32_t u = m - 64; u <= m + 64; u++) {
            bad16 += awq_fp32_to_fp16_1(f32(u)) != ref_fp32_to_fp16(f32(u));
            bad16 += awq_fp32_to_fp16_1(f32(u | 0x80000000u)) != ref_fp32_to_fp16(f32(u | 0x80000000u));
        }
    }
    /* every fp32 subnormal and the first normals for bf16 */
    for (uint32_t u = 0; u <= 0x01000000u; u++) {
        bad_bf += awq_fp32_to_bf16_1(f32(u)) != ref_fp32_to_bf16(f32(u));
        bad_bf += awq_fp32_to_bf16_1(f32(u | 0x80000000u)) != ref_fp32_to_bf16(f32(u | 0x80000000u));
    }
    CHECK(bad16 == 0);
    CHECK(bad_bf == 0);
}

/* All 65,536 fp16 and bf16 patterns: paths agree; values match the float64 decoding. */
static void test_all_16bit_patterns(int have_avx2, int have_avx512) {
    static uint16_t h[65536];
    static float ref[65536], got[65536];
    for (uint32_t i = 0; i < 65536; i++) h[i] = (uint16_t)i;

    awq_fp16_to_fp32_scalar(h, ref, 65536);
    for (uint32_t i = 0; i < 65536; i++) {
        double v = ref_fp16_value((uint16_t)i);
        uint32_t bits = awq_f32_bits(ref[i]);
        if (isnan(v)) {
            /* quiet NaN, sign kept, the 10-bit payload in the top of the fp32 mantissa */
            CHECK((bits & 0x7FC00000u) == 0x7FC00000u);
            CHECK((bits >> 31) == (i >> 15));
            CHECK(((bits >> 13) & 0x1FFu) == (i & 0x1FFu));
        } else {
            CHECK(ref[i] == (float)v);
            CHECK(!signbit(ref[i]) == !signbit(v)); /* -0 stays -0 */
        }
    }
    /* narrowing what we widened gives the pattern back, except signalling NaNs (quieted) */
    for (uint32_t i = 0; i < 65536; i++) {
        uint16_t back = awq_fp32_to_fp16_1(ref[i]);
        int snan = ((i >> 10) & 31) == 31 && (i & 1023) != 0 && !(i & 0x200);
        CHECK(back == (snan ? (i | 0x200) : i));
    }
#if AWQ_X86
    if (have_avx2) {
        awq_fp16_to_fp32_avx2(h, got, 65536);
        CHECK(memcmp(ref, got, sizeof ref) == 0);
    }
    if (have_avx512) {
        awq_fp16_to_fp32_avx512(h, got, 65536);
        CHECK(memcmp(ref, got, sizeof ref) == 0);
    }
#endif

    awq_bf16_to_fp32_scalar(h, ref, 65536);
    for (uint32_t i = 0; i < 65536; i++) {
        CHECK(awq_f32_bits(ref[i]) == i << 16);
        CHECK(awq_fp32_to_bf16_1(ref[i]) == (isnan(ref[i]) ? (i | 0x40) : i));
    }
#if AWQ_X86
    if (have_avx2) {
        awq_bf16_to_fp32_avx2(h, got, 65536);
        CHECK(memcmp(ref, got, sizeof ref) == 0);
    }
    if (have_avx512) {
        awq_bf16_to_fp32_avx512(h, got, 65536);
        CHECK(memcmp(ref, got, sizeof ref) == 0);
    }
#endif
}

static void test_edge_cases(void) {
    /* fp16 */
    CHECK(awq_fp32_to_fp16_1(0.0f) == 0x0000);
    CHECK(awq_fp32_to_fp16_1(-0.0f) == 0x8000);
    CHECK(awq_fp32_to_fp16_1(INFINITY) == 0x7C00);
    CHECK(awq_fp32_to_fp16_1(-INFINITY) == 0xFC00);
    CHECK(awq_fp32_to_fp16_1(1.0f) == 0x3C00);
    CHECK(awq_fp32_to_fp16_1(65504.0f) == 0x7BFF);
    CHECK(awq_fp32_to_fp16_1(65519.99f) == 0x7BFF);
    CHECK(awq_fp32_to_fp16_1(65520.0f) == 0x7C00);
    CHECK(awq_fp32_to_fp16_1(-65520.0f) == 0xFC00);
    CHECK(awq_fp32_to_fp16_1(1e10f) == 0x7C00);
    CHECK(awq_fp32_to_fp16_1(ldexpf(1.0f, -24)) == 0x0001);          /* smallest subnormal */
    CHECK(awq_fp32_to_fp16_1(ldexpf(1.0f, -25)) == 0x0000);          /* tie -> even (0) */
    CHECK(awq_fp32_to_fp16_1(-ldexpf(1.0f, -25)) == 0x8000);
    CHECK(awq_fp32_to_fp16_1(nextafterf(ldexpf(1.0f, -25), 1.0f)) == 0x0001);
    CHECK(awq_fp32_to_fp16_1(ldexpf(3.0f, -25)) == 0x0002);          /* 1.5 ulp: tie -> even 2 */
    CHECK(awq_fp32_to_fp16_1(ldexpf(5.0f, -25)) == 0x0002);          /* 2.5 ulp: tie -> even 2 */
    CHECK(awq_fp32_to_fp16_1(ldexpf(1.0f, -14)) == 0x0400);          /* smallest normal */
    CHECK(awq_fp32_to_fp16_1(ldexpf(1023.5f, -24)) == 0x0400);       /* subnormal rounds up to normal */
    CHECK(awq_fp32_to_fp16_1(1.0f + ldexpf(1.0f, -11)) == 0x3C00);   /* halfway 1 .. 1+2^-10 -> even */
    CHECK(awq_fp32_to_fp16_1(1.0f + ldexpf(3.0f, -11)) == 0x3C02);   /* halfway, odd below -> up */
    CHECK(awq_fp32_to_fp16_1(f32(0x00000001u)) == 0x0000);           /* fp32 subnormals -> 0 */
    CHECK(awq_fp32_to_fp16_1(f32(0x807FFFFFu)) == 0x8000);
    CHECK(awq_fp32_to_fp16_1(f32(0x7FC00000u)) == 0x7E00);           /* quiet NaN */
    CHECK(awq_fp32_to_fp16_1(f32(0x7F800001u)) == 0x7E00);           /* sNaN, payload below fp16's */
    CHECK(awq_fp32_to_fp16_1(f32(0x7FA02000u)) == 0x7F01);           /* payload kept, quiet set */
    CHECK(awq_fp32_to_fp16_1(f32(0xFFC00001u)) == 0xFE00);           /* sign kept */
    CHECK(awq_fp16_to_fp32_1(0x0001) == ldexpf(1.0f, -24));
    CHECK(awq_fp16_to_fp32_1(0x7BFF) == 65504.0f);
    CHECK(awq_f32_bits(awq_fp16_to_fp32_1(0x7C01)) == 0x7FC02000u); /* sNaN quieted, payload kept */
    CHECK(awq_f32_bits(awq_fp16_to_fp32_1(0xFE00)) == 0xFFC00000u);
    CHECK(awq_f32_bits(awq_fp16_to_fp32_1(0x8000)) == 0x80000000u);
    /* bf16 */
    CHECK(awq_fp32_to_bf16_1(1.0f) == 0x3F80);
    CHECK(awq_fp32_to_bf16_1(1.0f + ldexpf(1.0f, -8)) == 0x3F80);    /* tie -> even */
    CHECK(awq_fp32_to_bf16_1(1.0f + ldexpf(3.0f, -8)) == 0x3F82);    /* tie, odd below -> up */
    CHECK(awq_fp32_to_bf16_1(nextafterf(1.0f + ldexpf(1.0f, -8), 2.0f)) == 0x3F81);
    CHECK(awq_fp32_to_bf16_1(f32(0x7F7FFFFFu)) == 0x7F80);           /* FLT_MAX rounds to Inf */
    CHECK(awq_fp32_to_bf16_1(f32(0x7F7F7FFFu)) == 0x7F7F);           /* just below the tie */
    CHECK(awq_fp32_to_bf16_1(-INFINITY) == 0xFF80);
    CHECK(awq_fp32_to_bf16_1(-0.0f) == 0x8000);
    CHECK(awq_fp32_to_bf16_1(f32(0x007FFFFFu)) == 0x0080);           /* subnormal, not flushed */
    CHECK(awq_fp32_to_bf16_1(f32(0x00008000u)) == 0x0000);           /* subnormal tie -> even */
    CHECK(awq_fp32_to_bf16_1(f32(0x00018000u)) == 0x0002);
    CHECK(awq_fp32_to_bf16_1(f32(0x7F800001u)) == 0x7FC0);           /* sNaN quieted */
    CHECK(awq_fp32_to_bf16_1(f32(0xFF810000u)) == 0xFFC1);           /* payload and sign kept */
    CHECK(awq_fp32_to_bf16_1(f32(0x7FFFFFFFu)) == 0x7FFF);           /* never rounds into Inf/sign */
    CHECK(awq_f32_bits(awq_bf16_to_fp32_1(0xFF81)) == 0xFF810000u);
}

/* The public functions: dispatch, tails of every length, and the threaded split. */
static void test_public_api(void) {
    unsigned long long rng = 42;
    const int64_t n = 3 * 65536 + 37; /* several thread-pool chunks plus a SIMD tail */
    float *x = malloc((size_t)n * sizeof *x), *back = malloc((size_t)n * sizeof *back);
    uint16_t *h = malloc((size_t)n * sizeof *h);
    for (int64_t i = 0; i < n; i++) x[i] = f32((uint32_t)awq_test_rng(&rng));
    for (int threads = 1; threads <= 3; threads += 2) {
        awq_set_num_threads(threads);
        CHECK_STATUS(awq_fp32_to_fp16(x, h, n), AWQ_OK);
        for (int64_t i = 0; i < n; i++) CHECK(h[i] == awq_fp32_to_fp16_1(x[i]));
        CHECK_STATUS(awq_fp16_to_fp32(h, back, n), AWQ_OK);
        for (int64_t i = 0; i < n; i++) CHECK(awq_f32_bits(back[i]) == awq_f32_bits(awq_fp16_to_fp32_1(h[i])));
        CHECK_STATUS(awq_fp32_to_bf16(x, h, n), AWQ_OK);
        for (int64_t i = 0; i < n; i++) CHECK(h[i] == awq_fp32_to_bf16_1(x[i]));
        CHECK_STATUS(awq_bf16_to_fp32(h, back, n), AWQ_OK);
        for (int64_t i = 0; i < n; i++) CHECK(awq_f32_bits(back[i]) == (uint32_t)h[i] << 16);
    }
    /* every short length exercises the SIMD tails */
    for (int64_t len = 1; len <= 40; len++) {
        uint16_t out[40];
        CHECK_STATUS(awq_fp32_to_fp16(x + 3, out, len), AWQ_OK);
        for (int64_t i = 0; i < len; i++) CHECK(out[i] == awq_fp32_to_fp16_1(x[3 + i]));
        CHECK_STATUS(awq_fp32_to_bf16(x + 5, out, len), AWQ_OK);
        for (int64_t i = 0; i < len; i++) CHECK(out[i] == awq_fp32_to_bf16_1(x[5 + i]));
    }
    free(x);
    free(back);
    free(h);
}

#define CHECK_ERROR(expr, status, fn, arg)                                                         \
    do {                                                                                           \
        CHECK_STATUS(expr, status);                                                                \
        CHECK(strstr(awq_last_error(), fn) != NULL);                                               \
        CHECK(strstr(awq_last_error(), "'" arg "'") != NULL);                                      \
    } while (0)

static void test_bad_arguments(void) {
    float f[4] = {0};
    uint16_t h[4] = {0};
    CHECK_ERROR(awq_fp32_to_fp16(NULL, h, 4), AWQ_ERR_NULL_POINTER, "awq_fp32_to_fp16", "src");
    CHECK_ERROR(awq_fp32_to_fp16(f, NULL, 4), AWQ_ERR_NULL_POINTER, "awq_fp32_to_fp16", "dst");
    CHECK_ERROR(awq_fp32_to_fp16(f, h, 0), AWQ_ERR_INVALID_SIZE, "awq_fp32_to_fp16", "n");
    CHECK_ERROR(awq_fp32_to_fp16(f, h, -1), AWQ_ERR_INVALID_SIZE, "awq_fp32_to_fp16", "n");
    CHECK_ERROR(awq_fp16_to_fp32(NULL, f, 4), AWQ_ERR_NULL_POINTER, "awq_fp16_to_fp32", "src");
    CHECK_ERROR(awq_fp16_to_fp32(h, NULL, 4), AWQ_ERR_NULL_POINTER, "awq_fp16_to_fp32", "dst");
    CHECK_ERROR(awq_fp16_to_fp32(h, f, 0), AWQ_ERR_INVALID_SIZE, "awq_fp16_to_fp32", "n");
    CHECK_ERROR(awq_fp32_to_bf16(NULL, h, 4), AWQ_ERR_NULL_POINTER, "awq_fp32_to_bf16", "src");
    CHECK_ERROR(awq_fp32_to_bf16(f, NULL, 4), AWQ_ERR_NULL_POINTER, "awq_fp32_to_bf16", "dst");
    CHECK_ERROR(awq_fp32_to_bf16(f, h, -5), AWQ_ERR_INVALID_SIZE, "awq_fp32_to_bf16", "n");
    CHECK_ERROR(awq_bf16_to_fp32(NULL, f, 4), AWQ_ERR_NULL_POINTER, "awq_bf16_to_fp32", "src");
    CHECK_ERROR(awq_bf16_to_fp32(h, NULL, 4), AWQ_ERR_NULL_POINTER, "awq_bf16_to_fp32", "dst");
    CHECK_ERROR(awq_bf16_to_fp32(h, f, 0), AWQ_ERR_INVALID_SIZE, "awq_bf16_to_fp32", "n");
}

int main(void) {
    uint32_t feat = awq_features();
    int have_avx2 = (feat & AWQ_FEATURE_AVX2_DETECTED) != 0;
    int have_avx512 = (feat & AWQ_FEATURE_AVX512_DETECTED) != 0;
    printf("comparing scalar with:%s%s\n", have_avx2 ? " avx2" : "", have_avx512 ? " avx512" : "");
    if (!have_avx2) printf("note: no AVX2/F16C on this CPU, SIMD paths not exercised\n");

    test_edge_cases();
    test_all_16bit_patterns(have_avx2, have_avx512);
    test_scalar_against_float64();
    test_public_api();
    test_all_fp32_patterns(have_avx2, have_avx512);
    test_bad_arguments();
    TEST_MAIN_END();
}
