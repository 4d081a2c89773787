// The u8 x s8 panel product with vpdpbusd (VNNI): each int32 lane of the accumulator takes the four
// products of one k-quad, raw uint8 B bytes (0..255) by A's int8 values `a - zero` (any value in
// [-128, 127]), added into the lane as exact integers and the lane kept modulo 2^32 (the
// non-saturating form: no int16 intermediate, so unlike vpmaddubsw nothing can clip, whatever A
// holds). One instruction replaces vpmaddubsw, vpmaddwd by ones and vpaddd. The lanes therefore hold
// `sum_k a'[row, k] * b[k, column]` modulo 2^32, and `- row_sum[row] * b_zero[column]` (int32
// wrap-around) gives `sum_k a' * (b - b_zero)` modulo 2^32: the exact int32 sums of the reference,
// however their additions are ordered. The AVX-VNNI kernel stores (and requantizes) as the AVX2
// kernel does; the AVX512-VNNI one on whole zmm rows with requantize_avx512.h (the same bits).
#include "u8s8_kernels.h"

#if defined(__x86_64__) || defined(__i386__)

/// One tile of AVX-VNNI: QAT_QUAD_TILE_ROWS rows of packed A by the sixteen columns of one panel
/// in two ymm accumulators per row (the AVX2 kernel's layout), `rows` of them stored.
__attribute__((target("avx2,avxvnni"))) static void tile_avx_vnni(const int8_t *a, const int32_t *row_sums,
                                                                 const uint8_t *b, int quads, int rows, int columns,
                                                                 __m256i zero0, __m256i zero1, int32_t *c,
                                                                 ptrdiff_t ldc, const qat_requantization *requant,
                                                                 int output_signed, uint8_t *out, ptrdiff_t ldo) {
  __m256i c00 = _mm256_setzero_si256(), c01 = _mm256_setzero_si256();
  __m256i c10 = _mm256_setzero_si256(), c11 = _mm256_setzero_si256();
  __m256i c20 = _mm256_setzero_si256(), c21 = _mm256_setzero_si256();
  __m256i c30 = _mm256_setzero_si256(), c31 = _mm256_setzero_si256();
  for (int quad = 0; quad < quads; quad++) {
    const __m256i b0 = _mm256_loadu_si256((const __m256i *)b);
    const __m256i b1 = _mm256_loadu_si256((const __m256i *)(b + 32));
    int32_t x[QAT_QUAD_TILE_ROWS];
    memcpy(x, a, sizeof x);
    __m256i v = _mm256_set1_epi32(x[0]);
    c00 = _mm256_dpbusd_avx_epi32(c00, b0, v);
    c01 = _mm256_dpbusd_avx_epi32(c01, b1, v);
    v = _mm256_set1_epi32(x[1]);
    c10 = _mm256_dpbusd_avx_epi32(c10, b0, v);
    c11 = _mm256_dpbusd_avx_epi32(c11, b1, v);
    v = _mm256_set1_epi32(x[2]);
    c20 = _mm256_dpbusd_avx_epi32(c20, b0, v);
    c21 = _mm256_dpbusd_avx_epi32(c21, b1, v);
    v = _mm256_set1_epi32(x[3]);
    c30 = _mm256_dpbusd_avx_epi32(c30, b0, v);
    c31 = _mm256_dpbusd_avx_epi32(c31, b1, v);
    a += QAT_QUAD_TILE_ROWS * 4;
    b += QAT_PANEL_COLUMNS * 4;
  }
  const __m256i results[QAT_QUAD_TILE_ROWS][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}};
  qat_u8s8_store_tile(results, rows, row_sums, zero0, zero1, columns, c, ldc, requant, output_signed, out, ldo);
}

__attribute__((target("avx2,avxvnni"))) void qat_u8s8_panel_avx_vnni(QAT_U8S8_PANEL_PARAMETERS) {
  const qat_u8s8_panel_shape s = qat_u8s8_shape_of(k, n, panel, b_zero, b_zero_stride);
  const __m256i zero0 = _mm256_loadu_si256((const __m256i *)s.zeros);
  const __m256i zero1 = _mm256_loadu_si256((const __m256i *)(s.zeros + 8));
  for (int row = 0; row < m; row += QAT_QUAD_TILE_ROWS) {
    const int rows = m - row < QAT_QUAD_TILE_ROWS ? m - row : QAT_QUAD_TILE_ROWS;
    tile_avx_vnni(packed_a + (size_t)(row / QAT_QUAD_TILE_ROWS) * s.quads * QAT_QUAD_TILE_ROWS * 4, row_sums + row,
                  packed_panel, s.quads, rows, s.columns, zero0, zero1, c ? c + row * ldc + s.first : NULL, ldc,
                  requant ? requant + row : NULL, output_signed, out ? out + row * ldo + s.first : NULL, ldo);
  }
}

/// Packed A tiles one zmm tile takes at most: its rows are `QAT_QUAD_TILE_ROWS * TILES_512`, one
/// zmm accumulator each (16 rows: 16 independent vpdpbusd chains, enough to cover the
/// instruction's latency at two per cycle; 8 and 12 rows measured a few percent slower on Zen 5).
#ifndef TILES_512
#define TILES_512 4
#endif

/// One tile of AVX512-VNNI: `tiles` (1 ... TILES_512, a constant once inlined) consecutive packed
/// A tiles, `tile_stride` bytes apart, by the sixteen columns of one panel, one zmm accumulator per
/// row (one B load and one broadcast per vpdpbusd), `rows` of them stored.
__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni"), always_inline)) static inline void tile_avx512_vnni(
    const int8_t *a, size_t tile_stride, int tiles, const int32_t *row_sums, const uint8_t *b, int quads, int rows,
    int columns, __m512i zero, int32_t *c, ptrdiff_t ldc, const qat_requantization *requant, uint8_t *out,
    ptrdiff_t ldo) {
  __m512i acc[QAT_QUAD_TILE_ROWS * TILES_512];
  for (int i = 0; i < QAT_QUAD_TILE_ROWS * tiles; i++) acc[i] = _mm512_setzero_si512();
  for (int quad = 0; quad < quads; quad++) {
    const __m512i bq = _mm512_loadu_si512((const void *)(b + (size_t)quad * QAT_PANEL_COLUMNS * 4));
    for (int t = 0; t < tiles; t++) {
      const int8_t *x = a + t * tile_stride + (size_t)quad * QAT_QUAD_TILE_ROWS * 4;
      for (int r = 0; r < QAT_QUAD_TILE_ROWS; r++) {
        int32_t weights;
        memcpy(&weights, x + r * 4, sizeof weights);
        acc[t * QAT_QUAD_TILE_ROWS + r] =
            _mm512_dpbusd_epi32(acc[t * QAT_QUAD_TILE_ROWS + r], bq, _mm512_set1_epi32(weights));
      }
    }
  }
  for (int r = 0; r < rows; r++) {
    const __m512i v = _mm512_sub_epi32(acc[r], _mm512_mullo_epi32(_mm512_set1_epi32(row_sums[r]), zero));
    qat_u8s8_store_row16(v, columns, c ? c + r * ldc : NULL, requant ? requant + r : NULL, out ? out + r * ldo : NULL);
  }
}

__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni"))) void qat_u8s8_panel_avx512_vnni(
    QAT_U8S8_PANEL_PARAMETERS) {
  (void)output_signed;  // the bytes are the values' low bytes either way (qat_narrow16_avx512)
  const qat_u8s8_panel_shape s = qat_u8s8_shape_of(k, n, panel, b_zero, b_zero_stride);
  const __m512i zero = _mm512_loadu_si512((const void *)s.zeros);
  const size_t tile_stride = (size_t)s.quads * QAT_QUAD_TILE_ROWS * 4;
  for (int row = 0; row < m;) {
    const int needed = (m - row + QAT_QUAD_TILE_ROWS - 1) / QAT_QUAD_TILE_ROWS;
    const int tiles = needed < TILES_512 ? needed : TILES_512;
    const int rows = m - row < QAT_QUAD_TILE_ROWS * tiles ? m - row : QAT_QUAD_TILE_ROWS * tiles;
    const int8_t *a = packed_a + (size_t)(row / QAT_QUAD_TILE_ROWS) * tile_stride;
    int32_t *c_rows = c ? c + row * ldc + s.first : NULL;
    const qat_requantization *r_rows = requant ? requant + row : NULL;
    uint8_t *out_rows = out ? out + row * ldo + s.first : NULL;
    // One call per tile count so each inlined copy has its count as a constant.
#define QAT_TILE_512(count)                                                                                        \
  tile_avx512_vnni(a, tile_stride, count, row_sums + row, packed_panel, s.quads, rows, s.columns, zero, c_rows, ldc, \
                   r_rows, out_rows, ldo)
    switch (tiles) {
      case 1: QAT_TILE_512(1); break;
#if TILES_512 >= 2
      case 2: QAT_TILE_512(2); break;
#endif
#if TILES_512 >= 3
      case 3: QAT_TILE_512(3); break;
#endif
#if TILES_512 >= 4
      case 4: QAT_TILE_512(4); break;
#endif
      default: break;
    }
#undef QAT_TILE_512
    row += rows;
  }
}
#endif
