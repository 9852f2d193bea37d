/* test_int8_gemm.c — awq_int8_gemm / awq_int8_gemm_f32: every path this CPU runs (scalar, AVX2,
 * AVX-512 BW, AVX-512 VNNI) exactly equal to an int64 reference, with and without w_zero, at the
 * extremes of the operand ranges and the largest legal K; identical results for 1 and 4 threads;
 * every argument check. Random data from a printed seed (AWQ_TEST_SEED replays it). */
#include "awq_internal.h"
#include "awq_test.h"
#include "int8_gemm.h"

#include <string.h>
#include <time.h>

static const char *path_name(awq_int8_path p) {
    static const char *names[] = {"scalar", "avx2", "avx512", "avx512vnni"};
    return names[p];
}

static int path_available(awq_int8_path p) {
    uint32_t f = awq_features();
    switch (p) {
    case AWQ_INT8_SCALAR: return 1;
    case AWQ_INT8_AVX2: return (f & AWQ_FEATURE_AVX2_DETECTED) != 0;
    case AWQ_INT8_AVX512: return (f & AWQ_FEATURE_AVX512_DETECTED) != 0;
    case AWQ_INT8_AVX512VNNI: return (f & AWQ_FEATURE_AVX512VNNI_DETECTED) != 0;
    }
    return 0;
}

/* mode 0: uniform codes; 1: the extremes (x in {0,255}, w in {-128,127}, zeros at the far ends),
 * which would expose any saturating instruction; 2: the largest |acc| there is, every term
 * (255 - 0)·(127 - -128) (row 0) or (0 - 255)·(127 - -128) (row 1). */
static void check_shape(int64_t M, int64_t K, int64_t N, int with_wzero, int mode, unsigned long long *rng) {
    uint8_t *x = malloc((size_t)(M * K));
    int8_t *w = malloc((size_t)(N * K));
    int32_t *xz = malloc(sizeof(int32_t) * (size_t)M), *wz = malloc(sizeof(int32_t) * (size_t)N);
    float *xs = malloc(sizeof(float) * (size_t)M), *ws = malloc(sizeof(float) * (size_t)N);
    int64_t *ref = malloc(sizeof(int64_t) * (size_t)(M * N));
    int32_t *acc = malloc(sizeof(int32_t) * (size_t)(M * N));
    float *y = malloc(sizeof(float) * (size_t)(M * N));
    for (int64_t i = 0; i < M * K; i++)
        x[i] = mode == 2 ? (i / K == 0 ? 255 : 0)
                         : mode ? (awq_test_rng(rng) >> 63 ? 255 : 0) : (uint8_t)(awq_test_rng(rng) >> 56);
    for (int64_t i = 0; i < N * K; i++)
        w[i] = mode == 2 ? 127 : mode ? (awq_test_rng(rng) >> 63 ? 127 : -128) : (int8_t)(awq_test_rng(rng) >> 56);
    for (int64_t m = 0; m < M; m++) {
        xz[m] = mode ? (m % 2 ? 255 : 0) : (int32_t)(awq_test_rng(rng) >> 56);
        if (mode == 2) xz[m] = m == 0 ? 0 : 255;
        xs[m] = awq_test_uniform(rng, 1e-3f, 1e-1f);
    }
    for (int64_t n = 0; n < N; n++) {
        wz[n] = mode == 2 ? -128 : mode ? (n % 2 ? 127 : -128) : (int32_t)(awq_test_rng(rng) >> 56) - 128;
        ws[n] = awq_test_uniform(rng, 1e-3f, 1e-1f);
    }
    const int32_t *wzp = with_wzero ? wz : NULL;
    for (int64_t m = 0; m < M; m++)
        for (int64_t n = 0; n < N; n++) {
            int64_t s = 0;
            for (int64_t k = 0; k < K; k++)
                s += ((int64_t)x[m * K + k] - xz[m]) * ((int64_t)w[n * K + k] - (wzp ? wzp[n] : 0));
            ref[m * N + n] = s;
        }
    for (int p = AWQ_INT8_SCALAR; p <= AWQ_INT8_AVX512VNNI; p++) {
        if (!path_available((awq_int8_path)p)) continue;
        memset(acc, 0x55, sizeof(int32_t) * (size_t)(M * N));
        CHECK_STATUS(awq_int8_gemm_path((awq_int8_path)p, 0, x, xz, NULL, M, K, w, wzp, NULL, N, acc, NULL), AWQ_OK);
        for (int64_t i = 0; i < M * N; i++)
            if ((int64_t)acc[i] != ref[i]) {
                fprintf(stderr, "%s M=%lld K=%lld N=%lld wz=%d mode=%d: acc[%lld] = %d, expected %lld\n",
                        path_name((awq_int8_path)p), (long long)M, (long long)K, (long long)N, with_wzero, mode,
                        (long long)i, acc[i], (long long)ref[i]);
                awq_test_failures++;
                break;
            }
        CHECK_STATUS(awq_int8_gemm_path((awq_int8_path)p, 1, x, xz, xs, M, K, w, wzp, ws, N, NULL, y), AWQ_OK);
        for (int64_t i = 0; i < M * N; i++) {
            double want = (double)xs[i / N] * (double)ws[i % N] * (double)ref[i];
            /* rounding of acc to float and two products: a few ulp */
            if (!(fabs((double)y[i] - want) <= 4e-7 * fabs(want) + 1e-30)) {
                fprintf(stderr, "%s f32 M=%lld K=%lld N=%lld: y[%lld] = %.9g, expected %.9g\n",
                        path_name((awq_int8_path)p), (long long)M, (long long)K, (long long)N, (long long)i, y[i], want);
                awq_test_failures++;
                break;
            }
        }
    }
    free(x), free(w), free(xz), free(wz), free(xs), free(ws), free(ref), free(acc), free(y);
}

static void check_threads(int64_t M, int64_t K, int64_t N, unsigned long long *rng) {
    uint8_t *x = malloc((size_t)(M * K));
    int8_t *w = malloc((size_t)(N * K));
    int32_t *xz = calloc((size_t)M, sizeof(int32_t)), *wz = calloc((size_t)N, sizeof(int32_t));
    int32_t *a1 = malloc(sizeof(int32_t) * (size_t)(M * N)), *a4 = malloc(sizeof(int32_t) * (size_t)(M * N));
    for (int64_t i = 0; i < M * K; i++) x[i] = (uint8_t)(awq_test_rng(rng) >> 56);
    for (int64_t i = 0; i < N * K; i++) w[i] = (int8_t)(awq_test_rng(rng) >> 56);
    for (int64_t m = 0; m < M; m++) xz[m] = (int32_t)(awq_test_rng(rng) >> 56);
    for (int64_t n = 0; n < N; n++) wz[n] = (int32_t)(awq_test_rng(rng) >> 56) - 128;
    for (int p = AWQ_INT8_SCALAR; p <= AWQ_INT8_AVX512VNNI; p++) {
        if (!path_available((awq_int8_path)p)) continue;
        CHECK_STATUS(awq_set_num_threads(1), AWQ_OK);
        CHECK_STATUS(awq_int8_gemm_path((awq_int8_path)p, 0, x, xz, NULL, M, K, w, wz, NULL, N, a1, NULL), AWQ_OK);
        CHECK_STATUS(awq_set_num_threads(4), AWQ_OK);
        CHECK_STATUS(awq_int8_gemm_path((awq_int8_path)p, 0, x, xz, NULL, M, K, w, wz, NULL, N, a4, NULL), AWQ_OK);
        CHECK(memcmp(a1, a4, sizeof(int32_t) * (size_t)(M * N)) == 0);
    }
    free(x), free(w), free(xz), free(wz), free(a1), free(a4);
}

#define EXPECT_ERR(call, status, fn, arg)                                                          \
    do {                                                                                           \
        CHECK_STATUS(call, status);                                                                \
        CHECK(strncmp(awq_last_error(), fn ": ", strlen(fn) + 2) == 0);                                           \
        CHECK(strstr(awq_last_error(), "'" arg "'") != NULL);                                      \
    } while (0)

static void check_errors(void) {
    uint8_t x[8] = {0};
    int8_t w[16] = {0};
    int32_t xz[1] = {0}, wz[2] = {0, 0}, acc[2];
    float xs[1] = {1}, ws[2] = {1, 1}, y[2];
    CHECK_STATUS(awq_int8_gemm(x, xz, 1, 8, w, wz, 2, acc), AWQ_OK);
    CHECK_STATUS(awq_int8_gemm(x, xz, 1, 8, w, NULL, 2, acc), AWQ_OK);
    CHECK_STATUS(awq_int8_gemm_f32(x, xz, xs, 1, 8, w, NULL, ws, 2, y), AWQ_OK);
    EXPECT_ERR(awq_int8_gemm(NULL, xz, 1, 8, w, wz, 2, acc), AWQ_ERR_NULL_POINTER, "awq_int8_gemm", "xq");
    EXPECT_ERR(awq_int8_gemm(x, NULL, 1, 8, w, wz, 2, acc), AWQ_ERR_NULL_POINTER, "awq_int8_gemm", "x_zero");
    EXPECT_ERR(awq_int8_gemm(x, xz, 1, 8, NULL, wz, 2, acc), AWQ_ERR_NULL_POINTER, "awq_int8_gemm", "wq");
    EXPECT_ERR(awq_int8_gemm(x, xz, 1, 8, w, wz, 2, NULL), AWQ_ERR_NULL_POINTER, "awq_int8_gemm", "acc");
    EXPECT_ERR(awq_int8_gemm(x, xz, 0, 8, w, wz, 2, acc), AWQ_ERR_INVALID_SIZE, "awq_int8_gemm", "M");
    EXPECT_ERR(awq_int8_gemm(x, xz, 1, -1, w, wz, 2, acc), AWQ_ERR_INVALID_SIZE, "awq_int8_gemm", "K");
    EXPECT_ERR(awq_int8_gemm(x, xz, 1, 8, w, wz, 0, acc), AWQ_ERR_INVALID_SIZE, "awq_int8_gemm", "N");
    EXPECT_ERR(awq_int8_gemm(x, xz, 1, 33026, w, wz, 2, acc), AWQ_ERR_OVERFLOW, "awq_int8_gemm", "K");
    xz[0] = 256;
    EXPECT_ERR(awq_int8_gemm(x, xz, 1, 8, w, wz, 2, acc), AWQ_ERR_INVALID_ARGUMENT, "awq_int8_gemm", "x_zero");
    xz[0] = -1;
    EXPECT_ERR(awq_int8_gemm(x, xz, 1, 8, w, wz, 2, acc), AWQ_ERR_INVALID_ARGUMENT, "awq_int8_gemm", "x_zero");
    xz[0] = 0;
    wz[1] = 128;
    EXPECT_ERR(awq_int8_gemm(x, xz, 1, 8, w, wz, 2, acc), AWQ_ERR_INVALID_ARGUMENT, "awq_int8_gemm", "w_zero");
    wz[1] = -129;
    EXPECT_ERR(awq_int8_gemm_f32(x, xz, xs, 1, 8, w, wz, ws, 2, y), AWQ_ERR_INVALID_ARGUMENT, "awq_int8_gemm_f32", "w_zero");
    wz[1] = 0;
    EXPECT_ERR(awq_int8_gemm(x, xz, INT64_MAX / 4, 8, w, wz, 2, acc), AWQ_ERR_OVERFLOW, "awq_int8_gemm", "xq");
    EXPECT_ERR(awq_int8_gemm_f32(NULL, xz, xs, 1, 8, w, wz, ws, 2, y), AWQ_ERR_NULL_POINTER, "awq_int8_gemm_f32", "xq");
    EXPECT_ERR(awq_int8_gemm_f32(x, NULL, xs, 1, 8, w, wz, ws, 2, y), AWQ_ERR_NULL_POINTER, "awq_int8_gemm_f32", "x_zero");
    EXPECT_ERR(awq_int8_gemm_f32(x, xz, NULL, 1, 8, w, wz, ws, 2, y), AWQ_ERR_NULL_POINTER, "awq_int8_gemm_f32", "x_scale");
    EXPECT_ERR(awq_int8_gemm_f32(x, xz, xs, 1, 8, NULL, wz, ws, 2, y), AWQ_ERR_NULL_POINTER, "awq_int8_gemm_f32", "wq");
    EXPECT_ERR(awq_int8_gemm_f32(x, xz, xs, 1, 8, w, wz, NULL, 2, y), AWQ_ERR_NULL_POINTER, "awq_int8_gemm_f32", "w_scale");
    EXPECT_ERR(awq_int8_gemm_f32(x, xz, xs, 1, 8, w, wz, ws, 2, NULL), AWQ_ERR_NULL_POINTER, "awq_int8_gemm_f32", "y");
    EXPECT_ERR(awq_int8_gemm_f32(x, xz, xs, 1, 0, w, wz, ws, 2, y), AWQ_ERR_INVALID_SIZE, "awq_int8_gemm_f32", "K");
    EXPECT_ERR(awq_int8_gemm_f32(x, xz, xs, 1, 40000, w, wz, ws, 2, y), AWQ_ERR_OVERFLOW, "awq_int8_gemm_f32", "K");
}

int main(void) {
    unsigned long long seed = (unsigned long long)time(NULL) * 2654435761ULL + (unsigned long long)clock();
    const char *env = getenv("AWQ_TEST_SEED");
    if (env) seed = strtoull(env, NULL, 0);
    if (seed == 0) seed = 1;
    printf("test_int8_gemm seed %llu (AWQ_TEST_SEED=%llu replays it), simd %s\n", seed, seed, awq_simd_path());
    unsigned long long rng = seed;

    check_errors();
    const int64_t Ms[] = {1, 2, 3, 5, 17};
    const int64_t Ks[] = {1, 15, 16, 31, 33, 63, 64, 65, 100, 172, 1000};
    const int64_t Ns[] = {1, 3, 4, 7, 13, 37};
    for (size_t a = 0; a < sizeof Ms / sizeof *Ms; a++)
        for (size_t b = 0; b < sizeof Ks / sizeof *Ks; b++)
            for (size_t c = 0; c < sizeof Ns / sizeof *Ns; c++)
                check_shape(Ms[a], Ks[b], Ns[c], (int)((a + b + c) & 1), 0, &rng);
    /* several M and N blocks, ragged tiles */
    check_shape(70, 300, 50, 1, 0, &rng);
    check_shape(70, 300, 50, 0, 0, &rng);
    /* extremes of every operand, up to the largest K the int32 accumulator allows */
    check_shape(2, 1000, 6, 1, 1, &rng);
    check_shape(2, 33025, 3, 1, 1, &rng);
    check_shape(3, 33025, 2, 0, 1, &rng);
    check_shape(2, 33025, 5, 1, 2, &rng);
    check_shape(2, 4097, 5, 1, 2, &rng);
    check_threads(1, 4096, 300, &rng);
    check_threads(67, 200, 45, &rng);
    TEST_MAIN_END();
}
