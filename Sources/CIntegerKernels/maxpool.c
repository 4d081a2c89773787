// MaxPool over 2-D planes (a 1-D pool is one row), separably: for each input row a window needs,
// the maximum over the kernel columns at every output column ("row maxima", kept in a ring of at
// least `(kernel_h - 1) * dilation_h + 1` rows so each input row is reduced once), then for each
// output row the maximum of the row maxima of its kernel rows inside the image.
//
// Semantics, the window walk of the executor's generic loop: the taps inside the image in
// (ky, kx) order, the first taken, then any later one that is strictly greater; a window with no
// tap inside gives the type's lowest value (-infinity for float). For integers the maximum does
// not depend on grouping. For float, "keep the left one unless the right one is greater" picks
// the first of the largest taps (so +0 and -0 come out as the walk gives them) under any
// grouping that keeps the row-major order, which rows-then-columns does, as long as no group
// starts with NaN: a NaN first in a group wins its group but is skipped when it is not the first
// tap of the window. Every group here starts a row maximum, and a row maximum is NaN exactly when
// its first tap is; so a plane where some row maximum is NaN is recomputed by the window walk,
// and every other plane gives the walk's bits. AVX2's vmaxps(a, b) is `a > b ? a : b`, the walk's
// step with a the new tap.
//
// The AVX2 path reduces eight (float) or thirty-two (8-bit) output columns per vector for the
// columns whose taps all lie inside the row, for column strides 1 and 2 (stride 2: the maxima at
// every input column of two overlapping blocks, then the even ones of the first block and the
// odd ones of the second, never reading past the last tap used); border columns, other strides
// and narrow rows take the scalar loop.
#include <string.h>

#include "CIntegerKernels.h"
#include "window_ranges.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#include "cpu_features.h"
#define QAT_MAXPOOL_X86 1
#endif

/// How one element type is reduced: a row's maxima, the combination of row maxima into an output
/// row, and the value of a window with no tap inside.
typedef struct {
  size_t size;
  /// Writes the row maxima of input row `line` at every output column into `h`; returns nonzero
  /// when one of them is NaN (float only).
  int (*row)(const void *line, void *h, const qat_depthwise_geometry *g, int first, int last);
  /// `target[i]` = the walk over `rows[0][i], rows[1][i], ...` (`count` rows) for i < n.
  void (*column)(const void *const *rows, int count, void *target, int n);
  /// Fills `n` elements with the type's lowest value.
  void (*lowest)(void *target, int n);
} element_kind;

// MARK: scalar loops (the portable path, border columns and the float fallback)

/// Row maxima of float columns [from, to) with bounds checks; nonzero when one is NaN.
static int row_f32_scalar(const float *line, float *h, const qat_depthwise_geometry *g, int from, int to) {
  int nan = 0;
  for (int ox = from; ox < to; ox++) {
    const int origin = ox * g->stride_w - g->pad_left;
    float best = -__builtin_inff();
    int found = 0;
    for (int kx = 0; kx < g->kernel_w; kx++) {
      const int ix = origin + kx * g->dilation_w;
      if (ix < 0 || ix >= g->in_w) continue;
      const float value = line[ix];
      if (!found || value > best) best = value;
      found = 1;
    }
    h[ox] = best;
    nan |= best != best;
  }
  return nan;
}

static int row_f32_portable(const void *line, void *h, const qat_depthwise_geometry *g, int first, int last) {
  (void)first;
  (void)last;
  return row_f32_scalar(line, h, g, 0, g->out_w);
}

/// The walk over row maxima for float columns [from, n).
static void column_f32_scalar(const float *const *rows, int count, float *target, int from, int n) {
  for (int i = from; i < n; i++) {
    float best = rows[0][i];
    for (int r = 1; r < count; r++) {
      const float value = rows[r][i];
      if (value > best) best = value;
    }
    target[i] = best;
  }
}

static void column_f32_portable(const void *const *rows, int count, void *target, int n) {
  column_f32_scalar((const float *const *)rows, count, target, 0, n);
}

static void lowest_f32(void *target, int n) {
  float *y = target;
  for (int i = 0; i < n; i++) y[i] = -__builtin_inff();
}

/// The window walk over a whole float plane (the fallback for planes with a NaN row maximum).
static void walk_plane_f32(const float *x, float *y, const qat_depthwise_geometry *g) {
  for (int oy = 0; oy < g->out_h; oy++) {
    int ky_first, ky_last;
    qat_valid_kernel_rows(g, oy, &ky_first, &ky_last);
    for (int ox = 0; ox < g->out_w; ox++) {
      float best = -__builtin_inff();
      int found = 0;
      for (int ky = ky_first; ky < ky_last; ky++) {
        const float *line = x + (ptrdiff_t)(oy * g->stride_h - g->pad_top + ky * g->dilation_h) * g->in_w;
        for (int kx = 0; kx < g->kernel_w; kx++) {
          const int ix = ox * g->stride_w - g->pad_left + kx * g->dilation_w;
          if (ix < 0 || ix >= g->in_w) continue;
          if (!found || line[ix] > best) best = line[ix];
          found = 1;
        }
      }
      y[(ptrdiff_t)oy * g->out_w + ox] = best;
    }
  }
}

/// An 8-bit element as an int (int8 when `is_signed`, else uint8).
static inline int byte_value(const uint8_t *p, int i, int is_signed) { return is_signed ? (int8_t)p[i] : p[i]; }

/// Row maxima of 8-bit columns [from, to) with bounds checks.
static void row_bytes_scalar(const uint8_t *line, uint8_t *h, const qat_depthwise_geometry *g, int from, int to,
                             int is_signed) {
  for (int ox = from; ox < to; ox++) {
    const int origin = ox * g->stride_w - g->pad_left;
    int best = is_signed ? -128 : 0;
    for (int kx = 0; kx < g->kernel_w; kx++) {
      const int ix = origin + kx * g->dilation_w;
      if (ix < 0 || ix >= g->in_w) continue;
      const int value = byte_value(line, ix, is_signed);
      if (value > best) best = value;
    }
    h[ox] = (uint8_t)best;
  }
}

/// The maximum over row maxima for 8-bit columns [from, n).
static void column_bytes_scalar(const uint8_t *const *rows, int count, uint8_t *target, int from, int n,
                                int is_signed) {
  for (int i = from; i < n; i++) {
    int best = byte_value(rows[0], i, is_signed);
    for (int r = 1; r < count; r++) {
      const int value = byte_value(rows[r], i, is_signed);
      if (value > best) best = value;
    }
    target[i] = (uint8_t)best;
  }
}

static int row_u8_portable(const void *line, void *h, const qat_depthwise_geometry *g, int first, int last) {
  (void)first;
  (void)last;
  row_bytes_scalar(line, h, g, 0, g->out_w, 0);
  return 0;
}

static int row_s8_portable(const void *line, void *h, const qat_depthwise_geometry *g, int first, int last) {
  (void)first;
  (void)last;
  row_bytes_scalar(line, h, g, 0, g->out_w, 1);
  return 0;
}

static void column_u8_portable(const void *const *rows, int count, void *target, int n) {
  column_bytes_scalar((const uint8_t *const *)rows, count, target, 0, n, 0);
}

static void column_s8_portable(const void *const *rows, int count, void *target, int n) {
  column_bytes_scalar((const uint8_t *const *)rows, count, target, 0, n, 1);
}

static void lowest_u8(void *target, int n) { memset(target, 0, (size_t)n); }

static void lowest_s8(void *target, int n) { memset(target, 0x80, (size_t)n); }

static const element_kind f32_portable = {4, row_f32_portable, column_f32_portable, lowest_f32};
static const element_kind u8_portable = {1, row_u8_portable, column_u8_portable, lowest_u8};
static const element_kind s8_portable = {1, row_s8_portable, column_s8_portable, lowest_s8};

// MARK: AVX2

#ifdef QAT_MAXPOOL_X86
/// The walk over the kernel columns at eight adjacent input positions `source[0..7]`, ...
__attribute__((target("avx2"))) static inline __m256 taps_f32(const float *source, const qat_depthwise_geometry *g) {
  __m256 best = _mm256_loadu_ps(source);
  for (int kx = 1; kx < g->kernel_w; kx++) best = _mm256_max_ps(_mm256_loadu_ps(source + kx * g->dilation_w), best);
  return best;
}

__attribute__((target("avx2"))) static int row_f32_avx2(const void *line_, void *h_, const qat_depthwise_geometry *g,
                                                        int first, int last) {
  const float *line = line_;
  float *h = h_;
  const int stride = g->stride_w;
  if (last - first < 8 || stride > 2) return row_f32_scalar(line, h, g, 0, g->out_w);
  int nan = row_f32_scalar(line, h, g, 0, first) | row_f32_scalar(line, h, g, last, g->out_w);
  __m256 unordered = _mm256_setzero_ps();
  for (int ox = first; ox < last; ox += 8) {
    const int column = ox + 8 <= last ? ox : last - 8;  // the last vector ends at `last`
    const float *source = line + column * stride - g->pad_left;
    __m256 best;
    if (stride == 1) {
      best = taps_f32(source, g);
    } else {
      // Maxima at source[0..7] and source[7..14]; lanes 0, 2, 4, 6 of the first and 1, 3, 5, 7 of
      // the second are the columns source[0, 2, ..., 14].
      const __m256 mixed = _mm256_shuffle_ps(taps_f32(source, g), taps_f32(source + 7, g), 0xD8);
      best = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(mixed), 0xD8));
    }
    unordered = _mm256_or_ps(unordered, _mm256_cmp_ps(best, best, _CMP_UNORD_Q));
    _mm256_storeu_ps(h + column, best);
  }
  return nan | (_mm256_movemask_ps(unordered) != 0);
}

__attribute__((target("avx2"))) static void column_f32_avx2(const void *const *rows_, int count, void *target_,
                                                            int n) {
  const float *const *rows = (const float *const *)rows_;
  float *target = target_;
  if (n < 8) {
    column_f32_scalar(rows, count, target, 0, n);
    return;
  }
  for (int i = 0; i < n; i += 8) {
    const int start = i + 8 <= n ? i : n - 8;  // the last vector ends at n
    __m256 best = _mm256_loadu_ps(rows[0] + start);
    for (int r = 1; r < count; r++) best = _mm256_max_ps(_mm256_loadu_ps(rows[r] + start), best);
    _mm256_storeu_ps(target + start, best);
  }
}

/// The larger of two vectors of 32 bytes, as int8 when `is_signed`, else uint8.
__attribute__((target("avx2"))) static inline __m256i max_bytes(__m256i a, __m256i b, int is_signed) {
  return is_signed ? _mm256_max_epi8(a, b) : _mm256_max_epu8(a, b);
}

/// The maximum over the kernel columns at 32 adjacent input positions `source[0..31]`.
__attribute__((target("avx2"))) static inline __m256i taps_bytes(const uint8_t *source,
                                                                 const qat_depthwise_geometry *g, int is_signed) {
  __m256i best = _mm256_loadu_si256((const __m256i *)source);
  for (int kx = 1; kx < g->kernel_w; kx++) {
    best = max_bytes(best, _mm256_loadu_si256((const __m256i *)(source + kx * g->dilation_w)), is_signed);
  }
  return best;
}

__attribute__((target("avx2"))) static inline void row_bytes_avx2(const uint8_t *line, uint8_t *h,
                                                                  const qat_depthwise_geometry *g, int first,
                                                                  int last, int is_signed) {
  const int stride = g->stride_w;
  if (last - first < 32 || stride > 2) {
    row_bytes_scalar(line, h, g, 0, g->out_w, is_signed);
    return;
  }
  row_bytes_scalar(line, h, g, 0, first, is_signed);
  row_bytes_scalar(line, h, g, last, g->out_w, is_signed);
  for (int ox = first; ox < last; ox += 32) {
    const int column = ox + 32 <= last ? ox : last - 32;  // the last vector ends at `last`
    const uint8_t *source = line + column * stride - g->pad_left;
    __m256i best;
    if (stride == 1) {
      best = taps_bytes(source, g, is_signed);
    } else {
      // Maxima at source[0..31] and source[31..62]: the even bytes of the first and the odd bytes
      // of the second are the columns source[0, 2, ..., 62]; packed as 16-bit values below 256.
      const __m256i even = _mm256_and_si256(taps_bytes(source, g, is_signed), _mm256_set1_epi16(0xFF));
      const __m256i odd = _mm256_srli_epi16(taps_bytes(source + 31, g, is_signed), 8);
      best = _mm256_permute4x64_epi64(_mm256_packus_epi16(even, odd), 0xD8);
    }
    _mm256_storeu_si256((__m256i *)(h + column), best);
  }
}

__attribute__((target("avx2"))) static inline void column_bytes_avx2(const uint8_t *const *rows, int count,
                                                                     uint8_t *target, int n, int is_signed) {
  if (n < 32) {
    column_bytes_scalar(rows, count, target, 0, n, is_signed);
    return;
  }
  for (int i = 0; i < n; i += 32) {
    const int start = i + 32 <= n ? i : n - 32;  // the last vector ends at n
    __m256i best = _mm256_loadu_si256((const __m256i *)(rows[0] + start));
    for (int r = 1; r < count; r++) {
      best = max_bytes(best, _mm256_loadu_si256((const __m256i *)(rows[r] + start)), is_signed);
    }
    _mm256_storeu_si256((__m256i *)(target + start), best);
  }
}

__attribute__((target("avx2"))) static int row_u8_avx2(const void *line, void *h, const qat_depthwise_geometry *g,
                                                       int first, int last) {
  row_bytes_avx2(line, h, g, first, last, 0);
  return 0;
}

__attribute__((target("avx2"))) static int row_s8_avx2(const void *line, void *h, const qat_depthwise_geometry *g,
                                                       int first, int last) {
  row_bytes_avx2(line, h, g, first, last, 1);
  return 0;
}

__attribute__((target("avx2"))) static void column_u8_avx2(const void *const *rows, int count, void *target, int n) {
  column_bytes_avx2((const uint8_t *const *)rows, count, target, n, 0);
}

__attribute__((target("avx2"))) static void column_s8_avx2(const void *const *rows, int count, void *target, int n) {
  column_bytes_avx2((const uint8_t *const *)rows, count, target, n, 1);
}

static const element_kind f32_avx2 = {4, row_f32_avx2, column_f32_avx2, lowest_f32};
static const element_kind u8_avx2 = {1, row_u8_avx2, column_u8_avx2, lowest_u8};
static const element_kind s8_avx2 = {1, row_s8_avx2, column_s8_avx2, lowest_s8};
#endif

// MARK: driver

static int qat_maxpool_portable = 0;

void qat_maxpool_set_portable(int portable) { qat_maxpool_portable = portable; }

/// The AVX2 kind when the CPU has AVX2 and the portable path is not forced, else `portable`.
static const element_kind *pick(const element_kind *portable, const element_kind *avx2) {
#ifdef QAT_MAXPOOL_X86
  if (!qat_maxpool_portable && qat_cpu_has_avx2()) return avx2;
#else
  (void)avx2;
#endif
  return portable;
}

/// The ring's height: the input rows one output row's window spans, rounded up to a power of two
/// (so that a row's slot is a mask, not a division, away).
static int ring_rows(const qat_depthwise_geometry *g) {
  const int span = (g->kernel_h - 1) * g->dilation_h + 1;
  int rows = 1;
  while (rows < span) rows *= 2;
  return rows;
}

size_t qat_maxpool_scratch_bytes(const qat_depthwise_geometry *g, size_t element_size) {
  const size_t span = (size_t)ring_rows(g);
  return (size_t)g->kernel_h * sizeof(void *) + span * sizeof(int) + span * (size_t)g->out_w * element_size;
}

/// One plane; returns nonzero when a row maximum was NaN.
static int pool_plane(const uint8_t *x, uint8_t *y, const qat_depthwise_geometry *g, const element_kind *kind,
                      void *scratch) {
  const int span = ring_rows(g);
  const void **rows = scratch;
  int *tags = (int *)(rows + g->kernel_h);
  uint8_t *ring = (uint8_t *)(tags + span);
  const size_t row_bytes = (size_t)g->out_w * kind->size;
  for (int i = 0; i < span; i++) tags[i] = -1;
  int first, last;
  qat_interior_columns(g, &first, &last);
  int nan = 0;
  for (int oy = 0; oy < g->out_h; oy++) {
    uint8_t *target = y + (size_t)oy * row_bytes;
    int ky_first, ky_last;
    qat_valid_kernel_rows(g, oy, &ky_first, &ky_last);
    if (ky_first >= ky_last) {
      kind->lowest(target, g->out_w);
      continue;
    }
    for (int ky = ky_first; ky < ky_last; ky++) {
      const int iy = oy * g->stride_h - g->pad_top + ky * g->dilation_h;
      const int slot = iy & (span - 1);
      uint8_t *maxima = ring + (size_t)slot * row_bytes;
      if (tags[slot] != iy) {
        nan |= kind->row(x + (size_t)iy * (size_t)g->in_w * kind->size, maxima, g, first, last);
        tags[slot] = iy;
      }
      rows[ky - ky_first] = maxima;
    }
    kind->column(rows, ky_last - ky_first, target, g->out_w);
  }
  return nan;
}

/// `planes` consecutive planes of `kind`'s elements.
static void pool_planes(const void *x, void *y, int planes, const qat_depthwise_geometry *g,
                        const element_kind *kind, void *scratch) {
  if (g->out_h <= 0 || g->out_w <= 0) return;
  const size_t in_bytes = (size_t)g->in_h * (size_t)g->in_w * kind->size;
  const size_t out_bytes = (size_t)g->out_h * (size_t)g->out_w * kind->size;
  for (int plane = 0; plane < planes; plane++) {
    const uint8_t *image = (const uint8_t *)x + (size_t)plane * in_bytes;
    uint8_t *target = (uint8_t *)y + (size_t)plane * out_bytes;
    if (pool_plane(image, target, g, kind, scratch)) walk_plane_f32((const float *)image, (float *)target, g);
  }
}

void qat_maxpool_f32(const float *x, float *y, int planes, const qat_depthwise_geometry *g, void *scratch) {
  pool_planes(x, y, planes, g, pick(&f32_portable, &f32_avx2), scratch);
}

void qat_maxpool_u8(const uint8_t *x, uint8_t *y, int planes, const qat_depthwise_geometry *g, void *scratch) {
  pool_planes(x, y, planes, g, pick(&u8_portable, &u8_avx2), scratch);
}

void qat_maxpool_s8(const int8_t *x, int8_t *y, int planes, const qat_depthwise_geometry *g, void *scratch) {
  pool_planes(x, y, planes, g, pick(&s8_portable, &s8_avx2), scratch);
}
