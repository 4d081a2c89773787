// Exact 8-bit matrix products: both operands minus their zero points fit int16 (|v| <= 255), a
// product fits 17 bits and a pair sum 18, so vpmaddwd (two int16 products added into one int32,
// never saturating for these values) and int32 additions give the exact int32 sums. Unlike
// vpmaddubsw (u8 x s8 pairs added into a saturating int16), nothing here can clip.
#include "CIntegerKernels.h"
#include "cpu_features.h"

#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define QAT_X86 1
#endif

static inline int32_t qat_load8(const void *base, int is_signed, ptrdiff_t index) {
  return is_signed ? (int32_t)((const int8_t *)base)[index] : (int32_t)((const uint8_t *)base)[index];
}

void qat_pack_a(const void *a, int is_signed, ptrdiff_t lda, int m, int k, const int32_t *zero,
                ptrdiff_t zero_stride, int16_t *packed) {
  const int depth = qat_packed_depth(k);
  const int tiles = (m + QAT_TILE_ROWS - 1) / QAT_TILE_ROWS;
  for (int tile = 0; tile < tiles; tile++) {
    int16_t *target = packed + (size_t)tile * depth * QAT_TILE_ROWS;
    for (int r = 0; r < QAT_TILE_ROWS; r++) {
      const int row = tile * QAT_TILE_ROWS + r;
      int16_t *lane = target + r * 2;  // element `inner` goes to lane[(inner / 2) * 2 * ROWS + (inner & 1)]
      if (row >= m) {
        for (int inner = 0; inner < depth; inner++) lane[(inner >> 1) * QAT_TILE_ROWS * 2 + (inner & 1)] = 0;
        continue;
      }
      const int32_t offset = zero[row * zero_stride];
      if (is_signed) {
        const int8_t *source = (const int8_t *)a + row * lda;
        for (int inner = 0; inner < k; inner++)
          lane[(inner >> 1) * QAT_TILE_ROWS * 2 + (inner & 1)] = (int16_t)((int32_t)source[inner] - offset);
      } else {
        const uint8_t *source = (const uint8_t *)a + row * lda;
        for (int inner = 0; inner < k; inner++)
          lane[(inner >> 1) * QAT_TILE_ROWS * 2 + (inner & 1)] = (int16_t)((int32_t)source[inner] - offset);
      }
      if (depth > k) lane[(k >> 1) * QAT_TILE_ROWS * 2 + 1] = 0;  // the odd k's partner
    }
  }
}

static void pack_b_panel_portable(const void *b, int is_signed, ptrdiff_t ldb, int k, int n, const int32_t *zero,
                                  ptrdiff_t zero_stride, int panel, int16_t *packed) {
  const int depth = qat_packed_depth(k);
  const int first = panel * QAT_PANEL_COLUMNS;
  for (int inner = 0; inner < depth; inner++) {
    for (int lane = 0; lane < QAT_PANEL_COLUMNS; lane++) {
      const int column = first + lane;
      int32_t value = 0;
      if (column < n && inner < k) value = qat_load8(b, is_signed, inner * ldb + column) - zero[column * zero_stride];
      packed[(inner / 2) * QAT_PANEL_COLUMNS * 2 + lane * 2 + (inner & 1)] = (int16_t)value;
    }
  }
}

static void gemm_panel_portable(const int16_t *packed_a, const int16_t *packed_panel, int m, int k, int n,
                                int panel, int32_t *c, ptrdiff_t ldc) {
  const int pairs = qat_packed_depth(k) / 2;
  const int first = panel * QAT_PANEL_COLUMNS;
  const int columns = n - first < QAT_PANEL_COLUMNS ? n - first : QAT_PANEL_COLUMNS;
  for (int row = 0; row < m; row++) {
    const int16_t *a = packed_a + (size_t)(row / QAT_TILE_ROWS) * pairs * QAT_TILE_ROWS * 2 + (row % QAT_TILE_ROWS) * 2;
    for (int lane = 0; lane < columns; lane++) {
      uint32_t sum = 0;  // unsigned: int32 wrap-around without undefined behaviour
      for (int pair = 0; pair < pairs; pair++) {
        const int16_t *x = a + pair * QAT_TILE_ROWS * 2;
        const int16_t *y = packed_panel + pair * QAT_PANEL_COLUMNS * 2 + lane * 2;
        sum += (uint32_t)((int32_t)x[0] * y[0] + (int32_t)x[1] * y[1]);
      }
      c[row * ldc + first + lane] = (int32_t)sum;
    }
  }
}

#ifdef QAT_X86
__attribute__((target("avx2"))) static void pack_b_panel_avx2(const void *b, int is_signed, ptrdiff_t ldb, int k,
                                                               int n, const int32_t *zero, ptrdiff_t zero_stride,
                                                               int panel, int16_t *packed) {
  const int first = panel * QAT_PANEL_COLUMNS;
  if (first + QAT_PANEL_COLUMNS > n) {
    pack_b_panel_portable(b, is_signed, ldb, k, n, zero, zero_stride, panel, packed);
    return;
  }
  int16_t zeros[QAT_PANEL_COLUMNS];
  for (int lane = 0; lane < QAT_PANEL_COLUMNS; lane++) zeros[lane] = (int16_t)zero[(first + lane) * zero_stride];
  const __m256i zero_vector = _mm256_loadu_si256((const __m256i *)zeros);
  const uint8_t *base = (const uint8_t *)b + first;
  for (int inner = 0; inner < k; inner += 2) {
    const __m128i row0 = _mm_loadu_si128((const __m128i *)(base + inner * ldb));
    __m256i even = is_signed ? _mm256_cvtepi8_epi16(row0) : _mm256_cvtepu8_epi16(row0);
    even = _mm256_sub_epi16(even, zero_vector);
    __m256i odd = _mm256_setzero_si256();
    if (inner + 1 < k) {
      const __m128i row1 = _mm_loadu_si128((const __m128i *)(base + (inner + 1) * ldb));
      odd = is_signed ? _mm256_cvtepi8_epi16(row1) : _mm256_cvtepu8_epi16(row1);
      odd = _mm256_sub_epi16(odd, zero_vector);
    }
    // unpack works inside 128-bit halves: low = columns 0-3 | 8-11, high = 4-7 | 12-15.
    const __m256i low = _mm256_unpacklo_epi16(even, odd);
    const __m256i high = _mm256_unpackhi_epi16(even, odd);
    int16_t *target = packed + (inner / 2) * QAT_PANEL_COLUMNS * 2;
    _mm256_storeu_si256((__m256i *)target, _mm256_permute2x128_si256(low, high, 0x20));
    _mm256_storeu_si256((__m256i *)(target + 16), _mm256_permute2x128_si256(low, high, 0x31));
  }
}

__attribute__((target("avx2"))) static void tile_avx2(const int16_t *a, const int16_t *b, int pairs, int rows,
                                                       int columns, int32_t *c, ptrdiff_t ldc) {
  __m256i c00 = _mm256_setzero_si256(), c01 = _mm256_setzero_si256();
  __m256i c10 = _mm256_setzero_si256(), c11 = _mm256_setzero_si256();
  __m256i c20 = _mm256_setzero_si256(), c21 = _mm256_setzero_si256();
  __m256i c30 = _mm256_setzero_si256(), c31 = _mm256_setzero_si256();
  __m256i c40 = _mm256_setzero_si256(), c41 = _mm256_setzero_si256();
  __m256i c50 = _mm256_setzero_si256(), c51 = _mm256_setzero_si256();
  for (int pair = 0; pair < pairs; pair++) {
    const __m256i b0 = _mm256_loadu_si256((const __m256i *)b);
    const __m256i b1 = _mm256_loadu_si256((const __m256i *)(b + 16));
    int32_t x[QAT_TILE_ROWS];
    memcpy(x, a, sizeof x);
    __m256i v = _mm256_set1_epi32(x[0]);
    c00 = _mm256_add_epi32(c00, _mm256_madd_epi16(v, b0));
    c01 = _mm256_add_epi32(c01, _mm256_madd_epi16(v, b1));
    v = _mm256_set1_epi32(x[1]);
    c10 = _mm256_add_epi32(c10, _mm256_madd_epi16(v, b0));
    c11 = _mm256_add_epi32(c11, _mm256_madd_epi16(v, b1));
    v = _mm256_set1_epi32(x[2]);
    c20 = _mm256_add_epi32(c20, _mm256_madd_epi16(v, b0));
    c21 = _mm256_add_epi32(c21, _mm256_madd_epi16(v, b1));
    v = _mm256_set1_epi32(x[3]);
    c30 = _mm256_add_epi32(c30, _mm256_madd_epi16(v, b0));
    c31 = _mm256_add_epi32(c31, _mm256_madd_epi16(v, b1));
    v = _mm256_set1_epi32(x[4]);
    c40 = _mm256_add_epi32(c40, _mm256_madd_epi16(v, b0));
    c41 = _mm256_add_epi32(c41, _mm256_madd_epi16(v, b1));
    v = _mm256_set1_epi32(x[5]);
    c50 = _mm256_add_epi32(c50, _mm256_madd_epi16(v, b0));
    c51 = _mm256_add_epi32(c51, _mm256_madd_epi16(v, b1));
    a += QAT_TILE_ROWS * 2;
    b += QAT_PANEL_COLUMNS * 2;
  }
  int32_t staged[QAT_TILE_ROWS][QAT_PANEL_COLUMNS];
  const __m256i results[QAT_TILE_ROWS][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
  for (int r = 0; r < rows; r++) {
    if (columns == QAT_PANEL_COLUMNS) {
      _mm256_storeu_si256((__m256i *)(c + r * ldc), results[r][0]);
      _mm256_storeu_si256((__m256i *)(c + r * ldc + 8), results[r][1]);
    } else {
      _mm256_storeu_si256((__m256i *)staged[r], results[r][0]);
      _mm256_storeu_si256((__m256i *)(staged[r] + 8), results[r][1]);
      memcpy(c + r * ldc, staged[r], (size_t)columns * sizeof(int32_t));
    }
  }
}

static int qat_portable = 0;

static int qat_has_avx2(void) { return !qat_portable && qat_cpu_has_avx2(); }
#endif

void qat_set_portable(int portable) {
#ifdef QAT_X86
  qat_portable = portable;
#else
  (void)portable;
#endif
}

void qat_pack_b_panel(const void *b, int is_signed, ptrdiff_t ldb, int k, int n, const int32_t *zero,
                      ptrdiff_t zero_stride, int panel, int16_t *packed) {
#ifdef QAT_X86
  if (qat_has_avx2()) {
    pack_b_panel_avx2(b, is_signed, ldb, k, n, zero, zero_stride, panel, packed);
    return;
  }
#endif
  pack_b_panel_portable(b, is_signed, ldb, k, n, zero, zero_stride, panel, packed);
}

void qat_gemm_panel(const int16_t *packed_a, const int16_t *packed_panel, int m, int k, int n, int panel,
                    int32_t *c, ptrdiff_t ldc) {
#ifdef QAT_X86
  if (qat_has_avx2()) {
    const int pairs = qat_packed_depth(k) / 2;
    const int first = panel * QAT_PANEL_COLUMNS;
    const int columns = n - first < QAT_PANEL_COLUMNS ? n - first : QAT_PANEL_COLUMNS;
    for (int row = 0; row < m; row += QAT_TILE_ROWS) {
      const int rows = m - row < QAT_TILE_ROWS ? m - row : QAT_TILE_ROWS;
      tile_avx2(packed_a + (size_t)(row / QAT_TILE_ROWS) * pairs * QAT_TILE_ROWS * 2, packed_panel, pairs, rows,
                columns, c + row * ldc + first, ldc);
    }
    return;
  }
#endif
  gemm_panel_portable(packed_a, packed_panel, m, k, n, panel, c, ldc);
}
