// The u8 x s8 product's packed B panels built straight from the input planes of a 2-D
// convolution: the bytes `qat_im2col_u8` followed by `qat_pack_b_panel_u8` would give, without
// the im2col matrix in between. A panel is 16 output positions (columns); its packed form holds,
// for each quad of im2col rows (k = channel * taps + tap), the four rows' bytes of each column
// side by side.
//
// With AVX-512 (F, BW, VL) each im2col row of a panel is one 16-byte vector, built run by run
// (im2col_runs.h): at stride 1 a masked load (the lanes inside the image; the others keep the
// padding byte, and masked-off lanes are never read, so a load may start before or end after the
// plane), at stride 2 a masked load of 32 bytes narrowed to their even (low) bytes with vpmovwb.
// Four rows are transposed into the packed layout as `qat_pack_b_panel_u8` does. Columns past n
// and rows past k are zero, as there.
//
// Without AVX-512, or at other horizontal strides, the portable loop works byte by byte from the
// index definition; `qat_im2col_panel_u8_vector` says which a geometry gets, and callers take the
// im2col matrix and `qat_pack_b_panel_u8` instead when it is the portable loop.
#include "CIntegerKernels.h"
#include "cpu_features.h"
#include "im2col_runs.h"

#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define QAT_IM2COL_PANEL_X86 1
#endif

/// Im2col row `row` (channel `row / taps`, tap `row % taps`), output position `column`.
static uint8_t im2col_byte(const uint8_t *planes, uint8_t padding, const qat_depthwise_geometry *g, int row,
                           int column) {
  const int taps = g->kernel_h * g->kernel_w;
  const int channel = row / taps, tap = row % taps;
  const int ky = tap / g->kernel_w, kx = tap % g->kernel_w;
  const int oy = column / g->out_w, ox = column % g->out_w;
  const int iy = oy * g->stride_h + ky * g->dilation_h - g->pad_top;
  const int ix = ox * g->stride_w + kx * g->dilation_w - g->pad_left;
  if (iy < 0 || iy >= g->in_h || ix < 0 || ix >= g->in_w) return padding;
  return planes[((ptrdiff_t)channel * g->in_h + iy) * g->in_w + ix];
}

static void panel_portable(const uint8_t *planes, int channels, uint8_t padding, const qat_depthwise_geometry *g,
                           int panel, uint8_t *packed) {
  const int k = channels * g->kernel_h * g->kernel_w;
  const int n = g->out_h * g->out_w;
  const int first = panel * QAT_PANEL_COLUMNS;
  for (int inner = 0; inner < qat_quad_depth(k); inner++) {
    for (int lane = 0; lane < QAT_PANEL_COLUMNS; lane++) {
      const int column = first + lane;
      const uint8_t value = column < n && inner < k ? im2col_byte(planes, padding, g, inner, column) : 0;
      packed[(inner / 4) * QAT_PANEL_COLUMNS * 4 + lane * 4 + (inner & 3)] = value;
    }
  }
}

static int qat_im2col_panel_portable = 0;

void qat_im2col_panel_set_portable(int portable) { qat_im2col_panel_portable = portable; }

int qat_im2col_panel_u8_vector(const qat_depthwise_geometry *g) {
#ifdef QAT_IM2COL_PANEL_X86
  return !qat_im2col_panel_portable && qat_cpu_has_avx512() && qat_run_geometry_fits(g);
#else
  (void)g;
  return 0;
#endif
}

#ifdef QAT_IM2COL_PANEL_X86
/// The im2col row of one channel plane under the tap with these runs' column and row parts: the
/// image's bytes where the runs have them, else `padding` (the padding byte in the panel's
/// columns, zero past them).
QAT_RUN_AVX512 static inline __attribute__((always_inline)) __m128i panel_row(const uint8_t *plane,
                                                                                 const qat_run_columns *columns,
                                                                                 const ptrdiff_t *rows, int runs,
                                                                                 int stride, __m128i padding) {
  __m128i row = padding;
  for (int run = 0; run < runs; run++) {
    if (rows[run] < 0 || columns[run].mask == 0) continue;
    const uint8_t *start = (const uint8_t *)((uintptr_t)plane + (uintptr_t)(rows[run] + columns[run].offset));
    if (stride == 1) {
      row = _mm_mask_loadu_epi8(row, (__mmask16)columns[run].mask, start);
    } else {
      const __m256i pairs = _mm256_maskz_loadu_epi8((__mmask32)columns[run].mask, start);
      row = _mm_mask_blend_epi8((__mmask16)columns[run].lanes, row, _mm256_cvtepi16_epi8(pairs));
    }
  }
  return row;
}

/// Four im2col rows of a panel into one packed quad (a 4 x 16 byte transpose).
QAT_RUN_AVX512 static inline void store_quad(__m128i r0, __m128i r1, __m128i r2, __m128i r3, uint8_t *target) {
  const __m128i low01 = _mm_unpacklo_epi8(r0, r1), high01 = _mm_unpackhi_epi8(r0, r1);
  const __m128i low23 = _mm_unpacklo_epi8(r2, r3), high23 = _mm_unpackhi_epi8(r2, r3);
  _mm_storeu_si128((__m128i *)target, _mm_unpacklo_epi16(low01, low23));
  _mm_storeu_si128((__m128i *)(target + 16), _mm_unpackhi_epi16(low01, low23));
  _mm_storeu_si128((__m128i *)(target + 32), _mm_unpacklo_epi16(high01, high23));
  _mm_storeu_si128((__m128i *)(target + 48), _mm_unpackhi_epi16(high01, high23));
}

/// The rows of a panel into `packed`, given its tables; inlined for each (stride, one run or
/// more) so that the row loop has neither test.
QAT_RUN_AVX512 static inline __attribute__((always_inline)) void panel_rows(
    const uint8_t *planes, int channels, uint8_t padding, const qat_depthwise_geometry *g, int columns,
    const qat_run_columns *columns_table, const ptrdiff_t *rows_table, int runs, int stride, uint8_t *packed) {
  const __m128i fill = _mm_maskz_set1_epi8((__mmask16)((1u << columns) - 1u), (char)padding);
  const ptrdiff_t plane_size = (ptrdiff_t)g->in_h * g->in_w;
  // Im2col row `k` is channel `k / taps`, kernel row and column `(k % taps) / kernel_w` and
  // `k % kernel_w`: walked with a running (plane, ky, kx).
  const uint8_t *plane = planes;
  int ky = 0, kx = 0;
  const int k = channels * g->kernel_h * g->kernel_w;
  uint8_t *target = packed;
#define QAT_NEXT_ROW(row)                                                                                  \
  do {                                                                                                     \
    row = panel_row(plane, columns_table + kx * runs, rows_table + ky * runs, runs, stride, fill);       \
    if (++kx == g->kernel_w) {                                                                             \
      kx = 0;                                                                                              \
      if (++ky == g->kernel_h) {                                                                           \
        ky = 0;                                                                                            \
        plane += plane_size;                                                                               \
      }                                                                                                    \
    }                                                                                                      \
  } while (0)
  int row = 0;
  for (; row + 4 <= k; row += 4, target += QAT_PANEL_COLUMNS * 4) {
    __m128i r0, r1, r2, r3;
    QAT_NEXT_ROW(r0);
    QAT_NEXT_ROW(r1);
    QAT_NEXT_ROW(r2);
    QAT_NEXT_ROW(r3);
    store_quad(r0, r1, r2, r3, target);
  }
  if (row < k) {
    __m128i r0, r1 = _mm_setzero_si128(), r2 = _mm_setzero_si128(), r3 = _mm_setzero_si128();
    QAT_NEXT_ROW(r0);
    if (row + 1 < k) QAT_NEXT_ROW(r1);
    if (row + 2 < k) QAT_NEXT_ROW(r2);
    store_quad(r0, r1, r2, r3, target);
  }
#undef QAT_NEXT_ROW
}

QAT_RUN_AVX512 static void panel_avx512(const uint8_t *planes, int channels, uint8_t padding,
                                           const qat_depthwise_geometry *g, int panel, uint8_t *packed) {
  const int first = panel * QAT_PANEL_COLUMNS;
  const int n = g->out_h * g->out_w;
  const int columns = n - first < QAT_PANEL_COLUMNS ? n - first : QAT_PANEL_COLUMNS;
  qat_run_columns columns_table[QAT_RUN_TABLE];
  ptrdiff_t rows_table[QAT_RUN_TABLE];
  const int runs = qat_run_tables(g, 0, first, columns, columns_table, rows_table);
  if (g->stride_w == 1 && runs == 1)
    panel_rows(planes, channels, padding, g, columns, columns_table, rows_table, 1, 1, packed);
  else if (g->stride_w == 1)
    panel_rows(planes, channels, padding, g, columns, columns_table, rows_table, runs, 1, packed);
  else if (runs == 1)
    panel_rows(planes, channels, padding, g, columns, columns_table, rows_table, 1, 2, packed);
  else
    panel_rows(planes, channels, padding, g, columns, columns_table, rows_table, runs, 2, packed);
}
#endif

void qat_im2col_panel_u8(const uint8_t *planes, int channels, uint8_t padding, const qat_depthwise_geometry *g,
                         int panel, uint8_t *packed) {
#ifdef QAT_IM2COL_PANEL_X86
  if (qat_im2col_panel_u8_vector(g)) {
    panel_avx512(planes, channels, padding, g, panel, packed);
    return;
  }
#endif
  panel_portable(planes, channels, padding, g, panel, packed);
}
