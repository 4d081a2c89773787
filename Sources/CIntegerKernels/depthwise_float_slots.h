// The vector loop of the float depthwise plane (depthwise_float.c), written once for any vector
// width: depthwise_float.c includes this file once per width, with these macros defined:
//   DW_TARGET   the target attribute string ("avx2,fma", "avx512f")
//   DW_LANES    floats per vector (8, 16)
//   DW_VECTOR   the vector type (__m256, __m512)
//   DW_SET1, DW_ZERO, DW_LOAD, DW_STORE, DW_FMA, DW_ADD   the intrinsics
//   DW_EPILOGUE the fused epilogue of one vector (float_epilogue.h)
//   DW_SLOTS, DW_CHUNK  the names of the two functions made here
// and undefines them at its end.
// Every lane does the scalar loop's operations in its order (one fused multiply-add per tap, tap
// order, then bias + sum, then the epilogue), so every width gives the same bits.

/// `count` (1 to 8, a constant where inlined) output vectors side by side, `repeats` times: vector
/// s of repeat r sums `fma(weights[n], origins[s][r * in_step + offsets[n] + lanes], .)` over the
/// taps n from 0 (`taps` a constant where inlined), and stores `bias + sum`, finished by the
/// epilogue `e` (may be NULL), at `targets[s] + r * out_step`.
__attribute__((target(DW_TARGET), always_inline)) static inline void DW_SLOTS(
    const float *const *origins, float *const *targets, int count, const ptrdiff_t *offsets, const float *weights,
    int taps, float bias, const qat_float_epilogue *e, int repeats, ptrdiff_t in_step, ptrdiff_t out_step) {
  const float *o0 = origins[0], *o1 = origins[count > 1 ? 1 : 0], *o2 = origins[count > 2 ? 2 : 0];
  const float *o3 = origins[count > 3 ? 3 : 0], *o4 = origins[count > 4 ? 4 : 0], *o5 = origins[count > 5 ? 5 : 0];
  const float *o6 = origins[count > 6 ? 6 : 0], *o7 = origins[count > 7 ? 7 : 0];
  const DW_VECTOR start = DW_SET1(bias);
  for (int r = 0; r < repeats; r++) {
    DW_VECTOR s0 = DW_ZERO(), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0;
    for (int n = 0; n < taps; n++) {
      const DW_VECTOR weight = DW_SET1(weights[n]);
      const ptrdiff_t offset = offsets[n];
      s0 = DW_FMA(weight, DW_LOAD(o0 + offset), s0);
      if (count > 1) s1 = DW_FMA(weight, DW_LOAD(o1 + offset), s1);
      if (count > 2) s2 = DW_FMA(weight, DW_LOAD(o2 + offset), s2);
      if (count > 3) s3 = DW_FMA(weight, DW_LOAD(o3 + offset), s3);
      if (count > 4) s4 = DW_FMA(weight, DW_LOAD(o4 + offset), s4);
      if (count > 5) s5 = DW_FMA(weight, DW_LOAD(o5 + offset), s5);
      if (count > 6) s6 = DW_FMA(weight, DW_LOAD(o6 + offset), s6);
      if (count > 7) s7 = DW_FMA(weight, DW_LOAD(o7 + offset), s7);
    }
    const ptrdiff_t out = r * out_step;
    DW_STORE(targets[0] + out, DW_EPILOGUE(DW_ADD(start, s0), e));
    if (count > 1) DW_STORE(targets[1] + out, DW_EPILOGUE(DW_ADD(start, s1), e));
    if (count > 2) DW_STORE(targets[2] + out, DW_EPILOGUE(DW_ADD(start, s2), e));
    if (count > 3) DW_STORE(targets[3] + out, DW_EPILOGUE(DW_ADD(start, s3), e));
    if (count > 4) DW_STORE(targets[4] + out, DW_EPILOGUE(DW_ADD(start, s4), e));
    if (count > 5) DW_STORE(targets[5] + out, DW_EPILOGUE(DW_ADD(start, s5), e));
    if (count > 6) DW_STORE(targets[6] + out, DW_EPILOGUE(DW_ADD(start, s6), e));
    if (count > 7) DW_STORE(targets[7] + out, DW_EPILOGUE(DW_ADD(start, s7), e));
    o0 += in_step, o1 += in_step, o2 += in_step, o3 += in_step;
    o4 += in_step, o5 += in_step, o6 += in_step, o7 += in_step;
  }
}

/// `count` (1 to 8) output vectors side by side, `repeats` times (rows at least a vector wide):
/// vector n of repeat r reads the padded copy from `in_base + r * in_step + in_offsets[n]` and is
/// stored at `out_base + r * out_step + out_offsets[n]`, or, in rows narrower than a vector
/// (`out_w` < DW_LANES, `repeats` 1), its first `out_w` columns are.
__attribute__((target(DW_TARGET))) static void DW_CHUNK(const float *in_base, float *out_base,
                                                        const ptrdiff_t *in_offsets, const ptrdiff_t *out_offsets,
                                                        int count, const ptrdiff_t *offsets, const float *w, int taps,
                                                        float bias, int out_w, const qat_float_epilogue *e,
                                                        int repeats, ptrdiff_t in_step, ptrdiff_t out_step) {
  float narrow[QAT_DEPTHWISE_SLOTS][DW_LANES];
  // A local copy: the stores cannot alias it, so its fields stay in registers.
  qat_float_epilogue local;
  if (e) local = *e;
  e = e ? &local : NULL;
  const float *origins[QAT_DEPTHWISE_SLOTS];
  float *targets[QAT_DEPTHWISE_SLOTS];
  for (int n = 0; n < count; n++) {
    origins[n] = in_base + in_offsets[n];
    targets[n] = out_w >= DW_LANES ? out_base + out_offsets[n] : narrow[n];
  }
#define DW_SLOTS_CASE(n)                                                                                   \
  case n:                                                                                                  \
    if (taps == 9) DW_SLOTS(origins, targets, n, offsets, w, 9, bias, e, repeats, in_step, out_step);      \
    else DW_SLOTS(origins, targets, n, offsets, w, taps, bias, e, repeats, in_step, out_step);             \
    break;
  switch (count) {
    DW_SLOTS_CASE(1)
    DW_SLOTS_CASE(2)
    DW_SLOTS_CASE(3)
    DW_SLOTS_CASE(4)
    DW_SLOTS_CASE(5)
    DW_SLOTS_CASE(6)
    DW_SLOTS_CASE(7)
    default: DW_SLOTS_CASE(8)
  }
#undef DW_SLOTS_CASE
  if (out_w < DW_LANES) {
    for (int n = 0; n < count; n++) memcpy(out_base + out_offsets[n], narrow[n], (size_t)out_w * sizeof(float));
  }
}

#undef DW_TARGET
#undef DW_LANES
#undef DW_VECTOR
#undef DW_SET1
#undef DW_ZERO
#undef DW_LOAD
#undef DW_STORE
#undef DW_FMA
#undef DW_ADD
#undef DW_EPILOGUE
#undef DW_SLOTS
#undef DW_CHUNK
