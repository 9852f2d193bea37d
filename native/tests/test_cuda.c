/* test_cuda.c — the CUDA W4A16 entry point: argument checks always; against the CPU kernel when
 * the build has CUDA and a device is present (otherwise that part reports itself skipped). */
#include "awq_test.h"
#include "awq_internal.h"

#include <string.h>

int main(void) {
    int devices = -1;
    CHECK_STATUS(awq_cuda_device_count(&devices), AWQ_OK);
    CHECK(devices >= 0);
    CHECK_STATUS(awq_cuda_device_count(NULL), AWQ_ERR_NULL_POINTER);
    float x[4] = {1, 2, 3, 4}, y[2];
    uint8_t q[4] = {0x21, 0x43, 0x65, 0x87};
    uint16_t s[2] = {0x3c00, 0x3c00};
    uint8_t z[2] = {8, 8};
    CHECK_STATUS(awq_cuda_w4a16_gemm(NULL, 1, 4, q, s, z, 2, 4, y), AWQ_ERR_NULL_POINTER);
    CHECK_STATUS(awq_cuda_w4a16_gemm(x, 1, 4, q, s, z, 2, 0, y), AWQ_ERR_INVALID_GROUP_SIZE);
    int built = (awq_features() & AWQ_FEATURE_CUDA_BUILT) != 0;
    if (!built || devices == 0) {
        CHECK_STATUS(awq_cuda_w4a16_gemm(x, 1, 4, q, s, z, 2, 4, y), AWQ_ERR_UNSUPPORTED);
        CHECK(strstr(awq_last_error(), "awq_cuda_w4a16_gemm") != NULL);
        printf("CUDA %s, %d device(s): device comparison skipped\n", built ? "built" : "not built", devices);
        TEST_MAIN_END();
    }
    /* random shapes, CUDA vs CPU */
    unsigned long long seed = 7;
    int64_t shapes[][4] = {{1, 4096, 4096, 128}, {3, 172, 64, 32}, {16, 1000, 257, 64}, {64, 512, 130, 128}};
    for (int t = 0; t < 4; t++) {
        int64_t M = shapes[t][0], K = shapes[t][1], N = shapes[t][2], G = shapes[t][3];
        int64_t rb = (K + 1) / 2, ng = (K + G - 1) / G;
        float *xx = malloc(sizeof(float) * M * K), *y1 = malloc(sizeof(float) * M * N), *y2 = malloc(sizeof(float) * M * N);
        uint8_t *qq = malloc(N * rb), *zz = malloc(N * ng);
        uint16_t *ss = malloc(2 * N * ng);
        for (int64_t i = 0; i < M * K; i++) xx[i] = awq_test_uniform(&seed, -1, 1);
        for (int64_t i = 0; i < N * rb; i++) qq[i] = (uint8_t)awq_test_rng(&seed);
        for (int64_t i = 0; i < N * ng; i++) { zz[i] = (uint8_t)(awq_test_rng(&seed) % 16); ss[i] = (uint16_t)(0x2000 + awq_test_rng(&seed) % 0x1000); }
        CHECK_STATUS(awq_w4a16_gemm(xx, M, K, qq, ss, zz, N, G, y1), AWQ_OK);
        CHECK_STATUS(awq_cuda_w4a16_gemm(xx, M, K, qq, ss, zz, N, G, y2), AWQ_OK);
        double num = 0, den = 0;
        for (int64_t i = 0; i < M * N; i++) { num += (y1[i] - y2[i]) * (double)(y1[i] - y2[i]); den += (double)y1[i] * y1[i]; }
        printf("M=%lld K=%lld N=%lld G=%lld: relative L2 CUDA vs CPU %.3g\n", (long long)M, (long long)K, (long long)N, (long long)G, sqrt(num / den));
        CHECK(sqrt(num / den) < 1e-5);
        free(xx), free(y1), free(y2), free(qq), free(zz), free(ss);
    }
    TEST_MAIN_END();
}
