/*
 * attention.cu — causal grouped-query attention of M query rows against the KV cache, as
 * attention.c computes it: for query row m (position n_past + m) and head h, kv head
 * g = h / (n_heads / n_kv_heads), keys t = first .. n_past + m (first = p − window + 1 with a
 * sliding window, else 0):
 *   s[t] = (q · k_t) · (1/sqrtf(head_dim))            fp32
 *   p    = exp(s − max) / Σ exp(s − max)              fp32 expf, double sum, p rounded once to fp32
 *   out  = Σ_t p[t] · v_t                             fp32
 *
 * One 256-thread block per (m, h) (grid-stride). The scores live in dynamic shared memory: all of
 * them when they fit (up to the device's opt-in limit, ~227 KiB on H100: ~56K keys), else in chunks
 * that are recomputed in each of the three passes (max, sum, mix) — the same dot products every
 * time, so the result is the same as with every score stored. Each warp computes whole dot
 * products (lanes over head_dim, shuffle reduction); the mix has each thread own one output dim
 * and a slice of the keys (t ≡ part mod parts, ascending), the parts summed in order at the end.
 * Differences from the CPU: the summation order of the dot products, of the double sum and of
 * the mix (split in parts) — rounding-level.
 */
#include "cuda_common.cuh"

#include <math.h>
#include <stdio.h>

#define ATTN_THREADS 256
#define ATTN_WARPS (ATTN_THREADS / 32)

__device__ __forceinline__ float warp_sum_f(float v) {
    for (int off = 16; off > 0; off >>= 1) v += __shfl_xor_sync(0xffffffffu, v, off);
    return v;
}

/* sc[t - c0] = (q · k_t) * scale for t in [c0, c0 + n); k_t = k + t * stride. Ends with a barrier. */
__device__ __forceinline__ void attn_scores(const float *qs, const float *__restrict__ k, int64_t stride,
                                            int64_t c0, int64_t n, int64_t hd, float scale, float *sc) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    for (int64_t t = warp; t < n; t += ATTN_WARPS) {
        const float *kt = k + (c0 + t) * stride;
        float dot = 0.0f;
        for (int64_t d = lane; d < hd; d += 32) dot = fmaf(qs[d], __ldg(kt + d), dot);
        dot = warp_sum_f(dot);
        if (lane == 0) sc[t] = __fmul_rn(dot, scale);
    }
    __syncthreads();
}

/* dynamic shared memory: q [hd] | acc [max(hd, ATTN_THREADS)] | scores [cap] */
__global__ void __launch_bounds__(ATTN_THREADS)
attention_kernel(const float *__restrict__ q, const float *__restrict__ kc, const float *__restrict__ vc, int64_t M,
                 int64_t n_past, int64_t n_heads, int64_t n_kv_heads, int64_t hd, int64_t window, float scale,
                 int64_t cap, float *__restrict__ out) {
    extern __shared__ __align__(16) float smem[];
    __shared__ float red_f[ATTN_WARPS];
    __shared__ double red_d[ATTN_WARPS];
    __shared__ float s_max;
    __shared__ double s_sum;
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int64_t acc_len = hd > ATTN_THREADS ? hd : ATTN_THREADS;
    float *qs = smem, *accs = smem + hd, *sc = smem + hd + acc_len;
    const int64_t group = n_heads / n_kv_heads, stride = n_kv_heads * hd;
    /* parts of the key range in the mix: every (part, d) of parts * hd <= max(hd, threads) slots */
    const int64_t parts = hd >= ATTN_THREADS ? 1 : ATTN_THREADS / hd;
    const int64_t slots = parts * hd;

    for (int64_t task = blockIdx.x; task < M * n_heads; task += gridDim.x) {
        const int64_t m = task / n_heads, h = task % n_heads;
        int64_t len = n_past + m + 1;
        const int64_t first = window > 0 && len > window ? len - window : 0;
        len -= first;
        const float *kb = kc + first * stride + (h / group) * hd;
        const float *vb = vc + first * stride + (h / group) * hd;
        const float *qr = q + task * hd;
        for (int64_t d = tid; d < hd; d += ATTN_THREADS) qs[d] = qr[d];
        for (int64_t i = tid; i < slots; i += ATTN_THREADS) accs[i] = 0.0f;
        __syncthreads();
        const bool all = len <= cap;

        /* pass 1: the max */
        float mx = -INFINITY;
        for (int64_t c0 = 0; c0 < len; c0 += cap) {
            const int64_t n = len - c0 < cap ? len - c0 : cap;
            attn_scores(qs, kb, stride, c0, n, hd, scale, sc);
            for (int64_t t = tid; t < n; t += ATTN_THREADS) mx = fmaxf(mx, sc[t]);
            if (!all) __syncthreads();
        }
        for (int off = 16; off > 0; off >>= 1) mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, off));
        if (lane == 0) red_f[warp] = mx;
        __syncthreads();
        if (tid == 0) {
            float v = red_f[0];
            for (int i = 1; i < ATTN_WARPS; i++) v = fmaxf(v, red_f[i]);
            s_max = v;
        }
        __syncthreads();
        mx = s_max;

        /* pass 2: the exponentials and their sum (kept when every score is stored) */
        double sum = 0.0;
        for (int64_t c0 = 0; c0 < len; c0 += cap) {
            const int64_t n = len - c0 < cap ? len - c0 : cap;
            if (!all) attn_scores(qs, kb, stride, c0, n, hd, scale, sc);
            for (int64_t t = tid; t < n; t += ATTN_THREADS) {
                const float e = expf(__fsub_rn(sc[t], mx));
                if (all) sc[t] = e;
                sum += (double)e;
            }
            if (!all) __syncthreads();
        }
        for (int off = 16; off > 0; off >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, off);
        if (lane == 0) red_d[warp] = sum;
        __syncthreads();
        if (tid == 0) {
            double v = 0.0;
            for (int i = 0; i < ATTN_WARPS; i++) v += red_d[i];
            s_sum = v;
        }
        __syncthreads();
        sum = s_sum;

        /* pass 3: probabilities and the weighted sum of V */
        for (int64_t c0 = 0; c0 < len; c0 += cap) {
            const int64_t n = len - c0 < cap ? len - c0 : cap;
            if (!all) {
                attn_scores(qs, kb, stride, c0, n, hd, scale, sc);
                for (int64_t t = tid; t < n; t += ATTN_THREADS)
                    sc[t] = (float)((double)expf(__fsub_rn(sc[t], mx)) / sum);
            } else {
                for (int64_t t = tid; t < n; t += ATTN_THREADS) sc[t] = (float)((double)sc[t] / sum);
            }
            __syncthreads();
            for (int64_t i = tid; i < slots; i += ATTN_THREADS) {
                const int64_t part = i / hd, d = i % hd;
                float a = accs[i];
                const float *vt = vb + (c0 + part) * stride + d;
                for (int64_t t = part; t < n; t += parts, vt += parts * stride) a = fmaf(sc[t], __ldg(vt), a);
                accs[i] = a;
            }
            __syncthreads();
        }
        float *orow = out + task * hd;
        for (int64_t d = tid; d < hd; d += ATTN_THREADS) {
            float o = accs[d];
            for (int64_t p = 1; p < parts; p++) o = __fadd_rn(o, accs[p * hd + d]);
            orow[d] = o;
        }
        __syncthreads(); /* qs / accs / sc are reused by the next task */
    }
}

extern "C" int awq_cuda_attention(awq_cuda_ctx *c, const float *q, const float *k_cache, const float *v_cache,
                                  int64_t M, int64_t n_past, int64_t n_ctx, int64_t n_heads, int64_t n_kv_heads,
                                  int64_t head_dim, int64_t window, float *out) {
    (void)n_ctx;
    AWQ_CU_ENTER(c);
    const int64_t acc_len = head_dim > ATTN_THREADS ? head_dim : ATTN_THREADS;
    const int64_t fixed = (head_dim + acc_len) * (int64_t)sizeof(float);
    /* static shared memory of the kernel (reductions) and a margin */
    const int64_t reserve = 1024;
    int64_t limit = (int64_t)c->smem_optin - reserve;
    int64_t longest = n_past + M;
    if (window > 0 && longest > window) longest = window;
    int64_t cap = (limit - fixed) / (int64_t)sizeof(float);
    if (cap < 32) {
        /* head_dim too large for shared memory: not a shape any model has */
        snprintf(c->err, sizeof c->err, "attention: head_dim %lld needs more shared memory than the device has",
                 (long long)head_dim);
        return AWQ_ERR_UNSUPPORTED;
    }
    if (cap > longest) cap = longest;
    const int64_t bytes = fixed + cap * (int64_t)sizeof(float);
    if (bytes > 48 * 1024 && bytes > c->attn_smem_set) {
        AWQ_CU(c, cudaFuncSetAttribute(attention_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                       (int)(c->smem_optin - reserve)));
        c->attn_smem_set = c->smem_optin - reserve;
    }
    const float scale = 1.0f / sqrtf((float)head_dim);
    const int64_t tasks = M * n_heads;
    const unsigned blocks = tasks > (1 << 20) ? (1u << 20) : (unsigned)tasks;
    attention_kernel<<<blocks, ATTN_THREADS, (size_t)bytes, c->stream>>>(q, k_cache, v_cache, M, n_past, n_heads,
                                                                        n_kv_heads, head_dim, window, scale, cap, out);
    AWQ_CU_LAUNCHED(c, "attention_kernel");
    return AWQ_OK;
}
