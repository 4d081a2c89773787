/* Streaming pack of a protobuf-c message to a file descriptor, so that saving a
 * large model never holds the whole packed output in memory. */
#ifndef ONNXQAT_IO_H
#define ONNXQAT_IO_H
#include <stddef.h>
#include <stdint.h>
#include "onnx.pb-c.h"

/* Packs `message` and writes it to `fd` through a 1 MiB buffer (payloads larger
 * than the buffer go straight to write(2)). Returns 0, or the errno of the
 * first failed write. `written` receives the number of bytes written. */
int onnxqat_pack_to_fd(const ProtobufCMessage *message, int fd, uint64_t *written);

#endif
