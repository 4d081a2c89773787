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
