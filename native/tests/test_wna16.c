/* test_wna16.c — awq_wna16_gemm at 2, 3, 4 and 8 bits (lane-interleaved layout): every path against a float64 reference
 * and against the scalar path, odd shapes and short last groups, bit-identical results for 1 and
 * 3 threads, a changed weight code caught by the same tolerances, and every argument check.
 * Random data from a seed printed at start (set AWQ_TEST_SEED to replay a failure). */
#include "awq_internal.h"
#include "awq_test.h"
#include "wna16.h"

#include <stdint.h>
#include <string.h>
#include <time.h>

typedef struct problem {
    int64_t M, K, N, G, nw, ng;
    int bits, pl;
    float *x, *y;
    int32_t *qw;
    uint8_t *zeros;
    uint16_t *scales;
    double *ref;     /* Σ x·w in float64 */
    double *abs_ref; /* Σ |x·w|: the scale of the fp32 rounding error of the dot product */
} problem;

/* fp32 -> fp16 bits for test data: round to nearest even, normal range only (scales are in it). */
static uint16_t to_half(float f) {
    union { float f; uint32_t u; } v = {f};
    uint32_t sign = (v.u >> 16) & 0x8000u;
    int32_t exp = (int32_t)((v.u >> 23) & 0xff) - 127 + 15;
    uint32_t man = v.u & 0x7fffffu;
    if (exp <= 0 || exp >= 31) return (uint16_t)sign;
    uint32_t h = ((uint32_t)exp << 10) | (man >> 13);
    uint32_t rest = man & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) h++;
    return (uint16_t)(sign | h);
}

/* Where column k lives, written from the header independently of the kernels' helper: block
 * t = k / (8·pl), word 8t + (k mod 8) of the row, code j = (k mod 8·pl) / 8 at bit j·bits. */
static int64_t ref_word(const problem *p, int64_t n, int64_t k) {
    const int64_t b = 8 * (int64_t)p->pl;
    return n * p->nw + 8 * (k / b) + k % 8;
}
static unsigned ref_bit(const problem *p, int64_t k) { return (unsigned)((k % (8 * p->pl)) / 8 * p->bits); }
static int ref_code(const problem *p, int64_t n, int64_t k) {
    uint32_t word = (uint32_t)p->qw[ref_word(p, n, k)];
    return (int)((word >> ref_bit(p, k)) % (1u << p->bits));
}

static void compute_ref(problem *p) {
    for (int64_t m = 0; m < p->M; m++)
        for (int64_t n = 0; n < p->N; n++) {
            double acc = 0.0, abs_acc = 1e-300;
            for (int64_t k = 0; k < p->K; k++) {
                int64_t g = k / p->G;
                double w = (double)(ref_code(p, n, k) - p->zeros[n * p->ng + g]) *
                           (double)awq_fp16_to_fp32_1(p->scales[n * p->ng + g]);
                acc += (double)p->x[m * p->K + k] * w;
                abs_acc += fabs((double)p->x[m * p->K + k] * w);
            }
            p->ref[m * p->N + n] = acc;
            p->abs_ref[m * p->N + n] = abs_acc;
        }
}

static void make_problem(problem *p, int bits, int64_t M, int64_t K, int64_t N, int64_t G, unsigned long long *rng) {
    p->M = M, p->K = K, p->N = N, p->G = G, p->bits = bits, p->pl = 32 / bits;
    p->nw = 8 * ((K + 8 * p->pl - 1) / (8 * p->pl));
    p->ng = (K + G - 1) / G;
    p->x = malloc(sizeof(float) * (size_t)(M * K));
    p->y = malloc(sizeof(float) * (size_t)(M * N));
    p->qw = malloc(sizeof(int32_t) * (size_t)(N * p->nw));
    p->zeros = malloc((size_t)(N * p->ng));
    p->scales = malloc(sizeof(uint16_t) * (size_t)(N * p->ng));
    p->ref = malloc(sizeof(double) * (size_t)(M * N));
    p->abs_ref = malloc(sizeof(double) * (size_t)(M * N));
    for (int64_t i = 0; i < M * K; i++) p->x[i] = awq_test_uniform(rng, -1.0f, 1.0f);
    /* random words: the padding codes past K and a 3-bit word's top two bits are garbage on
     * purpose — the kernels must ignore them */
    for (int64_t i = 0; i < N * p->nw; i++) p->qw[i] = (int32_t)(uint32_t)(awq_test_rng(rng) >> 32);
    for (int64_t i = 0; i < N * p->ng; i++) {
        p->zeros[i] = (uint8_t)((awq_test_rng(rng) >> 40) % (1u << bits));
        p->scales[i] = to_half(awq_test_uniform(rng, 0.001f, 0.05f));
    }
    compute_ref(p);
}

static void free_problem(problem *p) {
    free(p->x), free(p->y), free(p->qw), free(p->zeros), free(p->scales), free(p->ref), free(p->abs_ref);
}

/* Worst element's error relative to Σ|x·w|: the fp32 dot product of exact weights is within about
 * K·2^-24 of it in the worst case and far less in practice; an indexing or unpacking bug, one wrong
 * code, or one wrong zero point is off by a whole term s·|x|, orders of magnitude above the bound. */
static double worst_scaled_err(const problem *p) {
    double worst = 0;
    for (int64_t i = 0; i < p->M * p->N; i++) {
        double d = fabs((double)p->y[i] - p->ref[i]) / p->abs_ref[i];
        if (!(d <= worst)) worst = d; /* NaN propagates as a failure */
    }
    return worst;
}

#define TOL 1e-6

static int isa_available(awq_isa isa) {
    uint32_t f = awq_features();
    if (isa == AWQ_ISA_AVX2) return (f & AWQ_FEATURE_AVX2_DETECTED) != 0;
    if (isa == AWQ_ISA_AVX512) return (f & AWQ_FEATURE_AVX512_DETECTED) != 0;
    return 1;
}

static const char *isa_name(awq_isa isa) {
    return isa == AWQ_ISA_AVX512 ? "avx512" : isa == AWQ_ISA_AVX2 ? "avx2" : "scalar";
}

static void check_shape(int bits, int64_t M, int64_t K, int64_t N, int64_t G, unsigned long long *rng) {
    problem p;
    make_problem(&p, bits, M, K, N, G, rng);
    for (int isa = AWQ_ISA_SCALAR; isa <= AWQ_ISA_AVX2; isa++) {
        if (!isa_available((awq_isa)isa)) continue;
        memset(p.y, 0xff, sizeof(float) * (size_t)(M * N)); /* NaN: every output must be written */
        CHECK_STATUS(awq_wna16_gemm_isa((awq_isa)isa, p.x, M, K, p.qw, bits, p.scales, p.zeros, N, G, p.y), AWQ_OK);
        double w = worst_scaled_err(&p);
        if (getenv("AWQ_TEST_VERBOSE"))
            printf("%s w%d M=%lld K=%lld N=%lld G=%lld: scaled %.3g\n", isa_name((awq_isa)isa), bits, (long long)M,
                   (long long)K, (long long)N, (long long)G, w);
        if (!(w < TOL)) {
            fprintf(stderr, "%s w%d M=%lld K=%lld N=%lld G=%lld: scaled err %.3g\n", isa_name((awq_isa)isa), bits,
                    (long long)M, (long long)K, (long long)N, (long long)G, w);
            awq_test_failures++;
        }
    }
    free_problem(&p);
}

/* The bound is tight enough to see one changed code: flip the highest bit of the code of one
 * column (the last one of the row, in the short last group) and the kernel's result must fail
 * the check against the unchanged reference. */
static void check_mutation_caught(int bits, unsigned long long *rng) {
    problem p;
    make_problem(&p, bits, 2, 172, 5, 32, rng);
    const int64_t n = 3, k = p.K - 1;
    const uint32_t flip = 1u << (ref_bit(&p, k) + (unsigned)bits - 1);
    p.qw[ref_word(&p, n, k)] ^= (int32_t)flip;
    for (int64_t m = 0; m < p.M; m++) p.x[m * p.K + k] = 0.75f; /* a term well above rounding */
    compute_ref(&p); /* reference with the new x, then restore the original code for the kernel */
    p.qw[ref_word(&p, n, k)] ^= (int32_t)flip;
    CHECK_STATUS(awq_wna16_gemm(p.x, p.M, p.K, p.qw, bits, p.scales, p.zeros, p.N, p.G, p.y), AWQ_OK);
    if (worst_scaled_err(&p) < TOL) {
        fprintf(stderr, "w%d: one changed code went unnoticed (scaled err %.3g)\n", bits, worst_scaled_err(&p));
        awq_test_failures++;
    }
    free_problem(&p);
}

static void check_threads(int bits, int64_t M, int64_t K, int64_t N, int64_t G, unsigned long long *rng) {
    problem p;
    make_problem(&p, bits, M, K, N, G, rng);
    float *y1 = malloc(sizeof(float) * (size_t)(M * N));
    for (int isa = AWQ_ISA_SCALAR; isa <= AWQ_ISA_AVX2; isa++) {
        if (!isa_available((awq_isa)isa)) continue;
        CHECK_STATUS(awq_set_num_threads(1), AWQ_OK);
        CHECK_STATUS(awq_wna16_gemm_isa((awq_isa)isa, p.x, M, K, p.qw, bits, p.scales, p.zeros, N, G, y1), AWQ_OK);
        CHECK_STATUS(awq_set_num_threads(3), AWQ_OK);
        CHECK_STATUS(awq_wna16_gemm_isa((awq_isa)isa, p.x, M, K, p.qw, bits, p.scales, p.zeros, N, G, p.y), AWQ_OK);
        if (memcmp(y1, p.y, sizeof(float) * (size_t)(M * N)) != 0) {
            fprintf(stderr, "%s w%d M=%lld K=%lld N=%lld: 1 and 3 threads differ\n", isa_name((awq_isa)isa), bits,
                    (long long)M, (long long)K, (long long)N);
            awq_test_failures++;
        }
    }
    free(y1);
    free_problem(&p);
}

static void check_errors(void) {
    float x[8] = {0}, y[4];
    int32_t qw[32] = {0}; /* 4 rows of one block of 8 words at any width */
    uint8_t z[4] = {0};
    uint16_t s[4] = {0x3c00, 0x3c00, 0x3c00, 0x3c00};
#define EXPECT_ERR(call, status, arg)                                                               \
    do {                                                                                           \
        CHECK_STATUS(call, status);                                                                \
        CHECK(strstr(awq_last_error(), "awq_wna16_gemm") != NULL);                                 \
        CHECK(strstr(awq_last_error(), "'" arg "'") != NULL);                                      \
    } while (0)
    CHECK_STATUS(awq_wna16_gemm(x, 1, 8, qw, 3, s, z, 4, 8, y), AWQ_OK);
    EXPECT_ERR(awq_wna16_gemm(NULL, 1, 8, qw, 3, s, z, 4, 8, y), AWQ_ERR_NULL_POINTER, "x");
    EXPECT_ERR(awq_wna16_gemm(x, 1, 8, NULL, 3, s, z, 4, 8, y), AWQ_ERR_NULL_POINTER, "qweight");
    EXPECT_ERR(awq_wna16_gemm(x, 1, 8, qw, 3, NULL, z, 4, 8, y), AWQ_ERR_NULL_POINTER, "scales");
    EXPECT_ERR(awq_wna16_gemm(x, 1, 8, qw, 3, s, NULL, 4, 8, y), AWQ_ERR_NULL_POINTER, "zeros");
    EXPECT_ERR(awq_wna16_gemm(x, 1, 8, qw, 3, s, z, 4, 8, NULL), AWQ_ERR_NULL_POINTER, "y");
    EXPECT_ERR(awq_wna16_gemm(x, 0, 8, qw, 3, s, z, 4, 8, y), AWQ_ERR_INVALID_SIZE, "M");
    EXPECT_ERR(awq_wna16_gemm(x, 1, -3, qw, 3, s, z, 4, 8, y), AWQ_ERR_INVALID_SIZE, "K");
    EXPECT_ERR(awq_wna16_gemm(x, 1, 8, qw, 3, s, z, 0, 8, y), AWQ_ERR_INVALID_SIZE, "N");
    EXPECT_ERR(awq_wna16_gemm(x, 1, 8, qw, 3, s, z, 4, 0, y), AWQ_ERR_INVALID_GROUP_SIZE, "group_size");
    const int bad_bits[] = {0, 1, 5, 6, 7, 9, 16, -4};
    for (size_t i = 0; i < sizeof bad_bits / sizeof *bad_bits; i++)
        EXPECT_ERR(awq_wna16_gemm(x, 1, 8, qw, bad_bits[i], s, z, 4, 8, y), AWQ_ERR_INVALID_ARGUMENT, "bits");
    /* zero points: 0..2^bits-1 */
    const int bits[] = {2, 3, 4, 8};
    for (size_t i = 0; i < 4; i++) {
        z[2] = (uint8_t)((1u << bits[i]) - 1u);
        CHECK_STATUS(awq_wna16_gemm(x, 1, 8, qw, bits[i], s, z, 4, 8, y), AWQ_OK);
        if (bits[i] < 8) {
            z[2] = (uint8_t)(1u << bits[i]);
            EXPECT_ERR(awq_wna16_gemm(x, 1, 8, qw, bits[i], s, z, 4, 8, y), AWQ_ERR_INVALID_ARGUMENT, "zeros");
            CHECK(strstr(awq_last_error(), "row 2,") != NULL);
        }
        z[2] = 0;
    }
    EXPECT_ERR(awq_wna16_gemm(x, INT64_MAX / 2, 8, qw, 3, s, z, 4, 8, y), AWQ_ERR_OVERFLOW, "x");
#undef EXPECT_ERR
}

int main(void) {
    unsigned long long seed = (unsigned long long)time(NULL) * 2654435761ULL + (unsigned long long)clock();
    const char *env = getenv("AWQ_TEST_SEED");
    if (env) seed = strtoull(env, NULL, 0);
    if (seed == 0) seed = 1;
    printf("test_wna16 seed %llu (AWQ_TEST_SEED=%llu replays it), simd %s\n", seed, seed, awq_simd_path());
    unsigned long long rng = seed;

    check_errors();

    const int bits[] = {2, 3, 4, 8};
    const int64_t Ms[] = {1, 2, 7, 33};
    const int64_t Ks[] = {8, 64, 172, 256, 1000};
    const int64_t Ns[] = {1, 13, 100};
    const int64_t Gs[] = {32, 64, 128, 40};
    for (size_t b = 0; b < 4; b++) {
        for (size_t i = 0; i < sizeof Ms / sizeof *Ms; i++)
            for (size_t j = 0; j < sizeof Ks / sizeof *Ks; j++)
                for (size_t c = 0; c < sizeof Ns / sizeof *Ns; c++)
                    check_shape(bits[b], Ms[i], Ks[j], Ns[c], Gs[(i + j + c) % 4], &rng);
        /* odd K (every offset inside a word and an unpacking cycle), odd and tiny groups, G > K */
        for (int64_t K = 1; K <= 45; K++) check_shape(bits[b], 2, K, 3, 7, &rng);
        check_shape(bits[b], 3, 172, 29, 32, &rng); /* stories260K's down_proj: 5 groups + 12 */
        check_shape(bits[b], 1, 171, 19, 3, &rng);
        check_shape(bits[b], 2, 333, 5, 1, &rng);
        check_shape(bits[b], 2, 100, 6, 256, &rng);
        check_shape(bits[b], 65, 96, 37, 12, &rng);
        check_mutation_caught(bits[b], &rng);
        check_threads(bits[b], 1, 1000, 300, 32, &rng);
        check_threads(bits[b], 37, 172, 77, 32, &rng);
    }
    TEST_MAIN_END();
}
