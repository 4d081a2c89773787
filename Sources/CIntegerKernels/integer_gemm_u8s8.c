// Exact u8 x s8 matrix products: B's raw uint8 bytes b (B's zero point not subtracted) by A's int8
// values a' = a - a_zero, k-quads of four products summed into int32 lanes, at one of four
// instruction levels chosen at run time (QAT_U8S8_*): portable C, AVX2, AVX-VNNI, AVX512-VNNI.
//
// AVX2 (vpmaddubsw) needs A's values to fit 7 bits: with b in [0, 255] and a' in [-64, 64], a pair
// sum `b0 * a0 + b1 * a1` is at most 255 * 128 = 32640 in magnitude, so vpmaddubsw (u8 x s8 pairs
// added into a saturating int16) never saturates; vpmaddwd by ones adds two such int16 into an
// int32, and int32 additions give `sum_k a'[m, k] * b[k, n]`. A k-quad of four products costs
// three instructions per lane group instead of the four of two vpmaddwd steps, and the packed B
// panel is half the size. The VNNI levels (vpdpbusd, integer_gemm_u8s8_vnni.c) add the four
// products into the int32 lane exactly, so any a' in [-128, 127] is exact there.
//
// B's zero point comes out through A's row sums: `sum_k a' (b - b_zero) = sum_k a' b - b_zero[n] *
// sum_k a'`, all with int32 wrap-around, which equals the exact int32 sum modulo 2^32 as the
// reference's does.
#include "CIntegerKernels.h"
#include "cpu_features.h"
#include "u8s8_kernels.h"

#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define QAT_U8S8_X86 1
#endif

/// The level forced by `qat_u8s8_set_level` (tests), or -1: the best this CPU runs.
static int qat_u8s8_forced = -1;

/// The best level this CPU runs (checked once).
static int u8s8_best_level(void) {
#ifdef QAT_U8S8_X86
  if (qat_cpu_has_avx512_vnni()) return QAT_U8S8_AVX512_VNNI;
  if (qat_cpu_has_avx_vnni()) return QAT_U8S8_AVX_VNNI;
  if (qat_cpu_has_avx2()) return QAT_U8S8_AVX2;
#endif
  return QAT_U8S8_PORTABLE;
}

int qat_u8s8_level(void) {
  const int best = u8s8_best_level();
  return qat_u8s8_forced >= 0 && qat_u8s8_forced < best ? qat_u8s8_forced : best;
}

int qat_u8s8_set_level(int level) {
  qat_u8s8_forced = level;
  return qat_u8s8_level();
}

void qat_u8s8_set_portable(int portable) { qat_u8s8_forced = portable ? QAT_U8S8_PORTABLE : -1; }

int qat_pack_a_quads(const void *a, int is_signed, ptrdiff_t lda, int m, int k, const int32_t *zero,
                     ptrdiff_t zero_stride, int8_t *packed, int32_t *row_sums) {
  const int depth = qat_quad_depth(k);
  const int tiles = (m + QAT_QUAD_TILE_ROWS - 1) / QAT_QUAD_TILE_ROWS;
  // The widest a' the kernels of this level multiply exactly (see the top of this file).
  const int vnni = qat_u8s8_level() >= QAT_U8S8_AVX_VNNI;
  const int32_t lowest = vnni ? -128 : -64, highest = vnni ? 127 : 64;
  int fits = 1;
  for (int tile = 0; tile < tiles; tile++) {
    int8_t *target = packed + (size_t)tile * depth * QAT_QUAD_TILE_ROWS;
    for (int r = 0; r < QAT_QUAD_TILE_ROWS; r++) {
      const int row = tile * QAT_QUAD_TILE_ROWS + r;
      // element `inner` goes to target[(inner / 4) * 4 * ROWS + r * 4 + inner % 4]
      int8_t *lane = target + r * 4;
      // Zeros past k (and in rows past m).
      for (int inner = row < m ? k : 0; inner < depth; inner++)
        lane[(inner >> 2) * QAT_QUAD_TILE_ROWS * 4 + (inner & 3)] = 0;
      if (row >= m) continue;
      const int32_t offset = zero[row * zero_stride];
      int32_t sum = 0, low = 0, high = 0;
      for (int inner = 0; inner < k; inner++) {
        const int32_t raw = is_signed ? (int32_t)((const int8_t *)a)[row * lda + inner]
                                      : (int32_t)((const uint8_t *)a)[row * lda + inner];
        const int32_t value = raw - offset;
        lane[(inner >> 2) * QAT_QUAD_TILE_ROWS * 4 + (inner & 3)] = (int8_t)value;
        sum += value;
        low = value < low ? value : low;
        high = value > high ? value : high;
      }
      if (low < lowest || high > highest) fits = 0;
      row_sums[row] = sum;
    }
  }
  return fits;
}

static void pack_b_quads_portable(const uint8_t *b, ptrdiff_t ldb, int k, int n, int panel, uint8_t *packed) {
  const int depth = qat_quad_depth(k);
  const int first = panel * QAT_PANEL_COLUMNS;
  for (int inner = 0; inner < depth; inner++) {
    for (int lane = 0; lane < QAT_PANEL_COLUMNS; lane++) {
      const int column = first + lane;
      const uint8_t value = column < n && inner < k ? b[inner * ldb + column] : 0;
      packed[(inner / 4) * QAT_PANEL_COLUMNS * 4 + lane * 4 + (inner & 3)] = value;
    }
  }
}

static void gemm_quads_portable(const int8_t *packed_a, const int32_t *row_sums, const uint8_t *packed_panel, int m,
                                int k, int n, int panel, const int32_t *b_zero, ptrdiff_t b_zero_stride, int32_t *c,
                                ptrdiff_t ldc) {
  const int quads = qat_quad_depth(k) / 4;
  const int first = panel * QAT_PANEL_COLUMNS;
  const int columns = n - first < QAT_PANEL_COLUMNS ? n - first : QAT_PANEL_COLUMNS;
  for (int row = 0; row < m; row++) {
    const int8_t *a = packed_a + (size_t)(row / QAT_QUAD_TILE_ROWS) * quads * QAT_QUAD_TILE_ROWS * 4 +
                      (row % QAT_QUAD_TILE_ROWS) * 4;
    for (int lane = 0; lane < columns; lane++) {
      uint32_t sum = 0;  // unsigned: int32 wrap-around without undefined behaviour
      for (int quad = 0; quad < quads; quad++) {
        const int8_t *x = a + quad * QAT_QUAD_TILE_ROWS * 4;
        const uint8_t *y = packed_panel + quad * QAT_PANEL_COLUMNS * 4 + lane * 4;
        for (int i = 0; i < 4; i++) sum += (uint32_t)((int32_t)x[i] * (int32_t)y[i]);
      }
      sum -= (uint32_t)row_sums[row] * (uint32_t)b_zero[(first + lane) * b_zero_stride];
      c[row * ldc + first + lane] = (int32_t)sum;
    }
  }
}

#ifdef QAT_U8S8_X86
__attribute__((target("avx2"))) static void pack_b_quads_avx2(const uint8_t *b, ptrdiff_t ldb, int k, int n,
                                                               int panel, uint8_t *packed) {
  const int first = panel * QAT_PANEL_COLUMNS;
  if (first + QAT_PANEL_COLUMNS > n) {
    pack_b_quads_portable(b, ldb, k, n, panel, packed);
    return;
  }
  const uint8_t *base = b + first;
  for (int inner = 0; inner < k; inner += 4) {
    __m128i rows[4];
    for (int i = 0; i < 4; i++)
      rows[i] = inner + i < k ? _mm_loadu_si128((const __m128i *)(base + (inner + i) * ldb)) : _mm_setzero_si128();
    // Columns' four bytes side by side: a 4 x 16 byte transpose.
    const __m128i low01 = _mm_unpacklo_epi8(rows[0], rows[1]), high01 = _mm_unpackhi_epi8(rows[0], rows[1]);
    const __m128i low23 = _mm_unpacklo_epi8(rows[2], rows[3]), high23 = _mm_unpackhi_epi8(rows[2], rows[3]);
    uint8_t *target = packed + (inner / 4) * QAT_PANEL_COLUMNS * 4;
    _mm_storeu_si128((__m128i *)target, _mm_unpacklo_epi16(low01, low23));
    _mm_storeu_si128((__m128i *)(target + 16), _mm_unpackhi_epi16(low01, low23));
    _mm_storeu_si128((__m128i *)(target + 32), _mm_unpacklo_epi16(high01, high23));
    _mm_storeu_si128((__m128i *)(target + 48), _mm_unpackhi_epi16(high01, high23));
  }
}

/// One tile: up to QAT_QUAD_TILE_ROWS rows of packed A by one 16-column panel, stored as int32 in
/// `c` (row stride `ldc`), or, when `requant` is not null, requantized with `requant[row]` and
/// stored as bytes in `out` (row stride `ldo`).
__attribute__((target("avx2"))) static void tile_quads_avx2(const int8_t *a, const int32_t *row_sums,
                                                             const uint8_t *b, int quads, int rows, int columns,
                                                             __m256i zero0, __m256i zero1, int32_t *c,
                                                             ptrdiff_t ldc, const qat_requantization *requant,
                                                             int output_signed, uint8_t *out, ptrdiff_t ldo) {
  const __m256i ones = _mm256_set1_epi16(1);
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
    c00 = _mm256_add_epi32(c00, _mm256_madd_epi16(_mm256_maddubs_epi16(b0, v), ones));
    c01 = _mm256_add_epi32(c01, _mm256_madd_epi16(_mm256_maddubs_epi16(b1, v), ones));
    v = _mm256_set1_epi32(x[1]);
    c10 = _mm256_add_epi32(c10, _mm256_madd_epi16(_mm256_maddubs_epi16(b0, v), ones));
    c11 = _mm256_add_epi32(c11, _mm256_madd_epi16(_mm256_maddubs_epi16(b1, v), ones));
    v = _mm256_set1_epi32(x[2]);
    c20 = _mm256_add_epi32(c20, _mm256_madd_epi16(_mm256_maddubs_epi16(b0, v), ones));
    c21 = _mm256_add_epi32(c21, _mm256_madd_epi16(_mm256_maddubs_epi16(b1, v), ones));
    v = _mm256_set1_epi32(x[3]);
    c30 = _mm256_add_epi32(c30, _mm256_madd_epi16(_mm256_maddubs_epi16(b0, v), ones));
    c31 = _mm256_add_epi32(c31, _mm256_madd_epi16(_mm256_maddubs_epi16(b1, v), ones));
    a += QAT_QUAD_TILE_ROWS * 4;
    b += QAT_PANEL_COLUMNS * 4;
  }
  const __m256i results[QAT_QUAD_TILE_ROWS][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}};
  qat_u8s8_store_tile(results, rows, row_sums, zero0, zero1, columns, c, ldc, requant, output_signed, out, ldo);
}

__attribute__((target("avx2"))) static void gemm_quads_avx2(const int8_t *packed_a, const int32_t *row_sums,
                                                             const uint8_t *packed_panel, int m, int k, int n,
                                                             int panel, const int32_t *b_zero,
                                                             ptrdiff_t b_zero_stride, int32_t *c, ptrdiff_t ldc,
                                                             const qat_requantization *requant, int output_signed,
                                                             uint8_t *out, ptrdiff_t ldo) {
  const qat_u8s8_panel_shape s = qat_u8s8_shape_of(k, n, panel, b_zero, b_zero_stride);
  const __m256i zero0 = _mm256_loadu_si256((const __m256i *)s.zeros);
  const __m256i zero1 = _mm256_loadu_si256((const __m256i *)(s.zeros + 8));
  for (int row = 0; row < m; row += QAT_QUAD_TILE_ROWS) {
    const int rows = m - row < QAT_QUAD_TILE_ROWS ? m - row : QAT_QUAD_TILE_ROWS;
    tile_quads_avx2(packed_a + (size_t)(row / QAT_QUAD_TILE_ROWS) * s.quads * QAT_QUAD_TILE_ROWS * 4,
                    row_sums + row, packed_panel, s.quads, rows, s.columns, zero0, zero1,
                    c ? c + row * ldc + s.first : NULL, ldc, requant ? requant + row : NULL, output_signed,
                    out ? out + row * ldo + s.first : NULL, ldo);
  }
}

#endif

void qat_pack_b_panel_u8(const uint8_t *b, ptrdiff_t ldb, int k, int n, int panel, uint8_t *packed) {
#ifdef QAT_U8S8_X86
  if (qat_u8s8_level() >= QAT_U8S8_AVX2) {
    pack_b_quads_avx2(b, ldb, k, n, panel, packed);
    return;
  }
#endif
  pack_b_quads_portable(b, ldb, k, n, panel, packed);
}

void qat_gemm_panel_u8s8(const int8_t *packed_a, const int32_t *row_sums, const uint8_t *packed_panel, int m, int k,
                         int n, int panel, const int32_t *b_zero, ptrdiff_t b_zero_stride, int32_t *c,
                         ptrdiff_t ldc) {
#ifdef QAT_U8S8_X86
  switch (qat_u8s8_level()) {
    case QAT_U8S8_AVX512_VNNI:
      qat_u8s8_panel_avx512_vnni(packed_a, row_sums, packed_panel, m, k, n, panel, b_zero, b_zero_stride, c, ldc,
                                 NULL, 0, NULL, 0);
      return;
    case QAT_U8S8_AVX_VNNI:
      qat_u8s8_panel_avx_vnni(packed_a, row_sums, packed_panel, m, k, n, panel, b_zero, b_zero_stride, c, ldc, NULL,
                              0, NULL, 0);
      return;
    case QAT_U8S8_AVX2:
      gemm_quads_avx2(packed_a, row_sums, packed_panel, m, k, n, panel, b_zero, b_zero_stride, c, ldc, NULL, 0, NULL,
                      0);
      return;
    default:
      break;
  }
#endif
  gemm_quads_portable(packed_a, row_sums, packed_panel, m, k, n, panel, b_zero, b_zero_stride, c, ldc);
}

void qat_gemm_panel_u8s8_requantized(const int8_t *packed_a, const int32_t *row_sums, const uint8_t *packed_panel,
                                     int m, int k, int n, int panel, const int32_t *b_zero, ptrdiff_t b_zero_stride,
                                     const qat_requantization *rows, int output_signed, uint8_t *out,
                                     ptrdiff_t ldo) {
#ifdef QAT_U8S8_X86
  // The requantization needs AVX2 whatever the level; below the VNNI levels the AVX2 product runs
  // (A was packed for it: its values fit 7 bits).
  switch (qat_u8s8_level()) {
    case QAT_U8S8_AVX512_VNNI:
      qat_u8s8_panel_avx512_vnni(packed_a, row_sums, packed_panel, m, k, n, panel, b_zero, b_zero_stride, NULL, 0,
                                 rows, output_signed, out, ldo);
      return;
    case QAT_U8S8_AVX_VNNI:
      qat_u8s8_panel_avx_vnni(packed_a, row_sums, packed_panel, m, k, n, panel, b_zero, b_zero_stride, NULL, 0, rows,
                              output_signed, out, ldo);
      return;
    default:
      if (qat_cpu_has_avx2())
        gemm_quads_avx2(packed_a, row_sums, packed_panel, m, k, n, panel, b_zero, b_zero_stride, NULL, 0, rows,
                        output_signed, out, ldo);
      return;
  }
#else
  (void)packed_a;
  (void)row_sums;
  (void)packed_panel;
  (void)m;
  (void)k;
  (void)n;
  (void)panel;
  (void)b_zero;
  (void)b_zero_stride;
  (void)rows;
  (void)output_signed;
  (void)out;
  (void)ldo;
#endif
}
