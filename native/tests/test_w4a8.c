/* test_w4a8.c — awq_quantize_act_q8, awq_w4a8_gemm and awq_w4a8_gemm_f32.
 *
 *  - quantizer: every path bit-identical to the scalar one, and the scalar one checked against
 *    its definition in float64 (scale = max|x|/127, |x/scale − xq| <= 1/2, x_sum);
 *  - GEMM: every path this CPU runs (scalar, AVX2, AVX-512 BW, AVX-512 VNNI) bit-identical to
 *    the scalar reference (the header promises the same fp32 operations in the same order: the
 *    tolerance between paths is zero); the scalar reference against a float64 evaluation of the
 *    definition within the fp32 rounding bound (ng + 3)·2^-24·Σ_g |x_scale·w_scale·corr|;
 *    with power-of-two scales the fp32 part is exact too, so y must equal the exact integer sum
 *    (extreme codes: xq = ±127 / -128, q = 15, zeros 0 and 15);
 *  - shapes: M = 1, 2, 3, 8, 16, 64 and others, odd K, short last groups (K = 172 at G = 32),
 *    G > K, group sizes that are not multiples of 32 (scalar kernel), N not a multiple of the tile;
 *  - all-zero rows (scale 0, y exactly 0, no NaN), 1 vs 4 threads identical, awq_w4a8_gemm_f32
 *    equal to quantize + gemm, every argument check;
 *  - the quantization error against the exact W4A16 product (Gaussian x): relative L2 below 1%,
 *    printed per group size.
 * Random data from a seed printed at start (AWQ_TEST_SEED replays it, AWQ_TEST_VERBOSE prints more). */
#include "awq_internal.h"
#include "awq_test.h"
#include "w4a8.h"

#include <stdint.h>
#include <string.h>
#include <time.h>

static const char *path_name(awq_w4a8_path p) {
    static const char *names[] = {"scalar", "avx2", "avx512bw", "avx512vnni"};
    return names[p];
}

static int path_available(awq_w4a8_path p) {
    uint32_t f = awq_features();
    switch (p) {
    case AWQ_W4A8_SCALAR: return 1;
    case AWQ_W4A8_AVX2: return (f & AWQ_FEATURE_AVX2_DETECTED) != 0;
    case AWQ_W4A8_AVX512: return (f & AWQ_FEATURE_AVX512_DETECTED) != 0;
    case AWQ_W4A8_AVX512VNNI: return (f & AWQ_FEATURE_AVX512_DETECTED) && (f & AWQ_FEATURE_AVX512VNNI_DETECTED);
    }
    return 0;
}

/* fp32 -> fp16 bits for test data (normal range only; the generators stay in it). */
static uint16_t to_half(float f) {
    union { float f; uint32_t u; } v = {f};
    uint32_t sign = (v.u >> 16) & 0x8000u;
    int32_t exp = (int32_t)((v.u >> 23) & 0xff) - 127 + 15;
    uint32_t man = v.u & 0x7fffffu;
    if (exp <= 0 || exp >= 31) return (uint16_t)sign;
    uint32_t h = ((uint32_t)exp << 10) | (man >> 13);
    uint32_t rest = man & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) h++;
    return (uint16_t)(sign | h);
}

static double gaussian(unsigned long long *rng) {
    /* Box-Muller on two uniforms in (0, 1] */
    double u1 = ((awq_test_rng(rng) >> 11) + 1) * (1.0 / 9007199254740992.0);
    double u2 = (awq_test_rng(rng) >> 11) * (1.0 / 9007199254740992.0);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

static int64_t groups(int64_t K, int64_t G) { return (K + G - 1) / G; }

/* ---- operands ------------------------------------------------------------------------------------ */
typedef struct weights {
    int64_t N, K, G, kh, ng;
    uint8_t *qw, *zeros;
    uint16_t *scales;
} weights;

/* Random codes (for odd K the unused high nibble of each row's last byte is random too: it must be
 * ignored), zeros 0..15, scales in [0.001, 0.05]. */
static void make_weights(weights *w, int64_t N, int64_t K, int64_t G, unsigned long long *rng) {
    w->N = N, w->K = K, w->G = G, w->kh = (K + 1) / 2, w->ng = groups(K, G);
    w->qw = malloc((size_t)(N * w->kh));
    w->zeros = malloc((size_t)(N * w->ng));
    w->scales = malloc(sizeof(uint16_t) * (size_t)(N * w->ng));
    for (int64_t i = 0; i < N * w->kh; i++) w->qw[i] = (uint8_t)(awq_test_rng(rng) >> 56);
    for (int64_t i = 0; i < N * w->ng; i++) {
        w->zeros[i] = (uint8_t)(awq_test_rng(rng) >> 60);
        w->scales[i] = to_half(awq_test_uniform(rng, 0.001f, 0.05f));
    }
}

static void free_weights(weights *w) { free(w->qw), free(w->zeros), free(w->scales); }

static int wq(const weights *w, int64_t n, int64_t k) { return (w->qw[n * w->kh + k / 2] >> (4 * (k % 2))) & 15; }

typedef struct acts {
    int64_t M, K, G, ng;
    float *x;
    int8_t *xq;
    float *xs;
    int32_t *xsum;
} acts;

/* kind 0: uniform [-1, 1); 1: Gaussian; 2: uniform with some all-zero groups and rows. */
static void make_acts(acts *a, int64_t M, int64_t K, int64_t G, int kind, unsigned long long *rng) {
    a->M = M, a->K = K, a->G = G, a->ng = groups(K, G);
    a->x = malloc(sizeof(float) * (size_t)(M * K));
    a->xq = malloc((size_t)(M * K));
    a->xs = malloc(sizeof(float) * (size_t)(M * a->ng));
    a->xsum = malloc(sizeof(int32_t) * (size_t)(M * a->ng));
    for (int64_t i = 0; i < M * K; i++)
        a->x[i] = kind == 1 ? (float)gaussian(rng) : awq_test_uniform(rng, -1.0f, 1.0f);
    if (kind == 2) {
        for (int64_t m = 0; m < M; m++)
            for (int64_t g = 0; g < a->ng; g++)
                if (m % 3 == 1 || (g + m) % 4 == 0)
                    for (int64_t k = g * G; k < K && k < (g + 1) * G; k++) a->x[m * K + k] = 0.0f;
    }
    CHECK_STATUS(awq_quantize_act_q8_path(AWQ_W4A8_SCALAR, a->x, M, K, G, a->xq, a->xs, a->xsum), AWQ_OK);
}

static void free_acts(acts *a) { free(a->x), free(a->xq), free(a->xs), free(a->xsum); }

/* ---- quantizer ------------------------------------------------------------------------------------- */
static void check_quantize(int64_t M, int64_t K, int64_t G, int kind, unsigned long long *rng) {
    acts a;
    make_acts(&a, M, K, G, kind, rng);
    const int64_t ng = a.ng;
    /* the scalar quantizer against its definition */
    for (int64_t m = 0; m < M; m++)
        for (int64_t g = 0; g < ng; g++) {
            const int64_t k0 = g * G, k1 = K < k0 + G ? K : k0 + G;
            float amax = 0.0f;
            for (int64_t k = k0; k < k1; k++) amax = fabsf(a.x[m * K + k]) > amax ? fabsf(a.x[m * K + k]) : amax;
            const float scale = a.xs[m * ng + g];
            int32_t sum = 0;
            int bad = scale != amax / 127.0f;
            for (int64_t k = k0; k < k1; k++) {
                const int q = a.xq[m * K + k];
                sum += q;
                if (scale == 0.0f) {
                    bad |= q != 0;
                } else {
                    const double r = (double)a.x[m * K + k] / (double)scale;
                    /* round to nearest: within 1/2 (plus the fp32 division's rounding), ties to even */
                    bad |= q < -127 || q > 127 || fabs(r - q) > 0.5 + 1e-5;
                    if (fabs(fabs(r - q) - 0.5) < 1e-9) bad |= (q & 1) != 0 && fabs(r) < 127;
                }
            }
            bad |= sum != a.xsum[m * ng + g];
            if (bad) {
                fprintf(stderr, "quantize M=%lld K=%lld G=%lld: row %lld group %lld breaks the definition\n",
                        (long long)M, (long long)K, (long long)G, (long long)m, (long long)g);
                awq_test_failures++;
                m = M;
                break;
            }
        }
    /* every path gives the scalar one's bits */
    int8_t *xq = malloc((size_t)(M * K));
    float *xs = malloc(sizeof(float) * (size_t)(M * ng));
    int32_t *xsum = malloc(sizeof(int32_t) * (size_t)(M * ng));
    for (int p = AWQ_W4A8_AVX2; p <= AWQ_W4A8_AVX512; p++) {
        if (!path_available((awq_w4a8_path)p)) continue;
        memset(xq, 0x55, (size_t)(M * K));
        CHECK_STATUS(awq_quantize_act_q8_path((awq_w4a8_path)p, a.x, M, K, G, xq, xs, xsum), AWQ_OK);
        if (memcmp(xq, a.xq, (size_t)(M * K)) || memcmp(xs, a.xs, sizeof(float) * (size_t)(M * ng)) ||
            memcmp(xsum, a.xsum, sizeof(int32_t) * (size_t)(M * ng))) {
            fprintf(stderr, "quantize %s M=%lld K=%lld G=%lld differs from scalar\n", path_name((awq_w4a8_path)p),
                    (long long)M, (long long)K, (long long)G);
            awq_test_failures++;
        }
    }
    free(xq), free(xs), free(xsum);
    free_acts(&a);
}

/* Extreme and degenerate inputs: all zero, subnormal, huge, a single non-zero. */
static void check_quantize_extremes(void) {
    enum { K = 100, G = 32 };
    float x[K];
    int8_t xq[K];
    float xs[4];
    int32_t sum[4];
    for (int p = AWQ_W4A8_SCALAR; p <= AWQ_W4A8_AVX512; p++) {
        if (!path_available((awq_w4a8_path)p)) continue;
        for (int k = 0; k < K; k++) x[k] = 0.0f;
        x[40] = -0.0f;
        CHECK_STATUS(awq_quantize_act_q8_path((awq_w4a8_path)p, x, 1, K, G, xq, xs, sum), AWQ_OK);
        for (int g = 0; g < 4; g++) CHECK(xs[g] == 0.0f && sum[g] == 0);
        for (int k = 0; k < K; k++) CHECK(xq[k] == 0);
        /* group 0: subnormals (max/127 underflows to 0 -> zeros); group 1: FLT_MAX; group 2: one value */
        for (int k = 0; k < 32; k++) x[k] = (k % 2 ? -1.0f : 1.0f) * 1e-44f;
        for (int k = 32; k < 64; k++) x[k] = (k % 2 ? -3.4028235e38f : 1e38f);
        x[70] = -2.5f;
        for (int k = 96; k < K; k++) x[k] = 1e-30f * (float)k; /* short last group of 4 */
        CHECK_STATUS(awq_quantize_act_q8_path((awq_w4a8_path)p, x, 1, K, G, xq, xs, sum), AWQ_OK);
        CHECK(xs[0] == 0.0f && sum[0] == 0 && xq[0] == 0);
        CHECK(xs[1] == 3.4028235e38f / 127.0f && xq[33] == -127 && xq[32] == 37);
        CHECK(xq[70] == -127 && sum[2] == -127 && xs[2] == 2.5f / 127.0f);
        CHECK(xq[99] == 127 && xq[96] == 123 && isfinite(xs[3]) && xs[3] > 0.0f);
    }
}

/* ---- GEMM references ----------------------------------------------------------------------------- */
/* corr in int64 and the fp32 terms' float64 sum; mag = Σ_g |x_scale·w_scale·corr|. */
static void gemm_ref64(const acts *a, const weights *w, double *ref, double *mag) {
    const int64_t M = a->M, K = a->K, G = a->G, ng = a->ng, N = w->N;
    for (int64_t m = 0; m < M; m++)
        for (int64_t n = 0; n < N; n++) {
            double acc = 0.0, size = 1e-300;
            for (int64_t g = 0; g < ng; g++) {
                int64_t dot = 0;
                for (int64_t k = g * G; k < K && k < (g + 1) * G; k++) dot += (int64_t)a->xq[m * K + k] * wq(w, n, k);
                const int64_t corr = dot - (int64_t)w->zeros[n * ng + g] * a->xsum[m * ng + g];
                const double t = (double)a->xs[m * ng + g] * (double)awq_fp16_to_fp32_1(w->scales[n * ng + g]) * (double)corr;
                acc += t;
                size += fabs(t);
            }
            ref[m * N + n] = acc;
            mag[m * N + n] = size;
        }
}

static int gemm(awq_w4a8_path p, const acts *a, const weights *w, float *y) {
    return awq_w4a8_gemm_path(p, a->xq, a->xs, a->xsum, a->M, a->K, w->qw, w->scales, w->zeros, w->N, a->G, y);
}

static void check_gemm(int64_t M, int64_t K, int64_t N, int64_t G, int kind, unsigned long long *rng) {
    weights w;
    acts a;
    make_weights(&w, N, K, G, rng);
    make_acts(&a, M, K, G, kind, rng);
    float *y0 = malloc(sizeof(float) * (size_t)(M * N)), *y = malloc(sizeof(float) * (size_t)(M * N));
    double *ref = malloc(sizeof(double) * (size_t)(M * N)), *mag = malloc(sizeof(double) * (size_t)(M * N));
    memset(y0, 0xff, sizeof(float) * (size_t)(M * N)); /* NaN: every output must be written */
    CHECK_STATUS(gemm(AWQ_W4A8_SCALAR, &a, &w, y0), AWQ_OK);
    gemm_ref64(&a, &w, ref, mag);
    const double bound = (double)(a.ng + 3) * 0x1p-24 * 1.01;
    double worst = 0.0;
    for (int64_t i = 0; i < M * N; i++) {
        const double e = fabs((double)y0[i] - ref[i]) / mag[i];
        if (!(e <= worst)) worst = e; /* NaN propagates as a failure */
    }
    if (!(worst <= bound)) {
        fprintf(stderr, "scalar M=%lld K=%lld N=%lld G=%lld: error %.3g of the term size, bound %.3g\n", (long long)M,
                (long long)K, (long long)N, (long long)G, worst, bound);
        awq_test_failures++;
    }
    if (getenv("AWQ_TEST_VERBOSE"))
        printf("M=%lld K=%lld N=%lld G=%lld: scalar vs float64 %.3g (bound %.3g)\n", (long long)M, (long long)K,
               (long long)N, (long long)G, worst, bound);
    for (int p = AWQ_W4A8_AVX2; p <= AWQ_W4A8_AVX512VNNI; p++) {
        if (!path_available((awq_w4a8_path)p)) continue;
        memset(y, 0xff, sizeof(float) * (size_t)(M * N));
        CHECK_STATUS(gemm((awq_w4a8_path)p, &a, &w, y), AWQ_OK);
        for (int64_t i = 0; i < M * N; i++)
            if (memcmp(&y[i], &y0[i], sizeof(float)) != 0) {
                fprintf(stderr, "%s M=%lld K=%lld N=%lld G=%lld: y[%lld] = %.9g, scalar %.9g\n",
                        path_name((awq_w4a8_path)p), (long long)M, (long long)K, (long long)N, (long long)G,
                        (long long)i, y[i], y0[i]);
                awq_test_failures++;
                break;
            }
    }
    /* the convenience entry point: the same quantization and the same product */
    memset(y, 0xff, sizeof(float) * (size_t)(M * N));
    CHECK_STATUS(awq_w4a8_gemm_f32(a.x, M, K, w.qw, w.scales, w.zeros, N, G, y), AWQ_OK);
    CHECK(memcmp(y, y0, sizeof(float) * (size_t)(M * N)) == 0);
    /* prepared tile tables: the layout the header defines, and the same bits on every path */
    const int64_t tiles = (N + 15) / 16, tlen = tiles * 16 * w.ng;
    uint16_t *ts = malloc(sizeof(uint16_t) * (size_t)tlen);
    uint8_t *tz = malloc((size_t)tlen);
    memset(ts, 0xAB, sizeof(uint16_t) * (size_t)tlen), memset(tz, 0xAB, (size_t)tlen);
    CHECK_STATUS(awq_w4a8_tile_tables(w.scales, w.zeros, N, K, G, ts, tz), AWQ_OK);
    int table_ok = 1;
    for (int64_t t = 0; t < tiles; t++)
        for (int64_t g = 0; g < w.ng; g++)
            for (int64_t r = 0; r < 16; r++) {
                const int64_t n = 16 * t + r, at = (t * w.ng + g) * 16 + r;
                if (ts[at] != (n < N ? w.scales[n * w.ng + g] : 0) || tz[at] != (n < N ? w.zeros[n * w.ng + g] : 0))
                    table_ok = 0;
            }
    CHECK(table_ok);
    for (int p = AWQ_W4A8_SCALAR; p <= AWQ_W4A8_AVX512VNNI; p++) {
        if (!path_available((awq_w4a8_path)p)) continue;
        memset(y, 0xff, sizeof(float) * (size_t)(M * N));
        CHECK_STATUS(awq_w4a8_gemm_f32_tiled_path((awq_w4a8_path)p, a.x, M, K, w.qw, w.scales, w.zeros, ts, tz, N, G, y),
                     AWQ_OK);
        if (memcmp(y, y0, sizeof(float) * (size_t)(M * N)) != 0) {
            fprintf(stderr, "%s tiled M=%lld K=%lld N=%lld G=%lld: not the scalar reference's bits\n",
                    path_name((awq_w4a8_path)p), (long long)M, (long long)K, (long long)N, (long long)G);
            awq_test_failures++;
        }
    }
    /* repacked weights: the layout the header defines, and the same bits on every path (the AVX2
     * kernel reads them; the others qweight) */
    const int64_t kh = (K + 1) / 2, nsub = (kh + 15) / 16, rlen = awq_w4a8_repacked_bytes(N, K);
    CHECK(rlen == (N + 7) / 8 * 8 * nsub * 16);
    uint8_t *rw = malloc((size_t)rlen);
    memset(rw, 0xCD, (size_t)rlen);
    CHECK_STATUS(awq_w4a8_repack(w.qw, N, K, rw, rlen), AWQ_OK);
    int repack_ok = 1;
    for (int64_t t = 0; t < (N + 7) / 8; t++)
        for (int64_t s = 0; s < nsub; s++)
            for (int d = 0; d < 4; d++)
                for (int r = 0; r < 8; r++)
                    for (int b = 0; b < 4; b++) {
                        const int64_t n = 8 * t + r, j = 16 * s + 4 * d + b;
                        if (rw[((t * nsub + s) * 4 + d) * 32 + 4 * r + b] != (n < N && j < kh ? w.qw[n * kh + j] : 0))
                            repack_ok = 0;
                    }
    CHECK(repack_ok);
    for (int p = AWQ_W4A8_SCALAR; p <= AWQ_W4A8_AVX512VNNI; p++) {
        if (!path_available((awq_w4a8_path)p)) continue;
        memset(y, 0xff, sizeof(float) * (size_t)(M * N));
        CHECK_STATUS(awq_w4a8_gemm_f32_repacked_path((awq_w4a8_path)p, a.x, M, K, w.qw, w.scales, w.zeros, ts, tz, rw,
                                                     rlen, N, G, y),
                     AWQ_OK);
        if (memcmp(y, y0, sizeof(float) * (size_t)(M * N)) != 0) {
            fprintf(stderr, "%s repacked M=%lld K=%lld N=%lld G=%lld: not the scalar reference's bits\n",
                    path_name((awq_w4a8_path)p), (long long)M, (long long)K, (long long)N, (long long)G);
            awq_test_failures++;
        }
    }
    free(rw);
    free(ts), free(tz);
    free(y0), free(y), free(ref), free(mag);
    free_acts(&a);
    free_weights(&w);
}

/* Scales of 1 and 1/2 make every fp32 operation exact (products are multiples of 1/4, so partial
 * sums below 2^22 in magnitude are representable), so y must equal the
 * exact integer sum; codes at the extremes of their ranges would expose a saturating or
 * overflowing instruction. mode 0: random extremes; 1: every term −128·15 with zeros 0 (the
 * largest |dot|); 2: xq = 127, q = 0, zeros 15 (the largest |z·x_sum|). */
static void check_exact(int64_t M, int64_t K, int64_t N, int64_t G, int mode, unsigned long long *rng) {
    weights w;
    acts a;
    make_weights(&w, N, K, G, rng);
    a.M = M, a.K = K, a.G = G, a.ng = w.ng;
    a.x = NULL;
    a.xq = malloc((size_t)(M * K));
    a.xs = malloc(sizeof(float) * (size_t)(M * a.ng));
    a.xsum = malloc(sizeof(int32_t) * (size_t)(M * a.ng));
    for (int64_t i = 0; i < M * K; i++) {
        const unsigned r = (unsigned)(awq_test_rng(rng) >> 62);
        a.xq[i] = mode == 1 ? -128 : mode == 2 ? 127 : (int8_t)(r == 0 ? -128 : r == 1 ? -127 : r == 2 ? 127 : 0);
    }
    for (int64_t i = 0; i < N * w.kh; i++)
        w.qw[i] = mode == 1 ? 0xFF : mode == 2 ? 0x00 : (uint8_t)((awq_test_rng(rng) >> 63 ? 0x0F : 0) | (awq_test_rng(rng) >> 63 ? 0xF0 : 0));
    for (int64_t i = 0; i < N * w.ng; i++) {
        w.zeros[i] = mode == 1 ? 0 : mode == 2 ? 15 : (uint8_t)(awq_test_rng(rng) >> 63 ? 15 : 0);
        w.scales[i] = (uint16_t)((15 - (int)(awq_test_rng(rng) >> 63)) << 10); /* 1 or 1/2 */
    }
    for (int64_t m = 0; m < M; m++)
        for (int64_t g = 0; g < a.ng; g++) {
            int32_t s = 0;
            for (int64_t k = g * G; k < K && k < (g + 1) * G; k++) s += a.xq[m * K + k];
            a.xsum[m * a.ng + g] = s;
            a.xs[m * a.ng + g] = ldexpf(1.0f, -(int)(awq_test_rng(rng) >> 63)); /* 1 or 1/2 */
        }
    double *ref = malloc(sizeof(double) * (size_t)(M * N)), *mag = malloc(sizeof(double) * (size_t)(M * N));
    float *y = malloc(sizeof(float) * (size_t)(M * N));
    gemm_ref64(&a, &w, ref, mag);
    int64_t exact = 0;
    for (int64_t i = 0; i < M * N; i++) exact += mag[i] < 0x1p22;
    CHECK(exact > 0);
    for (int p = AWQ_W4A8_SCALAR; p <= AWQ_W4A8_AVX512VNNI; p++) {
        if (!path_available((awq_w4a8_path)p)) continue;
        CHECK_STATUS(gemm((awq_w4a8_path)p, &a, &w, y), AWQ_OK);
        for (int64_t i = 0; i < M * N; i++) {
            if (!(mag[i] < 0x1p22)) continue; /* partial sums could round: not an exact case */
            if ((double)y[i] != ref[i]) {
                fprintf(stderr, "%s exact mode %d M=%lld K=%lld N=%lld G=%lld: y[%lld] = %.9g, exact %.9g\n",
                        path_name((awq_w4a8_path)p), mode, (long long)M, (long long)K, (long long)N, (long long)G,
                        (long long)i, y[i], ref[i]);
                awq_test_failures++;
                break;
            }
        }
    }
    free(ref), free(mag), free(y);
    free(a.xq), free(a.xs), free(a.xsum);
    free_weights(&w);
}

static void check_zero_rows(unsigned long long *rng) {
    enum { M = 5, K = 172, N = 37, G = 32 };
    weights w;
    make_weights(&w, N, K, G, rng);
    float *x = calloc(M * K, sizeof(float)), *y = malloc(sizeof(float) * M * N);
    for (int k = 0; k < K; k++) x[2 * K + k] = awq_test_uniform(rng, -1.0f, 1.0f); /* only row 2 non-zero */
    for (int p = AWQ_W4A8_SCALAR; p <= AWQ_W4A8_AVX512VNNI; p++) {
        if (!path_available((awq_w4a8_path)p)) continue;
        memset(y, 0xff, sizeof(float) * M * N);
        CHECK_STATUS(awq_w4a8_gemm_f32_path((awq_w4a8_path)p, x, M, K, w.qw, w.scales, w.zeros, N, G, y), AWQ_OK);
        for (int i = 0; i < M * N; i++) {
            if (i / N == 2) CHECK(isfinite(y[i]));
            else CHECK(y[i] == 0.0f);
        }
    }
    free(x), free(y);
    free_weights(&w);
}

static void check_threads(int64_t M, int64_t K, int64_t N, int64_t G, unsigned long long *rng) {
    weights w;
    acts a;
    make_weights(&w, N, K, G, rng);
    make_acts(&a, M, K, G, 1, rng);
    float *y1 = malloc(sizeof(float) * (size_t)(M * N)), *y4 = malloc(sizeof(float) * (size_t)(M * N));
    for (int p = AWQ_W4A8_SCALAR; p <= AWQ_W4A8_AVX512VNNI; p++) {
        if (!path_available((awq_w4a8_path)p)) continue;
        CHECK_STATUS(awq_set_num_threads(1), AWQ_OK);
        CHECK_STATUS(gemm((awq_w4a8_path)p, &a, &w, y1), AWQ_OK);
        CHECK_STATUS(awq_set_num_threads(4), AWQ_OK);
        CHECK_STATUS(gemm((awq_w4a8_path)p, &a, &w, y4), AWQ_OK);
        if (memcmp(y1, y4, sizeof(float) * (size_t)(M * N)) != 0) {
            fprintf(stderr, "%s M=%lld K=%lld N=%lld: 1 and 4 threads differ\n", path_name((awq_w4a8_path)p),
                    (long long)M, (long long)K, (long long)N);
            awq_test_failures++;
        }
    }
    free(y1), free(y4);
    free_acts(&a);
    free_weights(&w);
}

/* y of W4A8 against the exact W4A16 product (float64 over the dequantized weights and the fp32
 * x): the error int8 activations add. Returns the relative L2 error. */
static double quant_error(int64_t M, int64_t K, int64_t N, int64_t G, unsigned long long *rng) {
    weights w;
    acts a;
    make_weights(&w, N, K, G, rng);
    make_acts(&a, M, K, G, 1, rng);
    float *y = malloc(sizeof(float) * (size_t)(M * N));
    CHECK_STATUS(awq_w4a8_gemm_f32(a.x, M, K, w.qw, w.scales, w.zeros, N, G, y), AWQ_OK);
    double num = 0.0, den = 0.0;
    for (int64_t m = 0; m < M; m++)
        for (int64_t n = 0; n < N; n++) {
            double r = 0.0;
            for (int64_t k = 0; k < K; k++) {
                const int64_t g = n * w.ng + k / G;
                r += (double)a.x[m * K + k] * (double)(wq(&w, n, k) - w.zeros[g]) * (double)awq_fp16_to_fp32_1(w.scales[g]);
            }
            const double d = (double)y[m * N + n] - r;
            num += d * d;
            den += r * r;
        }
    free(y);
    free_acts(&a);
    free_weights(&w);
    return sqrt(num / den);
}

/* ---- argument checks ---------------------------------------------------------------------------- */
#define EXPECT_ERR(fn, call, status, arg)                                                           \
    do {                                                                                           \
        CHECK_STATUS(call, status);                                                                \
        CHECK(strncmp(awq_last_error(), fn ": ", strlen(fn ": ")) == 0);                           \
        CHECK(strstr(awq_last_error(), "'" arg "'") != NULL);                                      \
    } while (0)

static void check_errors(void) {
    float x[64] = {0}, xs[2] = {0}, y[8];
    int8_t xq[64] = {0};
    int32_t xsum[2] = {0};
    uint8_t qw[4 * 32] = {0}, z[8] = {0};
    uint16_t s[8] = {0x3c00, 0x3c00, 0x3c00, 0x3c00, 0x3c00, 0x3c00, 0x3c00, 0x3c00};

    CHECK_STATUS(awq_quantize_act_q8(x, 1, 64, 32, xq, xs, xsum), AWQ_OK);
    EXPECT_ERR("awq_quantize_act_q8", awq_quantize_act_q8(NULL, 1, 64, 32, xq, xs, xsum), AWQ_ERR_NULL_POINTER, "x");
    EXPECT_ERR("awq_quantize_act_q8", awq_quantize_act_q8(x, 1, 64, 32, NULL, xs, xsum), AWQ_ERR_NULL_POINTER, "xq");
    EXPECT_ERR("awq_quantize_act_q8", awq_quantize_act_q8(x, 1, 64, 32, xq, NULL, xsum), AWQ_ERR_NULL_POINTER, "x_scale");
    EXPECT_ERR("awq_quantize_act_q8", awq_quantize_act_q8(x, 1, 64, 32, xq, xs, NULL), AWQ_ERR_NULL_POINTER, "x_sum");
    EXPECT_ERR("awq_quantize_act_q8", awq_quantize_act_q8(x, 0, 64, 32, xq, xs, xsum), AWQ_ERR_INVALID_SIZE, "M");
    EXPECT_ERR("awq_quantize_act_q8", awq_quantize_act_q8(x, 1, -1, 32, xq, xs, xsum), AWQ_ERR_INVALID_SIZE, "K");
    EXPECT_ERR("awq_quantize_act_q8", awq_quantize_act_q8(x, 1, 64, 0, xq, xs, xsum), AWQ_ERR_INVALID_GROUP_SIZE, "group_size");
    EXPECT_ERR("awq_quantize_act_q8", awq_quantize_act_q8(x, INT64_MAX / 2, 64, 32, xq, xs, xsum), AWQ_ERR_OVERFLOW, "x");
    for (int p = AWQ_W4A8_SCALAR; p <= AWQ_W4A8_AVX512; p++) {
        if (!path_available((awq_w4a8_path)p)) continue;
        const float bad[3] = {NAN, INFINITY, -INFINITY};
        for (int b = 0; b < 3; b++) {
            x[37] = bad[b];
            EXPECT_ERR("awq_quantize_act_q8", awq_quantize_act_q8_path((awq_w4a8_path)p, x, 2, 32, 16, xq, xs, xsum),
                       AWQ_ERR_INVALID_ARGUMENT, "x");
            CHECK(strstr(awq_last_error(), "row 1, column 5") != NULL);
        }
        x[37] = 0.0f;
    }

    CHECK_STATUS(awq_w4a8_gemm(xq, xs, xsum, 1, 64, qw, s, z, 4, 32, y), AWQ_OK);
    EXPECT_ERR("awq_w4a8_gemm", awq_w4a8_gemm(NULL, xs, xsum, 1, 64, qw, s, z, 4, 32, y), AWQ_ERR_NULL_POINTER, "xq");
    EXPECT_ERR("awq_w4a8_gemm", awq_w4a8_gemm(xq, NULL, xsum, 1, 64, qw, s, z, 4, 32, y), AWQ_ERR_NULL_POINTER, "x_scale");
    EXPECT_ERR("awq_w4a8_gemm", awq_w4a8_gemm(xq, xs, NULL, 1, 64, qw, s, z, 4, 32, y), AWQ_ERR_NULL_POINTER, "x_sum");
    EXPECT_ERR("awq_w4a8_gemm", awq_w4a8_gemm(xq, xs, xsum, 1, 64, NULL, s, z, 4, 32, y), AWQ_ERR_NULL_POINTER, "qweight");
    EXPECT_ERR("awq_w4a8_gemm", awq_w4a8_gemm(xq, xs, xsum, 1, 64, qw, NULL, z, 4, 32, y), AWQ_ERR_NULL_POINTER, "scales");
    EXPECT_ERR("awq_w4a8_gemm", awq_w4a8_gemm(xq, xs, xsum, 1, 64, qw, s, NULL, 4, 32, y), AWQ_ERR_NULL_POINTER, "zeros");
    EXPECT_ERR("awq_w4a8_gemm", awq_w4a8_gemm(xq, xs, xsum, 1, 64, qw, s, z, 4, 32, NULL), AWQ_ERR_NULL_POINTER, "y");
    EXPECT_ERR("awq_w4a8_gemm", awq_w4a8_gemm(xq, xs, xsum, 0, 64, qw, s, z, 4, 32, y), AWQ_ERR_INVALID_SIZE, "M");
    EXPECT_ERR("awq_w4a8_gemm", awq_w4a8_gemm(xq, xs, xsum, 1, -64, qw, s, z, 4, 32, y), AWQ_ERR_INVALID_SIZE, "K");
    EXPECT_ERR("awq_w4a8_gemm", awq_w4a8_gemm(xq, xs, xsum, 1, 64, qw, s, z, 0, 32, y), AWQ_ERR_INVALID_SIZE, "N");
    EXPECT_ERR("awq_w4a8_gemm", awq_w4a8_gemm(xq, xs, xsum, 1, 64, qw, s, z, 4, 0, y), AWQ_ERR_INVALID_GROUP_SIZE, "group_size");
    EXPECT_ERR("awq_w4a8_gemm", awq_w4a8_gemm(xq, xs, xsum, 1, 64, qw, s, z, 4, -32, y), AWQ_ERR_INVALID_GROUP_SIZE, "group_size");
    EXPECT_ERR("awq_w4a8_gemm", awq_w4a8_gemm(xq, xs, xsum, INT64_MAX / 2, 64, qw, s, z, 4, 32, y), AWQ_ERR_OVERFLOW, "xq");
    EXPECT_ERR("awq_w4a8_gemm", awq_w4a8_gemm(xq, xs, xsum, INT64_MAX / 8, 2, qw, s, z, 4, 32, y), AWQ_ERR_OVERFLOW, "xq");
    EXPECT_ERR("awq_w4a8_gemm", awq_w4a8_gemm(xq, xs, xsum, 1, 600000, qw, s, z, 1, 600000, y), AWQ_ERR_OVERFLOW, "group_size");
    z[5] = 16;
    EXPECT_ERR("awq_w4a8_gemm", awq_w4a8_gemm(xq, xs, xsum, 1, 64, qw, s, z, 4, 32, y), AWQ_ERR_INVALID_ARGUMENT, "zeros");
    z[5] = 0;
    xs[1] = NAN;
    EXPECT_ERR("awq_w4a8_gemm", awq_w4a8_gemm(xq, xs, xsum, 1, 64, qw, s, z, 4, 32, y), AWQ_ERR_INVALID_ARGUMENT, "x_scale");
    xs[1] = INFINITY;
    EXPECT_ERR("awq_w4a8_gemm", awq_w4a8_gemm(xq, xs, xsum, 1, 64, qw, s, z, 4, 32, y), AWQ_ERR_INVALID_ARGUMENT, "x_scale");
    xs[1] = 0.0f;
    xq[40] = 3; /* x_sum no longer matches */
    EXPECT_ERR("awq_w4a8_gemm", awq_w4a8_gemm(xq, xs, xsum, 1, 64, qw, s, z, 4, 32, y), AWQ_ERR_INVALID_ARGUMENT, "x_sum");
    CHECK(strstr(awq_last_error(), "row 0, group 1") != NULL);
    xsum[1] = 3;
    CHECK_STATUS(awq_w4a8_gemm(xq, xs, xsum, 1, 64, qw, s, z, 4, 32, y), AWQ_OK);

    {   /* prepared tables: 4 rows x 2 groups -> one tile of 16 x 2 */
        uint16_t ts[32];
        uint8_t tz[32];
        EXPECT_ERR("awq_w4a8_tile_tables", awq_w4a8_tile_tables(NULL, z, 4, 64, 32, ts, tz), AWQ_ERR_NULL_POINTER, "scales");
        EXPECT_ERR("awq_w4a8_tile_tables", awq_w4a8_tile_tables(s, z, 4, 64, 32, ts, NULL), AWQ_ERR_NULL_POINTER, "tile_zeros");
        EXPECT_ERR("awq_w4a8_tile_tables", awq_w4a8_tile_tables(s, z, 0, 64, 32, ts, tz), AWQ_ERR_INVALID_SIZE, "N");
        EXPECT_ERR("awq_w4a8_tile_tables", awq_w4a8_tile_tables(s, z, 4, 64, 0, ts, tz), AWQ_ERR_INVALID_GROUP_SIZE, "group_size");
        CHECK_STATUS(awq_w4a8_tile_tables(s, z, 4, 64, 32, ts, tz), AWQ_OK);
        CHECK_STATUS(awq_w4a8_gemm_f32_tiled(x, 1, 64, qw, s, z, ts, tz, 4, 32, y), AWQ_OK);
        EXPECT_ERR("awq_w4a8_gemm_f32_tiled", awq_w4a8_gemm_f32_tiled(x, 1, 64, qw, s, z, NULL, tz, 4, 32, y),
                   AWQ_ERR_NULL_POINTER, "tile_scales");
        EXPECT_ERR("awq_w4a8_gemm_f32_tiled", awq_w4a8_gemm_f32_tiled(x, 1, 64, qw, s, z, ts, tz, 4, 32, NULL),
                   AWQ_ERR_NULL_POINTER, "y");
        z[6] = 99;
        EXPECT_ERR("awq_w4a8_gemm_f32_tiled", awq_w4a8_gemm_f32_tiled(x, 1, 64, qw, s, z, ts, tz, 4, 32, y),
                   AWQ_ERR_INVALID_ARGUMENT, "zeros");
        z[6] = 0;
    }

    CHECK_STATUS(awq_w4a8_gemm_f32(x, 1, 64, qw, s, z, 4, 32, y), AWQ_OK);
    EXPECT_ERR("awq_w4a8_gemm_f32", awq_w4a8_gemm_f32(NULL, 1, 64, qw, s, z, 4, 32, y), AWQ_ERR_NULL_POINTER, "x");
    EXPECT_ERR("awq_w4a8_gemm_f32", awq_w4a8_gemm_f32(x, 1, 64, NULL, s, z, 4, 32, y), AWQ_ERR_NULL_POINTER, "qweight");
    EXPECT_ERR("awq_w4a8_gemm_f32", awq_w4a8_gemm_f32(x, 1, 64, qw, NULL, z, 4, 32, y), AWQ_ERR_NULL_POINTER, "scales");
    EXPECT_ERR("awq_w4a8_gemm_f32", awq_w4a8_gemm_f32(x, 1, 64, qw, s, NULL, 4, 32, y), AWQ_ERR_NULL_POINTER, "zeros");
    EXPECT_ERR("awq_w4a8_gemm_f32", awq_w4a8_gemm_f32(x, 1, 64, qw, s, z, 4, 32, NULL), AWQ_ERR_NULL_POINTER, "y");
    EXPECT_ERR("awq_w4a8_gemm_f32", awq_w4a8_gemm_f32(x, 0, 64, qw, s, z, 4, 32, y), AWQ_ERR_INVALID_SIZE, "M");
    EXPECT_ERR("awq_w4a8_gemm_f32", awq_w4a8_gemm_f32(x, 1, 0, qw, s, z, 4, 32, y), AWQ_ERR_INVALID_SIZE, "K");
    EXPECT_ERR("awq_w4a8_gemm_f32", awq_w4a8_gemm_f32(x, 1, 64, qw, s, z, -4, 32, y), AWQ_ERR_INVALID_SIZE, "N");
    EXPECT_ERR("awq_w4a8_gemm_f32", awq_w4a8_gemm_f32(x, 1, 64, qw, s, z, 4, 0, y), AWQ_ERR_INVALID_GROUP_SIZE, "group_size");
    EXPECT_ERR("awq_w4a8_gemm_f32", awq_w4a8_gemm_f32(x, INT64_MAX / 2, 64, qw, s, z, 4, 32, y), AWQ_ERR_OVERFLOW, "x");
    z[7] = 200;
    EXPECT_ERR("awq_w4a8_gemm_f32", awq_w4a8_gemm_f32(x, 1, 64, qw, s, z, 4, 32, y), AWQ_ERR_INVALID_ARGUMENT, "zeros");
    z[7] = 0;
    x[3] = NAN;
    EXPECT_ERR("awq_w4a8_gemm_f32", awq_w4a8_gemm_f32(x, 1, 64, qw, s, z, 4, 32, y), AWQ_ERR_INVALID_ARGUMENT, "x");
    x[3] = 0.0f;

    /* repacked weights */
    {
        CHECK(awq_w4a8_repacked_bytes(4, 64) == 8 * 32);
        CHECK(awq_w4a8_repacked_bytes(0, 64) == -1 && awq_w4a8_repacked_bytes(4, -1) == -1);
        CHECK(awq_w4a8_repacked_bytes(INT64_MAX / 2, INT64_MAX / 2) == -1);
        CHECK(awq_w4a8_repacked_bytes(INT64_MAX, 64) == -1 && awq_w4a8_repacked_bytes(64, INT64_MAX) == -1);
        const char *env = getenv("AWQ_W4A8_REPACK");
        char saved[64] = {0};
        const char *was = env == NULL ? NULL : strncpy(saved, env, sizeof saved - 1); /* setenv may reuse env */
        if (was == NULL || strcmp(was, "0") != 0)
            CHECK(awq_w4a8_repack_preferred() == (awq_w4a8_best_path() == AWQ_W4A8_AVX2));
        setenv("AWQ_W4A8_REPACK", "0", 1);
        CHECK(awq_w4a8_repack_preferred() == 0);
        if (was == NULL) unsetenv("AWQ_W4A8_REPACK");
        else setenv("AWQ_W4A8_REPACK", was, 1);
        uint8_t rw[8 * 32];
        uint16_t ts[16 * 2];
        uint8_t tz[16 * 2];
        CHECK_STATUS(awq_w4a8_tile_tables(s, z, 4, 64, 32, ts, tz), AWQ_OK);
        CHECK_STATUS(awq_w4a8_repack(qw, 4, 64, rw, sizeof rw), AWQ_OK);
        EXPECT_ERR("awq_w4a8_repack", awq_w4a8_repack(NULL, 4, 64, rw, sizeof rw), AWQ_ERR_NULL_POINTER, "qweight");
        EXPECT_ERR("awq_w4a8_repack", awq_w4a8_repack(qw, 4, 64, NULL, sizeof rw), AWQ_ERR_NULL_POINTER, "repacked");
        EXPECT_ERR("awq_w4a8_repack", awq_w4a8_repack(qw, 0, 64, rw, sizeof rw), AWQ_ERR_INVALID_SIZE, "N");
        EXPECT_ERR("awq_w4a8_repack", awq_w4a8_repack(qw, 4, 64, rw, sizeof rw - 1), AWQ_ERR_INVALID_ARGUMENT,
                   "repacked_bytes");
        CHECK_STATUS(awq_w4a8_gemm_f32_repacked(x, 1, 64, qw, s, z, ts, tz, rw, sizeof rw, 4, 32, y), AWQ_OK);
        EXPECT_ERR("awq_w4a8_gemm_f32_repacked",
                   awq_w4a8_gemm_f32_repacked(x, 1, 64, qw, s, z, ts, tz, NULL, sizeof rw, 4, 32, y),
                   AWQ_ERR_NULL_POINTER, "repacked");
        EXPECT_ERR("awq_w4a8_gemm_f32_repacked",
                   awq_w4a8_gemm_f32_repacked(x, 1, 64, qw, s, z, ts, tz, rw, 16, 4, 32, y), AWQ_ERR_INVALID_ARGUMENT,
                   "repacked_bytes");
        EXPECT_ERR("awq_w4a8_gemm_f32_repacked",
                   awq_w4a8_gemm_f32_repacked(x, 1, 64, qw, s, z, NULL, tz, rw, sizeof rw, 4, 32, y),
                   AWQ_ERR_NULL_POINTER, "tile_scales");
        EXPECT_ERR("awq_w4a8_gemm_f32_repacked",
                   awq_w4a8_gemm_f32_repacked(x, 1, 64, qw, s, z, ts, tz, rw, sizeof rw, 4, 0, y),
                   AWQ_ERR_INVALID_GROUP_SIZE, "group_size");
    }

    /* a path this CPU cannot run */
    for (int p = AWQ_W4A8_AVX2; p <= AWQ_W4A8_AVX512VNNI; p++)
        if (!path_available((awq_w4a8_path)p))
            CHECK_STATUS(awq_w4a8_gemm_path((awq_w4a8_path)p, xq, xs, xsum, 1, 64, qw, s, z, 4, 32, y),
                         AWQ_ERR_UNSUPPORTED);
}

int main(void) {
    unsigned long long seed = (unsigned long long)time(NULL) * 2654435761ULL + (unsigned long long)clock();
    const char *env = getenv("AWQ_TEST_SEED");
    if (env) seed = strtoull(env, NULL, 0);
    if (seed == 0) seed = 1;
    printf("test_w4a8 seed %llu (AWQ_TEST_SEED=%llu replays it), simd %s, w4a8 path %s\n", seed, seed,
           awq_simd_path(), path_name(awq_w4a8_best_path()));
    unsigned long long rng = seed;

    check_errors();

    /* quantizer */
    check_quantize_extremes();
    const int64_t qK[] = {1, 7, 31, 32, 100, 172, 1000, 4096};
    const int64_t qG[] = {1, 5, 16, 32, 40, 128, 5000};
    for (size_t b = 0; b < sizeof qK / sizeof *qK; b++)
        for (size_t c = 0; c < sizeof qG / sizeof *qG; c++) check_quantize(3, qK[b], qG[c], (int)((b + c) % 3), &rng);

    /* GEMM: every path against the scalar reference, the scalar reference against float64 */
    const int64_t Ms[] = {1, 2, 3, 8, 16, 64};
    const int64_t Ks[] = {32, 172, 256, 1000, 1001, 2048};
    const int64_t Ns[] = {1, 13, 64, 100, 257};
    const int64_t Gs[] = {32, 64, 128, 96};
    int shape = 0;
    for (size_t a = 0; a < sizeof Ms / sizeof *Ms; a++)
        for (size_t b = 0; b < sizeof Ks / sizeof *Ks; b++)
            for (size_t c = 0; c < sizeof Ns / sizeof *Ns; c++, shape++) {
                if (Ms[a] * Ks[b] * Ns[c] > 8000000) continue;
                check_gemm(Ms[a], Ks[b], Ns[c], Gs[shape % 4], shape % 3, &rng);
            }
    /* short last groups (stories260K: K = 172 at G = 32 and 64), G > K, chunks of rows of x past
     * the tile's 16, group sizes the SIMD kernels hand to the scalar one */
    check_gemm(1, 172, 64, 32, 1, &rng);
    check_gemm(5, 172, 172, 64, 1, &rng);
    check_gemm(4, 172, 29, 128, 0, &rng);
    check_gemm(3, 100, 20, 4096, 1, &rng);
    check_gemm(17, 333, 35, 32, 2, &rng);
    check_gemm(33, 512, 17, 64, 0, &rng);
    check_gemm(64, 2048, 48, 128, 1, &rng);
    check_gemm(7, 5632, 40, 128, 1, &rng);
    check_gemm(2, 100, 9, 40, 1, &rng);
    check_gemm(3, 101, 9, 7, 0, &rng);
    check_gemm(2, 33, 5, 1, 1, &rng);
    for (int64_t G = 32; G <= 320; G += 32) check_gemm(3, 700, 21, G, 1, &rng);

    /* exact integer results at the extremes of the code ranges */
    for (int mode = 0; mode < 3; mode++) {
        check_exact(3, 256, 19, 32, mode, &rng);
        check_exact(1, 172, 33, 64, mode, &rng);
        check_exact(16, 1000, 16, 128, mode, &rng);
    }
    check_exact(2, 4096, 5, 4096, 0, &rng);

    check_zero_rows(&rng);
    check_threads(1, 2048, 300, 128, &rng);
    check_threads(16, 512, 77, 64, &rng);
    check_threads(37, 172, 64, 32, &rng);

    /* quantization error against the exact W4A16 product, Gaussian x */
    const int64_t eG[] = {32, 64, 128};
    for (size_t i = 0; i < 3; i++) {
        const double e = quant_error(4, 2048, 256, eG[i], &rng);
        printf("W4A8 vs exact W4A16, Gaussian x, M=4 K=2048 N=256 G=%lld: relative L2 error %.4f%%\n",
               (long long)eG[i], 100.0 * e);
        if (!(e < 0.01)) {
            fprintf(stderr, "G=%lld: quantization error %.4g above 1%%\n", (long long)eG[i], e);
            awq_test_failures++;
        }
    }
    TEST_MAIN_END();
}
