/* test_layers.c — rmsnorm, rope, attention, silu_mul, softmax: every SIMD path against a double
 * reference and against the scalar path, bit-identical results for 1 and 4 threads, and the
 * argument checks of each entry point. */
#include "layers_internal.h"
#include "awq_test.h"

#include <stdint.h>
#include <string.h>

static int isa_available(awq_isa isa) {
    uint32_t f = awq_features();
    if (isa == AWQ_ISA_AVX2) return (f & AWQ_FEATURE_AVX2_DETECTED) != 0;
    if (isa == AWQ_ISA_AVX512) return (f & AWQ_FEATURE_AVX512_DETECTED) != 0;
    return 1;
}

static float *random_floats(int64_t n, unsigned long long *s, float lo, float hi) {
    float *p = malloc(sizeof(float) * (size_t)n);
    for (int64_t i = 0; i < n; i++) p[i] = awq_test_uniform(s, lo, hi);
    return p;
}

/* ---- rmsnorm ------------------------------------------------------------------------------------ */
static void check_rmsnorm(int64_t M, int64_t D, unsigned long long seed) {
    unsigned long long s = seed;
    float *x = random_floats(M * D, &s, -3.0f, 3.0f);
    float *w = random_floats(D, &s, 0.5f, 1.5f);
    float *y = malloc(sizeof(float) * (size_t)(M * D)), *y0 = malloc(sizeof(float) * (size_t)(M * D));
    float *y4 = malloc(sizeof(float) * (size_t)(M * D));
    const float eps = 1e-5f;
    for (int isa = AWQ_ISA_SCALAR; isa <= AWQ_ISA_AVX512; isa++) {
        if (!isa_available((awq_isa)isa)) continue;
        awq_set_num_threads(1);
        memset(y, 0xff, sizeof(float) * (size_t)(M * D)); /* NaN: a skipped store cannot pass */
        memset(y4, 0xff, sizeof(float) * (size_t)(M * D));
        awq_rmsnorm_isa((awq_isa)isa, x, w, M, D, eps, y);
        for (int64_t m = 0; m < M; m++) {
            double ss = 0.0;
            for (int64_t i = 0; i < D; i++) ss += (double)x[m * D + i] * x[m * D + i];
            double r = 1.0 / sqrt(ss / (double)D + eps);
            for (int64_t i = 0; i < D; i++) {
                double ref = x[m * D + i] * r * w[i];
                CHECK_NEAR(y[m * D + i], ref, 4e-7 * fabs(ref) + 1e-12);
            }
        }
        if (isa == AWQ_ISA_SCALAR) memcpy(y0, y, sizeof(float) * (size_t)(M * D));
        /* only the order of a double sum differs between paths: the fp32 results agree to 1 ulp */
        for (int64_t i = 0; i < M * D; i++) CHECK_NEAR(y[i], y0[i], 2.4e-7 * fabs(y0[i]));
        awq_set_num_threads(4);
        awq_rmsnorm_isa((awq_isa)isa, x, w, M, D, eps, y4);
        CHECK(memcmp(y, y4, sizeof(float) * (size_t)(M * D)) == 0);
    }
    /* in place through the public entry point */
    memcpy(y4, x, sizeof(float) * (size_t)(M * D));
    CHECK_STATUS(awq_rmsnorm(y4, w, M, D, eps, y4), AWQ_OK);
    awq_rmsnorm_isa(awq_isa_level(), x, w, M, D, eps, y);
    CHECK(memcmp(y, y4, sizeof(float) * (size_t)(M * D)) == 0);
    /* the fused residual add: x + delta, then rmsnorm, the bits of the two steps on every path */
    float *delta = random_floats(M * D, &s, -1.0f, 1.0f);
    float *xs = malloc(sizeof(float) * (size_t)(M * D)), *xf = malloc(sizeof(float) * (size_t)(M * D));
    for (int isa = AWQ_ISA_SCALAR; isa <= AWQ_ISA_AVX512; isa++) {
        if (!isa_available((awq_isa)isa)) continue;
        for (int64_t i = 0; i < M * D; i++) xs[i] = x[i] + delta[i];
        awq_rmsnorm_isa((awq_isa)isa, xs, w, M, D, eps, y);
        memcpy(xf, x, sizeof(float) * (size_t)(M * D));
        memset(y4, 0xff, sizeof(float) * (size_t)(M * D));
        awq_set_num_threads(isa == AWQ_ISA_SCALAR ? 1 : 4);
        awq_add_rmsnorm_isa((awq_isa)isa, xf, delta, w, M, D, eps, y4);
        CHECK(memcmp(xs, xf, sizeof(float) * (size_t)(M * D)) == 0);
        CHECK(memcmp(y, y4, sizeof(float) * (size_t)(M * D)) == 0);
    }
    memcpy(xf, x, sizeof(float) * (size_t)(M * D));
    CHECK_STATUS(awq_add_rmsnorm(xf, delta, w, M, D, eps, y4), AWQ_OK);
    CHECK(memcmp(xf, xs, sizeof(float) * (size_t)(M * D)) == 0);
    free(delta), free(xs), free(xf);
    free(x), free(w), free(y), free(y0), free(y4);
}

/* ---- rope --------------------------------------------------------------------------------------- */
static void check_rope(int64_t M, int64_t H, int64_t hd, int64_t rot, float theta, unsigned long long seed) {
    unsigned long long s = seed;
    float *x = random_floats(M * H * hd, &s, -1.0f, 1.0f);
    float *orig = malloc(sizeof(float) * (size_t)(M * H * hd));
    memcpy(orig, x, sizeof(float) * (size_t)(M * H * hd));
    int32_t *pos = malloc(sizeof(int32_t) * (size_t)M);
    for (int64_t m = 0; m < M; m++) pos[m] = (int32_t)(m * 37 % 4099);
    awq_set_num_threads(1);
    CHECK_STATUS(awq_rope(x, M, H, hd, rot, pos, theta), AWQ_OK);
    for (int64_t m = 0; m < M; m++)
        for (int64_t h = 0; h < H; h++) {
            const float *o = orig + (m * H + h) * hd, *r = x + (m * H + h) * hd;
            for (int64_t i = 0; 2 * i < rot; i++) {
                double a = pos[m] * pow(theta, -2.0 * (double)i / (double)rot);
                double e0 = o[2 * i] * cos(a) - o[2 * i + 1] * sin(a);
                double e1 = o[2 * i] * sin(a) + o[2 * i + 1] * cos(a);
                CHECK_NEAR(r[2 * i], e0, 3e-7);
                CHECK_NEAR(r[2 * i + 1], e1, 3e-7);
            }
            for (int64_t d = rot; d < hd; d++) CHECK(r[d] == o[d]);
        }
    /* 4 threads: the same bits */
    awq_set_num_threads(4);
    CHECK_STATUS(awq_rope(orig, M, H, hd, rot, pos, theta), AWQ_OK);
    CHECK(memcmp(x, orig, sizeof(float) * (size_t)(M * H * hd)) == 0);
    awq_set_num_threads(1);
    free(x), free(orig), free(pos);
}

/* awq_rope_ext: pair i turns by pos * theta^(-2i/rot) / factor[i]; NULL factors are awq_rope */
static void check_rope_ext(void) {
    const int64_t M = 9, H = 3, hd = 16, rot = 16;
    unsigned long long s = 99;
    float *x = random_floats(M * H * hd, &s, -1.0f, 1.0f);
    float *y = malloc(sizeof(float) * (size_t)(M * H * hd)), *z = malloc(sizeof(float) * (size_t)(M * H * hd));
    float ff[8] = {1.0f, 1.0f, 1.5f, 2.0f, 3.5f, 8.0f, 8.0f, 8.0f};
    int32_t pos[9];
    for (int m = 0; m < 9; m++) pos[m] = 700 * m + 3;
    memcpy(y, x, sizeof(float) * (size_t)(M * H * hd));
    memcpy(z, x, sizeof(float) * (size_t)(M * H * hd));
    CHECK_STATUS(awq_rope_ext(y, M, H, hd, rot, pos, 500000.0f, ff), AWQ_OK);
    for (int64_t m = 0; m < M; m++)
        for (int64_t h = 0; h < H; h++)
            for (int64_t i = 0; 2 * i < rot; i++) {
                const float *o = x + (m * H + h) * hd;
                double a = pos[m] * pow(500000.0, -2.0 * (double)i / (double)rot) / ff[i];
                CHECK_NEAR(y[(m * H + h) * hd + 2 * i], o[2 * i] * cos(a) - o[2 * i + 1] * sin(a), 3e-7);
                CHECK_NEAR(y[(m * H + h) * hd + 2 * i + 1], o[2 * i] * sin(a) + o[2 * i + 1] * cos(a), 3e-7);
            }
    CHECK_STATUS(awq_rope_ext(z, M, H, hd, rot, pos, 500000.0f, NULL), AWQ_OK);
    memcpy(y, x, sizeof(float) * (size_t)(M * H * hd));
    CHECK_STATUS(awq_rope(y, M, H, hd, rot, pos, 500000.0f), AWQ_OK);
    CHECK(memcmp(y, z, sizeof(float) * (size_t)(M * H * hd)) == 0);
    ff[3] = 0.0f;
    memcpy(y, x, sizeof(float) * (size_t)(M * H * hd));
    CHECK_STATUS(awq_rope_ext(y, M, H, hd, rot, pos, 500000.0f, ff), AWQ_ERR_INVALID_ARGUMENT);
    CHECK(memcmp(y, x, sizeof(float) * (size_t)(M * H * hd)) == 0); /* refused before anything moved */
    free(x), free(y), free(z);
}

/* ---- attention ---------------------------------------------------------------------------------- */
static void attention_ref(const float *q, const float *k, const float *v, int64_t M, int64_t n_past,
                          int64_t H, int64_t KVH, int64_t hd, int64_t window, double *out) {
    double *sc = malloc(sizeof(double) * (size_t)(n_past + M));
    for (int64_t m = 0; m < M; m++)
        for (int64_t h = 0; h < H; h++) {
            int64_t g = h / (H / KVH), len = n_past + m + 1;
            int64_t t0 = window > 0 && len > window ? len - window : 0;
            const float *qr = q + (m * H + h) * hd;
            double mx = -INFINITY, sum = 0.0;
            for (int64_t t = 0; t < t0; t++) sc[t] = -INFINITY; /* outside the window: weight 0 */
            for (int64_t t = t0; t < len; t++) {
                double d = 0.0;
                for (int64_t i = 0; i < hd; i++) d += (double)qr[i] * k[(t * KVH + g) * hd + i];
                sc[t] = d / sqrt((double)hd);
                if (sc[t] > mx) mx = sc[t];
            }
            for (int64_t t = 0; t < len; t++) sum += (sc[t] = exp(sc[t] - mx));
            for (int64_t i = 0; i < hd; i++) {
                double o = 0.0;
                for (int64_t t = 0; t < len; t++) o += sc[t] / sum * v[(t * KVH + g) * hd + i];
                out[(m * H + h) * hd + i] = o;
            }
        }
    free(sc);
}

static void check_attention(int64_t M, int64_t n_past, int64_t H, int64_t KVH, int64_t hd,
                            int64_t window, unsigned long long seed) {
    unsigned long long s = seed;
    int64_t n_ctx = n_past + M + 3; /* rows past n_past + M hold garbage the kernel must not read */
    float *q = random_floats(M * H * hd, &s, -2.0f, 2.0f);
    float *k = random_floats(n_ctx * KVH * hd, &s, -2.0f, 2.0f);
    float *v = random_floats(n_ctx * KVH * hd, &s, -1.0f, 1.0f);
    for (int64_t i = (n_past + M) * KVH * hd; i < n_ctx * KVH * hd; i++) k[i] = v[i] = NAN;
    float *out = malloc(sizeof(float) * (size_t)(M * H * hd)), *out0 = malloc(sizeof(float) * (size_t)(M * H * hd));
    float *out4 = malloc(sizeof(float) * (size_t)(M * H * hd));
    double *ref = malloc(sizeof(double) * (size_t)(M * H * hd));
    attention_ref(q, k, v, M, n_past, H, KVH, hd, window, ref);
    for (int isa = AWQ_ISA_SCALAR; isa <= AWQ_ISA_AVX512; isa++) {
        if (!isa_available((awq_isa)isa)) continue;
        awq_set_num_threads(1);
        memset(out, 0xff, sizeof(float) * (size_t)(M * H * hd)); /* NaN: a skipped store cannot pass */
        memset(out4, 0xff, sizeof(float) * (size_t)(M * H * hd));
        CHECK_STATUS(awq_attention_isa((awq_isa)isa, q, k, v, M, n_past, H, KVH, hd, window, out), AWQ_OK);
        int bad = 0;
        for (int64_t i = 0; i < M * H * hd && !bad; i++)
            if (!(fabs(out[i] - ref[i]) <= 2e-6)) {
                fprintf(stderr, "attention isa=%d M=%lld n_past=%lld H=%lld KVH=%lld hd=%lld: out[%lld]=%.9g ref=%.9g\n",
                        isa, (long long)M, (long long)n_past, (long long)H, (long long)KVH, (long long)hd,
                        (long long)i, (double)out[i], ref[i]);
                bad = 1;
            }
        CHECK(!bad);
        if (isa == AWQ_ISA_SCALAR) memcpy(out0, out, sizeof(float) * (size_t)(M * H * hd));
        for (int64_t i = 0; i < M * H * hd; i++) CHECK_NEAR(out[i], out0[i], 2e-6);
        awq_set_num_threads(4);
        CHECK_STATUS(awq_attention_isa((awq_isa)isa, q, k, v, M, n_past, H, KVH, hd, window, out4), AWQ_OK);
        CHECK(memcmp(out, out4, sizeof(float) * (size_t)(M * H * hd)) == 0);
        /* the narrow-head schedule (head_dim <= 8) performs the per-task path's arithmetic: equal bits */
        memset(out4, 0xff, sizeof(float) * (size_t)(M * H * hd));
        CHECK_STATUS(awq_attention_isa_per_task((awq_isa)isa, q, k, v, M, n_past, H, KVH, hd, window, out4), AWQ_OK);
        if (memcmp(out, out4, sizeof(float) * (size_t)(M * H * hd)) != 0)
            fprintf(stderr, "attention isa=%d M=%lld n_past=%lld H=%lld KVH=%lld hd=%lld: not the per-task path's bits\n",
                    isa, (long long)M, (long long)n_past, (long long)H, (long long)KVH, (long long)hd);
        CHECK(memcmp(out, out4, sizeof(float) * (size_t)(M * H * hd)) == 0);
    }
    /* decode consistency: the last row of a prefill equals that row computed alone on the cache */
    awq_set_num_threads(1);
    CHECK_STATUS(awq_attention_ext(q, k, v, M, n_past, n_ctx, H, KVH, hd, window, out), AWQ_OK);
    CHECK_STATUS(awq_attention_ext(q + (M - 1) * H * hd, k, v, 1, n_past + M - 1, n_ctx, H, KVH, hd,
                                   window, out4), AWQ_OK);
    CHECK(memcmp(out + (M - 1) * H * hd, out4, sizeof(float) * (size_t)(H * hd)) == 0);
    free(q), free(k), free(v), free(out), free(out0), free(out4), free(ref);
}

/* ---- silu_mul, softmax -------------------------------------------------------------------------- */
static void check_silu_softmax(void) {
    unsigned long long s = 7;
    const int64_t n = 100003;
    float *g = random_floats(n, &s, -20.0f, 20.0f), *u = random_floats(n, &s, -3.0f, 3.0f);
    float *o = malloc(sizeof(float) * (size_t)n), *o4 = malloc(sizeof(float) * (size_t)n);
    g[0] = -200.0f, g[1] = 200.0f, g[2] = 0.0f;
    awq_set_num_threads(1);
    CHECK_STATUS(awq_silu_mul(g, u, n, o), AWQ_OK);
    for (int64_t i = 0; i < n; i++) {
        double ref = g[i] / (1.0 + exp(-(double)g[i])) * u[i];
        CHECK_NEAR(o[i], ref, 4e-7 * fabs(ref) + 1e-37);
    }
    awq_set_num_threads(4);
    CHECK_STATUS(awq_silu_mul(g, u, n, o4), AWQ_OK);
    CHECK(memcmp(o, o4, sizeof(float) * (size_t)n) == 0);
    CHECK_STATUS(awq_silu_mul(g, u, n, g), AWQ_OK); /* out aliases gate */
    CHECK(memcmp(o, g, sizeof(float) * (size_t)n) == 0);

    const int64_t rows = 7, cols = 32000;
    float *x = random_floats(rows * cols, &s, -30.0f, 30.0f), *x4 = malloc(sizeof(float) * (size_t)(rows * cols));
    x[5] = 1e4f, x[6] = -1e4f, x[cols + 3] = -1e4f;
    memcpy(x4, x, sizeof(float) * (size_t)(rows * cols));
    double *ref = malloc(sizeof(double) * (size_t)(rows * cols));
    for (int64_t r = 0; r < rows; r++) {
        double mx = -INFINITY, sum = 0.0;
        for (int64_t i = 0; i < cols; i++) mx = fmax(mx, x[r * cols + i]);
        for (int64_t i = 0; i < cols; i++) sum += exp(x[r * cols + i] - mx);
        for (int64_t i = 0; i < cols; i++) ref[r * cols + i] = exp(x[r * cols + i] - mx) / sum;
    }
    awq_set_num_threads(1);
    CHECK_STATUS(awq_softmax(x, rows, cols), AWQ_OK);
    /* x - max is rounded in fp32 (|x - max| * 2^-24 absolute), which exp turns into that much
     * relative error; then expf and the division add about 1 ulp */
    for (int64_t r = 0; r < rows; r++) {
        float mx = x4[r * cols];
        for (int64_t i = 0; i < cols; i++) mx = fmaxf(mx, x4[r * cols + i]);
        for (int64_t i = 0; i < cols; i++) {
            double tol = (6e-8 * fabs((double)x4[r * cols + i] - mx) + 3e-7) * ref[r * cols + i] + 1e-40;
            CHECK_NEAR(x[r * cols + i], ref[r * cols + i], tol);
        }
    }
    awq_set_num_threads(4);
    CHECK_STATUS(awq_softmax(x4, rows, cols), AWQ_OK);
    CHECK(memcmp(x, x4, sizeof(float) * (size_t)(rows * cols)) == 0);
    CHECK(x[5] == 1.0f && x[6] == 0.0f);
    awq_set_num_threads(1);
    free(g), free(u), free(o), free(o4), free(x), free(x4), free(ref);
}

/* ---- argument checks ---------------------------------------------------------------------------- */
#define CHECK_ERROR(expr, status, fname, arg)                                                      \
    do {                                                                                           \
        CHECK_STATUS(expr, status);                                                                \
        CHECK(strstr(awq_last_error(), fname) != NULL);                                            \
        CHECK(strstr(awq_last_error(), arg) != NULL);                                              \
    } while (0)

static void check_errors(void) {
    float a[64] = {0}, b[64] = {0}, c[64] = {0}, d[64] = {0};
    int32_t pos[4] = {0, 1, 2, 3};
    CHECK_ERROR(awq_rmsnorm(NULL, b, 1, 4, 1e-5f, c), AWQ_ERR_NULL_POINTER, "awq_rmsnorm", "'x'");
    CHECK_ERROR(awq_rmsnorm(a, NULL, 1, 4, 1e-5f, c), AWQ_ERR_NULL_POINTER, "awq_rmsnorm", "'weight'");
    CHECK_ERROR(awq_add_rmsnorm(a, NULL, b, 1, 4, 1e-5f, c), AWQ_ERR_NULL_POINTER, "awq_add_rmsnorm", "'delta'");
    CHECK_ERROR(awq_add_rmsnorm(a, d, b, 1, 4, -1.0f, c), AWQ_ERR_INVALID_ARGUMENT, "awq_add_rmsnorm", "'eps'");
    CHECK_ERROR(awq_add_rmsnorm(a, d, b, 1, 4, 1e-5f, a), AWQ_ERR_INVALID_ARGUMENT, "awq_add_rmsnorm", "'y'");
    CHECK_ERROR(awq_add_rmsnorm(a, d, b, 0, 4, 1e-5f, c), AWQ_ERR_INVALID_SIZE, "awq_add_rmsnorm", "'M'");
    CHECK_ERROR(awq_rmsnorm(a, b, 0, 4, 1e-5f, c), AWQ_ERR_INVALID_SIZE, "awq_rmsnorm", "'M'");
    CHECK_ERROR(awq_rmsnorm(a, b, 1, -1, 1e-5f, c), AWQ_ERR_INVALID_SIZE, "awq_rmsnorm", "'D'");
    CHECK_ERROR(awq_rmsnorm(a, b, 1, 4, -1.0f, c), AWQ_ERR_INVALID_ARGUMENT, "awq_rmsnorm", "'eps'");
    CHECK_ERROR(awq_rmsnorm(a, b, 1, 4, NAN, c), AWQ_ERR_INVALID_ARGUMENT, "awq_rmsnorm", "'eps'");

    CHECK_ERROR(awq_rope(NULL, 1, 1, 4, 4, pos, 1e4f), AWQ_ERR_NULL_POINTER, "awq_rope", "'x'");
    CHECK_ERROR(awq_rope(a, 1, 1, 4, 4, NULL, 1e4f), AWQ_ERR_NULL_POINTER, "awq_rope", "'pos'");
    CHECK_ERROR(awq_rope(a, 1, 0, 4, 4, pos, 1e4f), AWQ_ERR_INVALID_SIZE, "awq_rope", "'n_heads'");
    CHECK_ERROR(awq_rope(a, 1, 1, 4, 3, pos, 1e4f), AWQ_ERR_INVALID_ARGUMENT, "awq_rope", "'rot_dim'");
    CHECK_ERROR(awq_rope(a, 1, 1, 4, 6, pos, 1e4f), AWQ_ERR_INVALID_SIZE, "awq_rope", "'rot_dim'");
    CHECK_ERROR(awq_rope(a, 1, 1, 4, 4, pos, 0.0f), AWQ_ERR_INVALID_ARGUMENT, "awq_rope", "'theta'");
    int32_t bad_pos[2] = {3, -1};
    a[0] = 1.0f;
    CHECK_ERROR(awq_rope(a, 2, 1, 4, 4, bad_pos, 1e4f), AWQ_ERR_INVALID_ARGUMENT, "awq_rope", "'pos'");
    CHECK(a[0] == 1.0f); /* rejected before anything was rotated */

    CHECK_ERROR(awq_attention(NULL, b, c, 1, 0, 4, 2, 1, 4, d), AWQ_ERR_NULL_POINTER, "awq_attention", "'q'");
    CHECK_ERROR(awq_attention(a, NULL, c, 1, 0, 4, 2, 1, 4, d), AWQ_ERR_NULL_POINTER, "awq_attention", "'k_cache'");
    CHECK_ERROR(awq_attention(a, b, NULL, 1, 0, 4, 2, 1, 4, d), AWQ_ERR_NULL_POINTER, "awq_attention", "'v_cache'");
    CHECK_ERROR(awq_attention(a, b, c, 1, 0, 4, 2, 1, 4, NULL), AWQ_ERR_NULL_POINTER, "awq_attention", "'out'");
    CHECK_ERROR(awq_attention(a, b, c, 0, 0, 4, 2, 1, 4, d), AWQ_ERR_INVALID_SIZE, "awq_attention", "'M'");
    CHECK_ERROR(awq_attention(a, b, c, 1, -1, 4, 2, 1, 4, d), AWQ_ERR_INVALID_SIZE, "awq_attention", "'n_past'");
    CHECK_ERROR(awq_attention(a, b, c, 1, 0, 0, 2, 1, 4, d), AWQ_ERR_INVALID_SIZE, "awq_attention", "'n_ctx'");
    CHECK_ERROR(awq_attention(a, b, c, 1, 0, 4, 3, 2, 4, d), AWQ_ERR_SIZE_MISMATCH, "awq_attention", "'n_kv_heads'");
    CHECK_ERROR(awq_attention(a, b, c, 1, 0, 4, 2, 4, 4, d), AWQ_ERR_SIZE_MISMATCH, "awq_attention", "'n_heads'");
    CHECK_ERROR(awq_attention(a, b, c, 2, 3, 4, 2, 1, 4, d), AWQ_ERR_INVALID_SIZE, "awq_attention", "'n_ctx'");
    CHECK_ERROR(awq_attention(a, b, c, 2, INT64_MAX, 4, 2, 1, 4, d), AWQ_ERR_INVALID_SIZE, "awq_attention", "'n_past'");
    CHECK_STATUS(awq_attention(a, b, c, 2, 2, 4, 2, 1, 4, d), AWQ_OK);

    CHECK_ERROR(awq_silu_mul(NULL, b, 4, c), AWQ_ERR_NULL_POINTER, "awq_silu_mul", "'gate'");
    CHECK_ERROR(awq_silu_mul(a, NULL, 4, c), AWQ_ERR_NULL_POINTER, "awq_silu_mul", "'up'");
    CHECK_ERROR(awq_silu_mul(a, b, 4, NULL), AWQ_ERR_NULL_POINTER, "awq_silu_mul", "'out'");
    CHECK_ERROR(awq_silu_mul(a, b, 0, c), AWQ_ERR_INVALID_SIZE, "awq_silu_mul", "'n'");
    CHECK_ERROR(awq_softmax(NULL, 1, 4), AWQ_ERR_NULL_POINTER, "awq_softmax", "'x'");
    CHECK_ERROR(awq_softmax(a, 0, 4), AWQ_ERR_INVALID_SIZE, "awq_softmax", "'M'");
    CHECK_ERROR(awq_softmax(a, 1, 0), AWQ_ERR_INVALID_SIZE, "awq_softmax", "'n'");
}

int main(void) {
    printf("simd path: %s\n", awq_simd_path());
    unsigned long long seed = 1000;
    static const int64_t Ds[] = {1, 7, 8, 15, 16, 17, 64, 100, 288, 4096};
    for (size_t i = 0; i < sizeof Ds / sizeof Ds[0]; i++) check_rmsnorm(5, Ds[i], seed++);
    check_rmsnorm(64, 4096, seed++); /* enough rows to be split over threads */

    check_rope(3, 2, 8, 8, 10000.0f, seed++);      /* stories260K head */
    check_rope(5, 4, 64, 64, 10000.0f, seed++);
    check_rope(4, 3, 128, 64, 500000.0f, seed++);  /* partial rotary */
    check_rope(2, 2, 10, 6, 10000.0f, seed++);
    check_rope(600, 8, 64, 64, 10000.0f, seed++);  /* positions up to ~4000, several chunks */

    /* M, n_past, n_heads, n_kv_heads, head_dim */
    check_attention(1, 0, 8, 4, 8, 0, seed++);    /* first token, stories260K shape */
    check_attention(7, 0, 8, 4, 8, 0, seed++);    /* prefill */
    check_attention(1, 9, 8, 4, 8, 0, seed++);    /* decode */
    check_attention(70, 0, 8, 4, 8, 0, seed++);   /* narrow heads: keys in blocks of 8 and a tail */
    check_attention(13, 37, 6, 3, 5, 0, seed++);  /* narrow heads: 6 heads (a group of 4, then 2), hd 5 */
    check_attention(9, 17, 3, 1, 7, 0, seed++);   /* narrow heads: 3 heads, MQA, hd 7 */
    check_attention(30, 5, 8, 2, 8, 11, seed++);  /* narrow heads with a sliding window */
    check_attention(3, 3000, 8, 4, 8, 0, seed++); /* narrow heads: four score rows beyond the stack scratch */
    check_attention(5, 6, 4, 4, 13, 0, seed++);   /* odd head_dim, MHA */
    check_attention(9, 0, 6, 6, 48, 0, seed++);
    check_attention(4, 11, 8, 2, 64, 0, seed++);  /* GQA 4:1 */
    check_attention(3, 20, 4, 1, 80, 0, seed++);  /* MQA, head_dim with a 16-lane tail */
    check_attention(33, 30, 4, 2, 128, 0, seed++);
    check_attention(2, 2500, 2, 1, 64, 0, seed++); /* scores beyond the stack scratch */
    check_attention(9, 0, 4, 2, 32, 4, seed++);    /* sliding window inside a prefill */
    check_attention(1, 20, 4, 2, 32, 8, seed++);   /* decode with a window */
    check_attention(6, 3, 4, 4, 16, 64, seed++);   /* window wider than the context: no effect */
    check_attention(40, 2600, 2, 1, 64, 2048, seed++); /* window of a long cache */
    /* grouped schedule (AVX-512, GQA): each kv head's query heads share K/V loads, same bits */
    check_attention(1, 40, 32, 4, 64, 0, seed++);  /* TinyLlama decode: groups of 8 = 4 + 4 */
    check_attention(6, 3, 10, 2, 24, 0, seed++);   /* groups of 5 = 4 + 1, 24 dims (a 16-lane tail) */
    check_attention(7, 0, 12, 4, 80, 0, seed++);   /* groups of 3, 80 dims */
    check_attention(3, 2100, 8, 1, 64, 0, seed++); /* MQA, four score rows beyond the stack scratch */
    check_attention(5, 30, 8, 2, 128, 9, seed++);  /* 128 dims (two 64-dim passes) with a window */
    check_rope_ext();

    check_silu_softmax();
    check_errors();
    TEST_MAIN_END();
}
