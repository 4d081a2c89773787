// Direct 2-D depthwise convolution of one float plane, one output row at a time: every output
// element is `bias`, then `+ w[tap] * x[...]` for each kernel tap inside the image in (ky, kx)
// order, each product and each sum rounded to float (no fused multiply-add), so the AVX2 and the
// portable paths give the same bits as each other and as a loop that adds one tap at a time over
// the whole plane. Taps that fall in the padding are skipped, not multiplied by zero.
//
// The AVX2 path computes eight adjacent output columns per vector for the columns whose every tap
// lies inside the input row (stride 1: one load per tap; stride 2: two overlapping loads, one
// in-lane shuffle, the lanes in a fixed shuffled order that the store puts back once, never
// reading past the last input element used), four vectors side by side so that their chains of
// additions overlap, then one to three for the rest of the row; a vector past the row's interior
// is moved back to end at its last column (recomputing identical values). The border columns go
// eight at a time too (strides 1 and 2), two vectors side by side where there are two, with the
// taps in the padding masked: such a lane adds -0 * 0 = -0, and `s + -0` is `s` for every float
// s (-0, NaN payloads included), so skipping and adding -0 give the same bits. Narrow rows,
// other strides and kernels of more than 64 taps (more than 16 columns or four border vectors:
// scalar border columns) take the scalar loop. (Splitting stride-2 planes into even and odd
// columns first was tried: slower on AMD EPYC; two cross-lane permutes and a blend per tap
// instead of one shuffle: about 17% slower on a 28x28 -> 14x14 plane.)
#include "CIntegerKernels.h"
#include "window_ranges.h"

#pragma clang fp contract(off)

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define QAT_DEPTHWISE_X86 1
#endif

/// One output element with bounds checks on the column.
static inline float point(const float *x, const float *w, float bias, const qat_depthwise_geometry *g, int oy,
                          int ox, int ky_first, int ky_last) {
  float sum = bias;
  const int row_origin = oy * g->stride_h - g->pad_top;
  const int column_origin = ox * g->stride_w - g->pad_left;
  for (int ky = ky_first; ky < ky_last; ky++) {
    const float *row = x + (ptrdiff_t)(row_origin + ky * g->dilation_h) * g->in_w;
    for (int kx = 0; kx < g->kernel_w; kx++) {
      const int ix = column_origin + kx * g->dilation_w;
      if (ix < 0 || ix >= g->in_w) continue;
      const float product = w[ky * g->kernel_w + kx] * row[ix];
      sum = sum + product;
    }
  }
  return sum;
}

static void plane_portable(const float *x, const float *w, float bias, float *y, const qat_depthwise_geometry *g) {
  for (int oy = 0; oy < g->out_h; oy++) {
    int ky_first, ky_last;
    qat_valid_kernel_rows(g, oy, &ky_first, &ky_last);
    float *target = y + (ptrdiff_t)oy * g->out_w;
    for (int ox = 0; ox < g->out_w; ox++) target[ox] = point(x, w, bias, g, oy, ox, ky_first, ky_last);
  }
}

#ifdef QAT_DEPTHWISE_X86
/// Most kernel taps of one output row the AVX2 path takes (larger kernels take the portable loop).
#define QAT_DEPTHWISE_MAX_TAPS 64
/// Eight input elements for output columns `source[0], source[stride], ...` (stride 1), or for
/// stride 2 the same elements in the lane order [0 1 4 5 | 2 3 6 7]: one in-lane shuffle of two
/// overlapping loads (source[0..7] and source[7..14], never past the last element used) instead
/// of two cross-lane permutes and a blend per tap. Every tap of a vector uses the same order, so
/// its sums are put back in column order once, at the store (`store_eight`).
__attribute__((target("avx2"), always_inline)) static inline __m256 load_eight(const float *source, int stride) {
  if (stride == 1) return _mm256_loadu_ps(source);
  // Low half: source[0, 2] and source[7 + 1, 7 + 3]; high half: source[4, 6], source[7 + 5, 7 + 7].
  return _mm256_shuffle_ps(_mm256_loadu_ps(source), _mm256_loadu_ps(source + 7), 0xD8);
}

/// Stores eight sums made from `load_eight` loads in column order.
__attribute__((target("avx2"), always_inline)) static inline void store_eight(float *target, __m256 sums,
                                                                              int stride) {
  if (stride == 2) sums = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(sums), 0xD8));
  _mm256_storeu_ps(target, sums);
}

/// `count` (1 to 4, a constant where inlined) vectors of eight interior output columns starting
/// at `columns` (which may overlap): tap `n` of each adds
/// `weights[n] * sources[n][(column + 0..7) * stride]`, the chains of additions (each in tap
/// order) side by side so that they overlap in the pipeline.
__attribute__((target("avx2"), always_inline)) static inline void vectors(const float *const *sources,
                                                                          const float *weights, int taps,
                                                                          int stride, float bias,
                                                                          const int columns[4], int count,
                                                                          float *target) {
  __m256 s0 = _mm256_set1_ps(bias), s1 = s0, s2 = s0, s3 = s0;
  const int o0 = columns[0] * stride, o1 = columns[1] * stride, o2 = columns[2] * stride, o3 = columns[3] * stride;
  for (int n = 0; n < taps; n++) {
    const float *source = sources[n];
    const __m256 weight = _mm256_set1_ps(weights[n]);
    s0 = _mm256_add_ps(s0, _mm256_mul_ps(weight, load_eight(source + o0, stride)));
    if (count > 1) s1 = _mm256_add_ps(s1, _mm256_mul_ps(weight, load_eight(source + o1, stride)));
    if (count > 2) s2 = _mm256_add_ps(s2, _mm256_mul_ps(weight, load_eight(source + o2, stride)));
    if (count > 3) s3 = _mm256_add_ps(s3, _mm256_mul_ps(weight, load_eight(source + o3, stride)));
  }
  store_eight(target + columns[0], s0, stride);
  if (count > 1) store_eight(target + columns[1], s1, stride);
  if (count > 2) store_eight(target + columns[2], s2, stride);
  if (count > 3) store_eight(target + columns[3], s3, stride);
}

/// The interior columns [first, last) of one output row (last - first >= 8), four vectors at a
/// time and then as many as the rest needs (a vector past `last` is moved back to end there,
/// recomputing identical values), with the stride a constant in each call of `vectors`.
__attribute__((target("avx2"))) static void interior_row(const float *const *sources, const float *weights,
                                                         int taps, int stride, float bias, int first, int last,
                                                         float *target) {
  for (int ox = first; ox < last; ox += 32) {
    int columns[4];
    for (int v = 0; v < 4; v++) columns[v] = ox + 8 * v + 8 <= last ? ox + 8 * v : last - 8;
    const int rest = last - ox;
    const int count = rest >= 32 ? 4 : (rest + 7) / 8;
#define QAT_DEPTHWISE_VECTORS(n)                                                      \
  if (stride == 1) vectors(sources, weights, taps, 1, bias, columns, n, target);    \
  else vectors(sources, weights, taps, 2, bias, columns, n, target);
    switch (count) {
      case 1: QAT_DEPTHWISE_VECTORS(1) break;
      case 2: QAT_DEPTHWISE_VECTORS(2) break;
      case 3: QAT_DEPTHWISE_VECTORS(3) break;
      default: QAT_DEPTHWISE_VECTORS(4) break;
    }
#undef QAT_DEPTHWISE_VECTORS
  }
}

/// Most border vectors per row and kernel columns the masked border path takes.
#define QAT_DEPTHWISE_MAX_BORDER_VECTORS 4
#define QAT_DEPTHWISE_MAX_BORDER_COLUMNS 16

/// One vector of eight output columns that reaches into the padding: for each kernel column kx,
/// the lanes of its loads that lie inside the input row and the output lanes whose tap does.
typedef struct {
  /// The vector's first output column.
  int column;
  /// Stride 1: the lanes of the load at `column + offset`; stride 2: of the load at
  /// `2 * column + offset` (input elements 0..7 of the vector's window).
  __m256i low[QAT_DEPTHWISE_MAX_BORDER_COLUMNS];
  /// Stride 2: the lanes of the load 7 elements further on (input elements 7..14).
  __m256i high[QAT_DEPTHWISE_MAX_BORDER_COLUMNS];
  /// The output lanes whose input lies inside the row (stride 2: in the lane order of
  /// `load_eight`).
  __m256i lanes[QAT_DEPTHWISE_MAX_BORDER_COLUMNS];
} border_vector;

/// The lanes of eight consecutive input elements from `start` that lie inside a row of `width`.
__attribute__((target("avx2"))) static inline __m256i inside_row(int start, int width) {
  const __m256i index = _mm256_add_epi32(_mm256_set1_epi32(start), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  return _mm256_and_si256(_mm256_cmpgt_epi32(index, _mm256_set1_epi32(-1)),
                          _mm256_cmpgt_epi32(_mm256_set1_epi32(width), index));
}

/// The masks of a border vector at output column `column`.
__attribute__((target("avx2"))) static void border_masks(border_vector *v, int column, const int *offsets,
                                                         const qat_depthwise_geometry *g) {
  v->column = column;
  for (int kx = 0; kx < g->kernel_w; kx++) {
    const int start = g->stride_w * column + offsets[kx];
    v->low[kx] = inside_row(start, g->in_w);
    v->high[kx] = inside_row(start + 7, g->in_w);
    v->lanes[kx] = g->stride_w == 1 ? v->low[kx]
                                    : _mm256_castps_si256(_mm256_shuffle_ps(_mm256_castsi256_ps(v->low[kx]),
                                                                            _mm256_castsi256_ps(v->high[kx]), 0xD8));
  }
}

/// `load_eight` of a border vector's tap in kernel column `kx`, the elements outside the row
/// read as 0 (masked loads never touch them).
__attribute__((target("avx2"), always_inline)) static inline __m256 masked_eight(const float *source,
                                                                                 const border_vector *v, int kx,
                                                                                 int stride) {
  if (stride == 1) return _mm256_maskload_ps(source + v->column, v->low[kx]);
  const float *base = source + 2 * v->column;
  return _mm256_shuffle_ps(_mm256_maskload_ps(base, v->low[kx]), _mm256_maskload_ps(base + 7, v->high[kx]), 0xD8);
}

/// One or (when `pair`) two border vectors `v0` and `v1`: lane i of tap n adds
/// `weights[n] * sources[n][(column + i) * stride]` where the tap's input lies inside the row
/// and `-0 * 0 = -0` elsewhere (the input read as 0 by a masked load, the weight replaced by
/// -0), and `s + -0` is `s` for every float s, so a skipped tap changes no bit.
__attribute__((target("avx2"), always_inline)) static inline void masked_vectors(
    const float *const *sources, const float *weights, int taps, int kernel_w, int stride, float bias,
    const border_vector *v0, int pair, const border_vector *v1, float *target) {
  const __m256 negative_zero = _mm256_set1_ps(-0.0f);
  __m256 s0 = _mm256_set1_ps(bias), s1 = s0;
  for (int n = 0, kx = 0; n < taps; n++, kx = kx + 1 == kernel_w ? 0 : kx + 1) {
    const __m256 weight = _mm256_set1_ps(weights[n]);
    const __m256 w0 = _mm256_blendv_ps(negative_zero, weight, _mm256_castsi256_ps(v0->lanes[kx]));
    s0 = _mm256_add_ps(s0, _mm256_mul_ps(w0, masked_eight(sources[n], v0, kx, stride)));
    if (pair) {
      const __m256 w1 = _mm256_blendv_ps(negative_zero, weight, _mm256_castsi256_ps(v1->lanes[kx]));
      s1 = _mm256_add_ps(s1, _mm256_mul_ps(w1, masked_eight(sources[n], v1, kx, stride)));
    }
  }
  store_eight(target + v0->column, s0, stride);
  if (pair) store_eight(target + v1->column, s1, stride);
}

/// The border vectors of one output row, two side by side, with the stride a constant in each
/// call of `masked_vectors`.
__attribute__((target("avx2"))) static void border_row(const float *const *sources, const float *weights, int taps,
                                                       int kernel_w, int stride, float bias,
                                                       const border_vector *vectors, int count, float *target) {
  for (int b = 0; b < count; b += 2) {
    const int pair = b + 1 < count;
    const border_vector *second = &vectors[pair ? b + 1 : b];
    if (stride == 1) masked_vectors(sources, weights, taps, kernel_w, 1, bias, &vectors[b], pair, second, target);
    else masked_vectors(sources, weights, taps, kernel_w, 2, bias, &vectors[b], pair, second, target);
  }
}

/// The AVX2 plane for strides 1 and 2 with at least eight interior columns and at most
/// QAT_DEPTHWISE_MAX_TAPS taps per row; returns 0 (nothing written) otherwise.
__attribute__((target("avx2"))) static int plane_avx2(const float *x, const float *w, float bias, float *y,
                                                      const qat_depthwise_geometry *g) {
  int first, last;
  qat_interior_columns(g, &first, &last);
  const int stride = g->stride_w;
  if (last - first < 8 || (stride != 1 && stride != 2) || g->kernel_h * g->kernel_w > QAT_DEPTHWISE_MAX_TAPS) return 0;
  // Column offset of tap kx from an output column's first input column.
  int offsets[QAT_DEPTHWISE_MAX_TAPS];
  for (int kx = 0; kx < g->kernel_w; kx++) offsets[kx] = kx * g->dilation_w - g->pad_left;
  // Vectors covering the border columns [0, first) and [last, out_w), each with the lanes of
  // every kernel column whose input lies inside the row.
  int borders = 0;
  border_vector border[QAT_DEPTHWISE_MAX_BORDER_VECTORS];
  int border_columns[QAT_DEPTHWISE_MAX_BORDER_VECTORS];
  int masked = g->kernel_w <= QAT_DEPTHWISE_MAX_BORDER_COLUMNS;
  for (int c = 0; masked && c < first; c += 8) {
    if (borders == QAT_DEPTHWISE_MAX_BORDER_VECTORS) masked = 0;
    else border_columns[borders++] = c + 8 <= g->out_w ? c : g->out_w - 8;
  }
  for (int c = g->out_w - 8; masked && c + 8 > last; c -= 8) {
    if (borders == QAT_DEPTHWISE_MAX_BORDER_VECTORS) masked = 0;
    else border_columns[borders++] = c > 0 ? c : 0;
  }
  for (int b = 0; masked && b < borders; b++) border_masks(&border[b], border_columns[b], offsets, g);
  const float *sources[QAT_DEPTHWISE_MAX_TAPS];
  for (int oy = 0; oy < g->out_h; oy++) {
    int ky_first, ky_last;
    qat_valid_kernel_rows(g, oy, &ky_first, &ky_last);
    int taps = 0;
    for (int ky = ky_first; ky < ky_last; ky++) {
      const int iy = oy * g->stride_h - g->pad_top + ky * g->dilation_h;
      for (int kx = 0; kx < g->kernel_w; kx++) {
        sources[taps++] = x + (ptrdiff_t)iy * g->in_w + offsets[kx];
      }
    }
    float *target = y + (ptrdiff_t)oy * g->out_w;
    const float *weights = w + ky_first * g->kernel_w;
    if (masked) {
      border_row(sources, weights, taps, g->kernel_w, stride, bias, border, borders, target);
    } else {
      for (int ox = 0; ox < first; ox++) target[ox] = point(x, w, bias, g, oy, ox, ky_first, ky_last);
      for (int ox = last; ox < g->out_w; ox++) target[ox] = point(x, w, bias, g, oy, ox, ky_first, ky_last);
    }
    interior_row(sources, weights, taps, stride, bias, first, last, target);
  }
  return 1;
}

static int qat_depthwise_portable = 0;

static int depthwise_has_avx2(void) {
  static int state = -1;
  if (qat_depthwise_portable) return 0;
  if (state < 0) {
    __builtin_cpu_init();
    state = __builtin_cpu_supports("avx2") ? 1 : 0;
  }
  return state;
}
#endif

void qat_depthwise_set_portable(int portable) {
#ifdef QAT_DEPTHWISE_X86
  qat_depthwise_portable = portable;
#else
  (void)portable;
#endif
}

void qat_depthwise_plane_f32(const float *x, const float *w, float bias, float *y, const qat_depthwise_geometry *g) {
  if (g->out_h <= 0 || g->out_w <= 0) return;
#ifdef QAT_DEPTHWISE_X86
  if (depthwise_has_avx2()) {
    if (plane_avx2(x, w, bias, y, g)) return;
  }
#endif
  plane_portable(x, w, bias, y, g);
}

