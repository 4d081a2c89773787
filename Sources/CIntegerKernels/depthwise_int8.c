// Direct 2-D depthwise convolution of one 8-bit plane with exact int32 sums:
// `y[oy, ox] = sum_{ky, kx} (x[oy * sh + ky * dh - pt, ox * sw + kx * dw - pl] - x_zero) * (w[ky, kx] - w_zero)`,
// taps in the padding contributing zero. Every difference lies in [-255, 255] (an int16) and every
// product in 17 bits, so the sums are exact int32 additions (wrapping like the reference when a
// plane sums past 2^31, which needs over 33,000 taps) and any order of summation gives the same
// bits.
//
// The plane is first widened into `scratch` as `x - x_zero` in int16 with its padding written as
// zeros, so no tap needs a bounds check: a tap in the padding multiplies a zero. Rows are padded
// on the right for the vector loads (which never read past the scratch). Then:
// - stride 2 with dilation 1 (AVX2): the int16 row holds the pairs `(q[2 * ox + kx], q[2 * ox + kx + 1])`
//   of eight adjacent outputs side by side, so one 256-bit load multiplied by the broadcast weight
//   pair `(w[ky, kx], w[ky, kx + 1])` with vpmaddwd (two int16 products added into one int32, exact
//   here) adds two kernel columns into eight outputs; an odd last column is paired with a zero weight;
// - stride 1 with dilation 1 (AVX2): the even and the odd outputs are two such stride-2 problems
//   (loads from `q + start` and `q + start + 1`), their sums interleaved at the store;
// - stride 1 with a dilation (AVX2): the padded rows are rewritten as int32 pairs
//   `p[j] = (q[j], q[j + dw])`, multiplied the same way;
// - anything else, and the portable path: one tap at a time over the padded int16 plane.
// The AVX2 loops compute sixteen outputs per step (two vectors of eight); a last partial
// step is moved back to end at the row's last output (recomputing equal values), or, in rows
// narrower than one step, computed in a staging row and copied.
//
// With AVX512-VNNI the stride-1, dilation-1 case runs on zmm, 32 outputs per step (two vectors of
// sixteen), and vpdpwssd replaces vpmaddwd + vpaddd: it adds both int16 products of a pair to the
// int32 lane with int32 wrap-around (the non-saturating form), the same sum as the AVX2 pair. Its
// padded rows are laid out for that step (wider, for narrow planes); the other loops keep rows for
// the step of sixteen. The scratch is sized for the widest.
//
// Above those, on an AVX512-VNNI CPU (level QAT_DEPTHWISE_INT8_VNNI_BYTES, the default there),
// planes with stride_w 1 or 2, dilation_w 1 and every `w - w_zero` in [-128, 127] (the usual int8
// weights) skip the widened plane altogether: depthwise_int8_vnni.c multiplies the input bytes
// themselves with vpdpbusd (u8 x s8, four taps per int32 lane), reading padding as the byte
// `x_zero` through masked loads and taking `x_zero * sum w'` out of every output. Widening the
// plane cost about as much as the vpdpwssd arithmetic, and the bytes need half as many
// multiply-adds as the int16 pairs. The loops above remain for every other plane and as the
// lower levels.
#include "CIntegerKernels.h"
#include "cpu_features.h"
#include "depthwise_int8_vnni.h"

#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define QAT_DEPTHWISE_INT8_X86 1
#endif

/// Outputs computed per step of the AVX2 loops.
#define QAT_DEPTHWISE_INT8_STEP 16
/// Outputs computed per step of the AVX-512 loops (the widest; the scratch rows are padded to it).
#define QAT_DEPTHWISE_INT8_WIDE_STEP 32

/// Padded rows of the scratch plane: every input row an output row can reach, from `-pad_top`.
static ptrdiff_t padded_rows(const qat_depthwise_geometry *g) {
  return (ptrdiff_t)(g->out_h - 1) * g->stride_h + (ptrdiff_t)(g->kernel_h - 1) * g->dilation_h + 1;
}

/// Computed output columns per row for loops of `step` outputs: `out_w`, at least one step.
static int computed_columns(const qat_depthwise_geometry *g, int step) { return g->out_w > step ? g->out_w : step; }

/// int16 elements per padded row for loops of `step` outputs: every column a computed output
/// reaches, plus the partner column of the last tap (an odd kernel width pairs it with a zero
/// weight), rounded up to 16.
static ptrdiff_t padded_width(const qat_depthwise_geometry *g, int step) {
  const ptrdiff_t reach =
      (ptrdiff_t)(computed_columns(g, step) - 1) * g->stride_w + (ptrdiff_t)g->kernel_w * g->dilation_w;
  return (reach + 1 + 15) & ~(ptrdiff_t)15;
}

/// The parts of the scratch buffer, each 32-byte aligned.
typedef struct {
  int32_t *weights;    // w - w_zero per tap
  int32_t *pairs;      // weight pairs (AVX2), one per two taps of a kernel row
  ptrdiff_t *offsets;  // offset of each pair's first tap
  int16_t *q;          // the padded int16 plane
  int32_t *p;          // the int32 pair plane (stride 1)
  int32_t *staging;    // one row of outputs, for rows narrower than a step
  ptrdiff_t width;     // int16 elements per padded row, for the step of the loops that run
} scratch_parts;

/// `pointer` rounded up to 32 bytes.
static uintptr_t aligned(uintptr_t pointer) { return (pointer + 31) & ~(uintptr_t)31; }

/// Lays the parts out from `base` (which may be 0 to measure), sized for the widest step (any
/// narrower row width fits), and returns the end address; `width` is left to the caller.
static uintptr_t layout(uintptr_t base, const qat_depthwise_geometry *g, scratch_parts *parts) {
  const size_t taps = (size_t)g->kernel_h * (size_t)g->kernel_w;
  const size_t plane = (size_t)padded_rows(g) * (size_t)padded_width(g, QAT_DEPTHWISE_INT8_WIDE_STEP);
  uintptr_t next = aligned(base);
  parts->weights = (int32_t *)next;
  next = aligned(next + taps * sizeof(int32_t));
  parts->pairs = (int32_t *)next;
  next = aligned(next + taps * sizeof(int32_t));
  parts->offsets = (ptrdiff_t *)next;
  next = aligned(next + taps * sizeof(ptrdiff_t));
  parts->q = (int16_t *)next;
  next = aligned(next + plane * sizeof(int16_t));
  parts->p = (int32_t *)next;
  next = aligned(next + plane * sizeof(int32_t));
  parts->staging = (int32_t *)next;
  return next + (size_t)computed_columns(g, QAT_DEPTHWISE_INT8_WIDE_STEP) * sizeof(int32_t);
}

size_t qat_depthwise_int8_scratch_bytes(const qat_depthwise_geometry *g) {
  if (g->out_h <= 0 || g->out_w <= 0) return 0;
  scratch_parts parts;
  return (size_t)layout(0, g, &parts) + 32;  // + 32: the slack to align an arbitrary base
}

/// Writes the padded int16 plane `x - x_zero` (zeros in the padding, rows of `width`) into `q`.
static inline void widen_plane(const void *x, int x_signed, int32_t x_zero, const qat_depthwise_geometry *g,
                               ptrdiff_t width, int16_t *q) {
  const ptrdiff_t rows = padded_rows(g);
  // Columns [left, right) of a padded row hold input columns [first, first + right - left).
  ptrdiff_t left = g->pad_left > 0 ? g->pad_left : 0;
  const ptrdiff_t first = g->pad_left > 0 ? 0 : -(ptrdiff_t)g->pad_left;
  ptrdiff_t right = left + (g->in_w - first);
  if (left > width) left = width;
  if (right > width) right = width;
  for (ptrdiff_t r = 0; r < rows; r++) {
    int16_t *target = q + r * width;
    const ptrdiff_t iy = r - g->pad_top;
    if (iy < 0 || iy >= g->in_h || right <= left) {
      memset(target, 0, (size_t)width * sizeof(int16_t));
      continue;
    }
    memset(target, 0, (size_t)left * sizeof(int16_t));
    if (x_signed) {
      const int8_t *source = (const int8_t *)x + iy * g->in_w + first;
      for (ptrdiff_t c = left; c < right; c++) target[c] = (int16_t)((int32_t)source[c - left] - x_zero);
    } else {
      const uint8_t *source = (const uint8_t *)x + iy * g->in_w + first;
      for (ptrdiff_t c = left; c < right; c++) target[c] = (int16_t)((int32_t)source[c - left] - x_zero);
    }
    memset(target + right, 0, (size_t)(width - right) * sizeof(int16_t));
  }
}

/// `w[tap] - w_zero` for every tap, as int32.
static void weight_values(const void *w, int w_signed, int32_t w_zero, int taps, int32_t *values) {
  for (int tap = 0; tap < taps; tap++)
    values[tap] = (w_signed ? (int32_t)((const int8_t *)w)[tap] : (int32_t)((const uint8_t *)w)[tap]) - w_zero;
}

/// Every output from the padded plane, one tap at a time (int32 wrap through uint32).
static void plane_portable(const int16_t *q, ptrdiff_t width, const int32_t *weights, int32_t *y,
                           const qat_depthwise_geometry *g) {
  for (int oy = 0; oy < g->out_h; oy++) {
    int32_t *target = y + (ptrdiff_t)oy * g->out_w;
    for (int ox = 0; ox < g->out_w; ox++) {
      uint32_t sum = 0;
      for (int ky = 0; ky < g->kernel_h; ky++) {
        const int16_t *row = q + ((ptrdiff_t)oy * g->stride_h + (ptrdiff_t)ky * g->dilation_h) * width;
        for (int kx = 0; kx < g->kernel_w; kx++) {
          const int32_t product = weights[ky * g->kernel_w + kx] * (int32_t)row[ox * g->stride_w + kx * g->dilation_w];
          sum += (uint32_t)product;
        }
      }
      target[ox] = (int32_t)sum;
    }
  }
}

#ifdef QAT_DEPTHWISE_INT8_X86
/// Weight pairs `(w[ky, kx], w[ky, kx + 1])` packed as int32 (low half first) and the offset of
/// each pair's first tap in a padded plane of row width `width`.
static int weight_pairs(const int32_t *weights, const qat_depthwise_geometry *g, ptrdiff_t width, int32_t *pairs,
                        ptrdiff_t *offsets) {
  int count = 0;
  for (int ky = 0; ky < g->kernel_h; ky++) {
    for (int kx = 0; kx < g->kernel_w; kx += 2) {
      const int32_t low = weights[ky * g->kernel_w + kx];
      const int32_t high = kx + 1 < g->kernel_w ? weights[ky * g->kernel_w + kx + 1] : 0;
      pairs[count] = (int32_t)(((uint32_t)(uint16_t)(int16_t)low) | ((uint32_t)(uint16_t)(int16_t)high << 16));
      offsets[count] = (ptrdiff_t)ky * g->dilation_h * width + (ptrdiff_t)kx * g->dilation_w;
      count++;
    }
  }
  return count;
}

/// Stores eight or sixteen results at `target[ox...]`, through `staging` when the row is
/// narrower than the step.
static inline void finish_row(int32_t *target, const int32_t *staging, int out_w) {
  if (out_w < QAT_DEPTHWISE_INT8_STEP) memcpy(target, staging, (size_t)out_w * sizeof(int32_t));
}

/// Stride 1: the pair plane `p[r][j] = (q[r][j], q[r][j + dw])`, then sixteen outputs per step.
__attribute__((target("avx2"))) static void plane_stride1_avx2(const scratch_parts *s, int32_t *y,
                                                                const qat_depthwise_geometry *g) {
  const int16_t *q = s->q;
  int32_t *p = s->p;
  int32_t *staging = s->staging;
  const ptrdiff_t rows = padded_rows(g);
  const ptrdiff_t width = s->width;
  const ptrdiff_t pair_width = width - g->dilation_w;  // pairs whose partner is inside the row
  for (ptrdiff_t r = 0; r < rows; r++) {
    const int16_t *source = q + r * width;
    int32_t *target = p + r * width;
    ptrdiff_t j = 0;
    for (; j + 8 <= pair_width; j += 8) {
      const __m128i a = _mm_loadu_si128((const __m128i *)(source + j));
      const __m128i b = _mm_loadu_si128((const __m128i *)(source + j + g->dilation_w));
      _mm256_storeu_si256((__m256i *)(target + j),
                          _mm256_set_m128i(_mm_unpackhi_epi16(a, b), _mm_unpacklo_epi16(a, b)));
    }
    for (; j < pair_width; j++)
      target[j] = (int32_t)((uint32_t)(uint16_t)source[j] | ((uint32_t)(uint16_t)source[j + g->dilation_w] << 16));
  }
  int32_t *pairs = s->pairs;
  const ptrdiff_t *offsets = s->offsets;
  const int count = weight_pairs(s->weights, g, width, s->pairs, s->offsets);
  const int out_w = g->out_w;
  for (int oy = 0; oy < g->out_h; oy++) {
    const int32_t *row = p + (ptrdiff_t)oy * g->stride_h * width;
    int32_t *target = out_w < QAT_DEPTHWISE_INT8_STEP ? staging : y + (ptrdiff_t)oy * out_w;
    const int columns = computed_columns(g, QAT_DEPTHWISE_INT8_STEP);
    for (int ox = 0; ox < columns; ox += QAT_DEPTHWISE_INT8_STEP) {
      const int start = ox + QAT_DEPTHWISE_INT8_STEP <= columns ? ox : columns - QAT_DEPTHWISE_INT8_STEP;
      __m256i s0 = _mm256_setzero_si256(), s1 = _mm256_setzero_si256();
      const int32_t *base = row + start;
      for (int pair = 0; pair < count; pair++) {
        const __m256i weight = _mm256_set1_epi32(pairs[pair]);
        const int32_t *source = base + offsets[pair];
        s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)source), weight));
        s1 = _mm256_add_epi32(s1, _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)(source + 8)), weight));
      }
      _mm256_storeu_si256((__m256i *)(target + start), s0);
      _mm256_storeu_si256((__m256i *)(target + start + 8), s1);
    }
    finish_row(y + (ptrdiff_t)oy * out_w, staging, out_w);
  }
}

/// Sixteen outputs per step straight from the int16 rows, without a pair plane (dilation 1).
/// Stride 2 (`interleaved` 0): output `start + i` reads the pairs `(q[2 (start + i) + kx],
/// q[2 (start + i) + kx + 1])`, as two vectors of eight. Stride 1 (`interleaved` 1), as two
/// interleaved stride-2 problems over the same rows: the even outputs `start + 2i` read the pairs
/// `(q[start + 2i + kx], q[start + 2i + kx + 1])` from `q + start`, the odd ones the same from
/// `q + start + 1`; each step's eight even and eight odd sums are interleaved into sixteen
/// consecutive outputs. `interleaved` is a constant where inlined.
__attribute__((target("avx2"), always_inline)) static inline void plane_pair_rows_avx2(
    const scratch_parts *s, int32_t *y, const qat_depthwise_geometry *g, int interleaved) {
  const int16_t *q = s->q;
  int32_t *staging = s->staging;
  const ptrdiff_t width = s->width;
  const int32_t *pairs = s->pairs;
  const ptrdiff_t *offsets = s->offsets;
  const int count = weight_pairs(s->weights, g, width, s->pairs, s->offsets);
  const int out_w = g->out_w;
  const int columns = computed_columns(g, QAT_DEPTHWISE_INT8_STEP);
  // Where the second vector's pairs start after the first's: the next output (stride 1,
  // interleaved) or eight outputs on (stride 2).
  const ptrdiff_t second = interleaved ? 1 : 16;
  for (int oy = 0; oy < g->out_h; oy++) {
    const int16_t *row = q + (ptrdiff_t)oy * g->stride_h * width;
    int32_t *target = out_w < QAT_DEPTHWISE_INT8_STEP ? staging : y + (ptrdiff_t)oy * out_w;
    for (int ox = 0; ox < columns; ox += QAT_DEPTHWISE_INT8_STEP) {
      const int start = ox + QAT_DEPTHWISE_INT8_STEP <= columns ? ox : columns - QAT_DEPTHWISE_INT8_STEP;
      __m256i s0 = _mm256_setzero_si256(), s1 = _mm256_setzero_si256();
      const int16_t *base = row + (interleaved ? 1 : 2) * (ptrdiff_t)start;
      for (int pair = 0; pair < count; pair++) {
        const __m256i weight = _mm256_set1_epi32(pairs[pair]);
        const int16_t *source = base + offsets[pair];
        s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)source), weight));
        s1 = _mm256_add_epi32(s1, _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)(source + second)), weight));
      }
      if (interleaved) {
        // [e0 o0 e1 o1 | e4 o4 e5 o5] and [e2 o2 e3 o3 | e6 o6 e7 o7], then their halves in order.
        const __m256i low = _mm256_unpacklo_epi32(s0, s1), high = _mm256_unpackhi_epi32(s0, s1);
        s0 = _mm256_permute2x128_si256(low, high, 0x20);
        s1 = _mm256_permute2x128_si256(low, high, 0x31);
      }
      _mm256_storeu_si256((__m256i *)(target + start), s0);
      _mm256_storeu_si256((__m256i *)(target + start + 8), s1);
    }
    finish_row(y + (ptrdiff_t)oy * out_w, staging, out_w);
  }
}

/// Stride 2, dilation 1 (`plane_pair_rows_avx2`).
__attribute__((target("avx2"))) static void plane_stride2_avx2(const scratch_parts *s, int32_t *y,
                                                                const qat_depthwise_geometry *g) {
  plane_pair_rows_avx2(s, y, g, 0);
}

/// Stride 1, dilation 1, interleaved (`plane_pair_rows_avx2`).
__attribute__((target("avx2"))) static void plane_stride1_interleaved_avx2(const scratch_parts *s, int32_t *y,
                                                                            const qat_depthwise_geometry *g) {
  plane_pair_rows_avx2(s, y, g, 1);
}

/// `plane_pair_rows_avx2` on zmm with vpdpwssd: 32 outputs per step, two vectors of sixteen (run
/// at stride 1 only: at stride 2 it measured no faster than the AVX2 loop on Zen 5).
/// Stride 2: the second vector's pairs start sixteen outputs (32 int16) after the first's. Stride
/// 1: the first vector holds the even outputs `start + 2i` (pairs from `q + start`), the second
/// the odd ones (from `q + start + 1`), interleaved at the store by vpermt2d. The last load of a
/// row ends at its column `2 * columns + kernel_w - 2` (stride 2) or `columns + kernel_w - 1`
/// (stride 1), inside the padded row. A row narrower than a step is stored through masks.
__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni"), always_inline)) static inline void
plane_pair_rows_avx512(const scratch_parts *s, int32_t *y, const qat_depthwise_geometry *g, int interleaved) {
  const int16_t *q = s->q;
  const ptrdiff_t width = s->width;
  const int32_t *pairs = s->pairs;
  const ptrdiff_t *offsets = s->offsets;
  const int count = weight_pairs(s->weights, g, width, s->pairs, s->offsets);
  const int out_w = g->out_w;
  const int columns = computed_columns(g, QAT_DEPTHWISE_INT8_WIDE_STEP);
  const ptrdiff_t second = interleaved ? 1 : 32;
  // Lanes of the two vectors (second one's from 16) in output order: e0 o0 e1 o1 ... .
  const __m512i first_half = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const __m512i second_half = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  // Rows narrower than a step store their outputs through masks (no staging copy).
  const __mmask16 mask0 = out_w >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << out_w) - 1);
  const __mmask16 mask1 = out_w >= 32 ? (__mmask16)0xFFFF : out_w > 16 ? (__mmask16)((1u << (out_w - 16)) - 1) : 0;
  for (int oy = 0; oy < g->out_h; oy++) {
    const int16_t *row = q + (ptrdiff_t)oy * g->stride_h * width;
    int32_t *target = y + (ptrdiff_t)oy * out_w;
    for (int ox = 0; ox < columns; ox += QAT_DEPTHWISE_INT8_WIDE_STEP) {
      const int start = ox + QAT_DEPTHWISE_INT8_WIDE_STEP <= columns ? ox : columns - QAT_DEPTHWISE_INT8_WIDE_STEP;
      __m512i s0 = _mm512_setzero_si512(), s1 = _mm512_setzero_si512();
      const int16_t *base = row + (interleaved ? 1 : 2) * (ptrdiff_t)start;
      for (int pair = 0; pair < count; pair++) {
        const __m512i weight = _mm512_set1_epi32(pairs[pair]);
        const int16_t *source = base + offsets[pair];
        s0 = _mm512_dpwssd_epi32(s0, _mm512_loadu_si512((const void *)source), weight);
        s1 = _mm512_dpwssd_epi32(s1, _mm512_loadu_si512((const void *)(source + second)), weight);
      }
      if (interleaved) {
        const __m512i low = _mm512_permutex2var_epi32(s0, first_half, s1);
        s1 = _mm512_permutex2var_epi32(s0, second_half, s1);
        s0 = low;
      }
      _mm512_mask_storeu_epi32(target + start, mask0, s0);
      _mm512_mask_storeu_epi32(target + start + 16, mask1, s1);
    }
  }
}

/// Stride 1, dilation 1, interleaved (`plane_pair_rows_avx512`).
__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni"))) static void plane_stride1_interleaved_avx512(
    const scratch_parts *s, int32_t *y, const qat_depthwise_geometry *g) {
  plane_pair_rows_avx512(s, y, g, 1);
}

/// Sixteen bytes at `source` widened to int16 minus the zero point (`zero16`), stored at `target`.
__attribute__((target("avx2"))) static inline void widen16(const void *source, int x_signed, __m256i zero16,
                                                            int16_t *target) {
  const __m128i bytes = _mm_loadu_si128((const __m128i *)source);
  const __m256i wide = x_signed ? _mm256_cvtepi8_epi16(bytes) : _mm256_cvtepu8_epi16(bytes);
  _mm256_storeu_si256((__m256i *)target, _mm256_sub_epi16(wide, zero16));
}

/// The in-image columns [left, right) (at least 16) of one padded row from `source` (its column
/// `left`), sixteen at a time, a last partial step moved back to end at `right` (rewriting equal
/// values); every load stays inside the input row. `x_signed` is a constant where inlined.
__attribute__((target("avx2"), always_inline)) static inline void widen_columns(const uint8_t *source, int x_signed,
                                                                               __m256i zero16, ptrdiff_t left,
                                                                               ptrdiff_t right, int16_t *target) {
  ptrdiff_t c = left;
  for (; c + 16 <= right; c += 16) widen16(source + (c - left), x_signed, zero16, target + c);
  if (c < right) widen16(source + (right - 16 - left), x_signed, zero16, target + right - 16);
}

/// `widen_plane` with explicit AVX2 stores: rows outside the image are zeroed; in each other
/// padded row (a multiple of 16 elements) the 16-element blocks that hold padding are zeroed
/// first, then its in-image columns are widened over them (`widen_columns`); rows narrower than
/// 16 in-image columns take `widen_plane`.
__attribute__((target("avx2"))) static void widen_plane_avx2(const void *x, int x_signed, int32_t x_zero,
                                                              const qat_depthwise_geometry *g, ptrdiff_t width,
                                                              int16_t *q) {
  const ptrdiff_t rows = padded_rows(g);
  const ptrdiff_t left = g->pad_left > 0 ? g->pad_left : 0;
  const ptrdiff_t first = g->pad_left > 0 ? 0 : -(ptrdiff_t)g->pad_left;
  const ptrdiff_t right = left + (g->in_w - first) < width ? left + (g->in_w - first) : width;
  if (right - left < 16 || (width & 15) != 0) {
    widen_plane(x, x_signed, x_zero, g, width, q);
    return;
  }
  const __m256i zero16 = _mm256_set1_epi16((int16_t)x_zero);
  const __m256i zeros = _mm256_setzero_si256();
  const uint8_t *bytes = (const uint8_t *)x;
  for (ptrdiff_t r = 0; r < rows; r++) {
    int16_t *target = q + r * width;
    const ptrdiff_t iy = r - g->pad_top;
    if (iy < 0 || iy >= g->in_h) {
      memset(target, 0, (size_t)width * sizeof(int16_t));
      continue;
    }
    // The first block of each side stored on its own: a loop alone would become a call to memset.
    if (left > 0) {
      _mm256_storeu_si256((__m256i *)target, zeros);
      for (ptrdiff_t c = 16; c < left; c += 16) _mm256_storeu_si256((__m256i *)(target + c), zeros);
    }
    const ptrdiff_t tail = right & ~(ptrdiff_t)15;
    if (tail < width) {
      _mm256_storeu_si256((__m256i *)(target + tail), zeros);
      for (ptrdiff_t c = tail + 16; c < width; c += 16) _mm256_storeu_si256((__m256i *)(target + c), zeros);
    }
    const uint8_t *source = bytes + iy * g->in_w + first;  // column `left` of the padded row
    if (x_signed) widen_columns(source, 1, zero16, left, right, target);
    else widen_columns(source, 0, zero16, left, right, target);
  }
}

#endif

/// The level forced by the test hooks, or -1: the best this CPU runs.
static int qat_depthwise_int8_forced = -1;

/// The level the plane kernel runs at (QAT_U8S8_* or QAT_DEPTHWISE_INT8_VNNI_BYTES; AVX-VNNI
/// runs the AVX2 loops here).
static int depthwise_int8_level(void) {
  int best = QAT_U8S8_PORTABLE;
#ifdef QAT_DEPTHWISE_INT8_X86
  if (qat_cpu_has_avx512_vnni()) best = QAT_DEPTHWISE_INT8_VNNI_BYTES;
  else if (qat_cpu_has_avx2()) best = QAT_U8S8_AVX2;
#endif
  return qat_depthwise_int8_forced >= 0 && qat_depthwise_int8_forced < best ? qat_depthwise_int8_forced : best;
}

void qat_depthwise_int8_set_portable(int portable) { qat_depthwise_int8_forced = portable ? QAT_U8S8_PORTABLE : -1; }

int qat_depthwise_int8_set_level(int level) {
  qat_depthwise_int8_forced = level;
  return depthwise_int8_level();
}

void qat_depthwise_plane_int8(const void *x, int x_signed, int32_t x_zero, const void *w, int w_signed,
                              int32_t w_zero, int32_t *y, const qat_depthwise_geometry *g, void *scratch) {
  if (g->out_h <= 0 || g->out_w <= 0) return;
  scratch_parts parts;
  layout((uintptr_t)scratch, g, &parts);
  weight_values(w, w_signed, w_zero, g->kernel_h * g->kernel_w, parts.weights);
#ifdef QAT_DEPTHWISE_INT8_X86
  const int level = depthwise_int8_level();
  // The byte path needs no padded plane; `pairs` serves as its scratch.
  if (level >= QAT_DEPTHWISE_INT8_VNNI_BYTES &&
      qat_depthwise_plane_int8_vnni_bytes(x, x_signed, x_zero, parts.weights, y, g, parts.pairs))
    return;
  if (level >= QAT_U8S8_AVX2) {
    // The zmm loops only at stride 1: at stride 2 their wider rows cost more to widen than the
    // wider vectors save (measured on Zen 5).
    const int wide = level >= QAT_U8S8_AVX512_VNNI && g->stride_w == 1 && g->dilation_w == 1;
    parts.width = padded_width(g, wide ? QAT_DEPTHWISE_INT8_WIDE_STEP : QAT_DEPTHWISE_INT8_STEP);
    widen_plane_avx2(x, x_signed, x_zero, g, parts.width, parts.q);
    if (wide) {
      plane_stride1_interleaved_avx512(&parts, y, g);
      return;
    }
    if (g->stride_w == 1 && g->dilation_w == 1) {
      plane_stride1_interleaved_avx2(&parts, y, g);
      return;
    }
    if (g->stride_w == 1) {
      plane_stride1_avx2(&parts, y, g);
      return;
    }
    if (g->stride_w == 2 && g->dilation_w == 1) {
      plane_stride2_avx2(&parts, y, g);
      return;
    }
    plane_portable(parts.q, parts.width, parts.weights, y, g);
    return;
  }
#endif
  parts.width = padded_width(g, QAT_DEPTHWISE_INT8_STEP);
  widen_plane(x, x_signed, x_zero, g, parts.width, parts.q);
  plane_portable(parts.q, parts.width, parts.weights, y, g);
}
