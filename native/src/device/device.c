/*
 * device.c — contexts, buffers and the kernels over views (awq_kernels.h, "Devices").
 *
 * Every entry point checks its arguments here, once for both kinds of device: views must belong
 * to the context and cover the extent the call touches; sizes are overflow-checked; RoPE and
 * attention reuse the CPU kernels' own checks. Then a CPU context calls the CPU kernels on the
 * host memory its buffers own, and a CUDA context calls the plugin (libawq_kernels_cuda.so,
 * native/src/cuda/), which is loaded with dlopen the first time a CUDA device is asked for.
 */
#define _GNU_SOURCE /* dladdr */
#include "awq_internal.h"
#include "device_cuda.h"

#include <dlfcn.h>
#include <stdatomic.h>
#include <pthread.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct awq_context {
    int kind;
    int ordinal;
    awq_cuda_ctx *cuda;     /* AWQ_DEVICE_CUDA */
    _Atomic int64_t live_buffers; /* buffers not yet freed (a finalizer may free one on another thread) */
};

struct awq_buffer {
    awq_context *ctx;
    void *ptr; /* host memory (CPU) or device memory (CUDA) */
    int64_t bytes;
};

/* ---- the CUDA plugin, loaded once -------------------------------------------------------------- */
static pthread_once_t plugin_once = PTHREAD_ONCE_INIT;
static const awq_cuda_api *plugin;       /* NULL when it could not be loaded */
static char plugin_why[5000] = "";        /* why not, for the errors */

static void plugin_load(void) {
    char path[4096];
    const char *env = getenv("AWQ_CUDA_PLUGIN");
    if (env != NULL && env[0] != '\0') {
        snprintf(path, sizeof path, "%s", env);
    } else {
        /* beside the library (or executable) this code is in */
        Dl_info info;
        const char *slash = NULL;
        if (dladdr((void *)&awq_context_create, &info) != 0 && info.dli_fname != NULL)
            slash = strrchr(info.dli_fname, '/');
        if (slash != NULL)
            snprintf(path, sizeof path, "%.*s/libawq_kernels_cuda.so", (int)(slash - info.dli_fname), info.dli_fname);
        else
            snprintf(path, sizeof path, "libawq_kernels_cuda.so");
    }
    void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL) {
        const char *e = dlerror();
        snprintf(plugin_why, sizeof plugin_why, "the CUDA kernels are not available (%.4500s)", e ? e : path);
        return;
    }
    awq_cuda_plugin_fn get = NULL;
    *(void **)&get = dlsym(lib, "awq_cuda_plugin");
    const awq_cuda_api *api = get != NULL ? get() : NULL;
    if (api == NULL || api->version != AWQ_CUDA_API_VERSION) {
        snprintf(plugin_why, sizeof plugin_why, "%.4500s is not a CUDA plugin of this library (table version %d, want %d)",
                 path, api ? api->version : -1, AWQ_CUDA_API_VERSION);
        dlclose(lib);
        return;
    }
    plugin = api; /* kept loaded for the life of the process */
}

static const awq_cuda_api *cuda_plugin(void) {
    pthread_once(&plugin_once, plugin_load);
    return plugin;
}

int awq_cuda_plugin_loaded(void) { return cuda_plugin() != NULL; }

/* A failed CUDA call: its status, with the plugin's message. */
static int cuda_fail(const char *fn, const awq_context *ctx, int st) {
    return awq_fail(st, fn, "%s", cuda_plugin()->error(ctx->cuda));
}

#define CUDA_CALL(fn, ctx, call)                                                                  \
    do {                                                                                          \
        int st_ = (call);                                                                         \
        return st_ == AWQ_OK ? AWQ_OK : cuda_fail(fn, ctx, st_);                                  \
    } while (0)

/* ---- devices and contexts ---------------------------------------------------------------------- */
int awq_device_count(int kind, int *count) {
    AWQ_REQUIRE_PTR("awq_device_count", count);
    if (kind == AWQ_DEVICE_CPU) *count = 1;
    else if (kind == AWQ_DEVICE_CUDA) *count = cuda_plugin() ? cuda_plugin()->count() : 0;
    else *count = 0;
    return AWQ_OK;
}

static int check_kind(const char *fn, int kind, int ordinal) {
    if (kind != AWQ_DEVICE_CPU && kind != AWQ_DEVICE_CUDA)
        return awq_fail(AWQ_ERR_INVALID_ARGUMENT, fn, "argument 'kind' must be AWQ_DEVICE_CPU or AWQ_DEVICE_CUDA (got %d)", kind);
    if (kind == AWQ_DEVICE_CUDA && cuda_plugin() == NULL) return awq_fail(AWQ_ERR_UNSUPPORTED, fn, "%s", plugin_why);
    int n = 0;
    awq_device_count(kind, &n);
    if (ordinal < 0 || ordinal >= n) {
        if (kind == AWQ_DEVICE_CUDA && n == 0) return awq_fail(AWQ_ERR_UNSUPPORTED, fn, "no CUDA device is present");
        return awq_fail(AWQ_ERR_INVALID_ARGUMENT, fn, "argument 'ordinal' %d is not a device (%d present)", ordinal, n);
    }
    return AWQ_OK;
}

int awq_device_info(int kind, int ordinal, awq_device_props *props) {
    static const char fn[] = "awq_device_info";
    AWQ_REQUIRE_PTR(fn, props);
    int st = check_kind(fn, kind, ordinal);
    if (st != AWQ_OK) return st;
    memset(props, 0, sizeof *props);
    if (kind == AWQ_DEVICE_CPU) {
        snprintf(props->name, sizeof props->name, "CPU (%s kernels, %d threads)", awq_simd_path(), awq_get_num_threads());
        props->total_bytes = props->free_bytes = -1; /* host memory: the managed side knows it better */
        props->multiprocessors = awq_get_num_threads();
        return AWQ_OK;
    }
    char err[512] = "";
    st = cuda_plugin()->props(ordinal, props, err, sizeof err);
    return st == AWQ_OK ? AWQ_OK : awq_fail(st, fn, "%s", err);
}

int awq_context_create(int kind, int ordinal, awq_context **out) {
    static const char fn[] = "awq_context_create";
    AWQ_REQUIRE_PTR(fn, out);
    *out = NULL;
    int st = check_kind(fn, kind, ordinal);
    if (st != AWQ_OK) return st;
    awq_context *c = calloc(1, sizeof *c);
    if (c == NULL) return awq_fail(AWQ_ERR_OUT_OF_MEMORY, fn, "could not allocate a context");
    c->kind = kind;
    c->ordinal = ordinal;
    if (kind == AWQ_DEVICE_CUDA) {
        char err[512] = "";
        st = cuda_plugin()->ctx_create(ordinal, &c->cuda, err, sizeof err);
        if (st != AWQ_OK) {
            free(c);
            return awq_fail(st, fn, "%s", err);
        }
    }
    *out = c;
    return AWQ_OK;
}

int awq_context_free(awq_context *ctx) {
    if (ctx == NULL) return AWQ_OK;
    if (ctx->live_buffers != 0)
        return awq_fail(AWQ_ERR_INVALID_ARGUMENT, "awq_context_free", "%lld buffers of this context are not freed",
                        (long long)ctx->live_buffers);
    if (ctx->cuda != NULL) cuda_plugin()->ctx_free(ctx->cuda);
    free(ctx);
    return AWQ_OK;
}

int awq_context_synchronize(awq_context *ctx) {
    static const char fn[] = "awq_context_synchronize";
    AWQ_REQUIRE_PTR(fn, ctx);
    if (ctx->kind == AWQ_DEVICE_CPU) return AWQ_OK;
    CUDA_CALL(fn, ctx, cuda_plugin()->sync(ctx->cuda));
}

/* ---- buffers ----------------------------------------------------------------------------------- */
int awq_buffer_create(awq_context *ctx, int64_t bytes, awq_buffer **out) {
    static const char fn[] = "awq_buffer_create";
    AWQ_REQUIRE_PTR(fn, ctx);
    AWQ_REQUIRE_PTR(fn, out);
    *out = NULL;
    AWQ_REQUIRE_POSITIVE(fn, bytes);
    if ((uint64_t)bytes > (uint64_t)SIZE_MAX / 2)
        return awq_fail(AWQ_ERR_INVALID_SIZE, fn, "argument 'bytes' is too large (%lld)", (long long)bytes);
    awq_buffer *b = calloc(1, sizeof *b);
    if (b == NULL) return awq_fail(AWQ_ERR_OUT_OF_MEMORY, fn, "could not allocate a buffer handle");
    b->ctx = ctx;
    b->bytes = bytes;
    if (ctx->kind == AWQ_DEVICE_CPU) {
        /* 64-byte aligned like the SIMD kernels like it, zero-filled */
        size_t rounded = ((size_t)bytes + 63) & ~(size_t)63;
        b->ptr = aligned_alloc(64, rounded);
        if (b->ptr == NULL) {
            free(b);
            return awq_fail(AWQ_ERR_OUT_OF_MEMORY, fn, "could not allocate %lld bytes of host memory", (long long)bytes);
        }
        memset(b->ptr, 0, rounded);
    } else {
        int st = cuda_plugin()->alloc(ctx->cuda, bytes, &b->ptr);
        if (st != AWQ_OK) {
            free(b);
            return awq_fail(st, fn, "%lld bytes: %s", (long long)bytes, cuda_plugin()->error(ctx->cuda));
        }
    }
    ctx->live_buffers++;
    *out = b;
    return AWQ_OK;
}

int awq_buffer_free(awq_buffer *buffer) {
    if (buffer == NULL) return AWQ_OK;
    awq_context *ctx = buffer->ctx;
    if (ctx->kind == AWQ_DEVICE_CPU) free(buffer->ptr);
    else cuda_plugin()->release(ctx->cuda, buffer->ptr);
    ctx->live_buffers--;
    free(buffer);
    return AWQ_OK;
}

int awq_buffer_size(const awq_buffer *buffer, int64_t *bytes) {
    AWQ_REQUIRE_PTR("awq_buffer_size", buffer);
    AWQ_REQUIRE_PTR("awq_buffer_size", bytes);
    *bytes = buffer->bytes;
    return AWQ_OK;
}

/* The address of `bytes` at view v, after checking that v is a view of ctx covering them and
 * aligned to `align` bytes. `name` is the argument, for the message. */
static int view_at(const char *fn, const char *name, const awq_context *ctx, awq_dview v, int64_t bytes, int64_t align,
                   void **out) {
    if (v.buffer == NULL) return awq_fail(AWQ_ERR_NULL_POINTER, fn, "argument '%s' has no buffer", name);
    if (v.buffer->ctx != ctx)
        return awq_fail(AWQ_ERR_INVALID_ARGUMENT, fn, "argument '%s' is a buffer of another context", name);
    if (v.offset < 0 || bytes < 0 || v.offset > v.buffer->bytes - bytes)
        return awq_fail(AWQ_ERR_INVALID_SIZE, fn, "argument '%s': %lld bytes at offset %lld exceed its buffer of %lld",
                        name, (long long)bytes, (long long)v.offset, (long long)v.buffer->bytes);
    if (v.offset % align != 0)
        return awq_fail(AWQ_ERR_INVALID_ARGUMENT, fn, "argument '%s': offset %lld is not a multiple of %lld", name,
                        (long long)v.offset, (long long)align);
    *out = (char *)v.buffer->ptr + v.offset;
    return AWQ_OK;
}

/* elements a·b·c of `size` bytes each, overflow-checked */
static int extent(const char *fn, const char *name, int64_t a, int64_t b, int64_t size, int64_t *out) {
    int64_t ab;
    int st = awq_mul_size(fn, name, a, b, &ab);
    if (st != AWQ_OK) return st;
    return awq_mul_size(fn, name, ab, size, out);
}

/* view_at of an extent a·b of `size`-byte elements into a typed pointer */
#define VIEW(fn, ctx, v, a, b, size, ptr)                                                         \
    do {                                                                                          \
        int64_t bytes_;                                                                           \
        int st_ = extent(fn, #v, a, b, size, &bytes_);                                            \
        if (st_ == AWQ_OK) st_ = view_at(fn, #v, ctx, v, bytes_, (size) > 4 ? 4 : (size), (void **)&(ptr)); \
        if (st_ != AWQ_OK) return st_;                                                            \
    } while (0)

int awq_buffer_upload(awq_context *ctx, awq_dview dst, const void *src, int64_t bytes) {
    static const char fn[] = "awq_buffer_upload";
    AWQ_REQUIRE_PTR(fn, ctx);
    AWQ_REQUIRE_PTR(fn, src);
    if (bytes == 0) return AWQ_OK;
    AWQ_REQUIRE_POSITIVE(fn, bytes);
    void *d = NULL;
    int st = view_at(fn, "dst", ctx, dst, bytes, 1, &d);
    if (st != AWQ_OK) return st;
    if (ctx->kind == AWQ_DEVICE_CPU) {
        memmove(d, src, (size_t)bytes);
        return AWQ_OK;
    }
    CUDA_CALL(fn, ctx, cuda_plugin()->upload(ctx->cuda, d, src, bytes));
}

int awq_buffer_download(awq_context *ctx, awq_dview src, void *dst, int64_t bytes) {
    static const char fn[] = "awq_buffer_download";
    AWQ_REQUIRE_PTR(fn, ctx);
    AWQ_REQUIRE_PTR(fn, dst);
    if (bytes == 0) return awq_context_synchronize(ctx);
    AWQ_REQUIRE_POSITIVE(fn, bytes);
    void *s = NULL;
    int st = view_at(fn, "src", ctx, src, bytes, 1, &s);
    if (st != AWQ_OK) return st;
    if (ctx->kind == AWQ_DEVICE_CPU) {
        memmove(dst, s, (size_t)bytes);
        return AWQ_OK;
    }
    CUDA_CALL(fn, ctx, cuda_plugin()->download(ctx->cuda, dst, s, bytes));
}

int awq_buffer_copy(awq_context *ctx, awq_dview src, awq_dview dst, int64_t bytes) {
    static const char fn[] = "awq_buffer_copy";
    AWQ_REQUIRE_PTR(fn, ctx);
    if (bytes == 0) return AWQ_OK;
    AWQ_REQUIRE_POSITIVE(fn, bytes);
    void *s = NULL, *d = NULL;
    int st = view_at(fn, "src", ctx, src, bytes, 1, &s);
    if (st == AWQ_OK) st = view_at(fn, "dst", ctx, dst, bytes, 1, &d);
    if (st != AWQ_OK) return st;
    if ((char *)s < (char *)d + bytes && (char *)d < (char *)s + bytes)
        return awq_fail(AWQ_ERR_INVALID_ARGUMENT, fn, "the source and destination ranges overlap");
    if (ctx->kind == AWQ_DEVICE_CPU) {
        memcpy(d, s, (size_t)bytes);
        return AWQ_OK;
    }
    CUDA_CALL(fn, ctx, cuda_plugin()->copy(ctx->cuda, d, s, bytes));
}

/* ---- kernels ----------------------------------------------------------------------------------- */
#define REQUIRE_CTX(fn, ctx) AWQ_REQUIRE_PTR(fn, ctx)

int awq_dev_f32_gemm(awq_context *ctx, awq_dview x, int64_t M, int64_t K, awq_dview w, int64_t N, awq_dview y) {
    static const char fn[] = "awq_dev_f32_gemm";
    REQUIRE_CTX(fn, ctx);
    AWQ_REQUIRE_POSITIVE(fn, M);
    AWQ_REQUIRE_POSITIVE(fn, K);
    AWQ_REQUIRE_POSITIVE(fn, N);
    const float *px, *pw;
    float *py;
    VIEW(fn, ctx, x, M, K, 4, px);
    VIEW(fn, ctx, w, N, K, 4, pw);
    VIEW(fn, ctx, y, M, N, 4, py);
    if (ctx->kind == AWQ_DEVICE_CPU) return awq_f32_gemm(px, M, K, pw, N, py);
    CUDA_CALL(fn, ctx, cuda_plugin()->f32_gemm(ctx->cuda, px, M, K, pw, N, py));
}

int awq_dev_f16_gemm(awq_context *ctx, awq_dview x, int64_t M, int64_t K, awq_dview w, int64_t N, awq_dview y) {
    static const char fn[] = "awq_dev_f16_gemm";
    REQUIRE_CTX(fn, ctx);
    AWQ_REQUIRE_POSITIVE(fn, M);
    AWQ_REQUIRE_POSITIVE(fn, K);
    AWQ_REQUIRE_POSITIVE(fn, N);
    const float *px;
    const uint16_t *pw;
    float *py;
    VIEW(fn, ctx, x, M, K, 4, px);
    VIEW(fn, ctx, w, N, K, 2, pw);
    VIEW(fn, ctx, y, M, N, 4, py);
    if (ctx->kind == AWQ_DEVICE_CPU) return awq_f16_gemm(px, M, K, pw, N, py);
    CUDA_CALL(fn, ctx, cuda_plugin()->f16_gemm(ctx->cuda, px, M, K, pw, N, py));
}

int awq_dev_w4a16_gemm(awq_context *ctx, awq_dview x, int64_t M, int64_t K, awq_dview qweight, awq_dview scales,
                       awq_dview zeros, int64_t N, int64_t group_size, awq_dview y) {
    static const char fn[] = "awq_dev_w4a16_gemm";
    REQUIRE_CTX(fn, ctx);
    AWQ_REQUIRE_POSITIVE(fn, M);
    AWQ_REQUIRE_POSITIVE(fn, K);
    AWQ_REQUIRE_POSITIVE(fn, N);
    AWQ_REQUIRE_GROUP_SIZE(fn, group_size);
    const int64_t groups = awq_n_groups(K, group_size);
    const float *px;
    const uint8_t *pq, *pz;
    const uint16_t *ps;
    float *py;
    VIEW(fn, ctx, x, M, K, 4, px);
    VIEW(fn, ctx, qweight, N, (K + 1) / 2, 1, pq);
    VIEW(fn, ctx, scales, N, groups, 2, ps);
    VIEW(fn, ctx, zeros, N, groups, 1, pz);
    VIEW(fn, ctx, y, M, N, 4, py);
    if (ctx->kind == AWQ_DEVICE_CPU) return awq_w4a16_gemm(px, M, K, pq, ps, pz, N, group_size, py);
    CUDA_CALL(fn, ctx, cuda_plugin()->w4a16(ctx->cuda, px, M, K, pq, ps, pz, N, group_size, py));
}

int awq_dev_add_bias(awq_context *ctx, awq_dview y, int64_t M, int64_t N, awq_dview bias) {
    static const char fn[] = "awq_dev_add_bias";
    REQUIRE_CTX(fn, ctx);
    AWQ_REQUIRE_POSITIVE(fn, M);
    AWQ_REQUIRE_POSITIVE(fn, N);
    float *py;
    const float *pb;
    VIEW(fn, ctx, y, M, N, 4, py);
    VIEW(fn, ctx, bias, 1, N, 4, pb);
    if (ctx->kind == AWQ_DEVICE_CPU) {
        for (int64_t m = 0; m < M; m++)
            for (int64_t n = 0; n < N; n++) py[m * N + n] += pb[n];
        return AWQ_OK;
    }
    CUDA_CALL(fn, ctx, cuda_plugin()->add_bias(ctx->cuda, py, M, N, pb));
}

int awq_dev_rmsnorm(awq_context *ctx, awq_dview x, awq_dview weight, int64_t M, int64_t D, float eps, awq_dview y) {
    static const char fn[] = "awq_dev_rmsnorm";
    REQUIRE_CTX(fn, ctx);
    AWQ_REQUIRE_POSITIVE(fn, M);
    AWQ_REQUIRE_POSITIVE(fn, D);
    const float *px, *pw;
    float *py;
    VIEW(fn, ctx, x, M, D, 4, px);
    VIEW(fn, ctx, weight, 1, D, 4, pw);
    VIEW(fn, ctx, y, M, D, 4, py);
    if (ctx->kind == AWQ_DEVICE_CPU) return awq_rmsnorm(px, pw, M, D, eps, py);
    CUDA_CALL(fn, ctx, cuda_plugin()->rmsnorm(ctx->cuda, px, pw, M, D, eps, py));
}

int awq_dev_add_rmsnorm(awq_context *ctx, awq_dview x, awq_dview delta, awq_dview weight, int64_t M, int64_t D,
                        float eps, awq_dview y) {
    static const char fn[] = "awq_dev_add_rmsnorm";
    REQUIRE_CTX(fn, ctx);
    AWQ_REQUIRE_POSITIVE(fn, M);
    AWQ_REQUIRE_POSITIVE(fn, D);
    float *px, *py;
    const float *pd, *pw;
    VIEW(fn, ctx, x, M, D, 4, px);
    VIEW(fn, ctx, delta, M, D, 4, pd);
    VIEW(fn, ctx, weight, 1, D, 4, pw);
    VIEW(fn, ctx, y, M, D, 4, py);
    if (ctx->kind == AWQ_DEVICE_CPU) return awq_add_rmsnorm(px, pd, pw, M, D, eps, py);
    CUDA_CALL(fn, ctx, cuda_plugin()->add_rmsnorm(ctx->cuda, px, pd, pw, M, D, eps, py));
}

int awq_dev_rope(awq_context *ctx, awq_dview x, int64_t M, int64_t n_heads, int64_t head_dim, int64_t rot_dim,
                 const int32_t *pos, float theta, const float *freq_factors) {
    static const char fn[] = "awq_dev_rope";
    REQUIRE_CTX(fn, ctx);
    AWQ_REQUIRE_POSITIVE(fn, M);
    AWQ_REQUIRE_POSITIVE(fn, n_heads);
    AWQ_REQUIRE_POSITIVE(fn, head_dim);
    int64_t row;
    int st = awq_mul_size(fn, "x", n_heads, head_dim, &row);
    if (st != AWQ_OK) return st;
    float *px;
    VIEW(fn, ctx, x, M, row, 4, px);
    st = awq_rope_validate(fn, px, M, n_heads, head_dim, rot_dim, pos, theta, freq_factors);
    if (st != AWQ_OK) return st;
    if (ctx->kind == AWQ_DEVICE_CPU) return awq_rope_ext(px, M, n_heads, head_dim, rot_dim, pos, theta, freq_factors);
    CUDA_CALL(fn, ctx, cuda_plugin()->rope(ctx->cuda, px, M, n_heads, head_dim, rot_dim, pos, theta, freq_factors));
}

int awq_dev_attention(awq_context *ctx, awq_dview q, awq_dview k_cache, awq_dview v_cache, int64_t M, int64_t n_past,
                      int64_t n_ctx, int64_t n_heads, int64_t n_kv_heads, int64_t head_dim, int64_t window,
                      awq_dview out) {
    static const char fn[] = "awq_dev_attention";
    REQUIRE_CTX(fn, ctx);
    AWQ_REQUIRE_POSITIVE(fn, M);
    AWQ_REQUIRE_POSITIVE(fn, n_ctx);
    AWQ_REQUIRE_POSITIVE(fn, n_heads);
    AWQ_REQUIRE_POSITIVE(fn, n_kv_heads);
    AWQ_REQUIRE_POSITIVE(fn, head_dim);
    int64_t qrow, kvrow;
    int st = awq_mul_size(fn, "q", n_heads, head_dim, &qrow);
    if (st == AWQ_OK) st = awq_mul_size(fn, "k_cache", n_kv_heads, head_dim, &kvrow);
    if (st != AWQ_OK) return st;
    const float *pq, *pk, *pv;
    float *po;
    VIEW(fn, ctx, q, M, qrow, 4, pq);
    VIEW(fn, ctx, k_cache, n_ctx, kvrow, 4, pk);
    VIEW(fn, ctx, v_cache, n_ctx, kvrow, 4, pv);
    VIEW(fn, ctx, out, M, qrow, 4, po);
    st = awq_attention_validate(fn, pq, pk, pv, M, n_past, n_ctx, n_heads, n_kv_heads, head_dim, window, po);
    if (st != AWQ_OK) return st;
    if (ctx->kind == AWQ_DEVICE_CPU)
        return awq_attention_ext(pq, pk, pv, M, n_past, n_ctx, n_heads, n_kv_heads, head_dim, window, po);
    CUDA_CALL(fn, ctx, cuda_plugin()->attention(ctx->cuda, pq, pk, pv, M, n_past, n_ctx, n_heads, n_kv_heads, head_dim,
                                                window, po));
}

int awq_dev_silu_mul(awq_context *ctx, awq_dview gate, awq_dview up, int64_t n, awq_dview out) {
    static const char fn[] = "awq_dev_silu_mul";
    REQUIRE_CTX(fn, ctx);
    AWQ_REQUIRE_POSITIVE(fn, n);
    const float *pg, *pu;
    float *po;
    VIEW(fn, ctx, gate, 1, n, 4, pg);
    VIEW(fn, ctx, up, 1, n, 4, pu);
    VIEW(fn, ctx, out, 1, n, 4, po);
    if (ctx->kind == AWQ_DEVICE_CPU) return awq_silu_mul(pg, pu, n, po);
    CUDA_CALL(fn, ctx, cuda_plugin()->silu_mul(ctx->cuda, pg, pu, n, po));
}

int awq_dev_add(awq_context *ctx, awq_dview x, awq_dview y, int64_t n) {
    static const char fn[] = "awq_dev_add";
    REQUIRE_CTX(fn, ctx);
    AWQ_REQUIRE_POSITIVE(fn, n);
    float *px;
    const float *py;
    VIEW(fn, ctx, x, 1, n, 4, px);
    VIEW(fn, ctx, y, 1, n, 4, py);
    if (ctx->kind == AWQ_DEVICE_CPU) {
        for (int64_t i = 0; i < n; i++) px[i] += py[i];
        return AWQ_OK;
    }
    CUDA_CALL(fn, ctx, cuda_plugin()->add(ctx->cuda, px, py, n));
}

int awq_dev_quantize_act_u8(awq_context *ctx, awq_dview x, int64_t M, int64_t K, float act_scale, int32_t act_zero,
                            awq_dview xq, awq_dview x_scale, awq_dview x_zero) {
    static const char fn[] = "awq_dev_quantize_act_u8";
    REQUIRE_CTX(fn, ctx);
    AWQ_REQUIRE_POSITIVE(fn, M);
    AWQ_REQUIRE_POSITIVE(fn, K);
    const int dynamic = !(act_scale > 0.0f);
    if (!dynamic && (isinf(act_scale) || act_zero < 0 || act_zero > 255))
        return awq_fail(AWQ_ERR_INVALID_ARGUMENT, fn, "static parameters scale %g, zero %d: want a finite scale > 0, zero 0..255",
                        (double)act_scale, (int)act_zero);
    const float *px;
    uint8_t *pq;
    float *ps;
    int32_t *pz;
    VIEW(fn, ctx, x, M, K, 4, px);
    VIEW(fn, ctx, xq, M, K, 1, pq);
    VIEW(fn, ctx, x_scale, 1, M, 4, ps);
    VIEW(fn, ctx, x_zero, 1, M, 4, pz);
    if (ctx->kind != AWQ_DEVICE_CPU)
        CUDA_CALL(fn, ctx, cuda_plugin()->quantize_act_u8(ctx->cuda, px, M, K, act_scale, act_zero, pq, ps, pz));
    if (!dynamic) {
        const float lo = (float)-act_zero, hi = (float)(255 - act_zero);
        for (int64_t i = 0; i < M * K; i++) {
            float t = nearbyintf(px[i] / act_scale);
            t = t < lo ? lo : (t > hi ? hi : t);
            pq[i] = (uint8_t)((int32_t)(isnan(t) ? lo : t) + act_zero);
        }
        for (int64_t m = 0; m < M; m++) ps[m] = act_scale, pz[m] = act_zero;
        return AWQ_OK;
    }
    /* awq_quantize writes int32 codes: one row at a time through a row of scratch */
    int32_t *row = malloc(sizeof(int32_t) * (size_t)K);
    if (row == NULL) return awq_fail(AWQ_ERR_OUT_OF_MEMORY, fn, "could not allocate %lld codes of scratch", (long long)K);
    int st = AWQ_OK;
    for (int64_t m = 0; m < M && st == AWQ_OK; m++) {
        st = awq_quantize(px + m * K, 1, K, K, 8, AWQ_QSCHEME_ASYMMETRIC, row, ps + m, pz + m);
        for (int64_t k = 0; st == AWQ_OK && k < K; k++) pq[m * K + k] = (uint8_t)row[k];
    }
    free(row);
    return st;
}

int awq_dev_int8_gemm_f32(awq_context *ctx, awq_dview xq, awq_dview x_zero, awq_dview x_scale, int64_t M, int64_t K,
                          awq_dview wq, awq_dview w_scale, int64_t N, awq_dview y) {
    static const char fn[] = "awq_dev_int8_gemm_f32";
    REQUIRE_CTX(fn, ctx);
    AWQ_REQUIRE_POSITIVE(fn, M);
    AWQ_REQUIRE_POSITIVE(fn, K);
    AWQ_REQUIRE_POSITIVE(fn, N);
    if (K > (int64_t)2147483647 / (255 * 255))
        return awq_fail(AWQ_ERR_OVERFLOW, fn, "K = %lld: int32 sums of K products of 255 x 255 overflow", (long long)K);
    const uint8_t *pq;
    const int32_t *pz;
    const float *ps, *pws;
    const int8_t *pw;
    float *py;
    VIEW(fn, ctx, xq, M, K, 1, pq);
    VIEW(fn, ctx, x_zero, 1, M, 4, pz);
    VIEW(fn, ctx, x_scale, 1, M, 4, ps);
    VIEW(fn, ctx, wq, N, K, 1, pw);
    VIEW(fn, ctx, w_scale, 1, N, 4, pws);
    VIEW(fn, ctx, y, M, N, 4, py);
    if (ctx->kind == AWQ_DEVICE_CPU) return awq_int8_gemm_f32(pq, pz, ps, M, K, pw, NULL, pws, N, py);
    CUDA_CALL(fn, ctx, cuda_plugin()->int8_gemm_f32(ctx->cuda, pq, pz, ps, M, K, pw, pws, N, py));
}

int awq_dev_softmax(awq_context *ctx, awq_dview x, int64_t M, int64_t n) {
    static const char fn[] = "awq_dev_softmax";
    REQUIRE_CTX(fn, ctx);
    AWQ_REQUIRE_POSITIVE(fn, M);
    AWQ_REQUIRE_POSITIVE(fn, n);
    float *px;
    VIEW(fn, ctx, x, M, n, 4, px);
    if (ctx->kind == AWQ_DEVICE_CPU) return awq_softmax(px, M, n);
    CUDA_CALL(fn, ctx, cuda_plugin()->softmax(ctx->cuda, px, M, n));
}

static int64_t dtype_size(int t) { return t == AWQ_DTYPE_F32 ? 4 : 2; }

int awq_dev_convert(awq_context *ctx, awq_dview src, int src_type, awq_dview dst, int dst_type, int64_t n) {
    static const char fn[] = "awq_dev_convert";
    REQUIRE_CTX(fn, ctx);
    AWQ_REQUIRE_POSITIVE(fn, n);
    const int narrow = src_type == AWQ_DTYPE_F32 && (dst_type == AWQ_DTYPE_F16 || dst_type == AWQ_DTYPE_BF16);
    const int widen = dst_type == AWQ_DTYPE_F32 && (src_type == AWQ_DTYPE_F16 || src_type == AWQ_DTYPE_BF16);
    if (!narrow && !widen)
        return awq_fail(AWQ_ERR_INVALID_ARGUMENT, fn, "conversion %d -> %d: want F32 -> F16/BF16 or F16/BF16 -> F32",
                        src_type, dst_type);
    void *ps, *pd;
    VIEW(fn, ctx, src, 1, n, dtype_size(src_type), ps);
    VIEW(fn, ctx, dst, 1, n, dtype_size(dst_type), pd);
    if (ctx->kind != AWQ_DEVICE_CPU) CUDA_CALL(fn, ctx, cuda_plugin()->convert(ctx->cuda, ps, src_type, pd, dst_type, n));
    if (dst_type == AWQ_DTYPE_F16) return awq_fp32_to_fp16(ps, pd, n);
    if (dst_type == AWQ_DTYPE_BF16) return awq_fp32_to_bf16(ps, pd, n);
    if (src_type == AWQ_DTYPE_F16) return awq_fp16_to_fp32(ps, pd, n);
    return awq_bf16_to_fp32(ps, pd, n);
}
