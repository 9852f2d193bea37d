/*
 * awq_kernels.h — the one public header of AwqRuntime's native kernel library.
 *
 * Conventions (read these once; every function follows them):
 *  - Plain C over caller-owned buffers. The library never allocates memory the caller must free.
 *  - Every function that can fail returns an int status: AWQ_OK (0) or a negative awq_status.
 *    On failure, awq_last_error() returns a thread-local message naming the function and the
 *    argument ("awq_quantize: argument 'group_size' must be positive (got 0)"). It is the
 *    errno/dlerror pattern: per thread, overwritten by the next failure, never freed by the caller.
 *  - Sizes are int64_t. Zero or negative sizes, NULL pointers, a non-positive group size, bit
 *    widths out of range and inconsistent lengths are rejected with a named status. Nothing aborts.
 *  - Matrices are row-major and dense. A weight matrix W of a linear layer is [N, K]: N output
 *    channels (rows), K input channels (the reduction dimension), exactly like PyTorch's
 *    nn.Linear.weight. Every GEMM here computes y[M,N] = x[M,K] · Wᵀ.
 *  - Group-wise quantization groups run along K inside each row. The last group of a row may be
 *    shorter than group_size when group_size does not divide K (n_groups = ceil(K / group_size)).
 *  - The only global mutable state is the worker thread pool (awq_set_num_threads) and the
 *    one-time CPU feature detection that picks the SIMD path.
 */
#ifndef AWQ_KERNELS_H
#define AWQ_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define AWQ_API __declspec(dllexport)
#else
#define AWQ_API __attribute__((visibility("default")))
#endif

#define AWQ_VERSION_MAJOR 0
#define AWQ_VERSION_MINOR 1
#define AWQ_VERSION_PATCH 0

/* ---------------------------------------------------------------------------------------------
 * Status codes and errors
 * ------------------------------------------------------------------------------------------- */
typedef enum awq_status {
    AWQ_OK = 0,
    AWQ_ERR_NULL_POINTER = -1,      /* a required pointer argument is NULL */
    AWQ_ERR_INVALID_SIZE = -2,      /* a size/count is zero, negative or too large */
    AWQ_ERR_INVALID_GROUP_SIZE = -3,/* group_size <= 0 */
    AWQ_ERR_SIZE_MISMATCH = -4,     /* two lengths that must agree do not */
    AWQ_ERR_INVALID_BITS = -5,      /* bit width outside the supported range */
    AWQ_ERR_INVALID_ARGUMENT = -6,  /* an enum or value outside its domain */
    AWQ_ERR_OUT_OF_MEMORY = -7,     /* internal scratch allocation failed */
    AWQ_ERR_UNSUPPORTED = -8,       /* feature not built (e.g. CUDA) or not available */
    AWQ_ERR_OVERFLOW = -9,          /* a size product or an accumulator would overflow */
    AWQ_ERR_DEVICE = -10            /* the device failed (a CUDA launch or copy; its error string in awq_last_error) */
} awq_status;

/* Symbolic name of a status ("AWQ_ERR_NULL_POINTER"); "AWQ_UNKNOWN_STATUS" for others. */
AWQ_API const char *awq_status_name(int status);
/* Message of the last failure on the calling thread ("" if none). Valid until the next failing call on this thread. */
AWQ_API const char *awq_last_error(void);

/* ---------------------------------------------------------------------------------------------
 * Version, features, threads
 * ------------------------------------------------------------------------------------------- */
/* "0.1.0" */
AWQ_API const char *awq_version(void);

/* Bit set returned by awq_features(). COMPILED = the library contains the path; DETECTED = this
 * CPU (and OS, via XGETBV) can run it. The dispatcher uses a path only when both are set. */
enum awq_feature_bits {
    AWQ_FEATURE_AVX2_COMPILED = 1 << 0,
    AWQ_FEATURE_AVX2_DETECTED = 1 << 1,   /* AVX2 + FMA + F16C */
    AWQ_FEATURE_AVX512_COMPILED = 1 << 2,
    AWQ_FEATURE_AVX512_DETECTED = 1 << 3, /* AVX-512 F + BW + VL + DQ */
    AWQ_FEATURE_AVX512VNNI_DETECTED = 1 << 4,
    AWQ_FEATURE_F16C_DETECTED = 1 << 5,
    AWQ_FEATURE_CUDA_BUILT = 1 << 6,      /* the CUDA kernels (libawq_kernels_cuda.so beside this library) load */
    AWQ_FEATURE_OPENMP = 1 << 7           /* reserved; the thread pool is our own */
};
AWQ_API uint32_t awq_features(void);

/* The SIMD path the dispatcher uses: "avx512", "avx2" or "scalar". The environment variable
 * AWQ_SIMD=scalar|avx2|avx512, read once at first use, caps it (for benchmarks and debugging). */
AWQ_API const char *awq_simd_path(void);

/* Worker threads for the parallel kernels (1 = run on the caller's thread). Default: number of
 * online CPUs. Must not be called while a kernel runs on another thread. */
AWQ_API int awq_set_num_threads(int n_threads);
AWQ_API int awq_get_num_threads(void);

/* ---------------------------------------------------------------------------------------------
 * Number formats: fp32 <-> fp16 / bf16, round-to-nearest-even
 * NaN stays NaN with its sign (quiet bit set, top payload bits kept, as F16C/AVX-512 do); ±Inf
 * and signed zero are preserved; fp16 subnormals are produced and read; fp16 overflow -> ±Inf.
 * ------------------------------------------------------------------------------------------- */
AWQ_API int awq_fp32_to_fp16(const float *src, uint16_t *dst, int64_t n);
AWQ_API int awq_fp16_to_fp32(const uint16_t *src, float *dst, int64_t n);
AWQ_API int awq_fp32_to_bf16(const float *src, uint16_t *dst, int64_t n);
AWQ_API int awq_bf16_to_fp32(const uint16_t *src, float *dst, int64_t n);

/* ---------------------------------------------------------------------------------------------
 * Quantizers (bit widths 2..8), applied to a [rows, cols] fp32 matrix, groups along cols.
 *   per-tensor : rows = 1, cols = numel, group_size = numel
 *   per-channel: group_size = cols
 *   per-group  : group_size = G (last group of a row may be shorter)
 * All arithmetic in fp32, rounding half-to-even, q = x / scale (a true division, not x * 1/scale),
 * so managed and native implementations agree bit for bit.
 * ------------------------------------------------------------------------------------------- */
typedef enum awq_qscheme {
    /* absmax: qmax = 2^(b-1)-1, scale = max|x| / qmax, zero = 0, q = clamp(round(x/scale), -qmax, qmax) */
    AWQ_QSCHEME_SYMMETRIC = 0,
    /* min/max with 0 in the range (lo = min(min, 0), hi = max(max, 0), so 0 is exact and a group
     * of one sign is not clipped): qmax = 2^b-1, scale = (hi-lo)/qmax,
     * zero = clamp(round(-lo/scale), 0, qmax), q = clamp(round(x/scale) + zero, 0, qmax) */
    AWQ_QSCHEME_ASYMMETRIC = 1,
    /* AutoAWQ pseudo_quantize_tensor: scale = max(max-min, 1e-5) / qmax, scale rounded to fp16
     * (the checkpoint stores fp16 scales), zero = clamp(-round(min/scale), 0, qmax),
     * q = clamp(round(x/scale) + zero, 0, qmax). Kept as AutoAWQ has it, including that a group
     * of one sign is clipped (its zero clamps to 0 or qmax). */
    AWQ_QSCHEME_AWQ = 2
} awq_qscheme;
/* Degenerate groups: a SYMMETRIC or ASYMMETRIC scale of 0 (all-zero group, or a range so small
 * that range/qmax underflows) becomes max|x| of the group, or 1 if that is 0.
 * Non-finite x -> AWQ_ERR_INVALID_ARGUMENT; a group range (or AWQ fp16 scale) that overflows ->
 * AWQ_ERR_OVERFLOW. */

/* q: [rows, cols] (int32 containers), scales and zeros: [rows, n_groups], n_groups = ceil(cols/group_size). */
AWQ_API int awq_quantize(const float *x, int64_t rows, int64_t cols, int64_t group_size, int bits,
                         int scheme, int32_t *q, float *scales, int32_t *zeros);
/* out = (q - zero) * scale */
AWQ_API int awq_dequantize(const int32_t *q, const float *scales, const int32_t *zeros, int64_t rows,
                           int64_t cols, int64_t group_size, float *out);
/* mse = mean((a-b)^2), max_abs = max|a-b|, accumulated in double. */
/* [reference] Tests only (they measure quantization error with it); the runtime does not call it. */
AWQ_API int awq_quant_error(const float *a, const float *b, int64_t n, double *mse, double *max_abs);

/* ---------------------------------------------------------------------------------------------
 * INT4 packing: 8 nibbles per 32-bit word along the last dimension.
 *   AWQ order  : nibble i (bits 4i..4i+3) of word c holds column 8c + {0,2,4,6,1,3,5,7}[i]
 *   plain order: nibble i holds column 8c + i
 * cols that 8 does not divide: the last word is padded with zero nibbles; packed has
 * ceil(cols/8) words per row. Values must be 0..15 (AWQ_ERR_INVALID_ARGUMENT otherwise).
 * ------------------------------------------------------------------------------------------- */
typedef enum awq_pack_order { AWQ_PACK_AWQ = 0, AWQ_PACK_PLAIN = 1 } awq_pack_order;
AWQ_API int awq_pack_int4(const int32_t *q, int64_t rows, int64_t cols, int order, int32_t *packed);
AWQ_API int awq_unpack_int4(const int32_t *packed, int64_t rows, int64_t cols, int order, int32_t *q);

/* ---------------------------------------------------------------------------------------------
 * W4A16 GEMM: y[M,N] = x[M,K] · dequant(W)ᵀ with group-wise INT4 weights (kernel layout):
 *   qweight: uint8 [N, ceil(K/2)]: byte k/2 of row n holds column k in its low nibble when k is
 *            even and in its high nibble when k is odd (unsigned 0..15).
 *   scales : fp16 bits [N, n_groups]; zeros: uint8 [N, n_groups] holding 0..15.
 *   W[n,k] = (q[n,k] - zeros[n, k/G]) * scales[n, k/G]
 * Activations are fp32 on the CPU path (the "16" of W4A16 names the class of kernel).
 * 1 <= M (tested up to 512); multi-threaded over N.
 * ------------------------------------------------------------------------------------------- */
AWQ_API int awq_w4a16_gemm(const float *x, int64_t M, int64_t K, const uint8_t *qweight,
                           const uint16_t *scales, const uint8_t *zeros, int64_t N,
                           int64_t group_size, float *y);

/* ---------------------------------------------------------------------------------------------
 * WnA16 GEMM: y[M,N] = x[M,K] · dequant(W)ᵀ with group-wise weights of `bits` = 2, 3, 4 or 8 bits,
 * unsigned codes in a lane-interleaved kernel layout:
 *   pl = floor(32/bits) codes per int32 (16, 10, 8, 4); a row is cut into blocks of B = 8·pl
 *   columns (128, 80, 64, 32), block t taking words 8t..8t+7 of the row, and word 8t + l holding
 *   the columns t·B + 8j + l, j = 0..pl−1, in bits j·bits .. j·bits+bits−1 — so shifting the 8
 *   words of a block right by j·bits gives columns t·B + 8j .. +7 in the 8 lanes.
 *   qweight: int32 [N, 8·ceil(K/B)]; codes past K and a 3-bit word's top two bits are ignored.
 *   scales : fp16 bits [N, n_groups]; zeros: uint8 [N, n_groups] holding 0..2^bits−1.
 *   W[n,k] = (q[n,k] − zeros[n, k/G]) · scales[n, k/G], the last group of a row may be shorter.
 * (Checkpoints keep compressed-tensors' pack_to_int32 order, consecutive columns per word; the
 * runtime repacks into this one at load, as it does for the INT4 kernels.) Each weight vector is
 * dequantized exactly in fp32 and multiplied with the rows of x; the SIMD paths differ from the
 * scalar reference only in summation order. Multi-threaded over N; bit-identical for any thread
 * count. bits other than 2, 3, 4, 8 -> AWQ_ERR_INVALID_ARGUMENT; zeros above 2^bits−1 ->
 * AWQ_ERR_INVALID_ARGUMENT naming row and group.
 * ------------------------------------------------------------------------------------------- */
AWQ_API int awq_wna16_gemm(const float *x, int64_t M, int64_t K, const int32_t *qweight, int bits,
                           const uint16_t *scales, const uint8_t *zeros, int64_t N,
                           int64_t group_size, float *y);

/* ---------------------------------------------------------------------------------------------
 * W4A8 GEMM: the W4A16 weights (same layout, same W[n,k]) times activations quantized to int8,
 * with integer dot products. For decode and batched decode (M = 1..64; any M >= 1 works).
 *
 * awq_quantize_act_q8: per row of x [M, K], per group of group_size columns along K (the last
 * group may be shorter), symmetric int8:
 *   x_scale[m,g] = max|x| / 127                (fp32 division)
 *   xq[m,k]      = clamp(round_half_even(x[m,k] / x_scale[m,g]), -127, 127)   (true division)
 *   x_sum[m,g]   = Σ_{k∈g} xq[m,k]
 * A group whose x_scale is 0 (all zero, or max|x| so small that max/127 underflows) gets xq = 0
 * and x_sum = 0, never NaN. Layout: xq [M, K]; x_scale and x_sum [M, ceil(K/group_size)].
 * A non-finite x -> AWQ_ERR_INVALID_ARGUMENT (naming row and column).
 *
 * awq_w4a8_gemm: with qweight, scales (fp16) and zeros (0..15) exactly as for awq_w4a16_gemm and
 * the activation groups equal to the weight groups (the same group_size for both calls):
 *   corr[m,n,g] = Σ_{k∈g} xq[m,k]·q[n,k] − zeros[n,g]·x_sum[m,g]          (exact, int32)
 *   y[m,n]      = Σ_g (x_scale[m,g]·w_scale[n,g]) · (float)corr[m,n,g]
 * the fp32 sum evaluated in group order as s = x_scale·w_scale, t = s·corr, y = y + t (from 0,
 * no fused multiply-add). Every SIMD path (AVX2, AVX-512 BW, AVX-512 VNNI) and every thread
 * count produces the same bits as the scalar reference. Group sizes that are multiples of 32 run
 * the SIMD kernels; any other positive group size is computed correctly by the scalar kernel.
 * xq may hold any int8 (-128 too); x_scale must be finite and x_sum must equal the group sums of
 * xq (AWQ_ERR_INVALID_ARGUMENT naming them otherwise); zeros outside 0..15 are refused as in
 * awq_w4a16_gemm; groups longer than 559240 columns -> AWQ_ERR_OVERFLOW (int32 sums).
 *
 * awq_w4a8_gemm_f32: awq_quantize_act_q8 into internal scratch, then awq_w4a8_gemm — a drop-in
 * for awq_w4a16_gemm with its arguments. Callers that run several GEMMs on the same x (q/k/v,
 * gate/up) should quantize once and call awq_w4a8_gemm for each.
 * Relative to the W4A16 product the int8 rounding of x adds an error of about 0.4-0.7% (relative
 * L2 of y, Gaussian x, group 32-128); the tests bound it at 1%.
 * ------------------------------------------------------------------------------------------- */
AWQ_API int awq_quantize_act_q8(const float *x, int64_t M, int64_t K, int64_t group_size, int8_t *xq,
                                float *x_scale, int32_t *x_sum);
AWQ_API int awq_w4a8_gemm(const int8_t *xq, const float *x_scale, const int32_t *x_sum, int64_t M,
                          int64_t K, const uint8_t *qweight, const uint16_t *scales, const uint8_t *zeros,
                          int64_t N, int64_t group_size, float *y);
AWQ_API int awq_w4a8_gemm_f32(const float *x, int64_t M, int64_t K, const uint8_t *qweight,
                              const uint16_t *scales, const uint8_t *zeros, int64_t N,
                              int64_t group_size, float *y);

/* Prepared scale tables: the SIMD kernels read each 16-row tile's scales and zero points from
 * these, which awq_w4a8_gemm and awq_w4a8_gemm_f32 make anew on every call (for a decode step, one
 * row of x per weight, that is a fixed cost per weight byte); awq_w4a8_tile_tables writes
 *     tile_scales[(t·ng + g)·16 + r] = scales[(16t + r)·ng + g]   (fp16 bits; 0 past row N)
 *     tile_zeros [(t·ng + g)·16 + r] = zeros [(16t + r)·ng + g]
 * for t < ceil(N/16), g < ng = ceil(K/group_size): ceil(N/16)·16·ng elements each, the same bytes
 * as scales and zeros (plus padding). awq_w4a8_gemm_f32_tiled is awq_w4a8_gemm_f32 reading them
 * (its result has the same bits); scales and zeros are still passed, checked and used by the
 * scalar kernel, and the tables must be the ones made from them. */
AWQ_API int awq_w4a8_tile_tables(const uint16_t *scales, const uint8_t *zeros, int64_t N, int64_t K,
                                 int64_t group_size, uint16_t *tile_scales, uint8_t *tile_zeros);
AWQ_API int awq_w4a8_gemm_f32_tiled(const float *x, int64_t M, int64_t K, const uint8_t *qweight,
                                    const uint16_t *scales, const uint8_t *zeros,
                                    const uint16_t *tile_scales, const uint8_t *tile_zeros, int64_t N,
                                    int64_t group_size, float *y);

/* Repacked weights: on CPUs whose best W4A8 kernel is the AVX2 one, that kernel streams weights
 * stored tile by tile (8 rows interleaved in 4-byte pieces, in the order it multiplies them) faster
 * than it gathers them from 8 rows of qweight (no in-register transpose, one stream per tile). awq_w4a8_repack_preferred says
 * whether this CPU's kernels read them (1) or would ignore them (0); the environment variable
 * AWQ_W4A8_REPACK=0 makes it 0 (one copy of the weights: less memory, the slower kernel). awq_w4a8_repack writes, for
 * t < ceil(N/8), s < nsub = ceil(ceil(K/2)/16), d < 4, r < 8, b < 4 (kh = ceil(K/2)):
 *     repacked[((t·nsub + s)·4 + d)·32 + 4r + b] = qweight[(8t + r)·kh + 16s + 4d + b]
 * and 0 for rows past N and bytes past kh: awq_w4a8_repacked_bytes(N, K) = ceil(N/8)·8 · nsub·16
 * bytes (-1 for a non-positive or oversized shape); repacked_bytes must equal it.
 * awq_w4a8_gemm_f32_repacked is awq_w4a8_gemm_f32_tiled with the repacked copy of qweight: the
 * same bits on every path; the AVX2 kernel reads the copy, the others qweight (so both are passed,
 * and the copy must be made from qweight). */
AWQ_API int awq_w4a8_repack_preferred(void);
AWQ_API int64_t awq_w4a8_repacked_bytes(int64_t N, int64_t K);
AWQ_API int awq_w4a8_repack(const uint8_t *qweight, int64_t N, int64_t K, uint8_t *repacked,
                            int64_t repacked_bytes);
AWQ_API int awq_w4a8_gemm_f32_repacked(const float *x, int64_t M, int64_t K, const uint8_t *qweight,
                                       const uint16_t *scales, const uint8_t *zeros,
                                       const uint16_t *tile_scales, const uint8_t *tile_zeros,
                                       const uint8_t *repacked, int64_t repacked_bytes, int64_t N,
                                       int64_t group_size, float *y);

/* ---------------------------------------------------------------------------------------------
 * AWQ's clip search: the mean squared partial output of every quantization group
 * (AutoAWQ awq/quantize/quantizer.py _compute_best_clip)
 *   err[n·ng + g] = (1/M) Σ_m ( Σ_{k∈g} x[m,k]·d[n,k] )²,   ng = ceil(K / group_size)
 *   x: fp32 [M,K] sampled calibration activations, d: fp32 [N,K] the weight error q(w) − w
 *   err: double [N, ng]. Partial sums in fp32 (one FMA per k, k ascending), squares summed in
 *   double (one FMA per m, m ascending): the same bits on every SIMD path and thread count.
 * Scratch the size of d (rounded up to 64 rows) is allocated per call (AWQ_ERR_OUT_OF_MEMORY).
 * ------------------------------------------------------------------------------------------- */
AWQ_API int awq_clip_error(const float *x, int64_t M, int64_t K, const float *d, int64_t N,
                           int64_t group_size, double *err);

/* ---------------------------------------------------------------------------------------------
 * INT8 x INT8 -> INT32 GEMM with zero-point correction (the seed's Xf·Wfᵀ ≈ Sx Sw (Xq-Zx)(Wq-Zw)ᵀ)
 * [not yet in the runtime] Called by the tests and scripts/bench-kernels today; the W8A8 methods
 * will run their linears on it.
 *   xq: uint8 [M,K] activations, x_zero[M] in 0..255 (per-row asymmetric)
 *   wq: int8 [N,K] weights,      w_zero[N] in -128..127 or NULL (symmetric weights)
 *   acc[m,n] = Σ_k (xq[m,k] - x_zero[m]) * (wq[n,k] - w_zero[n])   (exact int32)
 *   K must satisfy K * 255 * 255 < 2^31 (AWQ_ERR_OVERFLOW otherwise).
 * awq_int8_gemm_f32 additionally writes y[m,n] = x_scale[m] * w_scale[n] * acc[m,n].
 * ------------------------------------------------------------------------------------------- */
AWQ_API int awq_int8_gemm(const uint8_t *xq, const int32_t *x_zero, int64_t M, int64_t K,
                          const int8_t *wq, const int32_t *w_zero, int64_t N, int32_t *acc);
AWQ_API int awq_int8_gemm_f32(const uint8_t *xq, const int32_t *x_zero, const float *x_scale,
                              int64_t M, int64_t K, const int8_t *wq, const int32_t *w_zero,
                              const float *w_scale, int64_t N, float *y);

/* ---------------------------------------------------------------------------------------------
 * FP32 building blocks of the LLaMA forward pass
 * ------------------------------------------------------------------------------------------- */
/* y[M,N] = x[M,K] · w[N,K]ᵀ, fp32 weights. Multi-threaded over N (and M for large M). */
AWQ_API int awq_f32_gemm(const float *x, int64_t M, int64_t K, const float *w, int64_t N, float *y);
/* Same with fp16 weights (bits), fp32 accumulation. */
AWQ_API int awq_f16_gemm(const float *x, int64_t M, int64_t K, const uint16_t *w, int64_t N, float *y);

/* y[m,:] = x[m,:] / sqrt(mean(x[m,:]^2) + eps) * weight[:]   (x and y may alias) */
AWQ_API int awq_rmsnorm(const float *x, const float *weight, int64_t M, int64_t D, float eps, float *y);
/* The residual add fused before it: x[m,:] += delta[m,:], then y[m,:] = rmsnorm(x[m,:]) * weight,
 * bit for bit the two steps one after the other. y must not alias x or delta. */
AWQ_API int awq_add_rmsnorm(float *x, const float *delta, const float *weight, int64_t M, int64_t D, float eps,
                            float *y);

/* In-place rotary embedding, interleaved-pair layout (llama.cpp NORM / Meta / llama2.c):
 * x: [M, n_heads, head_dim]; for row m at position pos[m], pairs (2i, 2i+1) with 2i < rot_dim are
 * rotated by angle pos * theta^(-2i/rot_dim). Dimensions at or beyond rot_dim are left unchanged. */
AWQ_API int awq_rope(float *x, int64_t M, int64_t n_heads, int64_t head_dim, int64_t rot_dim,
                     const int32_t *pos, float theta);
/* awq_rope with per-pair frequency factors (ggml's rope_ext freq_factors): pair i is rotated by
 * pos * theta^(-2i/rot_dim) / freq_factors[i]. freq_factors: [rot_dim/2] finite and > 0, or NULL
 * (all 1: awq_rope). Llama 3.1's rope_scaling "llama3" is expressed this way. */
AWQ_API int awq_rope_ext(float *x, int64_t M, int64_t n_heads, int64_t head_dim, int64_t rot_dim,
                         const int32_t *pos, float theta, const float *freq_factors);

/* Causal grouped-query attention of M new query rows against a KV cache.
 *   q      : [M, n_heads, head_dim]          (already RoPE'd)
 *   k_cache: [n_ctx, n_kv_heads, head_dim]   rows 0 .. n_past+M-1 valid (new keys already written)
 *   v_cache: [n_ctx, n_kv_heads, head_dim]
 *   out    : [M, n_heads, head_dim]
 * Query row m sits at position n_past + m and attends to cache rows 0 .. n_past + m.
 * Head h uses kv head h / (n_heads / n_kv_heads). Scale 1/sqrt(head_dim). Softmax in fp32 with
 * max subtraction. Multi-threaded over (m, h). */
AWQ_API int awq_attention(const float *q, const float *k_cache, const float *v_cache, int64_t M,
                          int64_t n_past, int64_t n_ctx, int64_t n_heads, int64_t n_kv_heads,
                          int64_t head_dim, float *out);
/* awq_attention with a sliding window (Mistral's sliding_window): the query at position p sees
 * cache rows max(0, p - window + 1) .. p. window 0 means no window (awq_attention). */
AWQ_API int awq_attention_ext(const float *q, const float *k_cache, const float *v_cache,
                              int64_t M, int64_t n_past, int64_t n_ctx, int64_t n_heads,
                              int64_t n_kv_heads, int64_t head_dim, int64_t window, float *out);

/* out[i] = silu(gate[i]) * up[i], silu(x) = x / (1 + exp(-x)). out may alias gate or up. */
AWQ_API int awq_silu_mul(const float *gate, const float *up, int64_t n, float *out);

/* In-place softmax of each of the M rows of x[M, n]. [reference] Tests only: attention runs the
 * same row softmax internally. */
AWQ_API int awq_softmax(float *x, int64_t M, int64_t n);

/* ---------------------------------------------------------------------------------------------
 * Devices: contexts, buffers, and the forward pass's kernels over buffers
 *
 * A context is one compute device: AWQ_DEVICE_CPU (host memory, run by the CPU kernels above, so
 * the same calls can be checked against them one for one) or AWQ_DEVICE_CUDA (one GPU and one
 * stream of its own). A buffer is memory of one context, an opaque handle the caller frees with
 * awq_buffer_free before freeing the context (the "caller owns memory" rule, for handles). The
 * kernels take views: a buffer and a byte offset into it (awq_dview); every view is checked
 * against its buffer's size for the extent the call reads or writes, and must belong to the
 * context the call names. Calls on one context run in order; on CUDA they are queued on its
 * stream, and awq_buffer_download (and awq_context_synchronize) wait for what came before, so a
 * failure of a queued kernel is reported there, with the CUDA error string in awq_last_error().
 * A context is used by one thread at a time. Without CUDA in the build, or without a device,
 * creating a CUDA context returns AWQ_ERR_UNSUPPORTED; running out of device memory is
 * AWQ_ERR_OUT_OF_MEMORY. Activations and caches are fp32, as on the CPU.
 * ------------------------------------------------------------------------------------------- */
typedef enum awq_device_kind { AWQ_DEVICE_CPU = 0, AWQ_DEVICE_CUDA = 1 } awq_device_kind;

typedef struct awq_context awq_context;
typedef struct awq_buffer awq_buffer;

/* Bytes at `offset` of `buffer`. */
typedef struct awq_dview {
    awq_buffer *buffer;
    int64_t offset;
} awq_dview;

/* What awq_device_info reports of one device. */
typedef struct awq_device_props {
    char name[256];
    int64_t total_bytes;   /* memory */
    int64_t free_bytes;
    int32_t cc_major;      /* compute capability (CUDA); 0 for the CPU */
    int32_t cc_minor;
    int32_t multiprocessors;
    int32_t reserved;
    int64_t peak_bandwidth; /* bytes/s, 2 × memory clock × bus width (CUDA); 0 when unknown */
} awq_device_props;

/* Devices of a kind (CPU: 1; CUDA: 0 when not built or none present); always AWQ_OK. */
AWQ_API int awq_device_count(int kind, int *count);
/* Name, memory and compute capability of device `ordinal` of `kind`. */
AWQ_API int awq_device_info(int kind, int ordinal, awq_device_props *props);

AWQ_API int awq_context_create(int kind, int ordinal, awq_context **out);
/* Frees the context (NULL is fine). Its buffers must have been freed. */
AWQ_API int awq_context_free(awq_context *ctx);
/* Waits for the context's queued work; reports a failure of any of it. */
AWQ_API int awq_context_synchronize(awq_context *ctx);

/* A zero-filled buffer of `bytes` (> 0) on the context's device. */
AWQ_API int awq_buffer_create(awq_context *ctx, int64_t bytes, awq_buffer **out);
/* Frees a buffer (NULL is fine). */
AWQ_API int awq_buffer_free(awq_buffer *buffer);
AWQ_API int awq_buffer_size(const awq_buffer *buffer, int64_t *bytes);
/* Host → device: `bytes` from src into dst. The host memory may be reused when the call returns. */
AWQ_API int awq_buffer_upload(awq_context *ctx, awq_dview dst, const void *src, int64_t bytes);
/* Device → host, after everything queued before it. */
AWQ_API int awq_buffer_download(awq_context *ctx, awq_dview src, void *dst, int64_t bytes);
/* Device → device within one context; the ranges must not overlap. */
AWQ_API int awq_buffer_copy(awq_context *ctx, awq_dview src, awq_dview dst, int64_t bytes);

/* The kernels, with the layouts of their CPU counterparts above; float operands are fp32 views.
 * y[M,N] = x[M,K] · w[N,K]ᵀ, w fp32 (awq_f32_gemm) or fp16 bits (awq_f16_gemm). */
AWQ_API int awq_dev_f32_gemm(awq_context *ctx, awq_dview x, int64_t M, int64_t K, awq_dview w, int64_t N,
                             awq_dview y);
AWQ_API int awq_dev_f16_gemm(awq_context *ctx, awq_dview x, int64_t M, int64_t K, awq_dview w, int64_t N,
                             awq_dview y);
/* awq_w4a16_gemm over views: qweight uint8 [N, ceil(K/2)], scales fp16 and zeros uint8 [N, ceil(K/G)]. */
AWQ_API int awq_dev_w4a16_gemm(awq_context *ctx, awq_dview x, int64_t M, int64_t K, awq_dview qweight,
                               awq_dview scales, awq_dview zeros, int64_t N, int64_t group_size,
                               awq_dview y);
/* y[m, :] += bias[:] for m < M, bias [N]. */
AWQ_API int awq_dev_add_bias(awq_context *ctx, awq_dview y, int64_t M, int64_t N, awq_dview bias);
/* awq_rmsnorm (x and y may be the same view) and awq_add_rmsnorm (y apart from x and delta). */
AWQ_API int awq_dev_rmsnorm(awq_context *ctx, awq_dview x, awq_dview weight, int64_t M, int64_t D, float eps,
                            awq_dview y);
AWQ_API int awq_dev_add_rmsnorm(awq_context *ctx, awq_dview x, awq_dview delta, awq_dview weight, int64_t M,
                                int64_t D, float eps, awq_dview y);
/* awq_rope_ext in place on the view; pos [M] and freq_factors [rot_dim/2] (or NULL) are host arrays,
 * copied by the call. */
AWQ_API int awq_dev_rope(awq_context *ctx, awq_dview x, int64_t M, int64_t n_heads, int64_t head_dim,
                         int64_t rot_dim, const int32_t *pos, float theta, const float *freq_factors);
/* awq_attention_ext over device caches [n_ctx, n_kv_heads, head_dim]. */
AWQ_API int awq_dev_attention(awq_context *ctx, awq_dview q, awq_dview k_cache, awq_dview v_cache, int64_t M,
                              int64_t n_past, int64_t n_ctx, int64_t n_heads, int64_t n_kv_heads,
                              int64_t head_dim, int64_t window, awq_dview out);
/* W8A8: activations to uint8, then the INT8 GEMM (the W8A8 linears, Int8Linear).
 * awq_dev_quantize_act_u8: xq uint8 [M, K], x_scale fp32 [M], x_zero int32 [M]. With act_scale > 0,
 * static: q = clamp(round(x / act_scale), -act_zero, 255 - act_zero) + act_zero (a NaN x gives 0),
 * act_zero in 0..255; otherwise dynamic per row: awq_quantize's 8-bit AWQ_QSCHEME_ASYMMETRIC with
 * the row as its group. A non-finite x in a dynamic row is AWQ_ERR_INVALID_ARGUMENT on a CPU
 * context; on CUDA that row's scale becomes NaN (so do its outputs), since kernels cannot refuse. */
AWQ_API int awq_dev_quantize_act_u8(awq_context *ctx, awq_dview x, int64_t M, int64_t K, float act_scale,
                                    int32_t act_zero, awq_dview xq, awq_dview x_scale, awq_dview x_zero);
/* awq_int8_gemm_f32 with symmetric weights: wq int8 [N, K], w_scale fp32 [N]. */
AWQ_API int awq_dev_int8_gemm_f32(awq_context *ctx, awq_dview xq, awq_dview x_zero, awq_dview x_scale, int64_t M,
                                  int64_t K, awq_dview wq, awq_dview w_scale, int64_t N, awq_dview y);
/* awq_softmax in place on each of the M rows of x [M, n]. */
AWQ_API int awq_dev_softmax(awq_context *ctx, awq_dview x, int64_t M, int64_t n);
/* n numbers from one format to another, with awq_fp32_to_fp16 and its kin's rounding:
 * AWQ_DTYPE_F32 → F16 or BF16, and F16 or BF16 → F32. */
typedef enum awq_dtype { AWQ_DTYPE_F32 = 0, AWQ_DTYPE_F16 = 1, AWQ_DTYPE_BF16 = 2 } awq_dtype;
AWQ_API int awq_dev_convert(awq_context *ctx, awq_dview src, int src_type, awq_dview dst, int dst_type, int64_t n);
/* awq_silu_mul (out may be gate or up) and x[i] += y[i]. */
AWQ_API int awq_dev_silu_mul(awq_context *ctx, awq_dview gate, awq_dview up, int64_t n, awq_dview out);
AWQ_API int awq_dev_add(awq_context *ctx, awq_dview x, awq_dview y, int64_t n);

#ifdef __cplusplus
}
#endif

#endif /* AWQ_KERNELS_H */
