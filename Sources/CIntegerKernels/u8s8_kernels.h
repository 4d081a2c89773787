// The u8 x s8 product's kernels of each instruction level (integer_gemm_u8s8.c dispatches among
// them) and the store they share. Internal to this target.
#ifndef CINTEGERKERNELS_U8S8_KERNELS_H
#define CINTEGERKERNELS_U8S8_KERNELS_H

#include "CIntegerKernels.h"
#include "requantize_avx2.h"
#include "requantize_avx512.h"

#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

/// One row of a panel: sixteen finished int32 results (`low` columns 0-7, `high` 8-15), stored as
/// int32 at `c` when `requant` is null, else requantized with `*requant` and stored as bytes at
/// `out`; only the first `columns` are written.
__attribute__((target("avx2"), always_inline)) static inline void qat_u8s8_store_row(__m256i low, __m256i high,
                                                                                     int columns, int32_t *c,
                                                                                     const qat_requantization *requant,
                                                                                     int output_signed, uint8_t *out) {
  if (requant) {
    const __m128i bytes = qat_narrow16(qat_requantize8(low, requant), qat_requantize8(high, requant), output_signed);
    if (columns == QAT_PANEL_COLUMNS) {
      _mm_storeu_si128((__m128i *)out, bytes);
    } else {
      uint8_t narrow[QAT_PANEL_COLUMNS];
      _mm_storeu_si128((__m128i *)narrow, bytes);
      memcpy(out, narrow, (size_t)columns);
    }
  } else if (columns == QAT_PANEL_COLUMNS) {
    _mm256_storeu_si256((__m256i *)c, low);
    _mm256_storeu_si256((__m256i *)(c + 8), high);
  } else {
    int32_t staged[QAT_PANEL_COLUMNS];
    _mm256_storeu_si256((__m256i *)staged, low);
    _mm256_storeu_si256((__m256i *)(staged + 8), high);
    memcpy(c, staged, (size_t)columns * sizeof(int32_t));
  }
}

/// The four rows of an AVX2-layout tile (two ymm of eight columns per row, `results[row]`), minus
/// `row_sums[row] * b_zero` (`zero0` columns 0-7, `zero1` 8-15, int32 wrap-around), stored as
/// `qat_u8s8_store_row` does for the first `rows`: the store of the AVX2 and AVX-VNNI tiles.
__attribute__((target("avx2"), always_inline)) static inline void qat_u8s8_store_tile(
    const __m256i results[QAT_QUAD_TILE_ROWS][2], int rows, const int32_t *row_sums, __m256i zero0, __m256i zero1,
    int columns, int32_t *c, ptrdiff_t ldc, const qat_requantization *requant, int output_signed, uint8_t *out,
    ptrdiff_t ldo) {
  for (int r = 0; r < rows; r++) {
    const __m256i sum = _mm256_set1_epi32(row_sums[r]);
    qat_u8s8_store_row(_mm256_sub_epi32(results[r][0], _mm256_mullo_epi32(sum, zero0)),
                       _mm256_sub_epi32(results[r][1], _mm256_mullo_epi32(sum, zero1)), columns,
                       c ? c + r * ldc : NULL, requant ? requant + r : NULL, output_signed, out ? out + r * ldo : NULL);
  }
}

/// `qat_u8s8_store_row` for one zmm of sixteen results: the requantization on all sixteen lanes at
/// once (requantize_avx512.h, the same bits) and masked stores for a partial panel.
__attribute__((target(QAT_AVX512_TARGET), always_inline)) static inline void qat_u8s8_store_row16(
    __m512i values, int columns, int32_t *c, const qat_requantization *requant, uint8_t *out) {
  const __mmask16 lanes = (__mmask16)((1u << columns) - 1);
  if (requant) {
    const __m128i bytes = qat_narrow16_avx512(qat_requantize16(values, requant));
    if (columns == QAT_PANEL_COLUMNS)
      _mm_storeu_si128((__m128i *)out, bytes);
    else
      _mm_mask_storeu_epi8(out, lanes, bytes);
  } else if (columns == QAT_PANEL_COLUMNS) {
    _mm512_storeu_si512((void *)c, values);
  } else {
    _mm512_mask_storeu_epi32(c, lanes, values);
  }
}

/// One panel of a product: its first column, its columns (up to 16, fewer at the end of n), B's
/// zero points of its columns (0 past n) and the quads of depth k.
typedef struct {
  int quads, first, columns;
  int32_t zeros[QAT_PANEL_COLUMNS];
} qat_u8s8_panel_shape;

static inline qat_u8s8_panel_shape qat_u8s8_shape_of(int k, int n, int panel, const int32_t *b_zero,
                                                     ptrdiff_t b_zero_stride) {
  qat_u8s8_panel_shape s = {qat_quad_depth(k) / 4, panel * QAT_PANEL_COLUMNS, 0, {0}};
  s.columns = n - s.first < QAT_PANEL_COLUMNS ? n - s.first : QAT_PANEL_COLUMNS;
  for (int lane = 0; lane < s.columns; lane++) s.zeros[lane] = b_zero[(s.first + lane) * b_zero_stride];
  return s;
}

/// The arguments every level's panel product takes: `qat_gemm_panel_u8s8`'s, plus the fused
/// requantization (`requant` non-null: row `row` through `requant[row]`, bytes to `out`, row
/// stride `ldo`, instead of int32 to `c`).
#define QAT_U8S8_PANEL_PARAMETERS                                                                                  \
  const int8_t *packed_a, const int32_t *row_sums, const uint8_t *packed_panel, int m, int k, int n, int panel,    \
      const int32_t *b_zero, ptrdiff_t b_zero_stride, int32_t *c, ptrdiff_t ldc, const qat_requantization *requant, \
      int output_signed, uint8_t *out, ptrdiff_t ldo

/// The panel product with AVX-VNNI (vpdpbusd on ymm), any `a - zero` in [-128, 127].
void qat_u8s8_panel_avx_vnni(QAT_U8S8_PANEL_PARAMETERS);

/// The panel product with AVX512-VNNI (vpdpbusd on zmm), any `a - zero` in [-128, 127].
void qat_u8s8_panel_avx512_vnni(QAT_U8S8_PANEL_PARAMETERS);
#endif

#endif
