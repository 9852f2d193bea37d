/*
 * layers.cu — the element-wise and row kernels of the forward pass: add_bias, rmsnorm,
 * add_rmsnorm, rope (interleaved pairs), silu_mul and add, with the CPU kernels' arithmetic
 * (rmsnorm.c, rope.c, activations.c):
 *  - rmsnorm: squares and their sum in double (only the summation order differs from the CPU),
 *    mean = (float)(ss / D), scale = 1 / sqrtf(mean + eps) (IEEE sqrt and division), y = (x·scale)·w.
 *  - rope: angle = pos · pow(theta, −2i/rot_dim) [/ freq_factors[i]] in double, cos/sin in double
 *    rounded once to fp32, the rotation with explicit _rn operations (no FMA contraction), as the
 *    CPU's scalar code.
 *  - silu_mul: (g / (1 + expf(−g))) · up.
 */
#include "cuda_common.cuh"

#include <string.h>

#define AWQ_ROW_THREADS 256

/* ---- add_bias / add / silu_mul ------------------------------------------------------------------ */
__global__ void add_bias_kernel(float *__restrict__ y, int64_t M, int64_t N, const float *__restrict__ bias) {
    const int64_t total = M * N;
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += (int64_t)gridDim.x * blockDim.x)
        y[i] = __fadd_rn(y[i], __ldg(bias + i % N));
}

__global__ void add_kernel(float *x, const float *y, int64_t n) {
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
        x[i] = __fadd_rn(x[i], y[i]);
}

__global__ void silu_mul_kernel(const float *gate, const float *up, int64_t n,
                                float *out) { /* out may be gate or up (in place) */
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        const float g = gate[i];
        const float s = __fdiv_rn(g, __fadd_rn(1.0f, expf(-g)));
        out[i] = __fmul_rn(s, up[i]);
    }
}

extern "C" int awq_cuda_add_bias(awq_cuda_ctx *c, float *y, int64_t M, int64_t N, const float *bias) {
    AWQ_CU_ENTER(c);
    add_bias_kernel<<<awq_cu_blocks(M * N, 256 * 4), 256, 0, c->stream>>>(y, M, N, bias);
    AWQ_CU_LAUNCHED(c, "add_bias_kernel");
    return AWQ_OK;
}

extern "C" int awq_cuda_add(awq_cuda_ctx *c, float *x, const float *y, int64_t n) {
    AWQ_CU_ENTER(c);
    add_kernel<<<awq_cu_blocks(n, 256 * 4), 256, 0, c->stream>>>(x, y, n);
    AWQ_CU_LAUNCHED(c, "add_kernel");
    return AWQ_OK;
}

extern "C" int awq_cuda_silu_mul(awq_cuda_ctx *c, const float *gate, const float *up, int64_t n, float *out) {
    AWQ_CU_ENTER(c);
    silu_mul_kernel<<<awq_cu_blocks(n, 256 * 4), 256, 0, c->stream>>>(gate, up, n, out);
    AWQ_CU_LAUNCHED(c, "silu_mul_kernel");
    return AWQ_OK;
}

/* ---- rmsnorm ------------------------------------------------------------------------------------ */
/* x_add != NULL: x_add[row] += delta[row] first (x == x_add). One block per row (grid-stride). */
__global__ void __launch_bounds__(AWQ_ROW_THREADS)
rmsnorm_kernel(float *x_add, const float *delta, const float *x, const float *__restrict__ w, int64_t M,
               int64_t D, float eps, float *y) { /* y may be x (rmsnorm in place) */
    __shared__ double red[AWQ_ROW_THREADS / 32];
    __shared__ float s_scale;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    for (int64_t m = blockIdx.x; m < M; m += gridDim.x) {
        const float *xr = x + m * D;
        double ss = 0.0;
        if (x_add != NULL) {
            float *xa = x_add + m * D;
            const float *dr = delta + m * D;
            for (int64_t i = threadIdx.x; i < D; i += blockDim.x) {
                const float v = __fadd_rn(xa[i], dr[i]);
                xa[i] = v; /* read back below by this same thread only */
                ss = fma((double)v, (double)v, ss);
            }
        } else {
            for (int64_t i = threadIdx.x; i < D; i += blockDim.x) {
                const double v = (double)xr[i];
                ss = fma(v, v, ss);
            }
        }
        for (int off = 16; off > 0; off >>= 1) ss += __shfl_xor_sync(0xffffffffu, ss, off);
        if (lane == 0) red[warp] = ss;
        __syncthreads();
        if (threadIdx.x == 0) {
            double t = 0.0;
            for (int i = 0; i < (int)(blockDim.x >> 5); i++) t += red[i];
            const float mean = (float)(t / (double)D);
            s_scale = __fdiv_rn(1.0f, __fsqrt_rn(__fadd_rn(mean, eps)));
        }
        __syncthreads();
        const float scale = s_scale;
        float *yr = y + m * D;
        for (int64_t i = threadIdx.x; i < D; i += blockDim.x) yr[i] = __fmul_rn(__fmul_rn(xr[i], scale), __ldg(w + i));
        __syncthreads(); /* red / s_scale are reused by the next row */
    }
}

static int rmsnorm_launch(awq_cuda_ctx *c, float *x_add, const float *delta, const float *x, const float *w,
                          int64_t M, int64_t D, float eps, float *y) {
    AWQ_CU_ENTER(c);
    const unsigned blocks = M > 65535 * 16 ? 65535u * 16u : (unsigned)M;
    rmsnorm_kernel<<<blocks, AWQ_ROW_THREADS, 0, c->stream>>>(x_add, delta, x, w, M, D, eps, y);
    AWQ_CU_LAUNCHED(c, "rmsnorm_kernel");
    return AWQ_OK;
}

extern "C" int awq_cuda_rmsnorm(awq_cuda_ctx *c, const float *x, const float *weight, int64_t M, int64_t D, float eps,
                                float *y) {
    return rmsnorm_launch(c, NULL, NULL, x, weight, M, D, eps, y);
}

extern "C" int awq_cuda_add_rmsnorm(awq_cuda_ctx *c, float *x, const float *delta, const float *weight, int64_t M,
                                    int64_t D, float eps, float *y) {
    return rmsnorm_launch(c, x, delta, x, weight, M, D, eps, y);
}

/* ---- rope --------------------------------------------------------------------------------------- */
/* One thread per (row m, pair i): its cos/sin serve the pair in every head of the row. */
__global__ void rope_kernel(float *x, int64_t M, int64_t n_heads, int64_t head_dim, int64_t rot_dim,
                            const int32_t *__restrict__ pos, double theta, const float *__restrict__ ff) {
    const int64_t half = rot_dim / 2, total = M * half;
    for (int64_t t = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; t < total; t += (int64_t)gridDim.x * blockDim.x) {
        const int64_t m = t / half, i = t % half;
        const double p = (double)pos[m];
        double angle = p * pow(theta, -2.0 * (double)i / (double)rot_dim);
        if (ff != NULL) angle /= (double)ff[i];
        double sd, cd;
        sincos(angle, &sd, &cd);
        const float cs = (float)cd, sn = (float)sd;
        float *row = x + m * n_heads * head_dim + 2 * i;
        for (int64_t h = 0; h < n_heads; h++) {
            float *e = row + h * head_dim;
            const float x0 = e[0], x1 = e[1];
            e[0] = __fsub_rn(__fmul_rn(x0, cs), __fmul_rn(x1, sn));
            e[1] = __fadd_rn(__fmul_rn(x0, sn), __fmul_rn(x1, cs));
        }
    }
}

/* Makes the pinned staging buffer (and its device twin) at least `bytes` long and free to write:
 * the previous copy out of it has completed. The caller's host arrays are copied into it, so they
 * may be freed or reused when the call returns; kernels queued earlier may still read d_stage,
 * which is only rewritten in stream order (or freed after a stream sync). */
static int stage_reserve(awq_cuda_ctx *c, int64_t bytes) {
    if (c->stage_pending) {
        AWQ_CU(c, cudaEventSynchronize(c->stage_done));
        c->stage_pending = 0;
    }
    if (bytes <= c->stage_cap) return AWQ_OK;
    int64_t cap = 4096;
    while (cap < bytes) cap *= 2;
    AWQ_CU(c, cudaStreamSynchronize(c->stream));
    if (c->d_stage != NULL) cudaFree(c->d_stage);
    if (c->h_stage != NULL) cudaFreeHost(c->h_stage);
    c->d_stage = NULL;
    c->h_stage = NULL;
    c->stage_cap = 0;
    c->stage_used = 0;
    AWQ_CU(c, cudaMalloc(&c->d_stage, (size_t)cap));
    cudaError_t e = cudaMallocHost(&c->h_stage, (size_t)cap);
    if (e != cudaSuccess) {
        cudaFree(c->d_stage);
        c->d_stage = NULL;
        return awq_cu_fail(c, "cudaMallocHost", e);
    }
    c->stage_cap = cap;
    return AWQ_OK;
}

extern "C" int awq_cuda_rope(awq_cuda_ctx *c, float *x, int64_t M, int64_t n_heads, int64_t head_dim, int64_t rot_dim,
                             const int32_t *pos, float theta, const float *freq_factors) {
    AWQ_CU_ENTER(c);
    const int64_t half = rot_dim / 2;
    if (half <= 0) return AWQ_OK;
    /* pos [M] then, 16-byte aligned, freq_factors [half] */
    const int64_t pos_bytes = (M * 4 + 15) & ~(int64_t)15;
    const int64_t bytes = pos_bytes + (freq_factors != NULL ? half * 4 : 0);
    /* Every RoPE call of one forward pass (q and k of every layer) has the same positions: when the
     * staged bytes already hold these arrays, d_stage does too (it is only rewritten in stream order),
     * so the copy — and the wait for the previous one, which would stall the host on the stream
     * twice a layer — is skipped. Reading h_stage while a copy out of it runs is safe. */
    const char *h_old = (const char *)c->h_stage;
    const int64_t ff_half = freq_factors != NULL ? half : 0;
    const int same = c->stage_used == bytes && c->stage_m == M && c->stage_half == ff_half &&
                     memcmp(h_old, pos, (size_t)(M * 4)) == 0 &&
                     (freq_factors == NULL || memcmp(h_old + pos_bytes, freq_factors, (size_t)(half * 4)) == 0);
    if (!same) {
        int st = stage_reserve(c, bytes);
        if (st != AWQ_OK) return st;
        char *h = (char *)c->h_stage;
        memset(h, 0, (size_t)bytes); /* the padding too, so equal arrays compare equal */
        memcpy(h, pos, (size_t)(M * 4));
        if (freq_factors != NULL) memcpy(h + pos_bytes, freq_factors, (size_t)(half * 4));
        c->stage_used = 0;
        AWQ_CU(c, cudaMemcpyAsync(c->d_stage, c->h_stage, (size_t)bytes, cudaMemcpyHostToDevice, c->stream));
        AWQ_CU(c, cudaEventRecord(c->stage_done, c->stream));
        c->stage_pending = 1;
        c->stage_used = bytes;
        c->stage_m = M;
        c->stage_half = ff_half;
    }
    const char *dev = (const char *)c->d_stage;
    const int32_t *dpos = (const int32_t *)dev;
    const float *dff = freq_factors != NULL ? (const float *)(dev + pos_bytes) : NULL;
    rope_kernel<<<awq_cu_blocks(M * half, 128), 128, 0, c->stream>>>(x, M, n_heads, head_dim, rot_dim, dpos,
                                                                    (double)theta, dff);
    AWQ_CU_LAUNCHED(c, "rope_kernel");
    return AWQ_OK;
}
