// A float Conv's im2col columns written straight into the float GEMM's packed right operand
// (NeuralNetworkPackedB with 16-column slivers), with AVX-512: each sliver's 16 columns under
// one im2col row are one masked load at stride 1 (the lanes whose input lies inside the image;
// the others, and the columns past n, read nothing and hold 0), and at stride 2 two masked loads
// whose even elements vpermt2ps gathers. As in the byte kernel (im2col_panel_u8.c), a sliver's
// columns fall into runs, one per output line they cross; each run's mask and column offset are
// worked out once per kernel column and its line offset once per kernel row, and serve every
// channel. The values are moved, not computed: the same bits as Im2col.expandPacked.
#include "CIntegerKernels.h"
#include "cpu_features.h"

#include <stddef.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define QAT_IM2COL_F32_X86 1
#endif

/// Columns of a sliver.
#define QAT_SLIVER 16
/// A sliver's runs: at most one per output line it crosses (lines at least one column wide).
#define QAT_SLIVER_RUNS (QAT_SLIVER + 1)
/// Most (kernel row or column, run) pairs kept on the stack; more and the caller packs instead.
#define QAT_SLIVER_TABLE 512

static int table_size(const qat_depthwise_geometry *g) {
  const int runs = g->out_w >= QAT_SLIVER ? 2 : (QAT_SLIVER + g->out_w - 1) / g->out_w + 1;
  const int widest = g->kernel_h > g->kernel_w ? g->kernel_h : g->kernel_w;
  return widest * (runs < QAT_SLIVER_RUNS ? runs : QAT_SLIVER_RUNS);
}

int qat_im2col_packed_f32_vector(const qat_depthwise_geometry *g) {
#ifdef QAT_IM2COL_F32_X86
  return qat_cpu_has_avx512() && (g->stride_w == 1 || g->stride_w == 2) && g->out_w > 0 &&
         table_size(g) <= QAT_SLIVER_TABLE;
#else
  (void)g;
  return 0;
#endif
}

#ifdef QAT_IM2COL_F32_X86
#define QAT_AVX512_TARGET __attribute__((target("avx2,avx512f,avx512bw,avx512vl")))

/// One run's part for one kernel column: the lanes whose input lies inside the image, the
/// elements to load for them (one per lane at stride 1; at stride 2 from the first such lane's
/// element to the last's, as 32 bits over two loads of 16), and the input column lane 0's value
/// would come from (possibly outside the image).
typedef struct {
  ptrdiff_t offset;
  uint32_t mask;
  uint16_t lanes;
} run_columns;

/// The runs of columns `first ..< first + columns` of the band that starts at output line
/// `first_line`, and their parts per kernel column (`columns_table[kx * runs + run]`) and per
/// kernel row (`rows_table[ky * runs + run]`: the input line's offset, or -1 in the padding).
static int sliver_tables(const qat_depthwise_geometry *g, int first_line, int first, int columns,
                         run_columns *columns_table, ptrdiff_t *rows_table) {
  const int s = g->stride_w;
  int runs = 0;
  int run_oy[QAT_SLIVER_RUNS], run_ox[QAT_SLIVER_RUNS], run_lane[QAT_SLIVER_RUNS], run_length[QAT_SLIVER_RUNS];
  for (int lane = 0; lane < columns;) {
    const int column = first + lane;
    const int ox = column % g->out_w;
    const int length = columns - lane < g->out_w - ox ? columns - lane : g->out_w - ox;
    run_oy[runs] = first_line + column / g->out_w;
    run_ox[runs] = ox;
    run_lane[runs] = lane;
    run_length[runs] = length;
    runs++;
    lane += length;
  }
  for (int kx = 0; kx < g->kernel_w; kx++) {
    for (int run = 0; run < runs; run++) {
      const int ix_first = run_ox[run] * s + kx * g->dilation_w - g->pad_left;
      // Lanes lo ..< hi of the run read inside the image (divisions by the stride as shifts).
      int lo = ix_first >= 0 ? 0 : (-ix_first + s - 1) >> (s - 1);
      int hi = g->in_w - ix_first <= 0 ? 0 : (g->in_w - ix_first + s - 1) >> (s - 1);
      if (hi > run_length[run]) hi = run_length[run];
      if (lo >= hi) lo = hi = 0;
      run_columns *entry = columns_table + kx * runs + run;
      entry->lanes = (uint16_t)((((1u << hi) - 1u) & ~((1u << lo) - 1u)) << run_lane[run]);
      entry->mask = s == 1 ? entry->lanes
                    : hi > lo
                      ? (uint32_t)((((uint64_t)1 << (2 * hi - 1)) - 1u) & ~(((uint64_t)1 << (2 * lo)) - 1u))
                            << (2 * run_lane[run])
                      : 0;
      entry->offset = ix_first - (ptrdiff_t)run_lane[run] * s;
    }
  }
  for (int ky = 0; ky < g->kernel_h; ky++) {
    for (int run = 0; run < runs; run++) {
      const int iy = run_oy[run] * g->stride_h + ky * g->dilation_h - g->pad_top;
      rows_table[ky * runs + run] = iy < 0 || iy >= g->in_h ? -1 : (ptrdiff_t)iy * g->in_w;
    }
  }
  return runs;
}

/// The sliver's 16 values of one im2col row: the image's where the runs have them, else 0.
QAT_AVX512_TARGET static inline __attribute__((always_inline)) __m512 sliver_row(const float *plane,
                                                                                 const run_columns *columns,
                                                                                 const ptrdiff_t *rows, int runs,
                                                                                 int stride) {
  const __m512i evens = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  __m512 row = _mm512_setzero_ps();
  for (int run = 0; run < runs; run++) {
    if (rows[run] < 0 || columns[run].mask == 0) continue;
    // Masked-off lanes are never read, so the start may lie outside the plane.
    const float *start =
        (const float *)((uintptr_t)plane + (uintptr_t)((rows[run] + columns[run].offset) * (ptrdiff_t)sizeof(float)));
    if (stride == 1) {
      row = _mm512_mask_loadu_ps(row, (__mmask16)columns[run].mask, start);
    } else {
      const __m512 low = _mm512_maskz_loadu_ps((__mmask16)columns[run].mask, start);
      const __m512 high = _mm512_maskz_loadu_ps((__mmask16)(columns[run].mask >> 16), start + 16);
      row = _mm512_mask_mov_ps(row, (__mmask16)columns[run].lanes, _mm512_permutex2var_ps(low, evens, high));
    }
  }
  return row;
}

/// One sliver's rows into the packed layout, given its tables; inlined per (stride, one run or
/// more) so the row loop tests neither.
QAT_AVX512_TARGET static inline __attribute__((always_inline)) void sliver_rows(
    const float *x, int channels, const qat_depthwise_geometry *g, const run_columns *columns_table,
    const ptrdiff_t *rows_table, int runs, int stride, int sliver, int slivers, int depth_block, float *packed) {
  const ptrdiff_t plane_size = (ptrdiff_t)g->in_h * g->in_w;
  const int k = channels * g->kernel_h * g->kernel_w;
  const float *plane = x;
  int ky = 0, kx = 0;
  for (int p0 = 0; p0 < k; p0 += depth_block) {
    const int depth = k - p0 < depth_block ? k - p0 : depth_block;
    float *target = packed + (ptrdiff_t)slivers * QAT_SLIVER * p0 + (ptrdiff_t)sliver * QAT_SLIVER * depth;
    for (int p = 0; p < depth; p++, target += QAT_SLIVER) {
      // Row p0 + p is channel, kernel row and kernel column (plane, ky, kx), walked row by row.
      _mm512_storeu_ps(target, sliver_row(plane, columns_table + kx * runs, rows_table + ky * runs, runs, stride));
      if (++kx == g->kernel_w) {
        kx = 0;
        if (++ky == g->kernel_h) {
          ky = 0;
          plane += plane_size;
        }
      }
    }
  }
}

QAT_AVX512_TARGET static void slivers_avx512(const float *x, int channels, const qat_depthwise_geometry *g,
                                             int first_line, int lines, int depth_block, int first_sliver,
                                             int end_sliver, float *packed) {
  const int n = lines * g->out_w;
  const int slivers = (n + QAT_SLIVER - 1) / QAT_SLIVER;
  run_columns columns_table[QAT_SLIVER_TABLE];
  ptrdiff_t rows_table[QAT_SLIVER_TABLE];
  for (int sliver = first_sliver; sliver < end_sliver; sliver++) {
    const int first = sliver * QAT_SLIVER;
    const int columns = n - first < QAT_SLIVER ? n - first : QAT_SLIVER;
    const int runs = sliver_tables(g, first_line, first, columns, columns_table, rows_table);
    if (g->stride_w == 1 && runs == 1)
      sliver_rows(x, channels, g, columns_table, rows_table, 1, 1, sliver, slivers, depth_block, packed);
    else if (g->stride_w == 1)
      sliver_rows(x, channels, g, columns_table, rows_table, runs, 1, sliver, slivers, depth_block, packed);
    else if (runs == 1)
      sliver_rows(x, channels, g, columns_table, rows_table, 1, 2, sliver, slivers, depth_block, packed);
    else
      sliver_rows(x, channels, g, columns_table, rows_table, runs, 2, sliver, slivers, depth_block, packed);
  }
}
#endif

int qat_im2col_packed_f32(const float *x, int channels, const qat_depthwise_geometry *g, int first_line, int lines,
                          int depth_block, int first_sliver, int end_sliver, float *packed) {
#ifdef QAT_IM2COL_F32_X86
  if (!qat_im2col_packed_f32_vector(g) || depth_block <= 0) return 0;
  slivers_avx512(x, channels, g, first_line, lines, depth_block, first_sliver, end_sliver, packed);
  return 1;
#else
  (void)x, (void)channels, (void)g, (void)first_line, (void)lines, (void)depth_block;
  (void)first_sliver, (void)end_sliver, (void)packed;
  return 0;
#endif
}
