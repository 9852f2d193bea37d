/*
 * context.cu — the plugin's contexts (a device and a non-blocking stream), errors, memory, device
 * properties, and the one exported symbol: awq_cuda_plugin(), the table of device_cuda.h.
 */
#include "cuda_common.cuh"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int awq_cu_status(cudaError_t e, const char *call, char *buf, size_t len) {
    if (buf != NULL && len > 0)
        snprintf(buf, len, "%s: %s: %s", call, cudaGetErrorName(e), cudaGetErrorString(e));
    return e == cudaErrorMemoryAllocation ? AWQ_ERR_OUT_OF_MEMORY : AWQ_ERR_DEVICE;
}

int awq_cu_fail(awq_cuda_ctx *c, const char *call, cudaError_t e) {
    cudaGetLastError(); /* clear a non-sticky error so the next call starts clean */
    return awq_cu_status(e, call, c->err, sizeof c->err);
}

int awq_cu_enter(awq_cuda_ctx *c) {
    int cur = -1;
    cudaError_t e = cudaGetDevice(&cur);
    if (e == cudaSuccess && cur == c->device) return AWQ_OK;
    e = cudaSetDevice(c->device);
    if (e != cudaSuccess) return awq_cu_fail(c, "cudaSetDevice", e);
    return AWQ_OK;
}

extern "C" int awq_cuda_count(void) {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
        cudaGetLastError();
        return 0;
    }
    return n < 0 ? 0 : n;
}

extern "C" int awq_cuda_props(int ordinal, awq_device_props *props, char *err, size_t err_len) {
    cudaDeviceProp p;
    memset(props, 0, sizeof *props);
    cudaError_t e = cudaGetDeviceProperties(&p, ordinal);
    if (e != cudaSuccess) {
        cudaGetLastError();
        return awq_cu_status(e, "cudaGetDeviceProperties", err, err_len);
    }
    snprintf(props->name, sizeof props->name, "%s", p.name);
    props->total_bytes = (int64_t)p.totalGlobalMem;
    props->free_bytes = -1;
    props->cc_major = p.major;
    props->cc_minor = p.minor;
    props->multiprocessors = p.multiProcessorCount;
    /* peak bandwidth: double data rate × memory clock (kHz) × bus width; attributes, since CUDA 13
     * dropped memoryClockRate from cudaDeviceProp */
    int clock_khz = 0, bus_bits = 0;
    if (cudaDeviceGetAttribute(&clock_khz, cudaDevAttrMemoryClockRate, ordinal) == cudaSuccess &&
        cudaDeviceGetAttribute(&bus_bits, cudaDevAttrGlobalMemoryBusWidth, ordinal) == cudaSuccess)
        props->peak_bandwidth = 2 * (int64_t)clock_khz * 1000 * (bus_bits / 8);
    int prev = -1;
    if (cudaGetDevice(&prev) != cudaSuccess) prev = -1;
    if (cudaSetDevice(ordinal) == cudaSuccess) {
        size_t free_b = 0, total_b = 0;
        if (cudaMemGetInfo(&free_b, &total_b) == cudaSuccess) {
            props->free_bytes = (int64_t)free_b;
            if (total_b > 0) props->total_bytes = (int64_t)total_b;
        }
        if (prev >= 0 && prev != ordinal) cudaSetDevice(prev);
    }
    cudaGetLastError();
    return AWQ_OK;
}

extern "C" int awq_cuda_ctx_create(int ordinal, awq_cuda_ctx **out, char *err, size_t err_len) {
    *out = NULL;
    awq_cuda_ctx *c = (awq_cuda_ctx *)calloc(1, sizeof *c);
    if (c == NULL) {
        if (err != NULL && err_len > 0) snprintf(err, err_len, "cannot allocate a CUDA context");
        return AWQ_ERR_OUT_OF_MEMORY;
    }
    c->device = ordinal;
    cudaError_t e = cudaSetDevice(ordinal);
    const char *call = "cudaSetDevice";
    if (e == cudaSuccess) {
        call = "cudaStreamCreateWithFlags";
        e = cudaStreamCreateWithFlags(&c->stream, cudaStreamNonBlocking);
    }
    if (e == cudaSuccess) {
        call = "cudaEventCreateWithFlags";
        e = cudaEventCreateWithFlags(&c->stage_done, cudaEventDisableTiming);
        if (e != cudaSuccess) cudaStreamDestroy(c->stream);
    }
    if (e == cudaSuccess) {
        int v = 0;
        if (cudaDeviceGetAttribute(&v, cudaDevAttrMaxSharedMemoryPerBlockOptin, ordinal) != cudaSuccess || v <= 0)
            v = 48 * 1024;
        c->smem_optin = v;
    }
    if (e != cudaSuccess) {
        cudaGetLastError();
        int st = awq_cu_status(e, call, err, err_len);
        free(c);
        return st;
    }
    *out = c;
    return AWQ_OK;
}

extern "C" void awq_cuda_ctx_free(awq_cuda_ctx *c) {
    if (c == NULL) return;
    cudaSetDevice(c->device);
    cudaStreamSynchronize(c->stream);
    if (c->d_stage != NULL) cudaFree(c->d_stage);
    if (c->h_stage != NULL) cudaFreeHost(c->h_stage);
    cudaEventDestroy(c->stage_done);
    cudaStreamDestroy(c->stream);
    cudaGetLastError();
    free(c);
}

extern "C" const char *awq_cuda_error(const awq_cuda_ctx *c) { return c != NULL ? c->err : ""; }

extern "C" int awq_cuda_sync(awq_cuda_ctx *c) {
    AWQ_CU_ENTER(c);
    AWQ_CU(c, cudaStreamSynchronize(c->stream));
    return AWQ_OK;
}

extern "C" int awq_cuda_alloc(awq_cuda_ctx *c, int64_t bytes, void **out) {
    *out = NULL;
    AWQ_CU_ENTER(c);
    void *p = NULL;
    AWQ_CU(c, cudaMalloc(&p, (size_t)bytes));
    cudaError_t e = cudaMemsetAsync(p, 0, (size_t)bytes, c->stream);
    if (e != cudaSuccess) {
        cudaFree(p);
        return awq_cu_fail(c, "cudaMemsetAsync", e);
    }
    *out = p;
    return AWQ_OK;
}

extern "C" void awq_cuda_release(awq_cuda_ctx *c, void *p) {
    if (p == NULL) return;
    if (awq_cu_enter(c) != AWQ_OK) return;
    cudaError_t e = cudaStreamSynchronize(c->stream);
    if (e != cudaSuccess) awq_cu_fail(c, "cudaStreamSynchronize", e);
    e = cudaFree(p);
    if (e != cudaSuccess) awq_cu_fail(c, "cudaFree", e);
}

extern "C" int awq_cuda_upload(awq_cuda_ctx *c, void *dst, const void *src, int64_t bytes) {
    AWQ_CU_ENTER(c);
    AWQ_CU(c, cudaMemcpyAsync(dst, src, (size_t)bytes, cudaMemcpyHostToDevice, c->stream));
    /* the caller may reuse src when this returns */
    AWQ_CU(c, cudaStreamSynchronize(c->stream));
    return AWQ_OK;
}

extern "C" int awq_cuda_download(awq_cuda_ctx *c, void *dst, const void *src, int64_t bytes) {
    AWQ_CU_ENTER(c);
    AWQ_CU(c, cudaMemcpyAsync(dst, src, (size_t)bytes, cudaMemcpyDeviceToHost, c->stream));
    AWQ_CU(c, cudaStreamSynchronize(c->stream));
    return AWQ_OK;
}

extern "C" int awq_cuda_copy(awq_cuda_ctx *c, void *dst, const void *src, int64_t bytes) {
    AWQ_CU_ENTER(c);
    AWQ_CU(c, cudaMemcpyAsync(dst, src, (size_t)bytes, cudaMemcpyDeviceToDevice, c->stream));
    return AWQ_OK;
}

extern "C" __attribute__((visibility("default"))) const awq_cuda_api *awq_cuda_plugin(void) {
    static const awq_cuda_api api = {
        AWQ_CUDA_API_VERSION,
        awq_cuda_count,
        awq_cuda_props,
        awq_cuda_ctx_create,
        awq_cuda_ctx_free,
        awq_cuda_error,
        awq_cuda_sync,
        awq_cuda_alloc,
        awq_cuda_release,
        awq_cuda_upload,
        awq_cuda_download,
        awq_cuda_copy,
        awq_cuda_f32_gemm,
        awq_cuda_f16_gemm,
        awq_cuda_w4a16,
        awq_cuda_add_bias,
        awq_cuda_rmsnorm,
        awq_cuda_add_rmsnorm,
        awq_cuda_rope,
        awq_cuda_attention,
        awq_cuda_silu_mul,
        awq_cuda_add,
        awq_cuda_quantize_act_u8,
        awq_cuda_int8_gemm_f32,
        awq_cuda_softmax,
        awq_cuda_convert,
    };
    return &api;
}
