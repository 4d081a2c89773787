#include "onnxqat_io.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { BUFFER_CAPACITY = 1 << 20 };

typedef struct {
    ProtobufCBuffer base;
    int fd;
    int error;
    uint64_t written;
    size_t used;
    uint8_t *bytes;
} FileBuffer;

static void write_all(FileBuffer *buffer, const uint8_t *data, size_t len) {
    while (len > 0 && buffer->error == 0) {
        ssize_t n = write(buffer->fd, data, len > (1u << 30) ? (1u << 30) : len);
        if (n < 0) {
            if (errno == EINTR) continue;
            buffer->error = errno;
            return;
        }
        data += n;
        len -= (size_t)n;
        buffer->written += (uint64_t)n;
    }
}

static void flush(FileBuffer *buffer) {
    write_all(buffer, buffer->bytes, buffer->used);
    buffer->used = 0;
}

static void append(ProtobufCBuffer *base, size_t len, const uint8_t *data) {
    FileBuffer *buffer = (FileBuffer *)base;
    if (buffer->error != 0) return;
    if (buffer->used + len <= BUFFER_CAPACITY) {
        memcpy(buffer->bytes + buffer->used, data, len);
        buffer->used += len;
        return;
    }
    flush(buffer);
    if (len >= BUFFER_CAPACITY / 2) {
        write_all(buffer, data, len);
    } else {
        memcpy(buffer->bytes, data, len);
        buffer->used = len;
    }
}

int onnxqat_pack_to_fd(const ProtobufCMessage *message, int fd, uint64_t *written) {
    FileBuffer buffer = {{append}, fd, 0, 0, 0, malloc(BUFFER_CAPACITY)};
    if (buffer.bytes == NULL) return ENOMEM;
    protobuf_c_message_pack_to_buffer(message, &buffer.base);
    flush(&buffer);
    free(buffer.bytes);
    if (written) *written = buffer.written;
    return buffer.error;
}
