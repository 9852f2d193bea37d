/*
 * quantize.c — group-wise integer quantization of a [rows, cols] fp32 matrix (bit widths 2..8),
 * dequantization and error statistics.
 *
 * This is the reference the managed Quantizer mirrors bit for bit, so every step is a single
 * IEEE fp32 operation in a fixed order: min/max by comparison, one subtraction, one true division
 * for the scale, x / scale (never x * (1/scale)), round half to even (nearbyintf in the default
 * rounding mode), a clamp in the float domain and only then the conversion to int (so a huge
 * quotient can neither overflow an int nor hit undefined behaviour). No FMA can be contracted:
 * the library is built for baseline x86-64 and nothing here carries a target attribute.
 *
 * Scale rules (the header's awq_qscheme):
 *  SYMMETRIC   scale = max|x| / qmax,                 qmax = 2^(b-1)-1, q in [-qmax, qmax], zero 0
 *  ASYMMETRIC  scale = (hi-lo) / qmax, lo = min(min,0), hi = max(max,0), qmax = 2^b-1,
 *              zero = clamp(round(-lo/scale), 0, qmax)
 *  AWQ         scale = fp16(max(max-min, 1e-5) / qmax), zero = clamp(round(-min/scale), 0, qmax)
 * ASYMMETRIC widens the range to include 0 (as PyTorch's and ONNX's min/max observers do): 0 is
 * then exactly representable and a group of one sign keeps its full range. The header first had
 * the bare min/max form, which clamps the zero point of such a group and clips it (a group in
 * [1, 2] at 4 bits came back as all 1.0). AWQ keeps exactly that behaviour, because it is what
 * AutoAWQ does and checkpoints must match.
 * A SYMMETRIC/ASYMMETRIC scale of 0 (all-zero group, or a range so small that range/qmax
 * underflows) is replaced by max|x| of the group, or 1 when the group is all zero. AWQ's 1e-5
 * floor means its scale is never 0.
 *
 * AutoAWQ runs pseudo_quantize_tensor in the weight dtype (fp16) op by op: max - min and w / scale
 * are rounded to fp16 too. We run the same formula in fp32 and round only the scale to fp16 (the
 * value the checkpoint stores). On fp16 weight-like data (QuantizerTests) our scales are within one
 * fp16 step of AutoAWQ's (190 of 256 identical) and our codes within one step (9 of 32768 differ).
 *
 * Rejected inputs (nothing else is): a non-finite x (AWQ_ERR_INVALID_ARGUMENT, naming row and
 * column) and a group whose range or fp16 scale overflows (AWQ_ERR_OVERFLOW). On error the output
 * buffers hold unspecified values.
 */
#include "awq_numerics.h"

#include <math.h>
#include <stdatomic.h>

enum { GROUP_OK = 0, GROUP_NONFINITE = 1, GROUP_RANGE_OVERFLOW = 2, GROUP_SCALE_OVERFLOW = 3 };

/* Scale and zero point of one group. On GROUP_NONFINITE, *bad is the offending column in the group. */
static int group_params(const float *x, int64_t len, int bits, int scheme, float *scale_out,
                        int32_t *zero_out, int64_t *bad) {
    float mn = x[0], mx = x[0];
    for (int64_t i = 0; i < len; i++) {
        float v = x[i];
        if (!isfinite(v)) {
            *bad = i;
            return GROUP_NONFINITE;
        }
        if (v < mn) mn = v;
        if (v > mx) mx = v;
    }

    if (scheme == AWQ_QSCHEME_SYMMETRIC) {
        float qmax = (float)((1 << (bits - 1)) - 1);
        float amax = fabsf(mn) > fabsf(mx) ? fabsf(mn) : fabsf(mx);
        float scale = amax / qmax;
        if (scale == 0.0f) scale = amax != 0.0f ? amax : 1.0f;
        *scale_out = scale;
        *zero_out = 0;
        return GROUP_OK;
    }

    float qmax = (float)((1 << bits) - 1);
    float scale;
    if (scheme == AWQ_QSCHEME_AWQ) {
        float range = mx - mn;
        if (isinf(range)) return GROUP_RANGE_OVERFLOW;
        if (range < 1e-5f) range = 1e-5f;
        scale = awq_fp16_to_fp32_1(awq_fp32_to_fp16_1(range / qmax));
        if (isinf(scale)) return GROUP_SCALE_OVERFLOW;
    } else {
        if (mn > 0.0f) mn = 0.0f;
        if (mx < 0.0f) mx = 0.0f;
        float range = mx - mn;
        if (isinf(range)) return GROUP_RANGE_OVERFLOW;
        scale = range / qmax;
        if (scale == 0.0f) {
            float amax = -mn > mx ? -mn : mx;
            scale = amax != 0.0f ? amax : 1.0f;
        }
    }
    float z = nearbyintf(-mn / scale);
    z = z < 0.0f ? 0.0f : (z > qmax ? qmax : z);
    *scale_out = scale;
    *zero_out = (int32_t)z;
    return GROUP_OK;
}

static void quantize_group(const float *x, int64_t len, float scale, int32_t zero, float lo, float hi,
                           int32_t *q) {
    for (int64_t i = 0; i < len; i++) {
        float t = nearbyintf(x[i] / scale);
        t = t < lo ? lo : (t > hi ? hi : t);
        q[i] = (int32_t)t + zero;
    }
}

typedef struct quant_job {
    const float *x;
    int64_t cols, group_size, n_groups;
    int bits, scheme;
    int32_t *q;
    float *scales;
    int32_t *zeros;
    atomic_llong first_bad_row; /* smallest row that failed; INT64_MAX when none */
} quant_job;

static void quantize_rows(void *ctx, int64_t begin, int64_t end) {
    quant_job *job = (quant_job *)ctx;
    const int64_t cols = job->cols, gs = job->group_size, ng = job->n_groups;
    for (int64_t r = begin; r < end; r++) {
        const float *xr = job->x + r * cols;
        int32_t *qr = job->q + r * cols;
        for (int64_t g = 0; g < ng; g++) {
            int64_t c0 = g * gs;
            int64_t len = cols - c0 < gs ? cols - c0 : gs;
            float scale;
            int32_t zero;
            int64_t bad;
            if (group_params(xr + c0, len, job->bits, job->scheme, &scale, &zero, &bad) != GROUP_OK) {
                long long prev = atomic_load(&job->first_bad_row);
                while (r < prev && !atomic_compare_exchange_weak(&job->first_bad_row, &prev, r)) {}
                return; /* rows after a failure are not needed: the call fails */
            }
            job->scales[r * ng + g] = scale;
            job->zeros[r * ng + g] = zero;
            float lo, hi;
            if (job->scheme == AWQ_QSCHEME_SYMMETRIC) {
                hi = (float)((1 << (job->bits - 1)) - 1);
                lo = -hi;
            } else {
                /* clamp(round(x/s) + zero, 0, qmax) == clamp(round(x/s), -zero, qmax - zero) + zero,
                 * and the right-hand form never adds to a huge float. */
                lo = (float)-zero;
                hi = (float)(((1 << job->bits) - 1) - zero);
            }
            quantize_group(xr + c0, len, scale, zero, lo, hi, qr + c0);
        }
    }
}

/* Re-examines the first failing row on the calling thread to report its first failing group. */
static int report_bad_row(const quant_job *job, int64_t r) {
    static const char *fn = "awq_quantize";
    const float *xr = job->x + r * job->cols;
    for (int64_t g = 0; g < job->n_groups; g++) {
        int64_t c0 = g * job->group_size;
        int64_t len = job->cols - c0 < job->group_size ? job->cols - c0 : job->group_size;
        float scale;
        int32_t zero;
        int64_t bad = 0;
        switch (group_params(xr + c0, len, job->bits, job->scheme, &scale, &zero, &bad)) {
        case GROUP_NONFINITE:
            return awq_fail(AWQ_ERR_INVALID_ARGUMENT, fn,
                            "argument 'x' holds a non-finite value (%g) at row %lld, column %lld",
                            (double)xr[c0 + bad], (long long)r, (long long)(c0 + bad));
        case GROUP_RANGE_OVERFLOW:
            return awq_fail(AWQ_ERR_OVERFLOW, fn,
                            "argument 'x': max - min of row %lld, group %lld overflows fp32", (long long)r,
                            (long long)g);
        case GROUP_SCALE_OVERFLOW:
            return awq_fail(AWQ_ERR_OVERFLOW, fn,
                            "argument 'x': the scale of row %lld, group %lld overflows fp16 (range too large "
                            "for an AWQ checkpoint)",
                            (long long)r, (long long)g);
        default: break;
        }
    }
    return awq_fail(AWQ_ERR_INVALID_ARGUMENT, fn, "argument 'x': row %lld failed", (long long)r);
}

/* n_groups without the overflow of (cols + group_size - 1). */

int awq_quantize(const float *x, int64_t rows, int64_t cols, int64_t group_size, int bits, int scheme,
                 int32_t *q, float *scales, int32_t *zeros) {
    static const char *fn = "awq_quantize";
    AWQ_REQUIRE_POSITIVE(fn, rows);
    AWQ_REQUIRE_POSITIVE(fn, cols);
    AWQ_REQUIRE_GROUP_SIZE(fn, group_size);
    if (bits < 2 || bits > 8)
        return awq_fail(AWQ_ERR_INVALID_BITS, fn, "argument 'bits' must be in 2..8 (got %d)", bits);
    if (scheme != AWQ_QSCHEME_SYMMETRIC && scheme != AWQ_QSCHEME_ASYMMETRIC && scheme != AWQ_QSCHEME_AWQ)
        return awq_fail(AWQ_ERR_INVALID_ARGUMENT, fn,
                        "argument 'scheme' must be AWQ_QSCHEME_SYMMETRIC, _ASYMMETRIC or _AWQ (got %d)", scheme);
    int64_t numel, n_scales, n_groups = awq_n_groups(cols, group_size);
    int st = awq_mul_size(fn, "x", rows, cols, &numel);
    if (st != AWQ_OK) return st;
    st = awq_mul_size(fn, "scales", rows, n_groups, &n_scales);
    if (st != AWQ_OK) return st;
    AWQ_REQUIRE_PTR(fn, x);
    AWQ_REQUIRE_PTR(fn, q);
    AWQ_REQUIRE_PTR(fn, scales);
    AWQ_REQUIRE_PTR(fn, zeros);

    quant_job job = {x, cols, group_size, n_groups, bits, scheme, q, scales, zeros, INT64_MAX};
    int64_t grain = cols >= 16384 ? 1 : 16384 / cols;
    awq_parallel_for(rows, grain, quantize_rows, &job);
    int64_t bad_row = atomic_load(&job.first_bad_row);
    return bad_row == INT64_MAX ? AWQ_OK : report_bad_row(&job, bad_row);
}

typedef struct dequant_job {
    const int32_t *q;
    const float *scales;
    const int32_t *zeros;
    int64_t cols, group_size, n_groups;
    float *out;
} dequant_job;

static void dequantize_rows(void *ctx, int64_t begin, int64_t end) {
    const dequant_job *job = (const dequant_job *)ctx;
    for (int64_t r = begin; r < end; r++) {
        const int32_t *qr = job->q + r * job->cols;
        float *outr = job->out + r * job->cols;
        for (int64_t g = 0; g < job->n_groups; g++) {
            int64_t c0 = g * job->group_size;
            int64_t c1 = job->cols - c0 < job->group_size ? job->cols : c0 + job->group_size;
            /* int64 difference: q and zero are caller data and may be anything */
            const int64_t zero = job->zeros[r * job->n_groups + g];
            const float scale = job->scales[r * job->n_groups + g];
            for (int64_t c = c0; c < c1; c++) outr[c] = (float)((int64_t)qr[c] - zero) * scale;
        }
    }
}

int awq_dequantize(const int32_t *q, const float *scales, const int32_t *zeros, int64_t rows, int64_t cols,
                   int64_t group_size, float *out) {
    static const char *fn = "awq_dequantize";
    AWQ_REQUIRE_POSITIVE(fn, rows);
    AWQ_REQUIRE_POSITIVE(fn, cols);
    AWQ_REQUIRE_GROUP_SIZE(fn, group_size);
    int64_t numel, n_scales, n_groups = awq_n_groups(cols, group_size);
    int st = awq_mul_size(fn, "q", rows, cols, &numel);
    if (st != AWQ_OK) return st;
    st = awq_mul_size(fn, "scales", rows, n_groups, &n_scales);
    if (st != AWQ_OK) return st;
    AWQ_REQUIRE_PTR(fn, q);
    AWQ_REQUIRE_PTR(fn, scales);
    AWQ_REQUIRE_PTR(fn, zeros);
    AWQ_REQUIRE_PTR(fn, out);

    dequant_job job = {q, scales, zeros, cols, group_size, n_groups, out};
    int64_t grain = cols >= 16384 ? 1 : 16384 / cols;
    awq_parallel_for(rows, grain, dequantize_rows, &job);
    return AWQ_OK;
}

/* Sequential on purpose: one fixed summation order, so the managed QuantizationError reproduces
 * the same doubles bit for bit. NaN in either input makes both statistics NaN. */
int awq_quant_error(const float *a, const float *b, int64_t n, double *mse, double *max_abs) {
    static const char *fn = "awq_quant_error";
    AWQ_REQUIRE_POSITIVE(fn, n);
    AWQ_REQUIRE_PTR(fn, a);
    AWQ_REQUIRE_PTR(fn, b);
    AWQ_REQUIRE_PTR(fn, mse);
    AWQ_REQUIRE_PTR(fn, max_abs);
    double sum = 0.0, mx = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double d = (double)a[i] - (double)b[i];
        sum += d * d;
        double ad = fabs(d);
        if (ad > mx || isnan(ad)) mx = ad; /* once NaN, nothing compares greater */
    }
    *mse = sum / (double)n;
    *max_abs = mx;
    return AWQ_OK;
}
