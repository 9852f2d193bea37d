/* test_w4a16.c — awq_w4a16_gemm: every SIMD path against a float64 reference and against the
 * scalar path, bit-identical results for 1 and 4 threads, and every argument check.
 * Random data from a seed printed at start (set AWQ_TEST_SEED to replay a failure). */
#include "awq_internal.h"
#include "awq_test.h"
#include "w4a16.h"

#include <stdint.h>
#include <string.h>
#include <time.h>

typedef struct problem {
    int64_t M, K, N, G, kh, ng;
    float *x, *y;
    uint8_t *qw, *zeros;
    uint16_t *scales;
    double *ref;     /* Σ x·w in float64 */
    double *abs_ref; /* Σ |x|·s·(q + z): scale of the terms the zero-point form adds up */
} problem;

/* fp32 -> fp16 bits for test data: round to nearest even, normal range only (scales are in it). */
static uint16_t to_half(float f) {
    union { float f; uint32_t u; } v = {f};
    uint32_t sign = (v.u >> 16) & 0x8000u;
    int32_t exp = (int32_t)((v.u >> 23) & 0xff) - 127 + 15;
    uint32_t man = v.u & 0x7fffffu;
    if (exp <= 0 || exp >= 31) return (uint16_t)sign; /* not produced by the generator below */
    uint32_t h = ((uint32_t)exp << 10) | (man >> 13);
    uint32_t rest = man & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) h++;
    return (uint16_t)(sign | h);
}

static void make_problem(problem *p, int64_t M, int64_t K, int64_t N, int64_t G, unsigned long long *rng,
                         float x_offset) {
    p->M = M, p->K = K, p->N = N, p->G = G;
    p->kh = (K + 1) / 2;
    p->ng = (K + G - 1) / G;
    p->x = malloc(sizeof(float) * (size_t)(M * K));
    p->y = malloc(sizeof(float) * (size_t)(M * N));
    p->qw = malloc((size_t)(N * p->kh));
    p->zeros = malloc((size_t)(N * p->ng));
    p->scales = malloc(sizeof(uint16_t) * (size_t)(N * p->ng));
    p->ref = malloc(sizeof(double) * (size_t)(M * N));
    p->abs_ref = malloc(sizeof(double) * (size_t)(M * N));
    for (int64_t i = 0; i < M * K; i++) p->x[i] = awq_test_uniform(rng, -1.0f, 1.0f) + x_offset;
    /* random bytes: for odd K the unused high nibble of each row's last byte is garbage on
     * purpose — the kernels must ignore it */
    for (int64_t i = 0; i < N * p->kh; i++) p->qw[i] = (uint8_t)(awq_test_rng(rng) >> 56);
    for (int64_t i = 0; i < N * p->ng; i++) {
        p->zeros[i] = (uint8_t)(awq_test_rng(rng) >> 60);
        p->scales[i] = to_half(awq_test_uniform(rng, 0.001f, 0.05f));
    }
    for (int64_t m = 0; m < M; m++)
        for (int64_t n = 0; n < N; n++) {
            double acc = 0.0, abs_acc = 1e-300;
            for (int64_t k = 0; k < K; k++) {
                int q = (p->qw[n * p->kh + k / 2] >> (4 * (k % 2))) & 15;
                int64_t g = k / G;
                double w = (double)(q - p->zeros[n * p->ng + g]) *
                           (double)awq_fp16_to_fp32_1(p->scales[n * p->ng + g]);
                acc += (double)p->x[m * K + k] * w;
                abs_acc += fabs((double)p->x[m * K + k]) * (double)(q + p->zeros[n * p->ng + g]) *
                           (double)awq_fp16_to_fp32_1(p->scales[n * p->ng + g]);
            }
            p->ref[m * N + n] = acc;
            p->abs_ref[m * N + n] = abs_acc;
        }
}

static void free_problem(problem *p) {
    free(p->x), free(p->y), free(p->qw), free(p->zeros), free(p->scales), free(p->ref), free(p->abs_ref);
}

/* Two measures against float64: the norm-wise relative error ||y - ref|| / ||ref|| (meaningful
 * when there are enough outputs that ||ref|| is not a lucky near-zero), and the worst element's
 * error relative to Σ_k |x_k|·s·(q_k + z), the size of the terms y = Σ s·(Σxq − z·Σx) adds in
 * fp32, which its rounding error is proportional to. Any indexing or unpacking bug is off by
 * about |y|, orders of magnitude above either bound. */
static double rel_err_ref(const problem *p) {
    double num = 0, den = 0;
    for (int64_t i = 0; i < p->M * p->N; i++) {
        double d = (double)p->y[i] - p->ref[i];
        num += d * d;
        den += p->ref[i] * p->ref[i];
    }
    return den > 0 ? sqrt(num / den) : sqrt(num);
}

static double worst_scaled_err(const problem *p) {
    double worst = 0;
    for (int64_t i = 0; i < p->M * p->N; i++) {
        double d = fabs((double)p->y[i] - p->ref[i]) / p->abs_ref[i];
        if (!(d <= worst)) worst = d; /* NaN propagates as a failure */
    }
    return worst;
}

static int isa_available(awq_isa isa) {
    uint32_t f = awq_features();
    if (isa == AWQ_ISA_AVX2) return (f & AWQ_FEATURE_AVX2_DETECTED) != 0;
    if (isa == AWQ_ISA_AVX512) return (f & AWQ_FEATURE_AVX512_DETECTED) != 0;
    return 1;
}

static const char *isa_name(awq_isa isa) {
    return isa == AWQ_ISA_AVX512 ? "avx512" : isa == AWQ_ISA_AVX2 ? "avx2" : "scalar";
}

static void check_shape(int64_t M, int64_t K, int64_t N, int64_t G, unsigned long long *rng, float x_offset) {
    problem p;
    make_problem(&p, M, K, N, G, rng, x_offset);
    float *scalar_y = malloc(sizeof(float) * (size_t)(M * N));
    for (int isa = AWQ_ISA_SCALAR; isa <= AWQ_ISA_AVX512; isa++) {
        if (!isa_available((awq_isa)isa)) continue;
        memset(p.y, 0xff, sizeof(float) * (size_t)(M * N)); /* NaN: every output must be written */
        CHECK_STATUS(awq_w4a16_gemm_isa((awq_isa)isa, p.x, M, K, p.qw, p.scales, p.zeros, N, G, p.y), AWQ_OK);
        double e = rel_err_ref(&p), w = worst_scaled_err(&p);
        if (getenv("AWQ_TEST_VERBOSE"))
            printf("%s M=%lld K=%lld N=%lld G=%lld off=%g: rel %.3g scaled %.3g\n", isa_name((awq_isa)isa),
                   (long long)M, (long long)K, (long long)N, (long long)G, x_offset, e, w);
        /* the norm-wise bound needs enough outputs; the scaled bound holds for every element */
        if (!(w < 1e-6) || (M * N >= 16 && !(e < 1e-5))) {
            fprintf(stderr, "%s M=%lld K=%lld N=%lld G=%lld off=%g: rel err %.3g, scaled err %.3g\n",
                    isa_name((awq_isa)isa), (long long)M, (long long)K, (long long)N, (long long)G, x_offset, e, w);
            awq_test_failures++;
        }
        if (isa == AWQ_ISA_SCALAR) {
            memcpy(scalar_y, p.y, sizeof(float) * (size_t)(M * N));
        } else {
            /* same data, different summation order: agree to fp32 rounding of the dot products */
            for (int64_t i = 0; i < M * N; i++) {
                double d = fabs((double)p.y[i] - scalar_y[i]) / p.abs_ref[i];
                if (!(d < 1e-6)) {
                    fprintf(stderr, "%s vs scalar M=%lld K=%lld N=%lld G=%lld: element %lld differs by %.3g (scaled)\n",
                            isa_name((awq_isa)isa), (long long)M, (long long)K, (long long)N, (long long)G,
                            (long long)i, d);
                    awq_test_failures++;
                    break;
                }
            }
        }
    }
    free(scalar_y);
    free_problem(&p);
}

static void check_threads(int64_t M, int64_t K, int64_t N, int64_t G, unsigned long long *rng) {
    problem p;
    make_problem(&p, M, K, N, G, rng, 0.0f);
    float *y1 = malloc(sizeof(float) * (size_t)(M * N));
    for (int isa = AWQ_ISA_SCALAR; isa <= AWQ_ISA_AVX512; isa++) {
        if (!isa_available((awq_isa)isa)) continue;
        CHECK_STATUS(awq_set_num_threads(1), AWQ_OK);
        CHECK_STATUS(awq_w4a16_gemm_isa((awq_isa)isa, p.x, M, K, p.qw, p.scales, p.zeros, N, G, y1), AWQ_OK);
        CHECK_STATUS(awq_set_num_threads(4), AWQ_OK);
        CHECK_STATUS(awq_w4a16_gemm_isa((awq_isa)isa, p.x, M, K, p.qw, p.scales, p.zeros, N, G, p.y), AWQ_OK);
        if (memcmp(y1, p.y, sizeof(float) * (size_t)(M * N)) != 0) {
            fprintf(stderr, "%s M=%lld K=%lld N=%lld: 1 and 4 threads differ\n", isa_name((awq_isa)isa),
                    (long long)M, (long long)K, (long long)N);
            awq_test_failures++;
        }
    }
    free(y1);
    free_problem(&p);
}

static void check_errors(void) {
    float x[8] = {0}, y[4];
    uint8_t qw[16] = {0}, z[4] = {0};
    uint16_t s[4] = {0x3c00, 0x3c00, 0x3c00, 0x3c00};
#define EXPECT_ERR(call, status, arg)                                                               \
    do {                                                                                           \
        CHECK_STATUS(call, status);                                                                \
        CHECK(strstr(awq_last_error(), "awq_w4a16_gemm") != NULL);                                 \
        CHECK(strstr(awq_last_error(), "'" arg "'") != NULL);                                      \
    } while (0)
    CHECK_STATUS(awq_w4a16_gemm(x, 1, 8, qw, s, z, 4, 8, y), AWQ_OK);
    EXPECT_ERR(awq_w4a16_gemm(NULL, 1, 8, qw, s, z, 4, 8, y), AWQ_ERR_NULL_POINTER, "x");
    EXPECT_ERR(awq_w4a16_gemm(x, 1, 8, NULL, s, z, 4, 8, y), AWQ_ERR_NULL_POINTER, "qweight");
    EXPECT_ERR(awq_w4a16_gemm(x, 1, 8, qw, NULL, z, 4, 8, y), AWQ_ERR_NULL_POINTER, "scales");
    EXPECT_ERR(awq_w4a16_gemm(x, 1, 8, qw, s, NULL, 4, 8, y), AWQ_ERR_NULL_POINTER, "zeros");
    EXPECT_ERR(awq_w4a16_gemm(x, 1, 8, qw, s, z, 4, 8, NULL), AWQ_ERR_NULL_POINTER, "y");
    EXPECT_ERR(awq_w4a16_gemm(x, 0, 8, qw, s, z, 4, 8, y), AWQ_ERR_INVALID_SIZE, "M");
    EXPECT_ERR(awq_w4a16_gemm(x, 1, -3, qw, s, z, 4, 8, y), AWQ_ERR_INVALID_SIZE, "K");
    EXPECT_ERR(awq_w4a16_gemm(x, 1, 8, qw, s, z, 0, 8, y), AWQ_ERR_INVALID_SIZE, "N");
    EXPECT_ERR(awq_w4a16_gemm(x, 1, 8, qw, s, z, 4, 0, y), AWQ_ERR_INVALID_GROUP_SIZE, "group_size");
    EXPECT_ERR(awq_w4a16_gemm(x, 1, 8, qw, s, z, 4, -128, y), AWQ_ERR_INVALID_GROUP_SIZE, "group_size");
    z[3] = 16;
    EXPECT_ERR(awq_w4a16_gemm(x, 1, 8, qw, s, z, 4, 8, y), AWQ_ERR_INVALID_ARGUMENT, "zeros");
    z[3] = 0;
    {   /* 20 rows x 1 group: zeros checked eight bytes a step (0..15), then a 4-byte tail */
        uint8_t qw20[80] = {0}, z20[20] = {0};
        uint16_t s20[20];
        float y20[20];
        for (int i = 0; i < 20; i++) s20[i] = 0x3c00;
        CHECK_STATUS(awq_w4a16_gemm(x, 1, 8, qw20, s20, z20, 20, 8, y20), AWQ_OK);
        for (int at = 0; at < 20; at += 3) {
            z20[at] = (uint8_t)(16 + at * 11);
            EXPECT_ERR(awq_w4a16_gemm(x, 1, 8, qw20, s20, z20, 20, 8, y20), AWQ_ERR_INVALID_ARGUMENT, "zeros");
            char row[32];
            snprintf(row, sizeof row, "row %d,", at);
            CHECK(strstr(awq_last_error(), row) != NULL);
            z20[at] = 15;
        }
        CHECK_STATUS(awq_w4a16_gemm(x, 1, 8, qw20, s20, z20, 20, 8, y20), AWQ_OK);
    }
    EXPECT_ERR(awq_w4a16_gemm(x, INT64_MAX / 2, 8, qw, s, z, 4, 8, y), AWQ_ERR_OVERFLOW, "x");
#undef EXPECT_ERR
}

int main(void) {
    unsigned long long seed = (unsigned long long)time(NULL) * 2654435761ULL + (unsigned long long)clock();
    const char *env = getenv("AWQ_TEST_SEED");
    if (env) seed = strtoull(env, NULL, 0);
    if (seed == 0) seed = 1;
    printf("test_w4a16 seed %llu (AWQ_TEST_SEED=%llu replays it), simd %s\n", seed, seed, awq_simd_path());
    unsigned long long rng = seed;

    check_errors();

    const int64_t Ms[] = {1, 2, 3, 7, 16};
    const int64_t Ks[] = {8, 64, 172, 256, 1000, 4096};
    const int64_t Ns[] = {1, 13, 100, 257};
    const int64_t Gs[] = {32, 64, 128, 40};
    for (size_t a = 0; a < sizeof Ms / sizeof *Ms; a++)
        for (size_t b = 0; b < sizeof Ks / sizeof *Ks; b++)
            for (size_t c = 0; c < sizeof Ns / sizeof *Ns; c++) {
                if (Ks[b] * Ns[c] * Ms[a] > 4000000) continue;
                check_shape(Ms[a], Ks[b], Ns[c], Gs[(a + b + c) % 4], &rng, 0.0f);
            }
    /* large M (several M blocks and ragged tiles), odd K, odd and tiny group sizes, G > K */
    check_shape(64, 256, 100, 64, &rng, 0.0f);
    check_shape(130, 172, 29, 32, &rng, 0.0f);
    check_shape(512, 64, 37, 32, &rng, 0.0f);
    check_shape(5, 171, 19, 32, &rng, 0.0f);
    check_shape(1, 7, 5, 2, &rng, 0.0f);
    check_shape(4, 33, 9, 3, &rng, 0.0f);
    check_shape(3, 17, 11, 1, &rng, 0.0f);
    check_shape(2, 100, 6, 256, &rng, 0.0f);
    check_shape(9, 1000, 7, 6, &rng, 0.0f);
    /* even group sizes whose boundaries fall at every offset inside a SIMD step */
    for (int64_t G = 2; G <= 66; G += 2) {
        check_shape(1, 333, 5, G, &rng, 0.0f);
        check_shape(3, 333, 5, G, &rng, 0.0f);
    }
    /* activations with a large common offset (the Σx zero-point trick must not lose accuracy) */
    check_shape(3, 1000, 33, 128, &rng, 4.0f);

    check_threads(1, 4096, 300, 128, &rng);
    check_threads(37, 512, 77, 64, &rng);
    check_threads(100, 172, 64, 32, &rng);
    TEST_MAIN_END();
}
