/* test_clip_error.c — awq_clip_error: every SIMD path gives the scalar reference's bits (odd
 * shapes, short last groups, blocks past N, any thread count), the scalar reference agrees with a
 * float64 evaluation of the definition, and bad arguments get named statuses. */
#include "../src/cpu/clip_error.h"
#include "awq_test.h"

#include <string.h>

static int isa_available(awq_isa isa) {
    uint32_t f = awq_features();
    if (isa == AWQ_ISA_AVX2) return (f & AWQ_FEATURE_AVX2_DETECTED) != 0;
    if (isa == AWQ_ISA_AVX512) return (f & AWQ_FEATURE_AVX512_DETECTED) != 0;
    return 1;
}

/* The definition in float64: err = mean_m (Σ_{k∈g} x·d)². */
static void reference(const float *x, int64_t M, int64_t K, const float *d, int64_t N, int64_t G, double *err) {
    int64_t ng = (K + G - 1) / G;
    for (int64_t n = 0; n < N; n++)
        for (int64_t g = 0; g < ng; g++) {
            int64_t k1 = (g + 1) * G < K ? (g + 1) * G : K;
            double e = 0;
            for (int64_t m = 0; m < M; m++) {
                double p = 0;
                for (int64_t k = g * G; k < k1; k++) p += (double)x[m * K + k] * d[n * K + k];
                e += p * p;
            }
            err[n * ng + g] = e / (double)M;
        }
}

static void check_shape(int64_t M, int64_t K, int64_t N, int64_t G, unsigned long long seed) {
    int64_t ng = (K + G - 1) / G;
    float *x = malloc(sizeof(float) * (size_t)(M * K)), *d = malloc(sizeof(float) * (size_t)(N * K));
    double *ref = malloc(sizeof(double) * (size_t)(N * ng)), *scalar = malloc(sizeof(double) * (size_t)(N * ng));
    double *got = malloc(sizeof(double) * (size_t)(N * ng));
    for (int64_t i = 0; i < M * K; i++) x[i] = awq_test_uniform(&seed, -2.0f, 2.0f);
    for (int64_t i = 0; i < N * K; i++) d[i] = awq_test_uniform(&seed, -0.05f, 0.05f);
    reference(x, M, K, d, N, G, ref);
    CHECK_STATUS(awq_clip_error_isa(AWQ_ISA_SCALAR, x, M, K, d, N, G, scalar), AWQ_OK);
    int far = 0;
    for (int64_t i = 0; i < N * ng; i++)
        if (!(fabs(scalar[i] - ref[i]) <= 1e-4 * ref[i] + 1e-12)) far++;
    if (far) fprintf(stderr, "M%lld K%lld N%lld G%lld: %d of %lld scalar errors far from float64\n", (long long)M,
                     (long long)K, (long long)N, (long long)G, far, (long long)(N * ng));
    CHECK(far == 0);
    for (int isa = AWQ_ISA_AVX2; isa <= AWQ_ISA_AVX512; isa++) {
        if (!isa_available((awq_isa)isa)) continue;
        for (int threads = 1; threads <= 3; threads += 2) {
            awq_set_num_threads(threads);
            memset(got, 0xff, sizeof(double) * (size_t)(N * ng));
            CHECK_STATUS(awq_clip_error_isa((awq_isa)isa, x, M, K, d, N, G, got), AWQ_OK);
            int diff = 0;
            for (int64_t i = 0; i < N * ng; i++)
                if (memcmp(&got[i], &scalar[i], sizeof(double)) != 0) diff++;
            if (diff) fprintf(stderr, "isa %d, %d threads, M%lld K%lld N%lld G%lld: %d of %lld differ from scalar\n", isa,
                              threads, (long long)M, (long long)K, (long long)N, (long long)G, diff, (long long)(N * ng));
            CHECK(diff == 0);
        }
    }
    awq_set_num_threads(0);
    free(x), free(d), free(ref), free(scalar), free(got);
}

/* A known value: one row, one group, x = 1..4, d = 1 → p = 10 per calibration row. */
static void check_known(void) {
    float x[8] = {1, 2, 3, 4, -1, -2, -3, -4}, d[4] = {1, 1, 1, 1};
    double err[1];
    CHECK_STATUS(awq_clip_error(x, 2, 4, d, 1, 4, err), AWQ_OK);
    CHECK(err[0] == 100.0);
    /* two groups of 2: p = 3, 7 for row 0 and −3, −7 for row 1 */
    double err2[2];
    CHECK_STATUS(awq_clip_error(x, 2, 4, d, 1, 2, err2), AWQ_OK);
    CHECK(err2[0] == 9.0 && err2[1] == 49.0);
}

static void check_errors(void) {
    float x[4] = {0}, d[4] = {0};
    double err[4];
    CHECK_STATUS(awq_clip_error(NULL, 1, 4, d, 1, 4, err), AWQ_ERR_NULL_POINTER);
    CHECK_STATUS(awq_clip_error(x, 1, 4, NULL, 1, 4, err), AWQ_ERR_NULL_POINTER);
    CHECK_STATUS(awq_clip_error(x, 1, 4, d, 1, 4, NULL), AWQ_ERR_NULL_POINTER);
    CHECK_STATUS(awq_clip_error(x, 0, 4, d, 1, 4, err), AWQ_ERR_INVALID_SIZE);
    CHECK_STATUS(awq_clip_error(x, 1, -4, d, 1, 4, err), AWQ_ERR_INVALID_SIZE);
    CHECK_STATUS(awq_clip_error(x, 1, 4, d, 0, 4, err), AWQ_ERR_INVALID_SIZE);
    CHECK_STATUS(awq_clip_error(x, 1, 4, d, 1, 0, err), AWQ_ERR_INVALID_GROUP_SIZE);
    CHECK_STATUS(awq_clip_error(x, INT64_MAX / 2, 4, d, 1, 4, err), AWQ_ERR_OVERFLOW);
    CHECK(strstr(awq_last_error(), "awq_clip_error") != NULL);
}

int main(void) {
    unsigned long long seed = 0x5eedULL;
    check_known();
    check_errors();
    /* odd M (tile tails 1..3), K with a short last group, N past one 64-row block and below one */
    const int64_t shapes[][4] = {
        {1, 16, 1, 16}, {3, 100, 5, 32}, {5, 128, 63, 128}, {7, 130, 65, 64},
        {9, 256, 130, 128}, {16, 96, 64, 96}, {2, 33, 200, 7}, {33, 512, 96, 128},
    };
    for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++)
        check_shape(shapes[i][0], shapes[i][1], shapes[i][2], shapes[i][3], seed + i);
    TEST_MAIN_END();
}
