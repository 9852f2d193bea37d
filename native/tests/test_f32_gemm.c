/* test_f32_gemm.c — awq_f32_gemm / awq_f16_gemm: every SIMD path against a double reference and
 * against the scalar path, bit-identical results for 1 and 4 threads and for a row computed alone
 * or inside a batch, and the argument checks. */
#include "layers_internal.h"
#include "awq_test.h"

#include <stdint.h>
#include <string.h>

static int isa_available(awq_isa isa) {
    uint32_t f = awq_features();
    if (isa == AWQ_ISA_AVX2) return (f & AWQ_FEATURE_AVX2_DETECTED) != 0;
    if (isa == AWQ_ISA_AVX512) return (f & AWQ_FEATURE_AVX512_DETECTED) != 0;
    return 1;
}
static const char *isa_name(awq_isa isa) {
    return isa == AWQ_ISA_AVX512 ? "avx512" : isa == AWQ_ISA_AVX2 ? "avx2" : "scalar";
}

/* fp32 -> fp16 bits, round to nearest even (normal range only: test data stays within it) */
static uint16_t to_half(float f) {
    union { float f; uint32_t u; } v = {f};
    uint32_t sign = (v.u >> 16) & 0x8000u;
    int32_t exp = (int32_t)((v.u >> 23) & 0xff) - 127 + 15;
    uint32_t man = v.u & 0x7fffffu;
    if (exp <= 0) return (uint16_t)sign; /* flush tiny values: |x| < 6e-5 never occurs here */
    uint32_t h = ((uint32_t)exp << 10) | (man >> 13);
    uint32_t rest = man & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) h++;
    return (uint16_t)(sign | h);
}

static void gemm(int f16, awq_isa isa, const float *x, int64_t M, int64_t K, const float *w,
                 const uint16_t *wh, int64_t N, float *y) {
    if (f16) awq_f16_gemm_isa(isa, x, M, K, wh, N, y);
    else awq_f32_gemm_isa(isa, x, M, K, w, N, y);
}

static void check_shape(int64_t M, int64_t K, int64_t N, unsigned long long seed) {
    float *x = malloc(sizeof(float) * (size_t)(M * K));
    float *w = malloc(sizeof(float) * (size_t)(N * K));
    float *wd = malloc(sizeof(float) * (size_t)(N * K)); /* fp16-decoded weights */
    uint16_t *wh = malloc(sizeof(uint16_t) * (size_t)(N * K));
    float *y = malloc(sizeof(float) * (size_t)(M * N));
    float *y_scalar = malloc(sizeof(float) * (size_t)(M * N));
    float *y_other = malloc(sizeof(float) * (size_t)(M * N));
    double *ref = malloc(sizeof(double) * (size_t)(M * N));
    double *mag = malloc(sizeof(double) * (size_t)(M * N));
    unsigned long long s = seed;
    for (int64_t i = 0; i < M * K; i++) x[i] = awq_test_uniform(&s, -1.0f, 1.0f);
    for (int64_t i = 0; i < N * K; i++) {
        w[i] = awq_test_uniform(&s, -1.0f, 1.0f);
        wh[i] = to_half(w[i]);
        wd[i] = awq_fp16_to_fp32_1(wh[i]);
    }
    for (int f16 = 0; f16 <= 1; f16++) {
        const float *wr = f16 ? wd : w;
        for (int64_t m = 0; m < M; m++)
            for (int64_t n = 0; n < N; n++) {
                double acc = 0.0, a = 0.0;
                for (int64_t k = 0; k < K; k++) {
                    acc += (double)x[m * K + k] * (double)wr[n * K + k];
                    a += fabs((double)x[m * K + k] * (double)wr[n * K + k]);
                }
                ref[m * N + n] = acc;
                mag[m * N + n] = a;
            }
        for (int isa = AWQ_ISA_SCALAR; isa <= AWQ_ISA_AVX512; isa++) {
            if (!isa_available((awq_isa)isa)) continue;
            awq_set_num_threads(1);
            memset(y, 0xff, sizeof(float) * (size_t)(M * N)); /* NaN: a skipped store cannot pass */
            memset(y_other, 0xff, sizeof(float) * (size_t)(M * N));
            gemm(f16, (awq_isa)isa, x, M, K, w, wh, N, y);
            /* fp32 accumulation error is bounded by ~K * eps * Σ|x·w|; typical is far below */
            int bad = 0;
            for (int64_t i = 0; i < M * N && !bad; i++)
                if (!(fabs((double)y[i] - ref[i]) <= 1e-5 * mag[i] + 1e-30)) {
                    fprintf(stderr, "%s %s M=%lld K=%lld N=%lld seed=%llu: y[%lld]=%.9g ref=%.9g\n",
                            f16 ? "f16" : "f32", isa_name((awq_isa)isa), (long long)M, (long long)K,
                            (long long)N, seed, (long long)i, (double)y[i], ref[i]);
                    bad = 1;
                }
            CHECK(!bad);
            if (isa == AWQ_ISA_SCALAR) memcpy(y_scalar, y, sizeof(float) * (size_t)(M * N));
            else
                for (int64_t i = 0; i < M * N; i++) CHECK(fabs((double)y[i] - (double)y_scalar[i]) <= 2e-5 * mag[i] + 1e-30);

            /* 4 threads: the same bits */
            awq_set_num_threads(4);
            gemm(f16, (awq_isa)isa, x, M, K, w, wh, N, y_other);
            CHECK(memcmp(y, y_other, sizeof(float) * (size_t)(M * N)) == 0);

            /* a row computed alone equals the same row computed in the batch */
            int64_t m = M / 2;
            gemm(f16, (awq_isa)isa, x + m * K, 1, K, w, wh, N, y_other);
            CHECK(memcmp(y + m * N, y_other, sizeof(float) * (size_t)N) == 0);
        }
    }
    free(x), free(w), free(wd), free(wh), free(y), free(y_scalar), free(y_other), free(ref), free(mag);
}

static void check_f16_equals_f32_on_decoded_weights(void) {
    /* widening fp16 is exact, so the f16 kernel on bits == the f32 kernel on the decoded floats */
    const int64_t M = 5, K = 77, N = 9;
    float x[5 * 77], wd[9 * 77], y16[5 * 9], y32[5 * 9];
    uint16_t wh[9 * 77];
    unsigned long long s = 99;
    for (int i = 0; i < M * K; i++) x[i] = awq_test_uniform(&s, -2.0f, 2.0f);
    for (int i = 0; i < N * K; i++) {
        wh[i] = to_half(awq_test_uniform(&s, -3.0f, 3.0f));
        wd[i] = awq_fp16_to_fp32_1(wh[i]);
    }
    for (int isa = AWQ_ISA_SCALAR; isa <= AWQ_ISA_AVX512; isa++) {
        if (!isa_available((awq_isa)isa)) continue;
        awq_f16_gemm_isa((awq_isa)isa, x, M, K, wh, N, y16);
        awq_f32_gemm_isa((awq_isa)isa, x, M, K, wd, N, y32);
        CHECK(memcmp(y16, y32, sizeof y16) == 0);
    }
}

static void check_half_decode(void) {
    CHECK(awq_fp16_to_fp32_1(0x3c00) == 1.0f);
    CHECK(awq_fp16_to_fp32_1(0xc000) == -2.0f);
    CHECK(awq_fp16_to_fp32_1(0x7bff) == 65504.0f);
    CHECK(awq_fp16_to_fp32_1(0x0001) == 0x1p-24f);        /* smallest subnormal */
    CHECK(awq_fp16_to_fp32_1(0x03ff) == 1023 * 0x1p-24f); /* largest subnormal */
    CHECK(awq_fp16_to_fp32_1(0x7c00) == INFINITY);
    CHECK(awq_fp16_to_fp32_1(0xfc00) == -INFINITY);
    CHECK(isnan(awq_fp16_to_fp32_1(0x7e00)));
    float nz = awq_fp16_to_fp32_1(0x8000);
    CHECK(nz == 0.0f && signbit(nz));
}

static void check_errors(void) {
    float x[4] = {0}, w[4] = {0}, y[4] = {0};
    uint16_t wh[4] = {0};
    CHECK_STATUS(awq_f32_gemm(NULL, 1, 1, w, 1, y), AWQ_ERR_NULL_POINTER);
    CHECK(strstr(awq_last_error(), "awq_f32_gemm") && strstr(awq_last_error(), "'x'"));
    CHECK_STATUS(awq_f32_gemm(x, 1, 1, NULL, 1, y), AWQ_ERR_NULL_POINTER);
    CHECK(strstr(awq_last_error(), "'w'") != NULL);
    CHECK_STATUS(awq_f32_gemm(x, 1, 1, w, 1, NULL), AWQ_ERR_NULL_POINTER);
    CHECK_STATUS(awq_f32_gemm(x, 0, 1, w, 1, y), AWQ_ERR_INVALID_SIZE);
    CHECK(strstr(awq_last_error(), "'M'") != NULL);
    CHECK_STATUS(awq_f32_gemm(x, 1, -3, w, 1, y), AWQ_ERR_INVALID_SIZE);
    CHECK(strstr(awq_last_error(), "'K'") != NULL);
    CHECK_STATUS(awq_f32_gemm(x, 1, 1, w, 0, y), AWQ_ERR_INVALID_SIZE);
    CHECK(strstr(awq_last_error(), "'N'") != NULL);
    CHECK_STATUS(awq_f32_gemm(x, INT64_MAX / 2, 4, w, 1, y), AWQ_ERR_OVERFLOW);
    CHECK_STATUS(awq_f16_gemm(x, 1, 1, NULL, 1, y), AWQ_ERR_NULL_POINTER);
    CHECK(strstr(awq_last_error(), "awq_f16_gemm") && strstr(awq_last_error(), "'w'"));
    CHECK_STATUS(awq_f16_gemm(x, 1, 0, wh, 1, y), AWQ_ERR_INVALID_SIZE);
    CHECK_STATUS(awq_f16_gemm(x, 1, 1, wh, 1, y), AWQ_OK);
}

int main(void) {
    printf("simd path: %s\n", awq_simd_path());
    static const int64_t Ms[] = {1, 3, 17, 128}, Ks[] = {1, 7, 64, 172, 1000}, Ns[] = {1, 5, 33, 512};
    unsigned long long seed = 12345;
    for (size_t a = 0; a < 4; a++)
        for (size_t b = 0; b < 5; b++)
            for (size_t c = 0; c < 4; c++) check_shape(Ms[a], Ks[b], Ns[c], seed++);
    check_f16_equals_f32_on_decoded_weights();
    check_half_decode();
    check_errors();
    awq_set_num_threads(1);
    TEST_MAIN_END();
}
