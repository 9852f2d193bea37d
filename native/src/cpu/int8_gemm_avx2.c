/*
 * int8_gemm_avx2.c — AVX2 tile kernel of the INT8 GEMM (math: int8_gemm.h).
 *
 * 16 codes per step widened to s16 (u8 activations zero-extended, s8 weights sign-extended) and
 * multiplied with vpmaddwd into s32 lanes: exact, where vpmaddubsw would saturate pairs of
 * 255·127 at 32767. Tile: 2 rows of x × 4 rows of W. K tails (< 16) are added in scalar code.
 * Σw per weight row from vpsadbw on (w XOR 0x80) = Σ(w + 128).
 */
#include "int8_gemm.h"

#if AWQ_X86
#include <immintrin.h>

#define T2 AWQ_TARGET_AVX2
#define INL static inline __attribute__((always_inline))
#define I8_MT 2
#define I8_NT 4

T2 INL int32_t i8_hsum(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    return _mm_cvtsi128_si32(s);
}

T2 static int64_t i8_row_sum(const int8_t *w, int64_t K) {
    const __m256i flip = _mm256_set1_epi8((char)0x80), zero = _mm256_setzero_si256();
    __m256i acc = zero;
    int64_t k = 0;
    for (; k + 32 <= K; k += 32)
        acc = _mm256_add_epi64(
            acc, _mm256_sad_epu8(_mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(w + k)), flip), zero));
    __m128i s2 = _mm_add_epi64(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
    int64_t s = _mm_cvtsi128_si64(s2) + _mm_extract_epi64(s2, 1) - 128 * k;
    for (; k < K; k++) s += w[k];
    return s;
}

T2 INL void i8_tile(const awq_int8_job *J, int64_t m0, int64_t n0, const int64_t *wsum, const int MT, const int NT) {
    const int64_t K = J->K;
    const uint8_t *xr[I8_MT];
    const int8_t *wr[I8_NT];
    __m256i acc[I8_MT][I8_NT];
    for (int i = 0; i < MT; i++) {
        xr[i] = J->xq + (m0 + i) * K;
        for (int r = 0; r < NT; r++) acc[i][r] = _mm256_setzero_si256();
    }
    for (int r = 0; r < NT; r++) wr[r] = J->wq + (n0 + r) * K;
    int64_t k = 0;
    for (; k + 16 <= K; k += 16) {
        __m256i w[I8_NT];
        for (int r = 0; r < NT; r++) w[r] = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(wr[r] + k)));
        for (int i = 0; i < MT; i++) {
            const __m256i x = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(xr[i] + k)));
            for (int r = 0; r < NT; r++) acc[i][r] = _mm256_add_epi32(acc[i][r], _mm256_madd_epi16(x, w[r]));
        }
    }
    for (int i = 0; i < MT; i++)
        for (int r = 0; r < NT; r++) {
            int32_t dot = i8_hsum(acc[i][r]);
            for (int64_t t = k; t < K; t++) dot += (int32_t)xr[i][t] * (int32_t)wr[r][t];
            awq_int8_store(J, m0 + i, n0 + r, awq_int8_correct(J, m0 + i, n0 + r, dot, wsum[r]));
        }
}

typedef void (*i8_tile_fn)(const awq_int8_job *, int64_t, int64_t, const int64_t *);
#define I8_INST(MT, NT)                                                                            \
    T2 static void i8_##MT##x##NT(const awq_int8_job *J, int64_t m, int64_t n, const int64_t *ws) { \
        i8_tile(J, m, n, ws, MT, NT);                                                              \
    }
I8_INST(1, 1) I8_INST(2, 1) I8_INST(1, 2) I8_INST(2, 2) I8_INST(1, 3) I8_INST(2, 3) I8_INST(1, 4) I8_INST(2, 4)
static const i8_tile_fn i8_fns[I8_NT + 1][I8_MT + 1] = {
    {NULL, NULL, NULL}, {NULL, i8_1x1, i8_2x1}, {NULL, i8_1x2, i8_2x2}, {NULL, i8_1x3, i8_2x3}, {NULL, i8_1x4, i8_2x4},
};

void awq_int8_block_avx2(const awq_int8_job *J, int64_t m0, int64_t m1, int64_t n0, int64_t n1) {
    int64_t wsum[AWQ_INT8_NB];
    for (int64_t n = n0; n < n1; n++) wsum[n - n0] = i8_row_sum(J->wq + n * J->K, J->K);
    for (int64_t n = n0; n < n1; n += I8_NT) {
        const int64_t nt = n1 - n < I8_NT ? n1 - n : I8_NT;
        for (int64_t m = m0; m < m1; m += I8_MT) i8_fns[nt][m1 - m < I8_MT ? m1 - m : I8_MT](J, m, n, wsum + (n - n0));
    }
}

#endif /* AWQ_X86 */
