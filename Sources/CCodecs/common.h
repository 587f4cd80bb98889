#ifndef VIGIL_CCODECS_COMMON_H
#define VIGIL_CCODECS_COMMON_H

#include "CCodecs.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/// Writes a formatted message into a fixed error field and returns `code`.
static inline int vigil_fail(char *error, int code, const char *format, ...) {
    va_list args;
    va_start(args, format);
    vsnprintf(error, 256, format, args);
    va_end(args);
    return code;
}

/// Checks declared geometry against the limits; computes the pixel byte count without overflow.
int vigil_check_geometry(const vigil_raster_limits *limits, uint64_t width, uint64_t height,
                         uint64_t frames, uint64_t samples, uint64_t bytes_per_sample,
                         size_t *byte_count, char *error);

#endif
