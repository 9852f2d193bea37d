/* test_simd_math.c — the vector exp of simd_math.h against exp() in double over its whole input
 * range, and the softmax / silu paths built on it against the scalar (libm) path. */
#include "awq_test.h"
#include "layers_internal.h"
#include "simd_math.h"

#include <string.h>

#if AWQ_X86
AWQ_TARGET_AVX512 static float exp512(float x) {
    float out[16];
    _mm512_storeu_ps(out, awq_exp_avx512(_mm512_set1_ps(x)));
    return out[0];
}
AWQ_TARGET_AVX2 static float exp256(float x) {
    float out[8];
    _mm256_storeu_ps(out, awq_exp_avx2(_mm256_set1_ps(x)));
    return out[0];
}

static void check_exp(int isa) {
    double worst = 0;
    float worst_x = 0;
    /* every 499th float between -87.3 and 88 (about 4 million values) */
    for (float x = -87.3f; x < 88.0f; x = nextafterf(x, 100.0f)) {
        for (int skip = 0; skip < 498 && x < 88.0f; skip++) x = nextafterf(x, 100.0f);
        double ref = exp((double)x);
        float got = isa == AWQ_ISA_AVX512 ? exp512(x) : exp256(x);
        double rel = fabs(got - ref) / ref;
        if (rel > worst) { worst = rel; worst_x = x; }
    }
    printf("isa %d: max relative error of exp %.3g at x = %.9g\n", isa, worst, (double)worst_x);
    CHECK(worst < 2.5e-7);
    float e0 = isa == AWQ_ISA_AVX512 ? exp512(0.0f) : exp256(0.0f);
    CHECK(e0 == 1.0f);
    /* the tails: denormal results, underflow to 0 and overflow to +Inf match libm's expf */
    for (float x = -110.0f; x < -80.0f; x += 0.37f) {
        float got = isa == AWQ_ISA_AVX512 ? exp512(x) : exp256(x);
        CHECK_NEAR(got, expf(x), 2.5e-7 * expf(x) + 2e-45);
    }
    CHECK((isa == AWQ_ISA_AVX512 ? exp512(-1000.0f) : exp256(-1000.0f)) == 0.0f);
    CHECK(isinf(isa == AWQ_ISA_AVX512 ? exp512(100.0f) : exp256(100.0f)));
}
#endif

static void check_softmax_silu(awq_isa isa) {
    unsigned long long s = 99;
    for (int64_t n = 1; n < 3000; n = n * 2 + 3) {
        float *a = malloc(sizeof(float) * (size_t)n), *b = malloc(sizeof(float) * (size_t)n);
        float *u = malloc(sizeof(float) * (size_t)n), *o1 = malloc(sizeof(float) * (size_t)n), *o2 = malloc(sizeof(float) * (size_t)n);
        for (int64_t i = 0; i < n; i++) {
            a[i] = b[i] = awq_test_uniform(&s, -30.0f, 30.0f);
            u[i] = awq_test_uniform(&s, -2.0f, 2.0f);
        }
        awq_softmax_row(a, n);
        awq_softmax_row_isa(isa, b, n);
        double sum = 0;
        for (int64_t i = 0; i < n; i++) {
            CHECK_NEAR(b[i], a[i], 3e-7 * a[i] + 1e-30);
            sum += b[i];
        }
        CHECK_NEAR(sum, 1.0, 1e-5);
        for (int64_t i = 0; i < n; i++) a[i] = awq_test_uniform(&s, -90.0f, 90.0f);
        awq_silu_mul_isa(AWQ_ISA_SCALAR, a, u, n, o1);
        awq_silu_mul_isa(isa, a, u, n, o2);
        for (int64_t i = 0; i < n; i++) CHECK_NEAR(o2[i], o1[i], 5e-7 * fabs(o1[i]) + 1e-30);
        free(a), free(b), free(u), free(o1), free(o2);
    }
}

int main(void) {
#if AWQ_X86
    uint32_t f = awq_features();
    if (f & AWQ_FEATURE_AVX2_DETECTED) { check_exp(AWQ_ISA_AVX2); check_softmax_silu(AWQ_ISA_AVX2); }
    if (f & AWQ_FEATURE_AVX512_DETECTED) { check_exp(AWQ_ISA_AVX512); check_softmax_silu(AWQ_ISA_AVX512); }
#endif
    check_softmax_silu(AWQ_ISA_SCALAR);
    TEST_MAIN_END();
}
