/*
 * w4a16.cu — the W4A16 GEMM on a CUDA device: y[M,N] = x[M,K] · dequant(W)ᵀ, with the CPU kernel's
 * layout (awq_kernels.h): qweight uint8 [N, ceil(K/2)] (low nibble = even k), fp16 scales and
 * uint8 zeros [N, ceil(K/G)], W[n,k] = (q − z)·s, fp32 activations and accumulation.
 *
 * One warp per (row m, output n): lanes stride over K two nibbles (one byte) at a time and the
 * warp reduces with shuffles. Simple and exact enough to check one for one against the CPU path;
 * the host wrapper copies operands in and y out (see awq_cuda_w4a16_gemm in awq_kernels.h).
 */
#include "awq_kernels.h" /* status codes: the one ABI header */

#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <stdint.h>
#include <stdio.h>

__global__ void w4a16_warp_kernel(const float *__restrict__ x, int64_t M, int64_t K,
                                  const uint8_t *__restrict__ qw, const __half *__restrict__ scales,
                                  const uint8_t *__restrict__ zeros, int64_t N, int64_t G,
                                  float *__restrict__ y) {
    const int64_t warp = ((int64_t)blockIdx.x * blockDim.x + threadIdx.x) / 32;
    const int lane = threadIdx.x % 32;
    if (warp >= M * N) return;
    const int64_t m = warp / N, n = warp % N;
    const int64_t row_bytes = (K + 1) / 2, groups = (K + G - 1) / G;
    const float *xr = x + m * K;
    const uint8_t *qr = qw + n * row_bytes;
    float acc = 0.0f;
    for (int64_t b = lane; b < row_bytes; b += 32) {
        const uint8_t byte = qr[b];
        for (int half = 0; half < 2; half++) {
            const int64_t k = 2 * b + half;
            if (k >= K) break;
            const int64_t g = k / G;
            const float s = __half2float(scales[n * groups + g]);
            const float z = (float)zeros[n * groups + g];
            const float q = (float)(half ? byte >> 4 : byte & 0xF);
            acc = fmaf(xr[k], (q - z) * s, acc);
        }
    }
    for (int off = 16; off > 0; off /= 2) acc += __shfl_down_sync(0xffffffffu, acc, off);
    if (lane == 0) y[m * N + n] = acc;
}

extern "C" int awq_cuda_device_count_impl(void) {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) return 0;
    return n;
}

#define AWQ_CUDA_TRY(call)                                                                         \
    do {                                                                                           \
        cudaError_t e_ = (call);                                                                   \
        if (e_ != cudaSuccess) {                                                                   \
            snprintf(err, err_len, "%s failed: %s", #call, cudaGetErrorString(e_));                \
            status = e_ == cudaErrorMemoryAllocation ? AWQ_ERR_OUT_OF_MEMORY : AWQ_ERR_UNSUPPORTED; \
            goto done;                                                                             \
        }                                                                                          \
    } while (0)

extern "C" int awq_cuda_w4a16_gemm_impl(const float *x, int64_t M, int64_t K, const uint8_t *qweight,
                                        const uint16_t *scales, const uint8_t *zeros, int64_t N,
                                        int64_t G, float *y, char *err, size_t err_len) {
    int status = 0;
    float *dx = NULL, *dy = NULL;
    uint8_t *dq = NULL, *dz = NULL;
    __half *ds = NULL;
    const int64_t row_bytes = (K + 1) / 2, groups = (K + G - 1) / G;
    if (awq_cuda_device_count_impl() == 0) {
        snprintf(err, err_len, "no CUDA device is available");
        return AWQ_ERR_UNSUPPORTED;
    }
    AWQ_CUDA_TRY(cudaMalloc((void **)&dx, sizeof(float) * M * K));
    AWQ_CUDA_TRY(cudaMalloc((void **)&dy, sizeof(float) * M * N));
    AWQ_CUDA_TRY(cudaMalloc((void **)&dq, (size_t)(N * row_bytes)));
    AWQ_CUDA_TRY(cudaMalloc((void **)&ds, sizeof(__half) * N * groups));
    AWQ_CUDA_TRY(cudaMalloc((void **)&dz, (size_t)(N * groups)));
    AWQ_CUDA_TRY(cudaMemcpy(dx, x, sizeof(float) * M * K, cudaMemcpyHostToDevice));
    AWQ_CUDA_TRY(cudaMemcpy(dq, qweight, (size_t)(N * row_bytes), cudaMemcpyHostToDevice));
    AWQ_CUDA_TRY(cudaMemcpy(ds, scales, sizeof(__half) * N * groups, cudaMemcpyHostToDevice));
    AWQ_CUDA_TRY(cudaMemcpy(dz, zeros, (size_t)(N * groups), cudaMemcpyHostToDevice));
    {
        const int threads = 256;
        const int64_t warps = M * N;
        const int64_t blocks = (warps * 32 + threads - 1) / threads;
        w4a16_warp_kernel<<<(unsigned)blocks, threads>>>(dx, M, K, dq, ds, dz, N, G, dy);
        AWQ_CUDA_TRY(cudaGetLastError());
        AWQ_CUDA_TRY(cudaDeviceSynchronize());
    }
    AWQ_CUDA_TRY(cudaMemcpy(y, dy, sizeof(float) * M * N, cudaMemcpyDeviceToHost));
done:
    cudaFree(dx);
    cudaFree(dy);
    cudaFree(dq);
    cudaFree(ds);
    cudaFree(dz);
    return status;
}
