#ifndef ONNXQAT_CALLOCATORSETTINGS_H
#define ONNXQAT_CALLOCATORSETTINGS_H

/// Sets glibc's malloc thresholds for a process that allocates many small objects and reuses
/// tensor buffers up to `heap_buffer_limit` bytes: buffers below that come from the heap, the
/// heap grows `grow_step` bytes at a time and is trimmed only when `trim_at` bytes are free at
/// its top. Returns 1 when the allocator took the settings (glibc), 0 otherwise.
int onnxqat_set_allocator_thresholds(int heap_buffer_limit, int grow_step, int trim_at);

#endif
