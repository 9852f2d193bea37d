/* test_device.c — contexts, buffers and the kernels over views.
 *
 * Every kernel runs through a context and is compared with the CPU kernel called directly on host
 * arrays: bit for bit on a CPU context, within a relative L2 of 2e-5 on a CUDA context (the W8A8
 * codes, the INT8 products and the format conversions bit for bit there too; run when
 * the CUDA plugin loads and a device is present; otherwise that half reports itself skipped).
 * Then the checks every entry point makes: views of another context, past their buffer,
 * misaligned; a context freed with live buffers; CUDA without a device. */
#include "awq_test.h"

#include "awq_kernels.h"

#include <stdint.h>
#include <string.h>

static unsigned long long seed = 42;

static float *rnd(int64_t n, float lo, float hi) {
    float *p = malloc(sizeof(float) * (size_t)(n > 0 ? n : 1));
    for (int64_t i = 0; i < n; i++) p[i] = awq_test_uniform(&seed, lo, hi);
    return p;
}

static awq_buffer *put(awq_context *ctx, const void *host, int64_t bytes) {
    awq_buffer *b = NULL;
    CHECK_STATUS(awq_buffer_create(ctx, bytes, &b), AWQ_OK);
    if (b) CHECK_STATUS(awq_buffer_upload(ctx, (awq_dview){b, 0}, host, bytes), AWQ_OK);
    return b;
}

static awq_dview at(awq_buffer *b) { return (awq_dview){b, 0}; }

static void get(awq_context *ctx, awq_buffer *b, float *host, int64_t n) {
    CHECK_STATUS(awq_buffer_download(ctx, at(b), host, n * 4), AWQ_OK);
}

/* exact on the CPU context, relative L2 ≤ tol on a device */
static void compare(const char *what, int exact, const float *ref, const float *got, int64_t n) {
    if (exact) {
        if (memcmp(ref, got, sizeof(float) * (size_t)n) != 0) {
            fprintf(stderr, "%s: the CPU context differs from the direct kernel\n", what);
            awq_test_failures++;
        }
        return;
    }
    double num = 0, den = 0;
    for (int64_t i = 0; i < n; i++) {
        double d = (double)ref[i] - got[i];
        num += d * d;
        den += (double)ref[i] * ref[i];
    }
    double rel = den > 0 ? sqrt(num / den) : sqrt(num);
    printf("  %-44s relative L2 %.3g\n", what, rel);
    if (!(rel <= 2e-5)) {
        fprintf(stderr, "%s: relative L2 %.3g > 2e-5\n", what, rel);
        awq_test_failures++;
    }
}

static void gemms(awq_context *ctx, int exact) {
    const int64_t shapes[][4] = {{1, 4096, 4096, 128}, {1, 257, 130, 32}, {3, 172, 64, 32}, {5, 33, 17, 7},
                                 {16, 1000, 257, 64}, {64, 512, 130, 128}, {300, 64, 96, 64}};
    for (size_t t = 0; t < sizeof shapes / sizeof shapes[0]; t++) {
        const int64_t M = shapes[t][0], K = shapes[t][1], N = shapes[t][2], G = shapes[t][3];
        const int64_t rb = (K + 1) / 2, ng = (K + G - 1) / G;
        float *x = rnd(M * K, -1, 1), *w = rnd(N * K, -0.1f, 0.1f);
        float *ref = malloc(sizeof(float) * M * N), *got = malloc(sizeof(float) * M * N);
        uint16_t *wh = malloc(2 * N * K), *s = malloc(2 * N * ng);
        uint8_t *q = malloc(N * rb), *z = malloc(N * ng);
        awq_fp32_to_fp16(w, wh, N * K);
        for (int64_t i = 0; i < N * rb; i++) q[i] = (uint8_t)awq_test_rng(&seed);
        for (int64_t i = 0; i < N * ng; i++) {
            z[i] = (uint8_t)(awq_test_rng(&seed) % 16);
            s[i] = (uint16_t)(0x2000 + awq_test_rng(&seed) % 0x1000);
        }
        char what[96];
        awq_buffer *bx = put(ctx, x, 4 * M * K), *by = NULL;
        CHECK_STATUS(awq_buffer_create(ctx, 4 * M * N, &by), AWQ_OK);

        awq_buffer *bw = put(ctx, w, 4 * N * K);
        CHECK_STATUS(awq_f32_gemm(x, M, K, w, N, ref), AWQ_OK);
        CHECK_STATUS(awq_dev_f32_gemm(ctx, at(bx), M, K, at(bw), N, at(by)), AWQ_OK);
        get(ctx, by, got, M * N);
        snprintf(what, sizeof what, "f32 gemm M=%lld K=%lld N=%lld", (long long)M, (long long)K, (long long)N);
        compare(what, exact, ref, got, M * N);

        awq_buffer *bh = put(ctx, wh, 2 * N * K);
        CHECK_STATUS(awq_f16_gemm(x, M, K, wh, N, ref), AWQ_OK);
        CHECK_STATUS(awq_dev_f16_gemm(ctx, at(bx), M, K, at(bh), N, at(by)), AWQ_OK);
        get(ctx, by, got, M * N);
        snprintf(what, sizeof what, "f16 gemm M=%lld K=%lld N=%lld", (long long)M, (long long)K, (long long)N);
        compare(what, exact, ref, got, M * N);

        awq_buffer *bq = put(ctx, q, N * rb), *bs = put(ctx, s, 2 * N * ng), *bz = put(ctx, z, N * ng);
        CHECK_STATUS(awq_w4a16_gemm(x, M, K, q, s, z, N, G, ref), AWQ_OK);
        CHECK_STATUS(awq_dev_w4a16_gemm(ctx, at(bx), M, K, at(bq), at(bs), at(bz), N, G, at(by)), AWQ_OK);
        get(ctx, by, got, M * N);
        snprintf(what, sizeof what, "w4a16 M=%lld K=%lld N=%lld G=%lld", (long long)M, (long long)K, (long long)N,
                 (long long)G);
        compare(what, exact, ref, got, M * N);

        /* the bias add, on the last product */
        float *bias = rnd(N, -1, 1);
        awq_buffer *bb = put(ctx, bias, 4 * N);
        for (int64_t m = 0; m < M; m++)
            for (int64_t n = 0; n < N; n++) ref[m * N + n] += bias[n];
        CHECK_STATUS(awq_dev_add_bias(ctx, at(by), M, N, at(bb)), AWQ_OK);
        get(ctx, by, got, M * N);
        compare("add_bias", exact, ref, got, M * N);

        awq_buffer *all[] = {bx, by, bw, bh, bq, bs, bz, bb};
        for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) awq_buffer_free(all[i]);
        free(x), free(w), free(ref), free(got), free(wh), free(s), free(q), free(z), free(bias);
    }
}

static void norms_and_activations(awq_context *ctx, int exact) {
    const int64_t M = 5, D = 300, n = M * D;
    float *x = rnd(n, -2, 2), *d = rnd(n, -1, 1), *w = rnd(D, 0.5f, 1.5f), *u = rnd(n, -3, 3);
    float *ref = malloc(4 * n), *ref2 = malloc(4 * n), *got = malloc(4 * n);
    awq_buffer *bx = put(ctx, x, 4 * n), *bd = put(ctx, d, 4 * n), *bw = put(ctx, w, 4 * D), *bu = put(ctx, u, 4 * n);
    awq_buffer *by = NULL;
    CHECK_STATUS(awq_buffer_create(ctx, 4 * n, &by), AWQ_OK);

    CHECK_STATUS(awq_rmsnorm(x, w, M, D, 1e-5f, ref), AWQ_OK);
    CHECK_STATUS(awq_dev_rmsnorm(ctx, at(bx), at(bw), M, D, 1e-5f, at(by)), AWQ_OK);
    get(ctx, by, got, n);
    compare("rmsnorm", exact, ref, got, n);

    memcpy(ref2, x, 4 * n); /* add_rmsnorm updates x */
    CHECK_STATUS(awq_add_rmsnorm(ref2, d, w, M, D, 1e-6f, ref), AWQ_OK);
    CHECK_STATUS(awq_dev_add_rmsnorm(ctx, at(bx), at(bd), at(bw), M, D, 1e-6f, at(by)), AWQ_OK);
    get(ctx, by, got, n);
    compare("add_rmsnorm (normed)", exact, ref, got, n);
    get(ctx, bx, got, n);
    compare("add_rmsnorm (x + delta)", exact, ref2, got, n);

    CHECK_STATUS(awq_silu_mul(d, u, n, ref), AWQ_OK);
    CHECK_STATUS(awq_dev_silu_mul(ctx, at(bd), at(bu), n, at(by)), AWQ_OK);
    get(ctx, by, got, n);
    compare("silu_mul", exact, ref, got, n);

    for (int64_t i = 0; i < n; i++) ref2[i] += u[i];
    CHECK_STATUS(awq_dev_add(ctx, at(bx), at(bu), n), AWQ_OK);
    get(ctx, bx, got, n);
    compare("add", exact, ref2, got, n);

    awq_buffer *all[] = {bx, bd, bw, bu, by};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) awq_buffer_free(all[i]);
    free(x), free(d), free(w), free(u), free(ref), free(ref2), free(got);
}

static void rope_cases(awq_context *ctx, int exact) {
    const int64_t cases[][4] = {{7, 4, 64, 64}, {3, 2, 64, 32}, {1, 32, 128, 128}, {9, 3, 10, 6}};
    for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
        const int64_t M = cases[t][0], H = cases[t][1], hd = cases[t][2], rot = cases[t][3], n = M * H * hd;
        int32_t pos[16];
        for (int64_t m = 0; m < M; m++) pos[m] = (int32_t)(t == 2 ? 4000 + m : 3 * m);
        float *x = rnd(n, -1, 1), *ref = malloc(4 * n), *got = malloc(4 * n), ff[64];
        for (int i = 0; i < 64; i++) ff[i] = 1.0f + (float)i / 8;
        for (int with_ff = 0; with_ff < 2; with_ff++) {
            memcpy(ref, x, 4 * n);
            awq_buffer *bx = put(ctx, x, 4 * n);
            CHECK_STATUS(awq_rope_ext(ref, M, H, hd, rot, pos, 500000.0f, with_ff ? ff : NULL), AWQ_OK);
            CHECK_STATUS(awq_dev_rope(ctx, at(bx), M, H, hd, rot, pos, 500000.0f, with_ff ? ff : NULL), AWQ_OK);
            get(ctx, bx, got, n);
            char what[96];
            snprintf(what, sizeof what, "rope M=%lld H=%lld hd=%lld rot=%lld%s", (long long)M, (long long)H,
                     (long long)hd, (long long)rot, with_ff ? " freq_factors" : "");
            compare(what, exact, ref, got, n);
            /* the same positions again (q, then k, of a layer): a device may reuse what it staged */
            awq_buffer *by = put(ctx, x, 4 * n);
            CHECK_STATUS(awq_dev_rope(ctx, at(by), M, H, hd, rot, pos, 500000.0f, with_ff ? ff : NULL), AWQ_OK);
            get(ctx, by, got, n);
            compare("  the same positions again", exact, ref, got, n);
            awq_buffer_free(bx);
            awq_buffer_free(by);
        }
        free(x), free(ref), free(got);
    }
}

static void attention_cases(awq_context *ctx, int exact) {
    /* M, n_past, n_ctx, heads, kv_heads, head_dim, window */
    const int64_t cases[][7] = {{1, 2000, 2048, 32, 4, 64, 0}, {9, 3, 16, 4, 2, 16, 0}, {9, 3, 16, 4, 2, 16, 5},
                                {64, 0, 64, 8, 8, 32, 0},      {1, 0, 1, 2, 1, 8, 0},   {5, 7000, 8192, 4, 1, 128, 0}};
    for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
        const int64_t M = cases[t][0], np = cases[t][1], nc = cases[t][2], H = cases[t][3], KV = cases[t][4],
                      hd = cases[t][5], win = cases[t][6];
        const int64_t nq = M * H * hd, nk = nc * KV * hd;
        float *q = rnd(nq, -1, 1), *k = rnd(nk, -1, 1), *v = rnd(nk, -1, 1);
        float *ref = malloc(4 * nq), *got = malloc(4 * nq);
        awq_buffer *bq = put(ctx, q, 4 * nq), *bk = put(ctx, k, 4 * nk), *bv = put(ctx, v, 4 * nk), *bo = NULL;
        CHECK_STATUS(awq_buffer_create(ctx, 4 * nq, &bo), AWQ_OK);
        CHECK_STATUS(awq_attention_ext(q, k, v, M, np, nc, H, KV, hd, win, ref), AWQ_OK);
        CHECK_STATUS(awq_dev_attention(ctx, at(bq), at(bk), at(bv), M, np, nc, H, KV, hd, win, at(bo)), AWQ_OK);
        get(ctx, bo, got, nq);
        char what[96];
        snprintf(what, sizeof what, "attention M=%lld past=%lld H=%lld/%lld hd=%lld win=%lld", (long long)M,
                 (long long)np, (long long)H, (long long)KV, (long long)hd, (long long)win);
        compare(what, exact, ref, got, nq);
        awq_buffer *all[] = {bq, bk, bv, bo};
        for (size_t i = 0; i < 4; i++) awq_buffer_free(all[i]);
        free(q), free(k), free(v), free(ref), free(got);
    }
}

/* W8A8: dynamic and static activation quantization, then the INT8 GEMM, against Int8Linear's CPU sequence */
static void w8a8_cases(awq_context *ctx, int exact) {
    const int64_t shapes[][3] = {{1, 4096, 256}, {7, 100, 33}, {64, 512, 130}};
    for (size_t t = 0; t < sizeof shapes / sizeof shapes[0]; t++) {
        const int64_t M = shapes[t][0], K = shapes[t][1], N = shapes[t][2];
        float *x = rnd(M * K, -3, 2), *ws = rnd(N, 0.001f, 0.01f), *xs = malloc(4 * M), *ref = malloc(4 * M * N),
              *got = malloc(4 * M * N);
        int8_t *w = malloc(N * K);
        int32_t *q = malloc(4 * M * K), *xz = malloc(4 * M);
        uint8_t *xq = malloc(M * K), *gotq = malloc(M * K);
        for (int64_t i = 0; i < N * K; i++) w[i] = (int8_t)(awq_test_rng(&seed) % 255 - 127);
        awq_buffer *bx = put(ctx, x, 4 * M * K), *bw = put(ctx, w, N * K), *bws = put(ctx, ws, 4 * N), *bq = NULL, *bs = NULL,
                   *bz = NULL, *by = NULL;
        CHECK_STATUS(awq_buffer_create(ctx, M * K, &bq), AWQ_OK);
        CHECK_STATUS(awq_buffer_create(ctx, 4 * M, &bs), AWQ_OK);
        CHECK_STATUS(awq_buffer_create(ctx, 4 * M, &bz), AWQ_OK);
        CHECK_STATUS(awq_buffer_create(ctx, 4 * M * N, &by), AWQ_OK);
        for (int statik = 0; statik < 2; statik++) {
            const float scale = statik ? 0.02f : 0.0f;
            const int32_t zero = statik ? 150 : 0;
            if (statik) {
                for (int64_t i = 0; i < M * K; i++) {
                    float v = nearbyintf(x[i] / scale);
                    v = v < -zero ? (float)-zero : (v > 255 - zero ? (float)(255 - zero) : v);
                    xq[i] = (uint8_t)((int32_t)v + zero);
                }
                for (int64_t m = 0; m < M; m++) xs[m] = scale, xz[m] = zero;
            } else {
                CHECK_STATUS(awq_quantize(x, M, K, K, 8, AWQ_QSCHEME_ASYMMETRIC, q, xs, xz), AWQ_OK);
                for (int64_t i = 0; i < M * K; i++) xq[i] = (uint8_t)q[i];
            }
            CHECK_STATUS(awq_int8_gemm_f32(xq, xz, xs, M, K, w, NULL, ws, N, ref), AWQ_OK);
            CHECK_STATUS(awq_dev_quantize_act_u8(ctx, at(bx), M, K, scale, zero, at(bq), at(bs), at(bz)), AWQ_OK);
            CHECK_STATUS(awq_buffer_download(ctx, at(bq), gotq, M * K), AWQ_OK);
            int64_t differ = 0;
            for (int64_t i = 0; i < M * K; i++) differ += gotq[i] != xq[i];
            if (differ) {
                fprintf(stderr, "w8a8 %s M=%lld K=%lld: %lld codes differ\n", statik ? "static" : "dynamic", (long long)M,
                        (long long)K, (long long)differ);
                awq_test_failures++;
            }
            CHECK_STATUS(awq_dev_int8_gemm_f32(ctx, at(bq), at(bz), at(bs), M, K, at(bw), at(bws), N, at(by)), AWQ_OK);
            get(ctx, by, got, M * N);
            char what[96];
            snprintf(what, sizeof what, "w8a8 %s M=%lld K=%lld N=%lld", statik ? "static" : "dynamic", (long long)M,
                     (long long)K, (long long)N);
            compare(what, exact, ref, got, M * N);
        }
        awq_buffer *all[] = {bx, bw, bws, bq, bs, bz, by};
        for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) awq_buffer_free(all[i]);
        free(x), free(ws), free(xs), free(ref), free(got), free(w), free(q), free(xz), free(xq), free(gotq);
    }
}

static void softmax_and_convert(awq_context *ctx, int exact) {
    const int64_t M = 3, n = 32000;
    float *x = rnd(M * n, -20, 20), *ref = malloc(4 * M * n), *got = malloc(4 * M * n);
    memcpy(ref, x, 4 * M * n);
    awq_buffer *bx = put(ctx, x, 4 * M * n), *bh = NULL;
    CHECK_STATUS(awq_softmax(ref, M, n), AWQ_OK);
    CHECK_STATUS(awq_dev_softmax(ctx, at(bx), M, n), AWQ_OK);
    get(ctx, bx, got, M * n);
    compare("softmax 3 x 32000", exact, ref, got, M * n);

    uint16_t *h = malloc(2 * M * n), *gh = malloc(2 * M * n);
    CHECK_STATUS(awq_buffer_create(ctx, 2 * M * n, &bh), AWQ_OK);
    for (int bf = 0; bf < 2; bf++) {
        const int type = bf ? AWQ_DTYPE_BF16 : AWQ_DTYPE_F16;
        CHECK_STATUS(awq_buffer_upload(ctx, at(bx), x, 4 * M * n), AWQ_OK); /* the round trip below overwrote it */
        CHECK_STATUS(bf ? awq_fp32_to_bf16(x, h, M * n) : awq_fp32_to_fp16(x, h, M * n), AWQ_OK);
        CHECK_STATUS(awq_dev_convert(ctx, at(bx), AWQ_DTYPE_F32, at(bh), type, M * n), AWQ_OK);
        CHECK_STATUS(awq_buffer_download(ctx, at(bh), gh, 2 * M * n), AWQ_OK);
        if (memcmp(h, gh, 2 * M * n) != 0) {
            fprintf(stderr, "convert f32 -> %s differs\n", bf ? "bf16" : "f16");
            awq_test_failures++;
        }
        CHECK_STATUS(bf ? awq_bf16_to_fp32(h, ref, M * n) : awq_fp16_to_fp32(h, ref, M * n), AWQ_OK);
        CHECK_STATUS(awq_dev_convert(ctx, at(bh), type, at(bx), AWQ_DTYPE_F32, M * n), AWQ_OK);
        get(ctx, bx, got, M * n);
        if (memcmp(ref, got, 4 * M * n) != 0) {
            fprintf(stderr, "convert %s -> f32 differs\n", bf ? "bf16" : "f16");
            awq_test_failures++;
        }
    }
    CHECK_STATUS(awq_dev_convert(ctx, at(bh), AWQ_DTYPE_F16, at(bh), AWQ_DTYPE_BF16, 4), AWQ_ERR_INVALID_ARGUMENT);
    awq_buffer_free(bx), awq_buffer_free(bh);
    free(x), free(ref), free(got), free(h), free(gh);
}

static void kernels(awq_context *ctx, int exact) {
    gemms(ctx, exact);
    w8a8_cases(ctx, exact);
    softmax_and_convert(ctx, exact);
    norms_and_activations(ctx, exact);
    rope_cases(ctx, exact);
    attention_cases(ctx, exact);
}

/* the checks every entry point makes */
static void checks(void) {
    awq_context *a = NULL, *b = NULL, *bad = (awq_context *)&seed;
    CHECK_STATUS(awq_context_create(AWQ_DEVICE_CPU, 0, &a), AWQ_OK);
    CHECK_STATUS(awq_context_create(AWQ_DEVICE_CPU, 1, &bad), AWQ_ERR_INVALID_ARGUMENT);
    CHECK(bad == NULL);
    CHECK_STATUS(awq_context_create(7, 0, &bad), AWQ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(awq_context_create(AWQ_DEVICE_CPU, 0, NULL), AWQ_ERR_NULL_POINTER);
    CHECK_STATUS(awq_context_create(AWQ_DEVICE_CPU, 0, &b), AWQ_OK);

    awq_buffer *x = NULL, *y = NULL, *other = NULL;
    CHECK_STATUS(awq_buffer_create(a, 0, &x), AWQ_ERR_INVALID_SIZE);
    CHECK_STATUS(awq_buffer_create(a, -4, &x), AWQ_ERR_INVALID_SIZE);
    CHECK_STATUS(awq_buffer_create(a, 40, &x), AWQ_OK);
    CHECK_STATUS(awq_buffer_create(a, 40, &y), AWQ_OK);
    CHECK_STATUS(awq_buffer_create(b, 40, &other), AWQ_OK);
    int64_t size = 0;
    CHECK_STATUS(awq_buffer_size(x, &size), AWQ_OK);
    CHECK(size == 40);

    /* zero-filled, round trip, offsets */
    float h[10], back[10];
    CHECK_STATUS(awq_buffer_download(a, at(x), back, 40), AWQ_OK);
    for (int i = 0; i < 10; i++) CHECK(back[i] == 0.0f);
    for (int i = 0; i < 10; i++) h[i] = (float)i;
    CHECK_STATUS(awq_buffer_upload(a, (awq_dview){x, 8}, h, 32), AWQ_OK);
    CHECK_STATUS(awq_buffer_download(a, (awq_dview){x, 8}, back, 32), AWQ_OK);
    CHECK(memcmp(h, back, 32) == 0);
    CHECK_STATUS(awq_buffer_copy(a, (awq_dview){x, 8}, at(y), 32), AWQ_OK);
    CHECK_STATUS(awq_buffer_download(a, at(y), back, 32), AWQ_OK);
    CHECK(memcmp(h, back, 32) == 0);

    /* past the buffer, negative offsets, overlap, another context, misaligned, NULL buffer */
    CHECK_STATUS(awq_buffer_upload(a, (awq_dview){x, 12}, h, 32), AWQ_ERR_INVALID_SIZE);
    CHECK(strstr(awq_last_error(), "exceed its buffer of 40") != NULL);
    CHECK_STATUS(awq_buffer_download(a, (awq_dview){x, -4}, back, 4), AWQ_ERR_INVALID_SIZE);
    CHECK_STATUS(awq_buffer_copy(a, (awq_dview){x, 0}, (awq_dview){x, 4}, 8), AWQ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(awq_buffer_upload(a, at(other), h, 4), AWQ_ERR_INVALID_ARGUMENT);
    CHECK(strstr(awq_last_error(), "another context") != NULL);
    CHECK_STATUS(awq_dev_add(a, (awq_dview){x, 2}, at(y), 2), AWQ_ERR_INVALID_ARGUMENT);
    CHECK(strstr(awq_last_error(), "not a multiple of 4") != NULL);
    CHECK_STATUS(awq_dev_add(a, (awq_dview){NULL, 0}, at(y), 2), AWQ_ERR_NULL_POINTER);
    CHECK_STATUS(awq_dev_add(a, at(x), at(y), 11), AWQ_ERR_INVALID_SIZE);
    CHECK(strstr(awq_last_error(), "awq_dev_add: argument 'y'") != NULL || strstr(awq_last_error(), "'x'") != NULL);
    CHECK_STATUS(awq_dev_f32_gemm(a, at(x), 2, 5, at(y), 3, at(y)), AWQ_ERR_INVALID_SIZE); /* w needs 15 floats */
    CHECK_STATUS(awq_dev_f32_gemm(a, at(x), INT64_MAX / 2, 5, at(y), 1, at(y)), AWQ_ERR_OVERFLOW);
    CHECK_STATUS(awq_dev_f32_gemm(NULL, at(x), 1, 1, at(y), 1, at(y)), AWQ_ERR_NULL_POINTER);
    /* RoPE and attention refuse what their CPU kernels refuse */
    int32_t pos[2] = {0, -1};
    CHECK_STATUS(awq_dev_rope(a, at(x), 2, 1, 4, 4, pos, 10000.0f, NULL), AWQ_ERR_INVALID_ARGUMENT);
    CHECK(strstr(awq_last_error(), "awq_dev_rope: argument 'pos'") != NULL);
    CHECK_STATUS(awq_dev_rope(a, at(x), 2, 1, 4, 3, pos, 10000.0f, NULL), AWQ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(awq_dev_attention(a, at(x), at(y), at(y), 2, 1, 2, 1, 1, 4, 0, at(x)), AWQ_ERR_INVALID_SIZE);
    CHECK_STATUS(awq_dev_attention(a, at(x), at(y), at(y), 1, 0, 2, 3, 2, 1, 0, at(x)), AWQ_ERR_SIZE_MISMATCH);

    /* a context with live buffers is not freed */
    CHECK_STATUS(awq_context_free(a), AWQ_ERR_INVALID_ARGUMENT);
    CHECK(strstr(awq_last_error(), "2 buffers") != NULL);
    CHECK_STATUS(awq_buffer_free(x), AWQ_OK);
    CHECK_STATUS(awq_buffer_free(y), AWQ_OK);
    CHECK_STATUS(awq_buffer_free(NULL), AWQ_OK);
    CHECK_STATUS(awq_context_free(a), AWQ_OK);
    CHECK_STATUS(awq_buffer_free(other), AWQ_OK);
    CHECK_STATUS(awq_context_free(b), AWQ_OK);
    CHECK_STATUS(awq_context_free(NULL), AWQ_OK);

    awq_device_props p;
    CHECK_STATUS(awq_device_info(AWQ_DEVICE_CPU, 0, &p), AWQ_OK);
    CHECK(strncmp(p.name, "CPU", 3) == 0);
    CHECK_STATUS(awq_device_info(AWQ_DEVICE_CPU, 0, NULL), AWQ_ERR_NULL_POINTER);
}

int main(void) {
    checks();

    awq_context *cpu = NULL;
    CHECK_STATUS(awq_context_create(AWQ_DEVICE_CPU, 0, &cpu), AWQ_OK);
    kernels(cpu, 1);
    CHECK_STATUS(awq_context_free(cpu), AWQ_OK);

    int n = -1;
    CHECK_STATUS(awq_device_count(AWQ_DEVICE_CUDA, &n), AWQ_OK);
    CHECK(n >= 0);
    const int plugin = (awq_features() & AWQ_FEATURE_CUDA_BUILT) != 0;
    if (n == 0) {
        awq_context *none = NULL;
        CHECK_STATUS(awq_context_create(AWQ_DEVICE_CUDA, 0, &none), AWQ_ERR_UNSUPPORTED);
        CHECK(none == NULL);
        CHECK(strstr(awq_last_error(), plugin ? "no CUDA device" : "CUDA kernels are not available") != NULL);
        printf("CUDA plugin %s, no device: the device comparison is skipped (%s)\n", plugin ? "loaded" : "absent",
               awq_last_error());
        TEST_MAIN_END();
    }
    for (int d = 0; d < n; d++) {
        awq_device_props p;
        CHECK_STATUS(awq_device_info(AWQ_DEVICE_CUDA, d, &p), AWQ_OK);
        printf("CUDA device %d: %s, %.1f GiB, compute capability %d.%d, %d SMs\n", d, p.name,
               p.total_bytes / 1073741824.0, p.cc_major, p.cc_minor, p.multiprocessors);
    }
    awq_context *gpu = NULL;
    CHECK_STATUS(awq_context_create(AWQ_DEVICE_CUDA, 0, &gpu), AWQ_OK);
    if (gpu) {
        kernels(gpu, 0);
        /* the device's own failure: far more memory than any card has */
        awq_buffer *huge = NULL;
        CHECK_STATUS(awq_buffer_create(gpu, (int64_t)1 << 50, &huge), AWQ_ERR_OUT_OF_MEMORY);
        printf("out of memory reads: %s\n", awq_last_error());
        CHECK_STATUS(awq_context_free(gpu), AWQ_OK);
    }
    TEST_MAIN_END();
}
