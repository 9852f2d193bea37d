/* features.c — version string, CPUID/XGETBV detection and the one-time choice of SIMD path. */
#include "awq_internal.h"

#include <stdlib.h>
#include <string.h>

#define AWQ_STR2(x) #x
#define AWQ_STR(x) AWQ_STR2(x)

const char *awq_version(void) {
    return AWQ_STR(AWQ_VERSION_MAJOR) "." AWQ_STR(AWQ_VERSION_MINOR) "." AWQ_STR(AWQ_VERSION_PATCH);
}

#if AWQ_X86
#include <cpuid.h>

static uint64_t read_xcr0(void) {
    uint32_t eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((uint64_t)edx << 32) | eax;
}

static uint32_t detect(void) {
    uint32_t bits = AWQ_FEATURE_AVX2_COMPILED | AWQ_FEATURE_AVX512_COMPILED;
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return bits;
    int osxsave = (c >> 27) & 1, avx = (c >> 28) & 1, fma = (c >> 12) & 1, f16c = (c >> 29) & 1;
    if (!osxsave || !avx) return bits;
    uint64_t xcr0 = read_xcr0();
    int ymm_ok = (xcr0 & 0x6) == 0x6;     /* SSE + AVX state saved by the OS */
    int zmm_ok = (xcr0 & 0xe6) == 0xe6;   /* + opmask, ZMM_Hi256, Hi16_ZMM */
    if (!ymm_ok) return bits;
    if (f16c) bits |= AWQ_FEATURE_F16C_DETECTED;
    if (__get_cpuid_max(0, NULL) < 7) return bits;
    __cpuid_count(7, 0, a, b, c, d);
    int avx2 = (b >> 5) & 1;
    int avx512f = (b >> 16) & 1, avx512dq = (b >> 17) & 1, avx512bw = (b >> 30) & 1,
        avx512vl = (b >> 31) & 1, vnni = (c >> 11) & 1;
    if (avx2 && fma && f16c) bits |= AWQ_FEATURE_AVX2_DETECTED;
    if ((bits & AWQ_FEATURE_AVX2_DETECTED) && zmm_ok && avx512f && avx512dq && avx512bw && avx512vl) {
        bits |= AWQ_FEATURE_AVX512_DETECTED;
        if (vnni) bits |= AWQ_FEATURE_AVX512VNNI_DETECTED;
    }
    return bits;
}
#else
static uint32_t detect(void) { return 0; }
#endif

/* Computed once; concurrent first calls compute the same value, so a benign race is harmless
 * but we still publish through an atomic to keep sanitizers quiet. */
static _Atomic uint32_t features_cache = 0;
static _Atomic int isa_cache = -1;

uint32_t awq_features(void) {
    uint32_t f = features_cache;
    if (f == 0) {
        f = detect() | 0x80000000u; /* high bit marks "computed" */
        features_cache = f;
    }
    f &= ~0x80000000u;
    if (awq_cuda_plugin_loaded()) f |= AWQ_FEATURE_CUDA_BUILT;
    return f;
}

awq_isa awq_isa_level(void) {
    int isa = isa_cache;
    if (isa >= 0) return (awq_isa)isa;
    uint32_t f = awq_features();
    isa = AWQ_ISA_SCALAR;
    if (f & AWQ_FEATURE_AVX2_DETECTED) isa = AWQ_ISA_AVX2;
    if (f & AWQ_FEATURE_AVX512_DETECTED) isa = AWQ_ISA_AVX512;
    const char *cap = getenv("AWQ_SIMD");
    if (cap != NULL) {
        if (strcmp(cap, "scalar") == 0) isa = AWQ_ISA_SCALAR;
        else if (strcmp(cap, "avx2") == 0 && isa > AWQ_ISA_AVX2) isa = AWQ_ISA_AVX2;
    }
    isa_cache = isa;
    return (awq_isa)isa;
}

const char *awq_simd_path(void) {
    switch (awq_isa_level()) {
    case AWQ_ISA_AVX512: return "avx512";
    case AWQ_ISA_AVX2: return "avx2";
    default: return "scalar";
    }
}

int awq_isa_detected(awq_isa isa) {
    if (isa == AWQ_ISA_SCALAR) return 1;
#if AWQ_X86
    uint32_t f = awq_features();
    if (isa == AWQ_ISA_AVX2) return (f & AWQ_FEATURE_AVX2_DETECTED) != 0;
    if (isa == AWQ_ISA_AVX512) return (f & AWQ_FEATURE_AVX512_DETECTED) != 0;
#endif
    return 0;
}
