// Column and row ranges of a 2-D sliding window shared by the plane kernels of this target (not
// part of its public header).
#ifndef CINTEGERKERNELS_WINDOW_RANGES_H
#define CINTEGERKERNELS_WINDOW_RANGES_H

#include "CIntegerKernels.h"

/// Output columns [*first, *last) whose every kernel tap lies inside the input row.
static inline void qat_interior_columns(const qat_depthwise_geometry *g, int *first, int *last) {
  const int reach = (g->kernel_w - 1) * g->dilation_w;
  int low = (g->pad_left + g->stride_w - 1) / g->stride_w;
  const int top = g->in_w - 1 - reach + g->pad_left;  // ox * stride_w <= top
  int high = top < 0 ? 0 : top / g->stride_w + 1;
  if (high > g->out_w) high = g->out_w;
  if (low > high) low = high;
  *first = low;
  *last = high;
}

/// Kernel rows [*first, *last) that fall inside the image for output row `oy` (empty when none).
static inline void qat_valid_kernel_rows(const qat_depthwise_geometry *g, int oy, int *first, int *last) {
  const int origin = oy * g->stride_h - g->pad_top;
  int low = 0;
  while (low < g->kernel_h && origin + low * g->dilation_h < 0) low++;
  int high = g->kernel_h;
  while (high > low && origin + (high - 1) * g->dilation_h >= g->in_h) high--;
  *first = low;
  *last = high;
}

#endif
