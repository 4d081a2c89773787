// The byte path of the 8-bit depthwise plane (AVX512-VNNI): the sums of depthwise_int8.c,
// `y[oy, ox] = sum_{ky, kx} (x[iy, ix] - x_zero) * w'[ky, kx]` with `w' = w - w_zero` and the taps
// in the padding contributing zero, computed by vpdpbusd straight from the input bytes, with no
// padded or widened copy of the plane.
//
// vpdpbusd multiplies four unsigned bytes by four signed bytes and adds the four products to an
// int32 lane. It needs weights in [-128, 127] (checked per plane) and unsigned inputs, so the
// zero point comes out of the product instead: `sum (x - x_zero) w' = sum x w' - x_zero * sum w'`.
// Every tap in the padding is read as the byte `x_zero`, so that it adds `x_zero * w'` to the
// first sum and the correction takes it out again; then every output starts from the same
// `-x_zero * sum w'` over the whole kernel. Padding columns come from masked loads with `x_zero`
// in the masked-out bytes (AVX-512 masked loads never touch those, so a load may start before or
// end after its row, or the plane); a kernel row in the vertical padding is the `x_zero` vector
// itself, not loaded. int8 inputs are made unsigned by flipping their top bit (`x + 128`, and
// `x_zero + 128` likewise), which leaves every difference unchanged. Every product, sum and
// correction is exact modulo 2^32 and vpdpbusd adds with wrap-around (the non-saturating form;
// vpdpbusds would clamp), so the result equals the reference bit for bit, wrap included.
//
// Kernel row `ky` is cut into groups of four columns `4 g .. 4 g + 3` (missing ones get a zero
// weight), each group's weights broadcast as the four bytes of an int32. A 64-byte load at
// input column `c` gives lane `j` the bytes `c + 4 j .. c + 4 j + 3`, a whole group of taps for
// the output whose window starts at `c + 4 j`:
// - stride 1: four loads, at `c0 + r + 4 g` for phase `r` = 0..3, give lane `j` of accumulator
//   `r` the output `ox0 + 4 j + r`, 64 outputs per step; at the end a 4 x 4 transpose of the
//   int32 lanes within each 128-bit lane, then of the 128-bit lanes, puts them in order;
// - stride 2: two loads, at `c0 + 2 s + 4 g` for `s` = 0, 1, give lane `j` of accumulator `s`
//   the output `ox0 + 2 j + s`, 32 outputs per step, interleaved at the end;
// with `c0 = ox0 * stride - pad_left`. So one load and one vpdpbusd add a group of four taps into
// sixteen outputs, and the shuffles are paid once per step, not per tap. The load masks depend
// only on the step's columns, so they are computed once per step for every output row; a row's
// last partial step is stored through masks.
//
// Measured on Zen 5 and left out: packing two or four narrow output rows into one step (through
// two masked loads per vector, or through a padded byte copy laid out for it) was no faster.
#include "depthwise_int8_vnni.h"
#include "CIntegerKernels.h"

#include <stddef.h>
#include <stdint.h>

/// Groups of four columns per kernel row at most (kernel_w <= 16).
#define QAT_VNNI_BYTES_MAX_GROUPS 4

/// 1 when the byte path takes this geometry and input zero point (the weights aside), else 0.
static int accepts_geometry(int x_signed, int32_t x_zero, const qat_depthwise_geometry *g) {
  if ((g->stride_w != 1 && g->stride_w != 2) || g->dilation_w != 1 || g->kernel_w < 1 || g->kernel_h < 1 ||
      g->kernel_w > 4 * QAT_VNNI_BYTES_MAX_GROUPS)
    return 0;
  return x_signed ? x_zero >= -128 && x_zero <= 127 : x_zero >= 0 && x_zero <= 255;
}

int qat_depthwise_int8_bytes_accepts(int x_signed, int32_t x_zero, const void *w, int w_signed, int32_t w_zero,
                                     const qat_depthwise_geometry *g) {
  if (!accepts_geometry(x_signed, x_zero, g)) return 0;
  for (int tap = 0; tap < g->kernel_h * g->kernel_w; tap++) {
    const int32_t value = (w_signed ? (int32_t)((const int8_t *)w)[tap] : (int32_t)((const uint8_t *)w)[tap]) - w_zero;
    if (value < -128 || value > 127) return 0;
  }
  return 1;
}

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

/// The bits `k` < 64 whose input column `c + k` lies in [0, in_w).
static inline uint64_t column_mask(ptrdiff_t c, ptrdiff_t in_w) {
  const ptrdiff_t low = c < 0 ? -c : 0;
  const ptrdiff_t high = in_w - c < 64 ? in_w - c : 64;
  if (high <= low) return 0;
  const uint64_t below_high = high == 64 ? ~(uint64_t)0 : ((uint64_t)1 << high) - 1;
  return below_high & ~(((uint64_t)1 << low) - 1);  // low < high <= 64
}

/// `ceil(a / b)` for b > 0, clamped to [0, limit].
static inline ptrdiff_t ceiling_quotient(ptrdiff_t a, ptrdiff_t b, ptrdiff_t limit) {
  const ptrdiff_t q = a <= 0 ? 0 : (a + b - 1) / b;
  return q < limit ? q : limit;
}

/// The first `count` of 16 lanes (all for 16 or more).
static inline __mmask16 lane_mask(ptrdiff_t count) {
  return count >= 16 ? (__mmask16)0xFFFF : count <= 0 ? (__mmask16)0 : (__mmask16)((1u << count) - 1);
}

/// Adds the kernel rows of one step into the accumulators `a0 .. a3` (see `plane_bytes`): from
/// `base` (column c0 of input row `top_row`), `down` bytes per kernel row; `checked` (a constant
/// where inlined) reads kernel rows outside [0, in_h) as fill instead of loading them.
__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni"), always_inline)) static inline void accumulate(
    uintptr_t base, uintptr_t down, int checked, ptrdiff_t top_row, ptrdiff_t in_h, ptrdiff_t dilation_h,
    const uint64_t *masks, __m512i fills, __m512i top, int x_signed, int stride, int groups_per_row,
    const int32_t *groups, int group_count, ptrdiff_t kernel_h, __m512i *a0, __m512i *a1, __m512i *a2,
    __m512i *a3) {
  const int phases = 4 / stride;
  for (ptrdiff_t ky = 0; ky < kernel_h; ky++, base += down) {
    const ptrdiff_t iy = top_row + ky * dilation_h;
    const int inside = !checked || (iy >= 0 && iy < in_h);
    const int32_t *weights = groups + ky * group_count;
    for (int group = 0; group < groups_per_row; group++) {
      const __m512i w = _mm512_set1_epi32(weights[group]);
      for (int phase = 0; phase < phases; phase++) {
        const int l = group * phases + phase;
        __m512i v = inside ? _mm512_mask_loadu_epi8(fills, masks[l], (const void *)(base + (uintptr_t)(stride * l)))
                           : fills;
        if (x_signed) v = _mm512_xor_si512(v, top);
        if (phase == 0) *a0 = _mm512_dpbusd_epi32(*a0, v, w);
        else if (phase == 1) *a1 = _mm512_dpbusd_epi32(*a1, v, w);
        else if (phase == 2) *a2 = _mm512_dpbusd_epi32(*a2, v, w);
        else *a3 = _mm512_dpbusd_epi32(*a3, v, w);
      }
    }
  }
}

/// The plane at `stride` (1 or 2) with `x_signed` and `single` (1: kernel_w <= 4, one group per
/// kernel row) as described above, all constants where inlined. `groups` holds each kernel row's
/// groups of four weight bytes, `correction` the `x_zero' * sum w'` of the whole kernel (mod
/// 2^32) and `fill` the padding byte as stored (before the top bit of an int8 input is flipped).
__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni"), always_inline)) static inline void plane_bytes(
    const uint8_t *x, int x_signed, int stride, int single, uint8_t fill, const int32_t *groups, uint32_t correction,
    int group_count, int32_t *y, const qat_depthwise_geometry *shape) {
  // A copy the stores to `y` cannot alias, so its fields stay in registers.
  const qat_depthwise_geometry geometry = *shape;
  const qat_depthwise_geometry *g = &geometry;
  const int phases = 4 / stride;                             // accumulators per step
  const int step = 16 * phases;                              // outputs per step
  const int groups_per_row = single ? 1 : group_count;
  const int loads = phases * groups_per_row;                 // loads per kernel row and step
  const __m512i fills = _mm512_set1_epi8((char)fill);
  const __m512i top = _mm512_set1_epi8((char)0x80);
  const __m512i start = _mm512_set1_epi32((int32_t)(0u - correction));
  const ptrdiff_t in_w = g->in_w, in_h = g->in_h, out_w = g->out_w, out_h = g->out_h, kernel_h = g->kernel_h;
  const ptrdiff_t stride_h = g->stride_h, dilation_h = g->dilation_h, pad_top = g->pad_top;
  // Output rows [first, last) read only kernel rows inside the image: `oy * stride_h >= pad_top`
  // and `oy * stride_h - pad_top + (kernel_h - 1) * dilation_h < in_h`.
  const ptrdiff_t first = ceiling_quotient(pad_top, stride_h, out_h);
  ptrdiff_t last = ceiling_quotient(in_h + pad_top - (kernel_h - 1) * dilation_h, stride_h, out_h);
  if (last < first) last = first;
  uint64_t masks[4 * QAT_VNNI_BYTES_MAX_GROUPS];
  for (ptrdiff_t ox0 = 0; ox0 < out_w; ox0 += step) {
    const ptrdiff_t c0 = ox0 * stride - g->pad_left;
    // Load `l` (phase `l % phases`, group `l / phases`) starts at column `c0 + stride * l`.
    for (int l = 0; l < loads; l++) masks[l] = column_mask(c0 + (ptrdiff_t)stride * l, in_w);
    __mmask16 stores[4];
    for (int q = 0; q < phases; q++) stores[q] = lane_mask(out_w - ox0 - 16 * q);
    for (ptrdiff_t oy = 0; oy < out_h; oy++) {
      __m512i a0 = start, a1 = start, a2 = start, a3 = start;
      const ptrdiff_t top_row = oy * stride_h - pad_top;
      // Column c0 of input row `top_row`, perhaps outside the image: only masked-in bytes are
      // read, and kernel rows outside the image are not read at all.
      uintptr_t base = (uintptr_t)x + (uintptr_t)(top_row * in_w + c0);
      const uintptr_t down = (uintptr_t)(dilation_h * in_w);
      // Most rows read only kernel rows inside the image (no checks); in the others a kernel row
      // in the vertical padding reads as fill.
      if (oy >= first && oy < last)
        accumulate(base, down, 0, top_row, in_h, dilation_h, masks, fills, top, x_signed, stride, groups_per_row,
                   groups, group_count, kernel_h, &a0, &a1, &a2, &a3);
      else
        accumulate(base, down, 1, top_row, in_h, dilation_h, masks, fills, top, x_signed, stride, groups_per_row,
                   groups, group_count, kernel_h, &a0, &a1, &a2, &a3);
      int32_t *target = y + oy * out_w + ox0;
      if (stride == 1) {
        // Lane j of a_r is output 4 j + r of the step. Within each 128-bit lane L, transpose the
        // 4 x 4 int32: u_k lane L = outputs 16 L + 4 k .. 16 L + 4 k + 3.
        const __m512i t0 = _mm512_unpacklo_epi32(a0, a1), t1 = _mm512_unpackhi_epi32(a0, a1);
        const __m512i t2 = _mm512_unpacklo_epi32(a2, a3), t3 = _mm512_unpackhi_epi32(a2, a3);
        const __m512i u0 = _mm512_unpacklo_epi64(t0, t2), u1 = _mm512_unpackhi_epi64(t0, t2);
        const __m512i u2 = _mm512_unpacklo_epi64(t1, t3), u3 = _mm512_unpackhi_epi64(t1, t3);
        // Then the 128-bit lanes: output block q = (u0, u1, u2, u3) lane q.
        const __m512i p01 = _mm512_shuffle_i32x4(u0, u1, 0x44), p23 = _mm512_shuffle_i32x4(u2, u3, 0x44);
        const __m512i q01 = _mm512_shuffle_i32x4(u0, u1, 0xEE), q23 = _mm512_shuffle_i32x4(u2, u3, 0xEE);
        _mm512_mask_storeu_epi32(target, stores[0], _mm512_shuffle_i32x4(p01, p23, 0x88));
        _mm512_mask_storeu_epi32(target + 16, stores[1], _mm512_shuffle_i32x4(p01, p23, 0xDD));
        _mm512_mask_storeu_epi32(target + 32, stores[2], _mm512_shuffle_i32x4(q01, q23, 0x88));
        _mm512_mask_storeu_epi32(target + 48, stores[3], _mm512_shuffle_i32x4(q01, q23, 0xDD));
      } else {
        // Lane j of a_s is output 2 j + s of the step.
        const __m512i even = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
        const __m512i odd = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
        _mm512_mask_storeu_epi32(target, stores[0], _mm512_permutex2var_epi32(a0, even, a1));
        _mm512_mask_storeu_epi32(target + 16, stores[1], _mm512_permutex2var_epi32(a0, odd, a1));
      }
    }
  }
}

/// One specialization of `plane_bytes` per sign, stride and group count.
#define QAT_VNNI_BYTES_PLANE(name, x_signed, stride, single)                                                    \
  __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni"))) static void name(                            \
      const uint8_t *x, uint8_t fill, const int32_t *groups, uint32_t correction, int group_count, int32_t *y, \
      const qat_depthwise_geometry *g) {                                                                        \
    plane_bytes(x, x_signed, stride, single, fill, groups, correction, group_count, y, g);                     \
  }

QAT_VNNI_BYTES_PLANE(plane_u8_stride1, 0, 1, 1)
QAT_VNNI_BYTES_PLANE(plane_u8_stride2, 0, 2, 1)
QAT_VNNI_BYTES_PLANE(plane_s8_stride1, 1, 1, 1)
QAT_VNNI_BYTES_PLANE(plane_s8_stride2, 1, 2, 1)
QAT_VNNI_BYTES_PLANE(plane_u8_stride1_groups, 0, 1, 0)
QAT_VNNI_BYTES_PLANE(plane_u8_stride2_groups, 0, 2, 0)
QAT_VNNI_BYTES_PLANE(plane_s8_stride1_groups, 1, 1, 0)
QAT_VNNI_BYTES_PLANE(plane_s8_stride2_groups, 1, 2, 0)

typedef void (*plane_function)(const uint8_t *, uint8_t, const int32_t *, uint32_t, int, int32_t *,
                               const qat_depthwise_geometry *);

int qat_depthwise_plane_int8_vnni_bytes(const void *x, int x_signed, int32_t x_zero, const int32_t *weights,
                                        int32_t *y, const qat_depthwise_geometry *g, int32_t *groups) {
  if (g->out_h <= 0 || g->out_w <= 0) return 1;
  if (!accepts_geometry(x_signed, x_zero, g)) return 0;
  const int taps = g->kernel_h * g->kernel_w;
  for (int tap = 0; tap < taps; tap++)
    if (weights[tap] < -128 || weights[tap] > 127) return 0;
  // The padding byte as stored, and the zero point as vpdpbusd sees it (top bit flipped for int8).
  const uint8_t fill = (uint8_t)x_zero;
  const uint32_t zero = x_signed ? (uint32_t)(x_zero + 128) : (uint32_t)x_zero;
  const int group_count = (g->kernel_w + 3) / 4;
  uint32_t correction = 0;  // zero * sum w', mod 2^32
  for (int ky = 0; ky < g->kernel_h; ky++) {
    for (int group = 0; group < group_count; group++) {
      uint32_t packed = 0;
      for (int t = 0; t < 4 && 4 * group + t < g->kernel_w; t++) {
        const int32_t value = weights[ky * g->kernel_w + 4 * group + t];
        packed |= (uint32_t)(uint8_t)(int8_t)value << (8 * t);
        correction += zero * (uint32_t)value;
      }
      groups[ky * group_count + group] = (int32_t)packed;
    }
  }
  // [sign][stride - 1][more than one group]
  static const plane_function planes[2][2][2] = {
      {{plane_u8_stride1, plane_u8_stride1_groups}, {plane_u8_stride2, plane_u8_stride2_groups}},
      {{plane_s8_stride1, plane_s8_stride1_groups}, {plane_s8_stride2, plane_s8_stride2_groups}},
  };
  const plane_function plane = planes[x_signed ? 1 : 0][g->stride_w - 1][group_count > 1 ? 1 : 0];
  plane((const uint8_t *)x, fill, groups, correction, group_count, y, g);
  return 1;
}

#else

int qat_depthwise_plane_int8_vnni_bytes(const void *x, int x_signed, int32_t x_zero, const int32_t *weights,
                                        int32_t *y, const qat_depthwise_geometry *g, int32_t *groups) {
  (void)groups, (void)x, (void)x_signed, (void)x_zero, (void)weights, (void)y, (void)g;
  return 0;
}

#endif
