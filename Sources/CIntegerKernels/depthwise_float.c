// Direct 2-D depthwise convolution of one float plane over a zero-padded copy of its input: every
// output element is `bias + s`, where `s` starts at 0 and takes one fused multiply-add
// `s = fma(w[tap], x_padded[...], s)` per kernel tap in (ky, kx) order, the taps in the padding
// included (they read 0). That is the order and the rounding of a Conv through im2col (zeros in
// the padding) and the GEMM's macro-kernel (one fused multiply-add per k, k ascending, then
// start + sum), so a depthwise plane gives the bits a one-channel Conv would.
//
// The padded copy (`scratch`) lays each padded input row out as `stride_w` phases: phase p holds
// padded columns p, p + stride_w, p + 2 * stride_w, ... Output column ox's tap kx reads padded
// column `stride_w * ox + kx * dilation_w`, which is element `ox + (kx * dilation_w) / stride_w`
// of phase `(kx * dilation_w) % stride_w`: eight adjacent output columns read eight adjacent
// elements of one phase for every tap, at every stride. With AVX2, stride 1 copies eight floats
// at a time and stride 2 splits sixteen input columns into their even and odd columns with
// shuffles, filling both phases in one pass.
//
// The AVX2 + FMA path computes eight output columns per vector (a row's last vector moved back to
// end at its last column, recomputing identical values; rows narrower than eight go through a
// small buffer), up to eight vectors side by side (all those of a group of rows, or eight of a
// wide row), so that their chains of fused multiply-adds overlap in the pipeline; one call runs
// that set of vectors down the whole plane. The portable path does the same operations one
// element at a time with fmaf, so both give the same bits.
//
// With AVX-512 (rows at least sixteen columns wide), vectors hold sixteen output columns, with the
// same operations per lane: the vector loop is written once for both widths
// (depthwise_float_slots.h).
//
// `qat_depthwise_plane_f32_fused` applies a fused Conv epilogue (BatchNormalization, then Relu,
// Clip or LeakyRelu: float_epilogue.h) to each vector before it is stored, the operations of the
// unfused kernels in their order, so the plane is never read back for them.
#include "CIntegerKernels.h"
#include "cpu_features.h"
#include "float_epilogue.h"

#include <math.h>
#include <string.h>

#pragma clang fp contract(off)

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define QAT_DEPTHWISE_X86 1
#endif

/// Output vectors computed side by side by the AVX2 path.
#define QAT_DEPTHWISE_SLOTS 8

/// Where the padded copy keeps each input element.
typedef struct {
  /// Output vectors (eight columns each) per output row.
  int vectors;
  /// Elements of one phase of a padded row.
  int phase_w;
  /// Floats per padded row (`stride_w` phases).
  int pitch;
  /// Padded rows.
  int rows;
} padded_layout;

static padded_layout layout_of(const qat_depthwise_geometry *g) {
  padded_layout l;
  l.vectors = (g->out_w + 7) / 8;
  // Elements up to index 8 * vectors - 1 + reach / stride are read (lanes of a narrow row's
  // vector past out_w read zeros and are dropped).
  l.phase_w = 8 * l.vectors + (g->kernel_w - 1) * g->dilation_w / g->stride_w;
  l.pitch = g->stride_w * l.phase_w;
  l.rows = (g->out_h - 1) * g->stride_h + (g->kernel_h - 1) * g->dilation_h + 1;
  return l;
}

size_t qat_depthwise_f32_scratch_floats(const qat_depthwise_geometry *g) {
  if (g->out_h <= 0 || g->out_w <= 0) return 1;
  const padded_layout l = layout_of(g);
  return (size_t)l.rows * (size_t)l.pitch;
}

/// Offset in the padded copy of tap (ky, kx) from its output element's first element.
static inline ptrdiff_t tap_offset(const qat_depthwise_geometry *g, const padded_layout *l, int ky, int kx) {
  const int column = kx * g->dilation_w;
  return (ptrdiff_t)ky * g->dilation_h * l->pitch + (ptrdiff_t)(column % g->stride_w) * l->phase_w +
         column / g->stride_w;
}

/// Offset in the padded copy of output element (oy, ox)'s first tap.
static inline ptrdiff_t output_origin(const qat_depthwise_geometry *g, const padded_layout *l, int oy, int ox) {
  return (ptrdiff_t)oy * g->stride_h * l->pitch + ox;
}

#ifdef QAT_DEPTHWISE_X86
/// The widest vector path allowed: 2 AVX-512 (when the CPU has it), 1 AVX2, 0 portable (tests).
static int qat_depthwise_level = 2;

static int depthwise_has_avx2(void) { return qat_depthwise_level >= 1 && qat_cpu_has_avx2_fma(); }

static int depthwise_has_avx512(void) { return qat_depthwise_level >= 2 && qat_cpu_has_avx512(); }

/// Eight elements `source[0], source[2], ..., source[14]` of a stride-2 row: two loads, one
/// shuffle, one permute. `ahead` reads source[0..15] (source[15] must be readable), otherwise
/// source[-1..14] (source[-1] must be).
__attribute__((target("avx2"), always_inline)) static inline __m256 even_elements(const float *source, int ahead) {
  // [e0 e1 e4 e5 | e2 e3 e6 e7] of the wanted elements e, then the 64-bit pairs put in order.
  const __m256 mixed = ahead ? _mm256_shuffle_ps(_mm256_loadu_ps(source), _mm256_loadu_ps(source + 8), 0x88)
                             : _mm256_shuffle_ps(_mm256_loadu_ps(source - 1), _mm256_loadu_ps(source + 7), 0xDD);
  return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(mixed), 0xD8));
}

/// Elements [low, high) (at least eight) of phase `phase` of one stride-2 input row `row` (input
/// columns [0, in_w)): element j is `row[2 * j + phase - pad_left]`. Eight at a time, the last
/// vector moved back to end at `high`; each vector reads one element past its last (inside the
/// row) or one before its first.
__attribute__((target("avx2"), always_inline)) static inline void split_columns(const float *row, int in_w,
                                                                                int phase, int pad_left, int low,
                                                                                int high, float *target) {
  for (int j = low;; j += 8) {
    if (j + 8 > high) j = high - 8;
    const int column = 2 * j + phase - pad_left;
    _mm256_storeu_ps(target + j, even_elements(row + column, column + 15 < in_w));
    if (j + 8 == high) return;
  }
}

/// Elements [low, high) (at least eight) of a stride-1 row, `row[j - pad_left]`, eight at a
/// time, the last vector moved back to end at `high`.
__attribute__((target("avx2"), always_inline)) static inline void copy_columns(const float *row, int pad_left,
                                                                               int low, int high, float *target) {
  for (int j = low;; j += 8) {
    if (j + 8 > high) j = high - 8;
    _mm256_storeu_ps(target + j, _mm256_loadu_ps(row + j - pad_left));
    if (j + 8 == high) return;
  }
}

/// Both phases of the stride-2 padded rows [first_row, end_row) (`target` the first's start) from
/// input rows of at least 16 columns: column c goes to element (c + pad_left) / 2 of phase
/// (c + pad_left) % 2. Sixteen columns at a time, two loads split into their even and odd columns
/// (one shuffle and one permute each), the last step moved back to end at the row's last column.
/// Every element written must lie inside its phase (`phase_w`).
__attribute__((target("avx2"))) static void split_rows_avx2(const float *x, const qat_depthwise_geometry *g,
                                                            ptrdiff_t pitch, ptrdiff_t phase_w, int first_row,
                                                            int end_row, float *target) {
  const float *row = x + (ptrdiff_t)(first_row - g->pad_top) * g->in_w;
  const int in_w = g->in_w;
  for (int r = first_row; r < end_row; r++, row += in_w, target += pitch) {
    for (int c = 0;; c += 16) {
      if (c + 16 > in_w) c = in_w - 16;
      // Both read row[c..c + 15]: the even columns from c, the odd ones from c + 1.
      const __m256 even = even_elements(row + c, 1), odd = even_elements(row + c + 1, 0);
      const int padded = c + g->pad_left;
      _mm256_storeu_ps(target + (padded & 1) * phase_w + (padded >> 1), even);
      _mm256_storeu_ps(target + ((padded + 1) & 1) * phase_w + ((padded + 1) >> 1), odd);
      if (c + 16 == in_w) break;
    }
  }
}

/// Elements [low, high) (at least eight) of phase `phase` of the padded rows [first_row, end_row)
/// (`target` the first's phase), eight at a time: stride 1 copies, stride 2 (rows of at least 16
/// input columns, so each vector's extra element is inside the row) splits.
__attribute__((target("avx2"))) static void fill_rows_avx2(const float *x, const qat_depthwise_geometry *g,
                                                           ptrdiff_t pitch, int phase, int low, int high,
                                                           int first_row, int end_row, float *target) {
  const float *row = x + (ptrdiff_t)(first_row - g->pad_top) * g->in_w;
  for (int r = first_row; r < end_row; r++, row += g->in_w, target += pitch) {
    if (g->stride_w == 1) copy_columns(row, g->pad_left, low, high, target);
    else split_columns(row, g->in_w, phase, g->pad_left, low, high, target);
  }
}
#endif

/// Elements [*low, *high) of phase `phase` of a padded row that hold input columns (input column
/// `stride_w * j + phase - pad_left` for element j); the others are padding.
static void phase_bounds(const qat_depthwise_geometry *g, const padded_layout *l, int phase, int *low, int *high) {
  const int stride = g->stride_w;
  int first = g->pad_left - phase <= 0 ? 0 : (g->pad_left - phase + stride - 1) / stride;
  const int top = g->in_w - 1 + g->pad_left - phase;
  int last = top < 0 ? 0 : top / stride + 1;
  if (last > l->phase_w) last = l->phase_w;
  if (first > last) first = last;
  *low = first;
  *high = last;
}


/// The padded copy of plane `x` (`layout_of(g)`): unless `borders_ready` (the scratch holds the
/// padded copy of another plane of the same geometry, whose padding is zero), all zeros first;
/// then the input rows, phase by phase.
static void fill_padded(const float *x, const qat_depthwise_geometry *g, const padded_layout *l, float *scratch,
                        int borders_ready) {
  if (!borders_ready) memset(scratch, 0, (size_t)l->rows * (size_t)l->pitch * sizeof(float));
  const int first_row = g->pad_top < l->rows ? g->pad_top : l->rows;
  const int end_row = g->pad_top + g->in_h < l->rows ? g->pad_top + g->in_h : l->rows;
  const int stride = g->stride_w;
#ifdef QAT_DEPTHWISE_X86
  // Stride 2, rows of at least 16 columns all inside the phases: both phases in one pass.
  if (stride == 2 && g->in_w >= 16 && (g->in_w - 1 + g->pad_left) / 2 < l->phase_w && depthwise_has_avx2()) {
    split_rows_avx2(x, g, l->pitch, l->phase_w, first_row, end_row, scratch + (ptrdiff_t)first_row * l->pitch);
    return;
  }
#endif
  for (int phase = 0; phase < stride; phase++) {
    int low, high;
    phase_bounds(g, l, phase, &low, &high);
    float *target = scratch + (ptrdiff_t)first_row * l->pitch + (ptrdiff_t)phase * l->phase_w;
#ifdef QAT_DEPTHWISE_X86
    // A stride-2 vector reads one element before or after the eight it uses: a row of at least
    // 16 input columns has one on either side.
    if (high - low >= 8 && (stride == 1 || (stride == 2 && g->in_w >= 16)) && depthwise_has_avx2()) {
      fill_rows_avx2(x, g, l->pitch, phase, low, high, first_row, end_row, target);
      continue;
    }
#endif
    for (int r = first_row; r < end_row; r++, target += l->pitch) {
      const float *row = x + (ptrdiff_t)(r - g->pad_top) * g->in_w;
      for (int j = low; j < high; j++) target[j] = row[stride * j + phase - g->pad_left];
    }
  }
}

static void plane_portable(const float *padded, const float *w, float bias, float *y, const qat_depthwise_geometry *g,
                           const padded_layout *l, const qat_float_epilogue *e) {
  for (int oy = 0; oy < g->out_h; oy++) {
    for (int ox = 0; ox < g->out_w; ox++) {
      const float *origin = padded + output_origin(g, l, oy, ox);
      float sum = 0.0f;
      for (int ky = 0; ky < g->kernel_h; ky++) {
        for (int kx = 0; kx < g->kernel_w; kx++) {
          sum = fmaf(w[ky * g->kernel_w + kx], origin[tap_offset(g, l, ky, kx)], sum);
        }
      }
      y[(ptrdiff_t)oy * g->out_w + ox] = qat_epilogue_scalar(bias + sum, e);
    }
  }
}

#ifdef QAT_DEPTHWISE_X86
/// Most kernel taps the AVX2 path takes (larger kernels take the portable loop).
#define QAT_DEPTHWISE_MAX_TAPS 64

#define DW_TARGET "avx2,fma"
#define DW_LANES 8
#define DW_VECTOR __m256
#define DW_SET1 _mm256_set1_ps
#define DW_ZERO _mm256_setzero_ps
#define DW_LOAD _mm256_loadu_ps
#define DW_STORE _mm256_storeu_ps
#define DW_FMA _mm256_fmadd_ps
#define DW_ADD _mm256_add_ps
#define DW_EPILOGUE qat_epilogue_vector
#define DW_SLOTS slots_avx2
#define DW_CHUNK chunk_avx2
#include "depthwise_float_slots.h"

#define DW_TARGET "avx512f"
#define DW_LANES 16
#define DW_VECTOR __m512
#define DW_SET1 _mm512_set1_ps
#define DW_ZERO _mm512_setzero_ps
#define DW_LOAD _mm512_loadu_ps
#define DW_STORE _mm512_storeu_ps
#define DW_FMA _mm512_fmadd_ps
#define DW_ADD _mm512_add_ps
#define DW_EPILOGUE qat_epilogue_vector512
#define DW_SLOTS slots_avx512
#define DW_CHUNK chunk_avx512
#include "depthwise_float_slots.h"

/// A chunk function of one vector width (`chunk_avx2`, `chunk_avx512`).
typedef void (*chunk_function)(const float *in_base, float *out_base, const ptrdiff_t *in_offsets,
                               const ptrdiff_t *out_offsets, int count, const ptrdiff_t *offsets, const float *w,
                               int taps, float bias, int out_w, const qat_float_epilogue *e, int repeats,
                               ptrdiff_t in_step, ptrdiff_t out_step);

/// The vector plane for at most QAT_DEPTHWISE_MAX_TAPS taps, `lanes` output columns per vector
/// (`chunk` of that width); returns 0 (nothing written) otherwise. Rows narrower than a vector
/// need `lanes` 8 (AVX2's chunk computes them in a buffer).
static int plane_vectors(const float *padded, const float *w, float bias, float *y, const qat_depthwise_geometry *g,
                         const padded_layout *l, const qat_float_epilogue *e, int lanes, chunk_function chunk) {
  const int taps = g->kernel_h * g->kernel_w;
  if (taps > QAT_DEPTHWISE_MAX_TAPS) return 0;
  ptrdiff_t offsets[QAT_DEPTHWISE_MAX_TAPS];
  for (int ky = 0; ky < g->kernel_h; ky++) {
    for (int kx = 0; kx < g->kernel_w; kx++) offsets[ky * g->kernel_w + kx] = tap_offset(g, l, ky, kx);
  }
  ptrdiff_t in_offsets[QAT_DEPTHWISE_SLOTS], out_offsets[QAT_DEPTHWISE_SLOTS];
  const int vectors = (g->out_w + lanes - 1) / lanes;
  if (vectors <= QAT_DEPTHWISE_SLOTS) {
    // Groups of `group` rows, all their vectors side by side: the slots' offsets from the
    // group's first row are the same in every group.
    const int group = QAT_DEPTHWISE_SLOTS / vectors;
    for (int row = 0, n = 0; row < group; row++) {
      for (int v = 0; v < vectors; v++, n++) {
        const int ox = lanes * v + lanes > g->out_w && g->out_w >= lanes ? g->out_w - lanes : lanes * v;
        in_offsets[n] = output_origin(g, l, row, ox);
        out_offsets[n] = (ptrdiff_t)row * g->out_w + ox;
      }
    }
    const ptrdiff_t in_step = output_origin(g, l, group, 0), out_step = (ptrdiff_t)group * g->out_w;
    int oy = 0;
    if (g->out_w >= lanes && g->out_h >= group) {
      // Every full group in one call.
      const int groups = g->out_h / group;
      chunk(padded, y, in_offsets, out_offsets, group * vectors, offsets, w, taps, bias, g->out_w, e, groups,
            in_step, out_step);
      oy = groups * group;
    }
    for (; oy < g->out_h; oy += group) {
      const int rows = g->out_h - oy < group ? g->out_h - oy : group;
      chunk(padded + output_origin(g, l, oy, 0), y + (ptrdiff_t)oy * g->out_w, in_offsets, out_offsets,
            rows * vectors, offsets, w, taps, bias, g->out_w, e, 1, 0, 0);
    }
    return 1;
  }
  // Rows of more than eight vectors: eight vectors of every row at a time.
  for (int first = 0; first < vectors; first += QAT_DEPTHWISE_SLOTS) {
    const int count = vectors - first < QAT_DEPTHWISE_SLOTS ? vectors - first : QAT_DEPTHWISE_SLOTS;
    for (int n = 0; n < count; n++) {
      const int ox = lanes * (first + n) + lanes > g->out_w ? g->out_w - lanes : lanes * (first + n);
      in_offsets[n] = out_offsets[n] = ox;
    }
    chunk(padded, y, in_offsets, out_offsets, count, offsets, w, taps, bias, g->out_w, e, g->out_h,
          output_origin(g, l, 1, 0), g->out_w);
  }
  return 1;
}
#endif

void qat_depthwise_set_level(int level) {
#ifdef QAT_DEPTHWISE_X86
  qat_depthwise_level = level < 0 ? 0 : level > 2 ? 2 : level;
#else
  (void)level;
#endif
}

void qat_depthwise_set_portable(int portable) { qat_depthwise_set_level(portable ? 0 : 2); }

void qat_depthwise_plane_f32_fused(const float *x, const float *w, float bias, float *y,
                                   const qat_depthwise_geometry *g, float *scratch, int borders_ready,
                                   const qat_float_epilogue *epilogue) {
  if (g->out_h <= 0 || g->out_w <= 0) return;
  const padded_layout l = layout_of(g);
  fill_padded(x, g, &l, scratch, borders_ready);
  // An epilogue that does nothing takes the plain store.
  const qat_float_epilogue *e =
      epilogue && (epilogue->normalize || epilogue->activation != QAT_EPILOGUE_NO_ACTIVATION) ? epilogue : NULL;
#ifdef QAT_DEPTHWISE_X86
  // Sixteen columns a vector for rows at least that wide, eight otherwise.
  if (g->out_w >= 16 && depthwise_has_avx512() && plane_vectors(scratch, w, bias, y, g, &l, e, 16, chunk_avx512))
    return;
  if (depthwise_has_avx2() && plane_vectors(scratch, w, bias, y, g, &l, e, 8, chunk_avx2)) return;
#endif
  plane_portable(scratch, w, bias, y, g, &l, e);
}

void qat_depthwise_plane_f32(const float *x, const float *w, float bias, float *y, const qat_depthwise_geometry *g,
                             float *scratch, int borders_ready) {
  qat_depthwise_plane_f32_fused(x, w, bias, y, g, scratch, borders_ready, NULL);
}
