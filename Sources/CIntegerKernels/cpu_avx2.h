// Run-time CPU detection shared by the kernels of this target (not part of its public header).
#ifndef CINTEGERKERNELS_CPU_AVX2_H
#define CINTEGERKERNELS_CPU_AVX2_H

/// 1 when the CPU runs AVX2 (checked once), else 0; always 0 off x86.
int qat_cpu_has_avx2(void);

#endif
