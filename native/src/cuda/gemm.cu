/*
 * gemm.cu — y[M,N] = x[M,K] · W[N,K]ᵀ with W fp32 (awq_f32_gemm), fp16 bits (awq_f16_gemm) or
 * group-wise INT4 (awq_w4a16_gemm: qweight uint8 [N, ceil(K/2)], low nibble = even k; fp16
 * scales and uint8 zeros [N, ceil(K/G)]; W[n,k] = (q − z)·s, the last group may be shorter).
 * fp32 activations, fp32 accumulation; a dequantized weight (q − z)·s is exact in fp32.
 *
 * M <= 8 (decode): GEMV. One warp per output column n; its lanes stream the weight row with
 *   128-bit loads where the shape and alignment allow it (else one element / byte a lane), every
 *   weight load feeds all M rows of x, and the warp reduces with shuffles.
 * M > 8 (prefill): a 64x64 output tile per 256-thread block, K in steps of 32: the x tile and the
 *   (dequantized, fp32) W tile go to shared memory, each thread accumulates a 4x4 register tile.
 * The summation order differs from the CPU's k-ascending sums (lane-strided partial sums reduced
 * in a tree for the GEMV; k-ascending per output for the tiled kernel, which then matches the
 * scalar reference's order; the CPU's W4A16 factors the scale out of each group).
 */
#include "cuda_common.cuh"

#include <cuda_fp16.h>

#define GEMV_WARPS 8
#define TILE_M 64
#define TILE_N 64
#define TILE_K 32
#define TILE_THREADS 256

static_assert(TILE_M == 64 && TILE_N == 64 && TILE_K == 32 && TILE_THREADS == 256,
              "the 4x4 register tiles, the loaders and LoadW4::tile assume these");

__device__ __forceinline__ float h2f(unsigned short b) { return __half2float(__ushort_as_half(b)); }

/* acc += x · w over four consecutive k, in k order (the GEMVs' inner step) */
__device__ __forceinline__ float dot4(float acc, float4 x, float w0, float w1, float w2, float w3) {
    acc = fmaf(x.x, w0, acc);
    acc = fmaf(x.y, w1, acc);
    acc = fmaf(x.z, w2, acc);
    return fmaf(x.w, w3, acc);
}

__device__ __forceinline__ float warp_sum(float v) {
    for (int off = 16; off > 0; off >>= 1) v += __shfl_xor_sync(0xffffffffu, v, off);
    return v;
}

/* ---- weight element loaders (tiled kernel and generic GEMV) -------------------------------------- */
struct LoadF32 {
    static constexpr bool kTile = false;
    const float *w;
    int64_t K;
    __device__ __forceinline__ float operator()(int64_t n, int64_t k) const { return __ldg(w + n * K + k); }
};

struct LoadF16 {
    static constexpr bool kTile = false;
    const unsigned short *w;
    int64_t K;
    __device__ __forceinline__ float operator()(int64_t n, int64_t k) const { return h2f(__ldg(w + n * K + k)); }
};

struct LoadW4 {
    static constexpr bool kTile = true;
    const uint8_t *qw;
    const unsigned short *sc;
    const uint8_t *zr;
    int64_t K, kh, ng, G;
    __device__ __forceinline__ int64_t group_of(int64_t k) const {
        /* 32-bit division where it is exact (the usual case: a 64-bit one costs ~4x more) */
        return (K <= 0xffffffffLL && G <= 0xffffffffLL) ? (int64_t)((uint32_t)k / (uint32_t)G) : k / G;
    }
    /* The W tile rows n0 .. n0+63, columns k0 .. k0+31 (k0 even) into ws[k - k0][n - n0]: a thread
     * dequantizes 8 consecutive k (4 bytes) of one row, one division for its first group. */
    __device__ __forceinline__ void tile(float (*ws)[TILE_N + 4], int64_t n0, int64_t k0, int tid, int64_t N) const {
        const int r = tid >> 2, part = tid & 3;
        const int64_t n = n0 + r, kb = k0 + 8 * part;
        float v[8];
#pragma unroll
        for (int j = 0; j < 8; j++) v[j] = 0.0f;
        if (n < N && kb < K) {
            const uint8_t *p = qw + n * kh + (kb >> 1);
            const int64_t avail = kh - (kb >> 1);
            uint32_t word = 0;
#pragma unroll
            for (int b = 0; b < 4; b++)
                if (b < avail) word |= (uint32_t)__ldg(p + b) << (8 * b);
            int64_t g = group_of(kb), gend = (g + 1) * G;
            float s = h2f(__ldg(sc + n * ng + g)), z = (float)__ldg(zr + n * ng + g);
#pragma unroll
            for (int j = 0; j < 8; j++) {
                const int64_t k = kb + j;
                if (k < K) {
                    if (k >= gend) { /* G >= 1: one group further at most */
                        g++;
                        gend += G;
                        s = h2f(__ldg(sc + n * ng + g));
                        z = (float)__ldg(zr + n * ng + g);
                    }
                    v[j] = __fmul_rn((float)((word >> (4 * j)) & 0xfu) - z, s);
                }
            }
        }
#pragma unroll
        for (int j = 0; j < 8; j++) ws[8 * part + j][r] = v[j];
    }
    __device__ __forceinline__ float operator()(int64_t n, int64_t k) const {
        const int q = (__ldg(qw + n * kh + (k >> 1)) >> ((int)(k & 1) * 4)) & 0xf;
        const int64_t g = group_of(k);
        const float s = h2f(__ldg(sc + n * ng + g));
        const float z = (float)__ldg(zr + n * ng + g);
        return __fmul_rn((float)q - z, s);
    }
};

/* ---- tiled GEMM ------------------------------------------------------------------------------------ */
template <class W>
__global__ void __launch_bounds__(TILE_THREADS)
gemm_tiled(const float *__restrict__ x, int64_t M, int64_t K, W wl, int64_t N, float *__restrict__ y) {
    __shared__ __align__(16) float xs[TILE_K][TILE_M + 4];
    __shared__ __align__(16) float ws[TILE_K][TILE_N + 4];
    const int tid = threadIdx.x, tx = tid % 16, ty = tid / 16;
    const int lc = tid % TILE_K, lr = tid / TILE_K; /* loader: column k, first row */
    const int64_t n0 = (int64_t)blockIdx.x * TILE_N;
    for (int64_t m0 = (int64_t)blockIdx.y * TILE_M; m0 < M; m0 += (int64_t)gridDim.y * TILE_M) {
        float acc[4][4];
#pragma unroll
        for (int i = 0; i < 4; i++)
#pragma unroll
            for (int j = 0; j < 4; j++) acc[i][j] = 0.0f;
        for (int64_t k0 = 0; k0 < K; k0 += TILE_K) {
            const int64_t k = k0 + lc;
#pragma unroll
            for (int r = lr; r < TILE_M; r += TILE_THREADS / TILE_K) {
                const int64_t m = m0 + r;
                xs[lc][r] = (m < M && k < K) ? __ldg(x + m * K + k) : 0.0f;
            }
            if constexpr (W::kTile) {
                wl.tile(ws, n0, k0, tid, N);
            } else {
#pragma unroll
                for (int r = lr; r < TILE_N; r += TILE_THREADS / TILE_K) {
                    const int64_t n = n0 + r;
                    ws[lc][r] = (n < N && k < K) ? wl(n, k) : 0.0f;
                }
            }
            __syncthreads();
#pragma unroll
            for (int kk = 0; kk < TILE_K; kk++) {
                const float4 a = *(const float4 *)&xs[kk][ty * 4];
                const float4 b = *(const float4 *)&ws[kk][tx * 4];
                const float av[4] = {a.x, a.y, a.z, a.w}, bv[4] = {b.x, b.y, b.z, b.w};
#pragma unroll
                for (int i = 0; i < 4; i++)
#pragma unroll
                    for (int j = 0; j < 4; j++) acc[i][j] = fmaf(av[i], bv[j], acc[i][j]);
            }
            __syncthreads();
        }
#pragma unroll
        for (int i = 0; i < 4; i++) {
            const int64_t m = m0 + ty * 4 + i;
            if (m >= M) break;
#pragma unroll
            for (int j = 0; j < 4; j++) {
                const int64_t n = n0 + tx * 4 + j;
                if (n < N) y[m * N + n] = acc[i][j];
            }
        }
    }
}

template <class W>
static int gemm_tiled_launch(awq_cuda_ctx *c, const float *x, int64_t M, int64_t K, W wl, int64_t N, float *y,
                             const char *name) {
    const int64_t nb = (N + TILE_N - 1) / TILE_N, mb = (M + TILE_M - 1) / TILE_M;
    if (nb > 0x7fffffffLL) return awq_cu_fail(c, name, cudaErrorInvalidConfiguration);
    dim3 grid((unsigned)nb, (unsigned)(mb > 65535 ? 65535 : mb));
    gemm_tiled<W><<<grid, TILE_THREADS, 0, c->stream>>>(x, M, K, wl, N, y);
    AWQ_CU_LAUNCHED(c, name);
    return AWQ_OK;
}

/* ---- GEMV (M <= 8): MT rows of x per weight load; rows >= M read row M-1 and are not stored ----- */
template <int MT>
__device__ __forceinline__ void gemv_store(float (&acc)[MT], int lane, int64_t M, int64_t N, int64_t n,
                                           float *__restrict__ y) {
#pragma unroll
    for (int m = 0; m < MT; m++) {
        const float s = warp_sum(acc[m]);
        if (lane == m && m < M) y[(int64_t)m * N + n] = s;
    }
}

/* The MT rows of x a GEMV reads (rows past M repeat row M-1; gemv_store drops their sums). */
template <int MT>
__device__ __forceinline__ void gemv_x_rows(const float *x, int64_t M, int64_t K, const float *(&xr)[MT]) {
#pragma unroll
    for (int m = 0; m < MT; m++) xr[m] = x + (m < M ? m : M - 1) * K;
}

/* one weight as fp32, and the C consecutive weights of 16-byte load i (fp32: 4, fp16: 8) */
__device__ __forceinline__ float weight_f32(float w) { return w; }
__device__ __forceinline__ float weight_f32(unsigned short w) { return h2f(w); }
__device__ __forceinline__ void weights16(const float *wr, int64_t i, float (&wv)[4]) {
    const float4 v = __ldg((const float4 *)wr + i);
    wv[0] = v.x, wv[1] = v.y, wv[2] = v.z, wv[3] = v.w;
}
__device__ __forceinline__ void weights16(const unsigned short *wr, int64_t i, float (&wv)[8]) {
    const uint4 raw = __ldg((const uint4 *)wr + i);
    const uint32_t u[4] = {raw.x, raw.y, raw.z, raw.w};
#pragma unroll
    for (int j = 0; j < 4; j++) {
        wv[2 * j] = h2f((unsigned short)(u[j] & 0xffffu));
        wv[2 * j + 1] = h2f((unsigned short)(u[j] >> 16));
    }
}

/* The dense GEMV (fp32 or fp16 weights T): one warp per output column. VEC: K a multiple of the
 * weights per 16-byte load and x, w 16-byte aligned, so every lane loads 16 bytes of weights at once. */
template <int MT, bool VEC, class T>
__device__ __forceinline__ void gemv_dense(const float *__restrict__ x, int64_t M, int64_t K, const T *__restrict__ w,
                                           int64_t N, float *__restrict__ y) {
    constexpr int C = 16 / sizeof(T);
    const int lane = threadIdx.x & 31;
    const float *xr[MT];
    gemv_x_rows<MT>(x, M, K, xr);
    for (int64_t n = (int64_t)blockIdx.x * GEMV_WARPS + (threadIdx.x >> 5); n < N; n += (int64_t)gridDim.x * GEMV_WARPS) {
        float acc[MT];
#pragma unroll
        for (int m = 0; m < MT; m++) acc[m] = 0.0f;
        const T *wr = w + n * K;
        if (VEC) {
            for (int64_t i = lane; i < K / C; i += 32) {
                float wv[C];
                weights16(wr, i, wv);
#pragma unroll
                for (int m = 0; m < MT; m++)
#pragma unroll
                    for (int c = 0; c < C; c += 4)
                        acc[m] = dot4(acc[m], __ldg((const float4 *)xr[m] + i * (C / 4) + c / 4), wv[c], wv[c + 1], wv[c + 2], wv[c + 3]);
            }
        } else {
            for (int64_t k = lane; k < K; k += 32) {
                const float wv = weight_f32(__ldg(wr + k));
#pragma unroll
                for (int m = 0; m < MT; m++) acc[m] = fmaf(__ldg(xr[m] + k), wv, acc[m]);
            }
        }
        gemv_store<MT>(acc, lane, M, N, n, y);
    }
}

template <int MT, bool VEC>
__global__ void __launch_bounds__(GEMV_WARPS * 32)
gemv_f32(const float *__restrict__ x, int64_t M, int64_t K, const float *__restrict__ w, int64_t N, float *__restrict__ y) {
    gemv_dense<MT, VEC, float>(x, M, K, w, N, y);
}

template <int MT, bool VEC>
__global__ void __launch_bounds__(GEMV_WARPS * 32)
gemv_f16(const float *__restrict__ x, int64_t M, int64_t K, const unsigned short *__restrict__ w, int64_t N,
         float *__restrict__ y) {
    gemv_dense<MT, VEC, unsigned short>(x, M, K, w, N, y);
}

/* VEC: K % 32 == 0, G % 32 == 0, x and qweight 16-byte aligned: a lane takes 16 bytes (32 k of one
 * group) at a time. Otherwise a lane takes one byte (two k, each with its own group). */
template <int MT, bool VEC>
__global__ void __launch_bounds__(GEMV_WARPS * 32)
gemv_w4(const float *__restrict__ x, int64_t M, int64_t K, const uint8_t *__restrict__ qw,
        const unsigned short *__restrict__ sc, const uint8_t *__restrict__ zr, int64_t N, int64_t G,
        float *__restrict__ y) {
    const int lane = threadIdx.x & 31;
    const int64_t kh = (K + 1) / 2, ng = (K + G - 1) / G;
    const float *xr[MT];
    gemv_x_rows<MT>(x, M, K, xr);
    for (int64_t n = (int64_t)blockIdx.x * GEMV_WARPS + (threadIdx.x >> 5); n < N; n += (int64_t)gridDim.x * GEMV_WARPS) {
        float acc[MT];
#pragma unroll
        for (int m = 0; m < MT; m++) acc[m] = 0.0f;
        const uint8_t *qr = qw + n * kh;
        const unsigned short *sr = sc + n * ng;
        const uint8_t *zrow = zr + n * ng;
        if (VEC) {
            const int64_t chunks = K / 32;
            for (int64_t i = lane; i < chunks; i += 32) {
                const uint4 raw = __ldg((const uint4 *)qr + i);
                const int64_t g = (i * 32) / G;
                const float s = h2f(__ldg(sr + g)), z = (float)__ldg(zrow + g);
                const uint32_t u[4] = {raw.x, raw.y, raw.z, raw.w};
#pragma unroll
                for (int j = 0; j < 4; j++) {
                    float wv[8];
#pragma unroll
                    for (int b = 0; b < 8; b++) wv[b] = __fmul_rn((float)((u[j] >> (4 * b)) & 0xfu) - z, s);
#pragma unroll
                    for (int m = 0; m < MT; m++) {
                        const float4 a = __ldg((const float4 *)xr[m] + 8 * i + 2 * j);
                        const float4 c = __ldg((const float4 *)xr[m] + 8 * i + 2 * j + 1);
                        acc[m] = dot4(dot4(acc[m], a, wv[0], wv[1], wv[2], wv[3]), c, wv[4], wv[5], wv[6], wv[7]);
                    }
                }
            }
        } else {
            for (int64_t b = lane; b < kh; b += 32) {
                const unsigned byte = __ldg(qr + b);
#pragma unroll
                for (int hi = 0; hi < 2; hi++) {
                    const int64_t k = 2 * b + hi;
                    if (k >= K) break;
                    const int64_t g = k / G;
                    const float s = h2f(__ldg(sr + g)), z = (float)__ldg(zrow + g);
                    const float wv = __fmul_rn((float)((byte >> (4 * hi)) & 0xfu) - z, s);
#pragma unroll
                    for (int m = 0; m < MT; m++) acc[m] = fmaf(__ldg(xr[m] + k), wv, acc[m]);
                }
            }
        }
        gemv_store<MT>(acc, lane, M, N, n, y);
    }
}

#define GEMV_MAX_M 8

static inline int gemv_rows(int64_t M) { return M <= 1 ? 1 : M <= 2 ? 2 : M <= 4 ? 4 : 8; }
static inline bool aligned16(const void *p) { return ((uintptr_t)p & 15u) == 0; }
static inline unsigned gemv_blocks(int64_t N) { return awq_cu_blocks(N, GEMV_WARPS); }

#define GEMV_DISPATCH(KERNEL, VEC, ...)                                                            \
    do {                                                                                           \
        const unsigned blocks_ = gemv_blocks(N);                                                   \
        const int t_ = GEMV_WARPS * 32;                                                            \
        switch (gemv_rows(M) * 2 + ((VEC) ? 1 : 0)) {                                              \
        case 2: KERNEL<1, false><<<blocks_, t_, 0, c->stream>>>(__VA_ARGS__); break;               \
        case 3: KERNEL<1, true><<<blocks_, t_, 0, c->stream>>>(__VA_ARGS__); break;                \
        case 4: KERNEL<2, false><<<blocks_, t_, 0, c->stream>>>(__VA_ARGS__); break;               \
        case 5: KERNEL<2, true><<<blocks_, t_, 0, c->stream>>>(__VA_ARGS__); break;                \
        case 8: KERNEL<4, false><<<blocks_, t_, 0, c->stream>>>(__VA_ARGS__); break;               \
        case 9: KERNEL<4, true><<<blocks_, t_, 0, c->stream>>>(__VA_ARGS__); break;                \
        case 16: KERNEL<8, false><<<blocks_, t_, 0, c->stream>>>(__VA_ARGS__); break;              \
        default: KERNEL<8, true><<<blocks_, t_, 0, c->stream>>>(__VA_ARGS__); break;               \
        }                                                                                          \
        AWQ_CU_LAUNCHED(c, #KERNEL);                                                               \
    } while (0)

extern "C" int awq_cuda_f32_gemm(awq_cuda_ctx *c, const float *x, int64_t M, int64_t K, const float *w, int64_t N,
                                 float *y) {
    AWQ_CU_ENTER(c);
    if (M <= GEMV_MAX_M) {
        const bool vec = K % 4 == 0 && aligned16(x) && aligned16(w);
        GEMV_DISPATCH(gemv_f32, vec, x, M, K, w, N, y);
        return AWQ_OK;
    }
    LoadF32 wl = {w, K};
    return gemm_tiled_launch(c, x, M, K, wl, N, y, "gemm_tiled<f32>");
}

extern "C" int awq_cuda_f16_gemm(awq_cuda_ctx *c, const float *x, int64_t M, int64_t K, const uint16_t *w, int64_t N,
                                 float *y) {
    AWQ_CU_ENTER(c);
    const unsigned short *wu = (const unsigned short *)w;
    if (M <= GEMV_MAX_M) {
        const bool vec = K % 8 == 0 && aligned16(x) && aligned16(w);
        GEMV_DISPATCH(gemv_f16, vec, x, M, K, wu, N, y);
        return AWQ_OK;
    }
    LoadF16 wl = {wu, K};
    return gemm_tiled_launch(c, x, M, K, wl, N, y, "gemm_tiled<f16>");
}

extern "C" int awq_cuda_w4a16(awq_cuda_ctx *c, const float *x, int64_t M, int64_t K, const uint8_t *qweight,
                              const uint16_t *scales, const uint8_t *zeros, int64_t N, int64_t group_size, float *y) {
    AWQ_CU_ENTER(c);
    const unsigned short *su = (const unsigned short *)scales;
    if (M <= GEMV_MAX_M) {
        const bool vec = K % 32 == 0 && group_size % 32 == 0 && aligned16(x) && aligned16(qweight);
        GEMV_DISPATCH(gemv_w4, vec, x, M, K, qweight, su, zeros, N, group_size, y);
        return AWQ_OK;
    }
    LoadW4 wl = {qweight, su, zeros, K, (K + 1) / 2, (K + group_size - 1) / group_size, group_size};
    return gemm_tiled_launch(c, x, M, K, wl, N, y, "gemm_tiled<w4a16>");
}
