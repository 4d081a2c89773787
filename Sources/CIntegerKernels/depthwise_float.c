// Direct 2-D depthwise convolution of one float plane, one output row at a time: every output
// element is `bias`, then `+ w[tap] * x[...]` for each kernel tap inside the image in (ky, kx)
// order, each product and each sum rounded to float (no fused multiply-add), so the AVX2 and the
// portable paths give the same bits as each other and as a loop that adds one tap at a time over
// the whole plane. Taps that fall in the padding are skipped, not multiplied by zero.
//
// The AVX2 path computes eight adjacent output columns per vector for the columns whose every tap
// lies inside the input row (stride 1: one load per tap; stride 2: two overlapping loads whose
// even elements are gathered by two permutes and a blend, never reading past the last input
// element used), four vectors side by side so that their chains of additions overlap; vectors
// past the row's interior are moved back to end at its last column (recomputing identical
// values). With stride 1 the border columns go eight at a time too, two vectors side by side
// where there are two, with the taps in the padding masked: such a lane adds -0 * 0 = -0, and
// `s + -0` is `s` for every float s (-0, NaN payloads included), so skipping and adding -0 give
// the same bits. Stride-2 border columns, narrow rows, other strides and kernels of more than 64
// taps (more than 16 columns or four border vectors: scalar border columns) take the scalar loop.
// (Splitting stride-2 planes into even and odd columns first was tried: slower on AMD EPYC.)
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
/// Eight input elements for output columns `source[0], source[stride], ...` (stride 1 or 2).
__attribute__((target("avx2"))) static inline __m256 load_eight(const float *source, int stride) {
  if (stride == 1) return _mm256_loadu_ps(source);
  // source[0, 2, ..., 14]: lanes 0, 2, 4, 6 of source[0..7] and 1, 3, 5, 7 of source[7..14].
  const __m256 low = _mm256_permutevar8x32_ps(_mm256_loadu_ps(source), _mm256_setr_epi32(0, 2, 4, 6, 0, 0, 0, 0));
  const __m256 high = _mm256_permutevar8x32_ps(_mm256_loadu_ps(source + 7), _mm256_setr_epi32(0, 0, 0, 0, 1, 3, 5, 7));
  return _mm256_blend_ps(low, high, 0xF0);
}

/// Four vectors of eight interior output columns starting at `columns` (which may overlap): tap
/// `n` of each adds `weights[n] * sources[n][(column + 0..7) * stride]`, the four chains of
/// additions (each in tap order) side by side so that they overlap in the pipeline.
__attribute__((target("avx2"))) static inline void four_vectors(const float *const *sources, const float *weights,
                                                                  int taps, int stride, float bias,
                                                                  const int columns[4], float *target) {
  __m256 s0 = _mm256_set1_ps(bias), s1 = s0, s2 = s0, s3 = s0;
  const int o0 = columns[0] * stride, o1 = columns[1] * stride, o2 = columns[2] * stride, o3 = columns[3] * stride;
  for (int n = 0; n < taps; n++) {
    const float *source = sources[n];
    const __m256 weight = _mm256_set1_ps(weights[n]);
    s0 = _mm256_add_ps(s0, _mm256_mul_ps(weight, load_eight(source + o0, stride)));
    s1 = _mm256_add_ps(s1, _mm256_mul_ps(weight, load_eight(source + o1, stride)));
    s2 = _mm256_add_ps(s2, _mm256_mul_ps(weight, load_eight(source + o2, stride)));
    s3 = _mm256_add_ps(s3, _mm256_mul_ps(weight, load_eight(source + o3, stride)));
  }
  _mm256_storeu_ps(target + columns[0], s0);
  _mm256_storeu_ps(target + columns[1], s1);
  _mm256_storeu_ps(target + columns[2], s2);
  _mm256_storeu_ps(target + columns[3], s3);
}

/// Most border vectors per row and kernel columns the masked border path takes.
#define QAT_DEPTHWISE_MAX_BORDER_VECTORS 4
#define QAT_DEPTHWISE_MAX_BORDER_COLUMNS 16

/// One or (when `pair`) two vectors of eight output columns at `c0` and `c1` that reach into the
/// padding: lane i of tap n adds `weights[n] * sources[n][column + i]` where the lane's bit of
/// `masks*[kx of tap n]` is set and `-0 * 0 = -0` elsewhere (the input read as 0 by a masked
/// load, the weight replaced by -0), and `s + -0` is `s` for every float s, so a skipped tap
/// changes no bit.
__attribute__((target("avx2"))) static inline void masked_vectors(const float *const *sources, const float *weights,
                                                                    int taps, int kernel_w, float bias, int c0,
                                                                    const __m256i *masks0, int pair, int c1,
                                                                    const __m256i *masks1, float *target) {
  const __m256 negative_zero = _mm256_set1_ps(-0.0f);
  __m256 s0 = _mm256_set1_ps(bias), s1 = s0;
  for (int n = 0, kx = 0; n < taps; n++, kx = kx + 1 == kernel_w ? 0 : kx + 1) {
    const __m256 weight = _mm256_set1_ps(weights[n]);
    const __m256i m0 = masks0[kx];
    const __m256 w0 = _mm256_blendv_ps(negative_zero, weight, _mm256_castsi256_ps(m0));
    s0 = _mm256_add_ps(s0, _mm256_mul_ps(w0, _mm256_maskload_ps(sources[n] + c0, m0)));
    if (pair) {
      const __m256i m1 = masks1[kx];
      const __m256 w1 = _mm256_blendv_ps(negative_zero, weight, _mm256_castsi256_ps(m1));
      s1 = _mm256_add_ps(s1, _mm256_mul_ps(w1, _mm256_maskload_ps(sources[n] + c1, m1)));
    }
  }
  _mm256_storeu_ps(target + c0, s0);
  if (pair) _mm256_storeu_ps(target + c1, s1);
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
  int border_columns[QAT_DEPTHWISE_MAX_BORDER_VECTORS];
  __m256i masks[QAT_DEPTHWISE_MAX_BORDER_VECTORS][QAT_DEPTHWISE_MAX_BORDER_COLUMNS];
  int masked = stride == 1 && g->kernel_w <= QAT_DEPTHWISE_MAX_BORDER_COLUMNS;
  for (int c = 0; masked && c < first; c += 8) {
    if (borders == QAT_DEPTHWISE_MAX_BORDER_VECTORS) masked = 0;
    else border_columns[borders++] = c + 8 <= g->out_w ? c : g->out_w - 8;
  }
  for (int c = g->out_w - 8; masked && c + 8 > last; c -= 8) {
    if (borders == QAT_DEPTHWISE_MAX_BORDER_VECTORS) masked = 0;
    else border_columns[borders++] = c > 0 ? c : 0;
  }
  for (int b = 0; masked && b < borders; b++) {
    for (int kx = 0; kx < g->kernel_w; kx++) {
      const __m256i index = _mm256_add_epi32(_mm256_set1_epi32(border_columns[b] + offsets[kx]),
                                             _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
      masks[b][kx] = _mm256_and_si256(_mm256_cmpgt_epi32(index, _mm256_set1_epi32(-1)),
                                      _mm256_cmpgt_epi32(_mm256_set1_epi32(g->in_w), index));
    }
  }
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
      for (int b = 0; b < borders; b += 2) {
        const int pair = b + 1 < borders;
        masked_vectors(sources, weights, taps, g->kernel_w, bias, border_columns[b], masks[b], pair,
                       border_columns[pair ? b + 1 : b], masks[pair ? b + 1 : b], target);
      }
    } else {
      for (int ox = 0; ox < first; ox++) target[ox] = point(x, w, bias, g, oy, ox, ky_first, ky_last);
      for (int ox = last; ox < g->out_w; ox++) target[ox] = point(x, w, bias, g, oy, ox, ky_first, ky_last);
    }
    for (int ox = first; ox < last; ox += 32) {
      // Vectors past the interior are moved back to end at `last` (recomputing identical values).
      int columns[4];
      for (int v = 0; v < 4; v++) columns[v] = ox + 8 * v + 8 <= last ? ox + 8 * v : last - 8;
      four_vectors(sources, weights, taps, stride, bias, columns, target);
    }
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

