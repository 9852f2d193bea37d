/*
 * bench_kernels.c — micro-benchmark of the quantized matmul kernels against this machine's
 * memory bandwidth. Built and run by run.sh (not part of the CMake build or the test suite).
 *
 *   stream   : FP32 copy (read+write bytes) and FP32 sum (read bytes) over 256 MiB, per thread count
 *   w4a16 M=1: GB/s of weight bytes (qweight + fp16 scales + zeros) streamed per GEMV; the weights
 *              of 8 matrices rotate so every call reads from DRAM, as decode does layer after layer
 *   w4a16 M=512, int8 M=512: GFLOP/s (2·M·N·K / time); int8 M=1: GB/s of int8 weight bytes
 *   w4a8     : W4A8 (int8 activations, integer dot products) against W4A16 at TinyLlama shapes for
 *              M = 1, 4, 16, 64: us per call and GB/s of weight bytes, weights rotating through
 *              >= 96 MiB so every call reads DRAM; the drop-in awq_w4a8_gemm_f32 (quantization
 *              included), awq_w4a8_gemm on a prequantized x, the model's call (tile tables made
 *              once), the same with the repacked weights, and the quantization alone
 *
 *   attn     : causal attention prefill (M = 512 new rows from an empty cache) at stories260K's
 *              heads (8 x 8 dims, 4 KV heads) and TinyLlama's (32 x 64, 4 KV heads): ms per call,
 *              wall and process CPU time (the CPU time is the steadier number on a shared machine)
 *
 * usage: bench_kernels [threads...]   (default: 1 2). AWQ_SIMD=scalar|avx2|avx512 caps the path.
 */
#define _GNU_SOURCE
#include "awq_kernels.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static unsigned long long rng_state = 88172645463325252ULL;
static unsigned long long rng(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void *xmalloc(size_t n) {
    void *p = aligned_alloc(64, (n + 63) & ~(size_t)63);
    if (!p) {
        fprintf(stderr, "out of memory (%zu bytes)\n", n);
        exit(1);
    }
    return p;
}

/* ---- stream: plain C loops split over pthreads (independent of the kernel library) ---------- */
typedef struct stream_arg {
    float *src, *dst;
    size_t n;
    int copy;
    double sum;
} stream_arg;

static void *stream_worker(void *p) {
    stream_arg *a = (stream_arg *)p;
    if (a->copy) {
        memcpy(a->dst, a->src, a->n * sizeof(float));
    } else {
        /* 4 independent 8-wide accumulators (GCC vector extension): the loop must be bound by memory,
         * not by a chain of scalar adds */
        typedef float v8 __attribute__((vector_size(32)));
        v8 s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0};
        for (size_t i = 0; i + 32 <= a->n; i += 32) {
            v8 x0, x1, x2, x3;
            memcpy(&x0, a->src + i, 32), memcpy(&x1, a->src + i + 8, 32);
            memcpy(&x2, a->src + i + 16, 32), memcpy(&x3, a->src + i + 24, 32);
            s0 += x0, s1 += x1, s2 += x2, s3 += x3;
        }
        v8 t = s0 + s1 + s2 + s3;
        a->sum = t[0] + t[1] + t[2] + t[3] + t[4] + t[5] + t[6] + t[7];
    }
    return NULL;
}

static double stream_gbs(float *src, float *dst, size_t n, int threads, int copy) {
    double best = 0;
    for (int rep = 0; rep < 5; rep++) {
        pthread_t th[64];
        stream_arg args[64];
        size_t per = n / (size_t)threads;
        double t0 = now();
        for (int t = 0; t < threads; t++) {
            args[t] = (stream_arg){src + per * (size_t)t, dst + per * (size_t)t, per, copy, 0};
            pthread_create(&th[t], NULL, stream_worker, &args[t]);
        }
        for (int t = 0; t < threads; t++) pthread_join(th[t], NULL);
        double dt = now() - t0;
        double bytes = (double)per * (double)threads * sizeof(float) * (copy ? 2.0 : 1.0);
        if (bytes / dt > best) best = bytes / dt;
    }
    return best / 1e9;
}

/* ---- W4A16 ----------------------------------------------------------------------------------- */
typedef struct w4_mat {
    uint8_t *qw, *zeros;
    uint16_t *scales;
    /* what a model prepares at load for W4A8 (w4_prepare): tile tables and the repacked copy */
    uint16_t *tile_scales;
    uint8_t *tile_zeros, *repacked;
    int64_t repacked_bytes;
} w4_mat;

static void w4_fill(w4_mat *w, int64_t N, int64_t K, int64_t G) {
    int64_t kh = (K + 1) / 2, ng = (K + G - 1) / G;
    w->qw = xmalloc((size_t)(N * kh));
    w->zeros = xmalloc((size_t)(N * ng));
    w->scales = xmalloc((size_t)(N * ng) * 2);
    for (int64_t i = 0; i < N * kh; i++) w->qw[i] = (uint8_t)rng();
    for (int64_t i = 0; i < N * ng; i++) {
        w->zeros[i] = (uint8_t)(rng() & 15);
        w->scales[i] = (uint16_t)(0x2000 + (rng() & 0x3ff)); /* ~0.008 */
    }
}

static void check(int st, const char *what) {
    if (st != AWQ_OK) {
        fprintf(stderr, "%s failed: %s (%s)\n", what, awq_status_name(st), awq_last_error());
        exit(1);
    }
}

static void w4_prepare(w4_mat *w, int64_t N, int64_t K, int64_t G) {
    const int64_t len = (N + 15) / 16 * 16 * ((K + G - 1) / G);
    w->tile_scales = xmalloc((size_t)len * 2);
    w->tile_zeros = xmalloc((size_t)len);
    check(awq_w4a8_tile_tables(w->scales, w->zeros, N, K, G, w->tile_scales, w->tile_zeros), "tile_tables");
    w->repacked_bytes = awq_w4a8_repacked_bytes(N, K);
    w->repacked = xmalloc((size_t)w->repacked_bytes);
    check(awq_w4a8_repack(w->qw, N, K, w->repacked, w->repacked_bytes), "repack");
}


static void bench_w4_gemv(int64_t N, int64_t K, int64_t G) {
    /* 8 matrices (>= 64 MiB) defeat the 32 MiB L3; BENCH_NMAT=1 measures cache-resident speed */
    int NMAT = getenv("BENCH_NMAT") ? atoi(getenv("BENCH_NMAT")) : 8;
    if (NMAT < 1 || NMAT > 8) NMAT = 8;
    w4_mat mats[8];
    for (int i = 0; i < NMAT; i++) w4_fill(&mats[i], N, K, G);
    float *x = xmalloc((size_t)K * sizeof(float)), *y = xmalloc((size_t)N * sizeof(float));
    for (int64_t k = 0; k < K; k++) x[k] = (float)(rng() % 2001) / 1000.0f - 1.0f;
    int64_t ng = (K + G - 1) / G;
    double bytes = (double)N * (double)((K + 1) / 2) + (double)N * (double)ng * 3.0;
    for (int i = 0; i < NMAT; i++) check(awq_w4a16_gemm(x, 1, K, mats[i].qw, mats[i].scales, mats[i].zeros, N, G, y), "w4a16");
    int iters = 0;
    double t0 = now(), dt;
    do {
        w4_mat *w = &mats[iters % NMAT];
        check(awq_w4a16_gemm(x, 1, K, w->qw, w->scales, w->zeros, N, G, y), "w4a16");
        iters++;
        dt = now() - t0;
    } while (dt < 1.0 || iters < 16);
    printf("  w4a16 GEMV M=1 N=%-5lld K=%-5lld g%lld : %7.1f us/call  %6.2f GB/s weights\n", (long long)N,
           (long long)K, (long long)G, 1e6 * dt / iters, bytes * iters / dt / 1e9);
    for (int i = 0; i < NMAT; i++) free(mats[i].qw), free(mats[i].zeros), free(mats[i].scales);
    free(x), free(y);
}

static void bench_w4_gemm(int64_t M, int64_t N, int64_t K, int64_t G) {
    w4_mat w;
    w4_fill(&w, N, K, G);
    float *x = xmalloc((size_t)(M * K) * sizeof(float)), *y = xmalloc((size_t)(M * N) * sizeof(float));
    for (int64_t i = 0; i < M * K; i++) x[i] = (float)(rng() % 2001) / 1000.0f - 1.0f;
    check(awq_w4a16_gemm(x, M, K, w.qw, w.scales, w.zeros, N, G, y), "w4a16");
    int iters = 0;
    double t0 = now(), dt;
    do {
        check(awq_w4a16_gemm(x, M, K, w.qw, w.scales, w.zeros, N, G, y), "w4a16");
        iters++;
        dt = now() - t0;
    } while (dt < 2.0 || iters < 3);
    printf("  w4a16 GEMM M=%-4lld N=%-5lld K=%-5lld g%lld : %7.2f ms/call  %6.1f GFLOP/s\n", (long long)M,
           (long long)N, (long long)K, (long long)G, 1e3 * dt / iters, 2.0 * M * N * K * iters / dt / 1e9);
    free(w.qw), free(w.zeros), free(w.scales), free(x), free(y);
}

/* fp16-weight GEMV: the classifier AutoAWQ checkpoints keep in fp16 (vocab x hidden), read once per decoded token */
static void bench_f16_gemv(int64_t N, int64_t K) {
    uint16_t *w = xmalloc((size_t)(N * K) * 2);
    for (int64_t i = 0; i < N * K; i++) w[i] = (uint16_t)(0x2000 + (rng() & 0x3ff));
    float *x = xmalloc((size_t)K * sizeof(float)), *y = xmalloc((size_t)N * sizeof(float));
    for (int64_t k = 0; k < K; k++) x[k] = (float)(rng() % 2001) / 1000.0f - 1.0f;
    check(awq_f16_gemm(x, 1, K, w, N, y), "f16");
    int iters = 0;
    double t0 = now(), dt;
    do {
        check(awq_f16_gemm(x, 1, K, w, N, y), "f16");
        iters++;
        dt = now() - t0;
    } while (dt < 1.0 || iters < 8);
    printf("  f16   GEMV M=1 N=%-5lld K=%-5lld     : %7.1f us/call  %6.2f GB/s weights\n", (long long)N, (long long)K,
           1e6 * dt / iters, 2.0 * N * K * iters / dt / 1e9);
    free(w), free(x), free(y);
}

/* ---- attention prefill --------------------------------------------------------------------------- */
static double cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void bench_attention(int64_t M, int64_t H, int64_t KVH, int64_t hd) {
    float *q = xmalloc((size_t)(M * H * hd) * sizeof(float)), *o = xmalloc((size_t)(M * H * hd) * sizeof(float));
    float *k = xmalloc((size_t)(M * KVH * hd) * sizeof(float)), *v = xmalloc((size_t)(M * KVH * hd) * sizeof(float));
    for (int64_t i = 0; i < M * H * hd; i++) q[i] = (float)(rng() % 2001) / 1000.0f - 1.0f;
    for (int64_t i = 0; i < M * KVH * hd; i++) {
        k[i] = (float)(rng() % 2001) / 1000.0f - 1.0f;
        v[i] = (float)(rng() % 2001) / 1000.0f - 1.0f;
    }
    check(awq_attention(q, k, v, M, 0, M, H, KVH, hd, o), "attention");
    int iters = 0;
    double t0 = now(), c0 = cpu_now(), dt;
    do {
        check(awq_attention(q, k, v, M, 0, M, H, KVH, hd, o), "attention");
        iters++;
        dt = now() - t0;
    } while (dt < 1.0 || iters < 8);
    printf("  attention M=%-4lld heads %2lld x %-3lld kv %lld: %8.3f ms/call wall, %8.3f ms/call CPU\n", (long long)M,
           (long long)H, (long long)hd, (long long)KVH, 1e3 * dt / iters, 1e3 * (cpu_now() - c0) / iters);
    free(q), free(k), free(v), free(o);
}

/* ---- W4A8 vs W4A16 at small M (decode, batched decode) ---------------------------------------- */
/* Seconds per call of one kernel over rotating weight matrices (every call reads from DRAM).
 * kind 0: awq_w4a16_gemm; 1: awq_w4a8_gemm_f32 (quantizes x, then the int8 GEMM: the drop-in);
 * 2: awq_w4a8_gemm on x quantized once beforehand (what q/k/v or gate/up sharing one x pay per
 * GEMM); 3: awq_quantize_act_q8 alone; 4: awq_w4a8_gemm_f32_tiled (the tables made at load, as a
 * model runs it); 5: awq_w4a8_gemm_f32_repacked (tables and the repacked copy: what a model runs
 * where awq_w4a8_repack_preferred). */
static double time_small_m(int kind, w4_mat *mats, int nmat, const float *x, const int8_t *xq, const float *xs,
                           const int32_t *xsum, int8_t *qbuf, float *sbuf, int32_t *zbuf, int64_t M, int64_t N,
                           int64_t K, int64_t G, float *y) {
    int iters = 0;
    double t0 = now(), dt;
    do {
        w4_mat *w = &mats[iters % nmat];
        switch (kind) {
        case 0: check(awq_w4a16_gemm(x, M, K, w->qw, w->scales, w->zeros, N, G, y), "w4a16"); break;
        case 1: check(awq_w4a8_gemm_f32(x, M, K, w->qw, w->scales, w->zeros, N, G, y), "w4a8_f32"); break;
        case 2: check(awq_w4a8_gemm(xq, xs, xsum, M, K, w->qw, w->scales, w->zeros, N, G, y), "w4a8"); break;
        case 4:
            check(awq_w4a8_gemm_f32_tiled(x, M, K, w->qw, w->scales, w->zeros, w->tile_scales, w->tile_zeros, N, G, y),
                  "w4a8_tiled");
            break;
        case 5:
            check(awq_w4a8_gemm_f32_repacked(x, M, K, w->qw, w->scales, w->zeros, w->tile_scales, w->tile_zeros,
                                             w->repacked, w->repacked_bytes, N, G, y),
                  "w4a8_repacked");
            break;
        default: check(awq_quantize_act_q8(x, M, K, G, qbuf, sbuf, zbuf), "quantize_act_q8"); break;
        }
        iters++;
        dt = now() - t0;
    } while (dt < 0.5 || iters < 16);
    return dt / iters;
}

static void bench_w4a8(int64_t M, int64_t N, int64_t K, int64_t G) {
    int64_t kh = (K + 1) / 2, ng = (K + G - 1) / G;
    double bytes = (double)N * (double)kh + (double)N * (double)ng * 3.0;
    /* enough matrices for >= 96 MiB of weights (3x the 32 MiB L3); BENCH_NMAT overrides */
    int nmat = (int)((96.0 * 1048576.0) / bytes) + 1;
    if (nmat > 64) nmat = 64;
    if (getenv("BENCH_NMAT")) nmat = atoi(getenv("BENCH_NMAT"));
    if (nmat < 1) nmat = 1;
    w4_mat *mats = xmalloc(sizeof(w4_mat) * (size_t)nmat);
    for (int i = 0; i < nmat; i++) w4_fill(&mats[i], N, K, G), w4_prepare(&mats[i], N, K, G);
    float *x = xmalloc((size_t)(M * K) * sizeof(float)), *y = xmalloc((size_t)(M * N) * sizeof(float));
    for (int64_t i = 0; i < M * K; i++) x[i] = (float)(rng() % 2001) / 1000.0f - 1.0f;
    int8_t *xq = xmalloc((size_t)(M * K)), *qbuf = xmalloc((size_t)(M * K));
    float *xs = xmalloc((size_t)(M * ng) * sizeof(float)), *sbuf = xmalloc((size_t)(M * ng) * sizeof(float));
    int32_t *xsum = xmalloc((size_t)(M * ng) * sizeof(int32_t)), *zbuf = xmalloc((size_t)(M * ng) * sizeof(int32_t));
    check(awq_quantize_act_q8(x, M, K, G, xq, xs, xsum), "quantize_act_q8");
    double t[6];
    for (int kind = 0; kind < 6; kind++)
        t[kind] = time_small_m(kind, mats, nmat, x, xq, xs, xsum, qbuf, sbuf, zbuf, M, N, K, G, y);
    printf("  M=%-3lld N=%-5lld K=%-5lld g%lld | GB/s: w4a16 %5.2f | w4a8 %5.2f, prequantized %5.2f, tables %5.2f,"
           " repacked %5.2f (x%.2f of w4a16) | quantize %5.1f us\n",
           (long long)M, (long long)N, (long long)K, (long long)G, bytes / t[0] / 1e9, bytes / t[1] / 1e9,
           bytes / t[2] / 1e9, bytes / t[4] / 1e9, bytes / t[5] / 1e9, t[0] / t[5], 1e6 * t[3]);
    for (int i = 0; i < nmat; i++)
        free(mats[i].qw), free(mats[i].zeros), free(mats[i].scales), free(mats[i].tile_scales), free(mats[i].tile_zeros),
            free(mats[i].repacked);
    free(mats), free(x), free(y), free(xq), free(qbuf), free(xs), free(sbuf), free(xsum), free(zbuf);
}

/* ---- INT8 ------------------------------------------------------------------------------------ */
static void bench_int8(int64_t M, int64_t N, int64_t K) {
    int nmat = M == 1 ? 4 : 1;
    int8_t *w[4];
    int32_t *wz = xmalloc((size_t)N * 4), *xz = xmalloc((size_t)M * 4);
    for (int i = 0; i < nmat; i++) {
        w[i] = xmalloc((size_t)(N * K));
        for (int64_t j = 0; j < N * K; j++) w[i][j] = (int8_t)rng();
    }
    uint8_t *x = xmalloc((size_t)(M * K));
    int32_t *acc = xmalloc((size_t)(M * N) * 4);
    for (int64_t j = 0; j < M * K; j++) x[j] = (uint8_t)rng();
    for (int64_t j = 0; j < N; j++) wz[j] = (int32_t)(rng() % 256) - 128;
    for (int64_t j = 0; j < M; j++) xz[j] = (int32_t)(rng() % 256);
    int iters = 0;
    double t0 = now(), dt;
    do {
        check(awq_int8_gemm(x, xz, M, K, w[iters % nmat], wz, N, acc), "int8");
        iters++;
        dt = now() - t0;
    } while (dt < 1.0 || iters < 3);
    if (M == 1)
        printf("  int8  GEMV M=1 N=%-5lld K=%-5lld     : %7.1f us/call  %6.2f GB/s weights\n", (long long)N,
               (long long)K, 1e6 * dt / iters, (double)N * K * iters / dt / 1e9);
    else
        printf("  int8  GEMM M=%-4lld N=%-5lld K=%-5lld     : %7.2f ms/call  %6.1f GOP/s\n", (long long)M,
               (long long)N, (long long)K, 1e3 * dt / iters, 2.0 * M * N * K * iters / dt / 1e9);
    for (int i = 0; i < nmat; i++) free(w[i]);
    free(wz), free(xz), free(x), free(acc);
}

int main(int argc, char **argv) {
    int threads[16] = {1, 2}, nt = 2;
    if (argc > 1) {
        nt = 0;
        for (int i = 1; i < argc && nt < 16; i++) threads[nt++] = atoi(argv[i]);
    }
    const char *only = getenv("BENCH_ONLY"); /* optional: "stream", "w4", "w4a8", "f16", "int8", "attn" */
    printf("awq_kernels %s, simd path %s\n", awq_version(), awq_simd_path());
    size_t n = (size_t)64 << 20; /* 64 Mi floats = 256 MiB per array */
    float *src = NULL, *dst = NULL;
    if (!only || strcmp(only, "stream") == 0) {
        src = xmalloc(n * sizeof(float));
        dst = xmalloc(n * sizeof(float));
        for (size_t i = 0; i < n; i++) src[i] = (float)(i & 1023), dst[i] = 0;
    }
    for (int t = 0; t < nt; t++) {
        printf("threads %d\n", threads[t]);
        check(awq_set_num_threads(threads[t]), "awq_set_num_threads");
        if (!only || strcmp(only, "stream") == 0) {
            printf("  fp32 copy  (read+write): %6.2f GB/s\n", stream_gbs(src, dst, n, threads[t], 1));
            printf("  fp32 sum   (read)      : %6.2f GB/s\n", stream_gbs(src, dst, n, threads[t], 0));
        }
        if (!only || strcmp(only, "w4") == 0) {
            bench_w4_gemv(4096, 4096, 128);
            bench_w4_gemv(11008, 4096, 128);
            bench_w4_gemv(4096, 11008, 128);
            bench_w4_gemm(512, 4096, 4096, 128);
        }
        if (!only || strcmp(only, "w4a8") == 0) {
            /* TinyLlama-1.1B: q/o (2048x2048), gate/up (5632x2048), down (2048x5632), group 128 */
            static const int64_t shapes[3][2] = {{2048, 2048}, {5632, 2048}, {2048, 5632}};
            int64_t ms[16] = {1, 4, 16, 64};
            int nm = 4;
            if (getenv("BENCH_M")) { /* e.g. BENCH_M=1,4 */
                nm = 0;
                for (char *p = getenv("BENCH_M"); *p && nm < 16; p += *p == ',') ms[nm++] = strtoll(p, &p, 10);
            }
            for (int a = 0; a < nm; a++)
                for (int s = 0; s < 3; s++) bench_w4a8(ms[a], shapes[s][0], shapes[s][1], 128);
        }
        if (!only || strcmp(only, "f16") == 0) bench_f16_gemv(32000, 2048);
        if (!only || strcmp(only, "attn") == 0) {
            bench_attention(512, 8, 4, 8);   /* stories260K */
            bench_attention(512, 32, 4, 64); /* TinyLlama-1.1B */
        }
        if (!only || strcmp(only, "int8") == 0) {
            bench_int8(1, 4096, 4096);
            bench_int8(512, 4096, 4096);
        }
    }
    free(src), free(dst);
    return 0;
}
