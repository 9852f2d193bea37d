/*
 * cuda_entry.c — the C side of the CUDA entry points: argument checks shared with the CPU kernel,
 * then the device implementation in native/src/cuda/ when it is built, or AWQ_ERR_UNSUPPORTED.
 */
#include "awq_internal.h"

#ifdef AWQ_HAVE_CUDA
/* native/src/cuda/w4a16.cu */
int awq_cuda_device_count_impl(void);
int awq_cuda_w4a16_gemm_impl(const float *x, int64_t M, int64_t K, const uint8_t *qweight,
                             const uint16_t *scales, const uint8_t *zeros, int64_t N,
                             int64_t group_size, float *y, char *err, size_t err_len);
#endif

int awq_cuda_device_count(int *count) {
    AWQ_REQUIRE_PTR("awq_cuda_device_count", count);
#ifdef AWQ_HAVE_CUDA
    *count = awq_cuda_device_count_impl();
#else
    *count = 0;
#endif
    return AWQ_OK;
}

int awq_cuda_w4a16_gemm(const float *x, int64_t M, int64_t K, const uint8_t *qweight,
                        const uint16_t *scales, const uint8_t *zeros, int64_t N, int64_t group_size,
                        float *y) {
    static const char fn[] = "awq_cuda_w4a16_gemm";
    AWQ_REQUIRE_PTR(fn, x);
    AWQ_REQUIRE_PTR(fn, qweight);
    AWQ_REQUIRE_PTR(fn, scales);
    AWQ_REQUIRE_PTR(fn, zeros);
    AWQ_REQUIRE_PTR(fn, y);
    AWQ_REQUIRE_POSITIVE(fn, M);
    AWQ_REQUIRE_POSITIVE(fn, K);
    AWQ_REQUIRE_POSITIVE(fn, N);
    AWQ_REQUIRE_GROUP_SIZE(fn, group_size);
    int64_t tmp;
    int st;
    if ((st = awq_mul_size(fn, "x", M, K, &tmp)) != AWQ_OK) return st;
    if ((st = awq_mul_size(fn, "qweight", N, (K + 1) / 2, &tmp)) != AWQ_OK) return st;
    if ((st = awq_mul_size(fn, "y", M, N, &tmp)) != AWQ_OK) return st;
#ifdef AWQ_HAVE_CUDA
    char err[256] = "";
    st = awq_cuda_w4a16_gemm_impl(x, M, K, qweight, scales, zeros, N, group_size, y, err, sizeof err);
    if (st != AWQ_OK) return awq_fail(st, fn, "%s", err);
    return AWQ_OK;
#else
    return awq_fail(AWQ_ERR_UNSUPPORTED, fn, "this build has no CUDA kernels (configure with a CUDA compiler, AWQ_CUDA=ON)");
#endif
}
