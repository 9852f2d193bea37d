/*
 * w8a8.cu — the W8A8 linears' kernels and the row/format helpers:
 *  - quantize_act_u8: activations to uint8, static (given scale and zero point, as
 *    ActivationQuantParams.Quantize) or dynamic per row with awq_quantize's 8-bit ASYMMETRIC
 *    arithmetic (quantize.c: the range widened to hold 0, scale = range / 255 as a true division,
 *    zero = clamp(round(−min / scale)), q = clamp(round(x / scale), −zero, 255 − zero) + zero, rounding
 *    half to even). One block per row; a non-finite row gets a NaN scale.
 *  - int8_gemm_f32: acc = Σ_k (xq − x_zero[m]) · wq (exact int32), y = (x_scale[m] · w_scale[n]) · acc,
 *    the CPU's order (int8_gemm.h, awq_int8_store), so results are the CPU's bit for bit.
 *    One warp per output, lanes over K.
 *  - softmax: awq_softmax per row (max subtraction, expf, the sum in double, p = e / sum in double).
 *  - convert: fp32 ↔ fp16 (round to nearest even) and fp32 ↔ bf16 with awq_numerics.h's rules.
 */
#include "cuda_common.cuh"

#include <cuda_fp16.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define W8_ROW_THREADS 256

__global__ void quantize_act_static_kernel(const float *__restrict__ x, int64_t n, float scale, int32_t zero,
                                           uint8_t *__restrict__ xq) {
    const float lo = (float)-zero, hi = (float)(255 - zero);
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        float t = rintf(__fdiv_rn(x[i], scale));
        t = t < lo ? lo : (t > hi ? hi : t);
        xq[i] = (uint8_t)((int32_t)(isnan(t) ? lo : t) + zero);
    }
}

__global__ void __launch_bounds__(W8_ROW_THREADS)
quantize_act_dynamic_kernel(const float *__restrict__ x, int64_t M, int64_t K, uint8_t *__restrict__ xq,
                            float *__restrict__ x_scale, int32_t *__restrict__ x_zero) {
    __shared__ float s_mn[W8_ROW_THREADS / 32], s_mx[W8_ROW_THREADS / 32];
    __shared__ int s_bad[W8_ROW_THREADS / 32];
    __shared__ float s_scale;
    __shared__ int32_t s_zero;
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    for (int64_t m = blockIdx.x; m < M; m += gridDim.x) {
        const float *xr = x + m * K;
        float mn = INFINITY, mx = -INFINITY;
        int bad = 0;
        for (int64_t k = tid; k < K; k += W8_ROW_THREADS) {
            const float v = xr[k];
            if (!isfinite(v)) bad = 1;
            mn = fminf(mn, v);
            mx = fmaxf(mx, v);
        }
        for (int off = 16; off > 0; off >>= 1) {
            mn = fminf(mn, __shfl_xor_sync(0xffffffffu, mn, off));
            mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, off));
            bad |= __shfl_xor_sync(0xffffffffu, bad, off);
        }
        if (lane == 0) s_mn[warp] = mn, s_mx[warp] = mx, s_bad[warp] = bad;
        __syncthreads();
        if (tid == 0) {
            for (int i = 1; i < W8_ROW_THREADS / 32; i++) {
                mn = fminf(mn, s_mn[i]);
                mx = fmaxf(mx, s_mx[i]);
                bad |= s_bad[i];
            }
            mn = fminf(s_mn[0], mn);
            mx = fmaxf(s_mx[0], mx);
            bad |= s_bad[0];
            float scale;
            int32_t zero = 0;
            if (bad) {
                scale = nanf("");
            } else {
                if (mn > 0.0f) mn = 0.0f;
                if (mx < 0.0f) mx = 0.0f;
                const float range = __fsub_rn(mx, mn);
                scale = isinf(range) ? nanf("") : __fdiv_rn(range, 255.0f);
                if (scale == 0.0f) {
                    const float amax = -mn > mx ? -mn : mx;
                    scale = amax != 0.0f ? amax : 1.0f;
                }
                float z = rintf(__fdiv_rn(-mn, scale));
                z = z < 0.0f ? 0.0f : (z > 255.0f ? 255.0f : z);
                zero = isnan(scale) ? 0 : (int32_t)z;
            }
            s_scale = scale;
            s_zero = zero;
            x_scale[m] = scale;
            x_zero[m] = zero;
        }
        __syncthreads();
        const float scale = s_scale;
        const int32_t zero = s_zero;
        const float lo = (float)-zero, hi = (float)(255 - zero);
        for (int64_t k = tid; k < K; k += W8_ROW_THREADS) {
            float t = rintf(__fdiv_rn(xr[k], scale));
            t = t < lo ? lo : (t > hi ? hi : t);
            xq[m * K + k] = (uint8_t)((int32_t)(isnan(t) ? lo : t) + zero);
        }
        __syncthreads(); /* the shared scale is rewritten by the next row */
    }
}

extern "C" int awq_cuda_quantize_act_u8(awq_cuda_ctx *c, const float *x, int64_t M, int64_t K, float act_scale,
                                        int32_t act_zero, uint8_t *xq, float *x_scale, int32_t *x_zero) {
    AWQ_CU_ENTER(c);
    if (act_scale > 0.0f) {
        quantize_act_static_kernel<<<awq_cu_blocks(M * K, 256 * 4), 256, 0, c->stream>>>(x, M * K, act_scale, act_zero,
                                                                                          xq);
        AWQ_CU_LAUNCHED(c, "quantize_act_static_kernel");
        /* the per-row parameters: the same pair for every row */
        float *hs = (float *)malloc(sizeof(float) * (size_t)M);
        int32_t *hz = (int32_t *)malloc(sizeof(int32_t) * (size_t)M);
        if (hs == NULL || hz == NULL) {
            free(hs), free(hz);
            snprintf(c->err, sizeof c->err, "could not allocate %lld row parameters on the host", (long long)M);
            return AWQ_ERR_OUT_OF_MEMORY;
        }
        for (int64_t m = 0; m < M; m++) hs[m] = act_scale, hz[m] = act_zero;
        cudaError_t e = cudaMemcpyAsync(x_scale, hs, sizeof(float) * (size_t)M, cudaMemcpyHostToDevice, c->stream);
        if (e == cudaSuccess)
            e = cudaMemcpyAsync(x_zero, hz, sizeof(int32_t) * (size_t)M, cudaMemcpyHostToDevice, c->stream);
        if (e == cudaSuccess) e = cudaStreamSynchronize(c->stream); /* before the host arrays go */
        free(hs), free(hz);
        if (e != cudaSuccess) return awq_cu_fail(c, "cudaMemcpyAsync (static activation parameters)", e);
        return AWQ_OK;
    }
    quantize_act_dynamic_kernel<<<awq_cu_blocks(M, 1), W8_ROW_THREADS, 0, c->stream>>>(x, M, K, xq, x_scale, x_zero);
    AWQ_CU_LAUNCHED(c, "quantize_act_dynamic_kernel");
    return AWQ_OK;
}

__global__ void int8_gemm_f32_kernel(const uint8_t *__restrict__ xq, const int32_t *__restrict__ x_zero,
                                     const float *__restrict__ x_scale, int64_t M, int64_t K,
                                     const int8_t *__restrict__ wq, const float *__restrict__ w_scale, int64_t N,
                                     float *__restrict__ y) {
    const int lane = threadIdx.x & 31;
    const int64_t warps = ((int64_t)gridDim.x * blockDim.x) >> 5;
    for (int64_t o = (((int64_t)blockIdx.x * blockDim.x) + threadIdx.x) >> 5; o < M * N; o += warps) {
        const int64_t m = o / N, n = o % N;
        const uint8_t *xr = xq + m * K;
        const int8_t *wr = wq + n * K;
        const int32_t zx = x_zero[m];
        int32_t acc = 0;
        for (int64_t k = lane; k < K; k += 32) acc += ((int32_t)xr[k] - zx) * (int32_t)wr[k];
        for (int off = 16; off > 0; off >>= 1) acc += __shfl_xor_sync(0xffffffffu, acc, off);
        if (lane == 0) y[o] = __fmul_rn(__fmul_rn(x_scale[m], w_scale[n]), (float)acc);
    }
}

extern "C" int awq_cuda_int8_gemm_f32(awq_cuda_ctx *c, const uint8_t *xq, const int32_t *x_zero, const float *x_scale,
                                      int64_t M, int64_t K, const int8_t *wq, const float *w_scale, int64_t N, float *y) {
    AWQ_CU_ENTER(c);
    int8_gemm_f32_kernel<<<awq_cu_blocks(M * N, 8), 256, 0, c->stream>>>(xq, x_zero, x_scale, M, K, wq, w_scale, N, y);
    AWQ_CU_LAUNCHED(c, "int8_gemm_f32_kernel");
    return AWQ_OK;
}

/* ---- softmax ------------------------------------------------------------------------------------ */
__global__ void __launch_bounds__(W8_ROW_THREADS) softmax_kernel(float *x, int64_t M, int64_t n) {
    __shared__ float s_f[W8_ROW_THREADS / 32];
    __shared__ double s_d[W8_ROW_THREADS / 32];
    __shared__ float s_max;
    __shared__ double s_sum;
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    for (int64_t m = blockIdx.x; m < M; m += gridDim.x) {
        float *r = x + m * n;
        float mx = -INFINITY;
        for (int64_t i = tid; i < n; i += W8_ROW_THREADS) mx = fmaxf(mx, r[i]);
        for (int off = 16; off > 0; off >>= 1) mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, off));
        if (lane == 0) s_f[warp] = mx;
        __syncthreads();
        if (tid == 0) {
            float v = s_f[0];
            for (int i = 1; i < W8_ROW_THREADS / 32; i++) v = fmaxf(v, s_f[i]);
            s_max = v;
        }
        __syncthreads();
        mx = s_max;
        double sum = 0.0;
        for (int64_t i = tid; i < n; i += W8_ROW_THREADS) {
            const float e = expf(__fsub_rn(r[i], mx));
            r[i] = e;
            sum += (double)e;
        }
        for (int off = 16; off > 0; off >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, off);
        if (lane == 0) s_d[warp] = sum;
        __syncthreads();
        if (tid == 0) {
            double v = 0.0;
            for (int i = 0; i < W8_ROW_THREADS / 32; i++) v += s_d[i];
            s_sum = v;
        }
        __syncthreads();
        sum = s_sum;
        for (int64_t i = tid; i < n; i += W8_ROW_THREADS) r[i] = (float)((double)r[i] / sum);
        __syncthreads();
    }
}

extern "C" int awq_cuda_softmax(awq_cuda_ctx *c, float *x, int64_t M, int64_t n) {
    AWQ_CU_ENTER(c);
    softmax_kernel<<<awq_cu_blocks(M, 1), W8_ROW_THREADS, 0, c->stream>>>(x, M, n);
    AWQ_CU_LAUNCHED(c, "softmax_kernel");
    return AWQ_OK;
}

/* ---- format conversion -------------------------------------------------------------------------- */
__device__ __forceinline__ uint16_t f32_to_bf16_bits(float f) {
    const uint32_t x = __float_as_uint(f);
    if ((x & 0x7FFFFFFFu) > 0x7F800000u) return (uint16_t)((x >> 16) | 0x0040u); /* NaN: quiet, payload kept */
    return (uint16_t)((x + 0x7FFFu + ((x >> 16) & 1u)) >> 16);
}

__global__ void convert_kernel(const void *src, int src_type, void *dst, int dst_type, int64_t n) {
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        if (src_type == AWQ_DTYPE_F32) {
            const float f = ((const float *)src)[i];
            ((uint16_t *)dst)[i] = dst_type == AWQ_DTYPE_F16 ? __half_as_ushort(__float2half_rn(f)) : f32_to_bf16_bits(f);
        } else {
            const uint16_t b = ((const uint16_t *)src)[i];
            ((float *)dst)[i] = src_type == AWQ_DTYPE_F16 ? __half2float(__ushort_as_half(b)) : __uint_as_float((uint32_t)b << 16);
        }
    }
}

extern "C" int awq_cuda_convert(awq_cuda_ctx *c, const void *src, int src_type, void *dst, int dst_type, int64_t n) {
    AWQ_CU_ENTER(c);
    convert_kernel<<<awq_cu_blocks(n, 256 * 4), 256, 0, c->stream>>>(src, src_type, dst, dst_type, n);
    AWQ_CU_LAUNCHED(c, "convert_kernel");
    return AWQ_OK;
}
