/*
 * int8_gemm_avx512.c — AVX-512 tile kernels of the INT8 GEMM (math: int8_gemm.h).
 *
 * Two flavours of the same 4×4 tile (rows of x × rows of W), raw products only:
 *  - VNNI: vpdpbusd multiplies 64 u8 activations by 64 s8 weights and adds each group of four
 *    products into an s32 lane — exactly our operand types, and without the int16 saturation of
 *    vpmaddubsw (255·127·2 > 32767).
 *  - BW (Skylake-X class, no VNNI): 32 codes widened to s16 on each side, vpmaddwd into s32.
 * K tails use byte-masked loads (masked bytes read as 0 and add nothing). Σw of each weight row
 * comes from vpsadbw on (w XOR 0x80), i.e. Σ(w + 128), once per work item.
 */
#include "int8_gemm.h"

#if AWQ_X86
#include <immintrin.h>

#define T512 AWQ_TARGET_AVX512
#define T512V AWQ_TARGET_AVX512VNNI
#define INL static inline __attribute__((always_inline))
#define I8_MT 4
#define I8_NT 4

T512 static int64_t i8_row_sum(const int8_t *w, int64_t K) {
    const __m512i flip = _mm512_set1_epi8((char)0x80), zero = _mm512_setzero_si512();
    __m512i acc = zero;
    int64_t k = 0;
    for (; k + 64 <= K; k += 64)
        acc = _mm512_add_epi64(acc, _mm512_sad_epu8(_mm512_xor_si512(_mm512_loadu_si512(w + k), flip), zero));
    int64_t s = _mm512_reduce_add_epi64(acc) - 128 * k;
    for (; k < K; k++) s += w[k];
    return s;
}

T512 INL __mmask64 i8_tail_mask64(int64_t n) { return n >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << n) - 1); }

/* ---- VNNI --------------------------------------------------------------------------------------- */
T512V INL void i8_vnni_tile(const awq_int8_job *J, int64_t m0, int64_t n0, const int64_t *wsum, const int MT,
                            const int NT) {
    const int64_t K = J->K;
    const uint8_t *xr[I8_MT];
    const int8_t *wr[I8_NT];
    __m512i acc[I8_MT][I8_NT];
    for (int i = 0; i < MT; i++) {
        xr[i] = J->xq + (m0 + i) * K;
        for (int r = 0; r < NT; r++) acc[i][r] = _mm512_setzero_si512();
    }
    for (int r = 0; r < NT; r++) wr[r] = J->wq + (n0 + r) * K;
    int64_t k = 0;
    for (; k + 64 <= K; k += 64) {
        __m512i w[I8_NT];
        for (int r = 0; r < NT; r++) w[r] = _mm512_loadu_si512(wr[r] + k);
        for (int i = 0; i < MT; i++) {
            const __m512i x = _mm512_loadu_si512(xr[i] + k);
            for (int r = 0; r < NT; r++) acc[i][r] = _mm512_dpbusd_epi32(acc[i][r], x, w[r]);
        }
    }
    if (k < K) {
        const __mmask64 mk = i8_tail_mask64(K - k);
        __m512i w[I8_NT];
        for (int r = 0; r < NT; r++) w[r] = _mm512_maskz_loadu_epi8(mk, wr[r] + k);
        for (int i = 0; i < MT; i++) {
            const __m512i x = _mm512_maskz_loadu_epi8(mk, xr[i] + k);
            for (int r = 0; r < NT; r++) acc[i][r] = _mm512_dpbusd_epi32(acc[i][r], x, w[r]);
        }
    }
    for (int i = 0; i < MT; i++)
        for (int r = 0; r < NT; r++)
            awq_int8_store(J, m0 + i, n0 + r,
                           awq_int8_correct(J, m0 + i, n0 + r, _mm512_reduce_add_epi32(acc[i][r]), wsum[r]));
}

/* ---- BW: s16 widening + vpmaddwd ---------------------------------------------------------------- */
T512 INL void i8_bw_step(const __m256i *xb, const __m256i *wb, __m512i acc[I8_MT][I8_NT], const int MT,
                         const int NT) {
    __m512i w[I8_NT];
    for (int r = 0; r < NT; r++) w[r] = _mm512_cvtepi8_epi16(wb[r]);
    for (int i = 0; i < MT; i++) {
        const __m512i x = _mm512_cvtepu8_epi16(xb[i]);
        for (int r = 0; r < NT; r++) acc[i][r] = _mm512_add_epi32(acc[i][r], _mm512_madd_epi16(x, w[r]));
    }
}

T512 INL void i8_bw_tile(const awq_int8_job *J, int64_t m0, int64_t n0, const int64_t *wsum, const int MT,
                         const int NT) {
    const int64_t K = J->K;
    const uint8_t *xr[I8_MT];
    const int8_t *wr[I8_NT];
    __m512i acc[I8_MT][I8_NT];
    __m256i xb[I8_MT], wb[I8_NT];
    for (int i = 0; i < MT; i++) {
        xr[i] = J->xq + (m0 + i) * K;
        for (int r = 0; r < NT; r++) acc[i][r] = _mm512_setzero_si512();
    }
    for (int r = 0; r < NT; r++) wr[r] = J->wq + (n0 + r) * K;
    int64_t k = 0;
    for (; k + 32 <= K; k += 32) {
        for (int r = 0; r < NT; r++) wb[r] = _mm256_loadu_si256((const __m256i *)(wr[r] + k));
        for (int i = 0; i < MT; i++) xb[i] = _mm256_loadu_si256((const __m256i *)(xr[i] + k));
        i8_bw_step(xb, wb, acc, MT, NT);
    }
    if (k < K) {
        const __mmask32 mk = (__mmask32)((1ull << (K - k)) - 1);
        for (int r = 0; r < NT; r++) wb[r] = _mm256_maskz_loadu_epi8(mk, wr[r] + k);
        for (int i = 0; i < MT; i++) xb[i] = _mm256_maskz_loadu_epi8(mk, xr[i] + k);
        i8_bw_step(xb, wb, acc, MT, NT);
    }
    for (int i = 0; i < MT; i++)
        for (int r = 0; r < NT; r++)
            awq_int8_store(J, m0 + i, n0 + r,
                           awq_int8_correct(J, m0 + i, n0 + r, _mm512_reduce_add_epi32(acc[i][r]), wsum[r]));
}

typedef void (*i8_tile_fn)(const awq_int8_job *, int64_t, int64_t, const int64_t *);

#define I8_INST(KIND, TGT, MT, NT)                                                                 \
    TGT static void i8_##KIND##_##MT##x##NT(const awq_int8_job *J, int64_t m, int64_t n, const int64_t *ws) { \
        i8_##KIND##_tile(J, m, n, ws, MT, NT);                                                     \
    }
#define I8_INST_ALL(KIND, TGT)                                                                     \
    I8_INST(KIND, TGT, 1, 1) I8_INST(KIND, TGT, 2, 1) I8_INST(KIND, TGT, 3, 1) I8_INST(KIND, TGT, 4, 1) \
    I8_INST(KIND, TGT, 1, 2) I8_INST(KIND, TGT, 2, 2) I8_INST(KIND, TGT, 3, 2) I8_INST(KIND, TGT, 4, 2) \
    I8_INST(KIND, TGT, 1, 3) I8_INST(KIND, TGT, 2, 3) I8_INST(KIND, TGT, 3, 3) I8_INST(KIND, TGT, 4, 3) \
    I8_INST(KIND, TGT, 1, 4) I8_INST(KIND, TGT, 2, 4) I8_INST(KIND, TGT, 3, 4) I8_INST(KIND, TGT, 4, 4) \
    static const i8_tile_fn i8_##KIND##_fns[I8_NT + 1][I8_MT + 1] = {                            \
        {NULL, NULL, NULL, NULL, NULL},                                                            \
        {NULL, i8_##KIND##_1x1, i8_##KIND##_2x1, i8_##KIND##_3x1, i8_##KIND##_4x1},                \
        {NULL, i8_##KIND##_1x2, i8_##KIND##_2x2, i8_##KIND##_3x2, i8_##KIND##_4x2},                \
        {NULL, i8_##KIND##_1x3, i8_##KIND##_2x3, i8_##KIND##_3x3, i8_##KIND##_4x3},                \
        {NULL, i8_##KIND##_1x4, i8_##KIND##_2x4, i8_##KIND##_3x4, i8_##KIND##_4x4},                \
    };
I8_INST_ALL(vnni, T512V)
I8_INST_ALL(bw, T512)

/* W tile outer, x tile inner: the tile's 4 weight rows stay in L1 while the block's rows of x pass. */
static void i8_block(const awq_int8_job *J, int64_t m0, int64_t m1, int64_t n0, int64_t n1,
                     const i8_tile_fn fns[I8_NT + 1][I8_MT + 1]) {
    int64_t wsum[AWQ_INT8_NB];
    for (int64_t n = n0; n < n1; n++) wsum[n - n0] = i8_row_sum(J->wq + n * J->K, J->K);
    for (int64_t n = n0; n < n1; n += I8_NT) {
        const int64_t nt = n1 - n < I8_NT ? n1 - n : I8_NT;
        for (int64_t m = m0; m < m1; m += I8_MT) fns[nt][m1 - m < I8_MT ? m1 - m : I8_MT](J, m, n, wsum + (n - n0));
    }
}

void awq_int8_block_avx512vnni(const awq_int8_job *J, int64_t m0, int64_t m1, int64_t n0, int64_t n1) {
    i8_block(J, m0, m1, n0, n1, i8_vnni_fns);
}

void awq_int8_block_avx512(const awq_int8_job *J, int64_t m0, int64_t m1, int64_t n0, int64_t n1) {
    i8_block(J, m0, m1, n0, n1, i8_bw_fns);
}

#endif /* AWQ_X86 */
