// The byte im2col of one 2-D input channel (see IntegerIm2col.swift): row `ky * kernel_w + kx`
// holds, for every output position of a range of them, the input byte under that kernel tap, or
// `padding` where the tap falls outside the image. For each tap, the output columns whose input
// column lies inside the image are found once; each output row's share of the range then copies
// them (at stride 1 with AVX2 32- or 16-byte loads and stores, the last one moved back to end at
// the segment's end, so no byte outside the segment is read or written: rows of a few dozen bytes
// cost a call to memcpy otherwise, memcpy without AVX2; at stride 2 with AVX2 the even bytes of
// 32-byte loads, packed by vpackuswb of the byte pairs masked to their low byte, every load inside
// the input row), and fills the rest with `padding`.
#include "CIntegerKernels.h"
#include "cpu_features.h"

#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define QAT_IM2COL_X86 1
#endif

/// Outputs `ox` in [first, last) of one row: `target[ox] = source[ox * stride]`, portable.
static void gather_portable(const uint8_t *source, int stride, int first, int last, uint8_t *target) {
  for (int ox = first; ox < last; ox++) target[ox] = source[(ptrdiff_t)ox * stride];
}

#ifdef QAT_IM2COL_X86
/// Stride 2: sixteen outputs per step from 32 input bytes (their even bytes); the loads end at or
/// before the last input byte a segment reads, `source[2 * (last - 1)]`.
__attribute__((target("avx2"))) static void gather_stride2_avx2(const uint8_t *source, int first, int last,
                                                                 uint8_t *target) {
  const __m128i low = _mm_set1_epi16(0x00FF);
  int ox = first;
  for (; ox + 16 < last; ox += 16) {
    const __m128i a = _mm_and_si128(_mm_loadu_si128((const __m128i *)(source + 2 * (ptrdiff_t)ox)), low);
    const __m128i b = _mm_and_si128(_mm_loadu_si128((const __m128i *)(source + 2 * (ptrdiff_t)ox + 16)), low);
    _mm_storeu_si128((__m128i *)(target + ox), _mm_packus_epi16(a, b));
  }
  gather_portable(source, 2, ox, last, target);
}

/// Stride 1: `target[ox] = source[ox]` for ox in [first, last), vectors of 32 then 16 bytes, the
/// last one overlapping the previous (rewriting equal bytes) instead of a scalar tail.
__attribute__((target("avx2"))) static void copy_stride1_avx2(const uint8_t *source, int first, int last,
                                                               uint8_t *target) {
  const int count = last - first;
  source += first;
  target += first;
  if (count >= 32) {
    int i = 0;
    for (; i + 32 <= count; i += 32)
      _mm256_storeu_si256((__m256i *)(target + i), _mm256_loadu_si256((const __m256i *)(source + i)));
    if (i < count)
      _mm256_storeu_si256((__m256i *)(target + count - 32),
                          _mm256_loadu_si256((const __m256i *)(source + count - 32)));
  } else if (count >= 16) {
    _mm_storeu_si128((__m128i *)target, _mm_loadu_si128((const __m128i *)source));
    _mm_storeu_si128((__m128i *)(target + count - 16), _mm_loadu_si128((const __m128i *)(source + count - 16)));
  } else if (count > 0) {
    memcpy(target, source, (size_t)count);
  }
}

static int qat_im2col_portable = 0;
#endif

void qat_im2col_set_portable(int portable) {
#ifdef QAT_IM2COL_X86
  qat_im2col_portable = portable;
#else
  (void)portable;
#endif
}

/// Columns `begin ..< end` of output row `oy` of one kernel tap at `target` (column `begin`
/// first): the input bytes under the tap for the columns inside `first ..< last` (those whose
/// input column lies inside the image), `padding` elsewhere. For the few rows a column range cuts
/// (whole rows take the loop in `qat_im2col_u8`), so without vectors.
__attribute__((noinline)) static void partial_row(const uint8_t *channel, uint8_t padding,
                                                  const qat_depthwise_geometry *g, int oy, int ky, int x_offset,
                                                  int first, int last, int begin, int end, uint8_t *target) {
  const int iy = oy * g->stride_h + ky * g->dilation_h - g->pad_top;
  for (int ox = begin; ox < end; ox++) {
    const int inside = iy >= 0 && iy < g->in_h && ox >= first && ox < last;
    target[ox - begin] = inside ? channel[(ptrdiff_t)iy * g->in_w + x_offset + (ptrdiff_t)ox * g->stride_w] : padding;
  }
}

void qat_im2col_u8(const uint8_t *channel, uint8_t padding, const qat_depthwise_geometry *g, int first_column,
                   int last_column, uint8_t *rows, ptrdiff_t row_stride) {
#ifdef QAT_IM2COL_X86
  const int avx2 = !qat_im2col_portable && qat_cpu_has_avx2();
  const int stride2 = g->stride_w == 2 && avx2;
#else
  const int avx2 = 0, stride2 = 0;
#endif
  if (g->out_w <= 0 || last_column <= first_column) return;
  const int oy_first = first_column / g->out_w, oy_last = (last_column - 1) / g->out_w;
  for (int ky = 0; ky < g->kernel_h; ky++) {
    for (int kx = 0; kx < g->kernel_w; kx++) {
      uint8_t *row = rows + (ptrdiff_t)(ky * g->kernel_w + kx) * row_stride;
      const int x_offset = kx * g->dilation_w - g->pad_left;
      int first = 0;
      if (x_offset < 0) {
        first = (-x_offset + g->stride_w - 1) / g->stride_w;
        if (first > g->out_w) first = g->out_w;
      }
      int last = (g->in_w - x_offset + g->stride_w - 1) / g->stride_w;
      if (last > g->out_w) last = g->out_w;
      if (last < first) last = first;
      for (int oy = oy_first; oy <= oy_last; oy++) {
        const ptrdiff_t line = (ptrdiff_t)oy * g->out_w;
        if (line < first_column || line + g->out_w > last_column) {
          const int begin = line < first_column ? (int)(first_column - line) : 0;
          const int end = line + g->out_w > last_column ? (int)(last_column - line) : g->out_w;
          partial_row(channel, padding, g, oy, ky, x_offset, first, last, begin, end,
                      row + (line + begin - first_column));
          continue;
        }
        uint8_t *target = row + (line - first_column);
        const int iy = oy * g->stride_h + ky * g->dilation_h - g->pad_top;
        if (iy < 0 || iy >= g->in_h) {
          memset(target, padding, (size_t)g->out_w);
          continue;
        }
        const uint8_t *source = channel + (ptrdiff_t)iy * g->in_w + x_offset;
        for (int ox = 0; ox < first; ox++) target[ox] = padding;
        if (g->stride_w == 1) {
#ifdef QAT_IM2COL_X86
          if (avx2) copy_stride1_avx2(source, first, last, target);
          else memcpy(target + first, source + first, (size_t)(last - first));
#else
          (void)avx2;
          memcpy(target + first, source + first, (size_t)(last - first));
#endif
        } else if (stride2) {
#ifdef QAT_IM2COL_X86
          gather_stride2_avx2(source, first, last, target);
#endif
        } else {
          gather_portable(source, g->stride_w, first, last, target);
        }
        for (int ox = last; ox < g->out_w; ox++) target[ox] = padding;
      }
    }
  }
}
