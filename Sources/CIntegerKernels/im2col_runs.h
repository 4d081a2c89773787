// The geometry shared by the AVX-512 im2col kernels that build a GEMM operand's 16-column
// groups (a byte panel, im2col_panel_u8.c; a float sliver, im2col_packed_f32.c) straight from
// the input planes. A group's 16 output columns fall into runs, one per output line they cross
// (one, unless the lines are narrower than 16 or the group straddles a line's end). Under one
// kernel tap a run's lanes read `x[iy, ix_first + lane * stride_w]`: one masked load at stride 1,
// the lanes inside the image set in the mask. Each run's mask and column offset depend on the
// kernel column only, and its line offset on the kernel row only, so they are worked out once
// per group in two small tables that serve every channel. Private to those two files.
#ifndef QAT_IM2COL_RUNS_H
#define QAT_IM2COL_RUNS_H

#include "CIntegerKernels.h"

#include <stddef.h>
#include <stdint.h>

/// The instruction sets the run kernels' vector paths are compiled for.
#define QAT_RUN_AVX512 __attribute__((target("avx2,avx512f,avx512bw,avx512vl")))

/// Columns in a group.
#define QAT_RUN_GROUP 16
/// Most runs of a group (lines at least one column wide, plus one).
#define QAT_RUNS_MAX (QAT_RUN_GROUP + 1)
/// Most (kernel row or column, run) pairs the kernels keep on the stack; more and they decline.
#define QAT_RUN_TABLE 512

/// One run's part for one kernel column: `lanes` has the run's lanes whose input column lies
/// inside the image, `mask` the elements to load for them (one per lane at stride 1; at stride 2
/// from the first such lane's element to the last's, the even ones being the lanes', a bit per
/// element), and `offset` is the input column lane 0's element would come from (the run's own
/// first lane at its own first column), possibly outside the image.
typedef struct {
  ptrdiff_t offset;
  uint32_t mask;
  uint16_t lanes;
} qat_run_columns;

/// How many (kernel row or column, run) pairs a group of geometry `g` can need.
static inline int qat_run_table_size(const qat_depthwise_geometry *g) {
  const int runs = g->out_w >= QAT_RUN_GROUP ? 2 : (QAT_RUN_GROUP + g->out_w - 1) / g->out_w + 1;
  const int widest = g->kernel_h > g->kernel_w ? g->kernel_h : g->kernel_w;
  return widest * (runs < QAT_RUNS_MAX ? runs : QAT_RUNS_MAX);
}

/// Whether the run kernels take geometry `g`: horizontal stride 1 or 2, tables that fit.
static inline int qat_run_geometry_fits(const qat_depthwise_geometry *g) {
  return (g->stride_w == 1 || g->stride_w == 2) && g->out_w > 0 && qat_run_table_size(g) <= QAT_RUN_TABLE;
}

/// The runs of the group of columns `first ..< first + columns` (column `c` is output line
/// `first_line + c / out_w`, column `c % out_w`) and their parts per kernel column
/// (`columns_table[kx * runs + run]`) and per kernel row (`rows_table[ky * runs + run]`: the input
/// line's offset in the plane, or -1 in the padding); returns the number of runs.
static inline int qat_run_tables(const qat_depthwise_geometry *g, int first_line, int first, int columns,
                                 qat_run_columns *columns_table, ptrdiff_t *rows_table) {
  const int s = g->stride_w;
  int runs = 0;
  int run_oy[QAT_RUNS_MAX], run_ox[QAT_RUNS_MAX], run_lane[QAT_RUNS_MAX], run_length[QAT_RUNS_MAX];
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
      qat_run_columns *entry = columns_table + kx * runs + run;
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

#endif
