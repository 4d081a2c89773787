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
// values); border columns and narrow rows take the scalar loop.
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
/// Eight input elements for output columns `source[0], source[stride], ...` (stride 1 or 2).
__attribute__((target("avx2"))) static inline __m256 load_eight(const float *source, int stride) {
  if (stride == 1) return _mm256_loadu_ps(source);
  // source[0, 2, ..., 14]: lanes 0, 2, 4, 6 of source[0..7] and 1, 3, 5, 7 of source[7..14].
  const __m256 low = _mm256_permutevar8x32_ps(_mm256_loadu_ps(source), _mm256_setr_epi32(0, 2, 4, 6, 0, 0, 0, 0));
  const __m256 high = _mm256_permutevar8x32_ps(_mm256_loadu_ps(source + 7), _mm256_setr_epi32(0, 0, 0, 0, 1, 3, 5, 7));
  return _mm256_blend_ps(low, high, 0xF0);
}

/// Four vectors of eight interior output columns of output row `oy`, starting at the columns in
/// `columns` (which may overlap), computed side by side so that the four chains of additions
/// (each in tap order) overlap in the pipeline.
__attribute__((target("avx2"))) static inline void four_vectors(const float *x, const float *w, float bias,
                                                                  const qat_depthwise_geometry *g, int oy,
                                                                  const int columns[4], int ky_first, int ky_last,
                                                                  float *target) {
  const int stride = g->stride_w;
  const int in_w = g->in_w;
  const int kernel_w = g->kernel_w;
  const int dilation = g->dilation_w;
  __m256 s0 = _mm256_set1_ps(bias), s1 = s0, s2 = s0, s3 = s0;
  const int row_origin = oy * g->stride_h - g->pad_top;
  const int o0 = columns[0] * stride - g->pad_left, o1 = columns[1] * stride - g->pad_left;
  const int o2 = columns[2] * stride - g->pad_left, o3 = columns[3] * stride - g->pad_left;
  for (int ky = ky_first; ky < ky_last; ky++) {
    const float *row = x + (ptrdiff_t)(row_origin + ky * g->dilation_h) * in_w;
    const float *taps = w + ky * kernel_w;
    for (int kx = 0; kx < kernel_w; kx++) {
      const float *source = row + kx * dilation;
      const __m256 weight = _mm256_set1_ps(taps[kx]);
      s0 = _mm256_add_ps(s0, _mm256_mul_ps(weight, load_eight(source + o0, stride)));
      s1 = _mm256_add_ps(s1, _mm256_mul_ps(weight, load_eight(source + o1, stride)));
      s2 = _mm256_add_ps(s2, _mm256_mul_ps(weight, load_eight(source + o2, stride)));
      s3 = _mm256_add_ps(s3, _mm256_mul_ps(weight, load_eight(source + o3, stride)));
    }
  }
  _mm256_storeu_ps(target + columns[0], s0);
  _mm256_storeu_ps(target + columns[1], s1);
  _mm256_storeu_ps(target + columns[2], s2);
  _mm256_storeu_ps(target + columns[3], s3);
}

__attribute__((target("avx2"))) static void plane_avx2(const float *x, const float *w, float bias, float *y,
                                                        const qat_depthwise_geometry *g) {
  int first, last;
  qat_interior_columns(g, &first, &last);
  if (last - first < 8 || (g->stride_w != 1 && g->stride_w != 2)) {
    plane_portable(x, w, bias, y, g);
    return;
  }
  for (int oy = 0; oy < g->out_h; oy++) {
    int ky_first, ky_last;
    qat_valid_kernel_rows(g, oy, &ky_first, &ky_last);
    float *target = y + (ptrdiff_t)oy * g->out_w;
    for (int ox = 0; ox < first; ox++) target[ox] = point(x, w, bias, g, oy, ox, ky_first, ky_last);
    for (int ox = first; ox < last; ox += 32) {
      // Vectors past the interior are moved back to end at `last` (recomputing identical values).
      int columns[4];
      for (int v = 0; v < 4; v++) columns[v] = ox + 8 * v + 8 <= last ? ox + 8 * v : last - 8;
      four_vectors(x, w, bias, g, oy, columns, ky_first, ky_last, target);
    }
    for (int ox = last; ox < g->out_w; ox++) target[ox] = point(x, w, bias, g, oy, ox, ky_first, ky_last);
  }
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
    plane_avx2(x, w, bias, y, g);
    return;
  }
#endif
  plane_portable(x, w, bias, y, g);
}

