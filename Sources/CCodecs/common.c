#include "common.h"
#include <stdlib.h>

void vigil_raster_free(vigil_raster *raster) {
    if (raster == NULL) return;
    free(raster->pixels);
    raster->pixels = NULL;
    raster->pixel_bytes = 0;
}

void vigil_buffer_free(vigil_buffer *buffer) {
    if (buffer == NULL) return;
    free(buffer->data);
    buffer->data = NULL;
    buffer->length = 0;
}

int vigil_check_geometry(const vigil_raster_limits *limits, uint64_t width, uint64_t height,
                         uint64_t frames, uint64_t samples, uint64_t bytes_per_sample,
                         size_t *byte_count, char *error) {
    if (width == 0 || height == 0 || frames == 0 || samples == 0)
        return vigil_fail(error, VIGIL_ERR_CORRUPT, "empty image (%llux%llu, %llu frames, %llu samples)",
                          (unsigned long long)width, (unsigned long long)height,
                          (unsigned long long)frames, (unsigned long long)samples);
    if (width > limits->max_width)
        return vigil_fail(error, VIGIL_ERR_LIMIT, "width %llu exceeds the limit of %u",
                          (unsigned long long)width, limits->max_width);
    if (height > limits->max_height)
        return vigil_fail(error, VIGIL_ERR_LIMIT, "height %llu exceeds the limit of %u",
                          (unsigned long long)height, limits->max_height);
    if (frames > limits->max_frames)
        return vigil_fail(error, VIGIL_ERR_LIMIT, "%llu frames exceed the limit of %u",
                          (unsigned long long)frames, limits->max_frames);
    if (samples > limits->max_samples)
        return vigil_fail(error, VIGIL_ERR_LIMIT, "%llu samples per pixel exceed the limit of %u",
                          (unsigned long long)samples, limits->max_samples);
    // Each factor is below 2^32 after the checks above, and the limit caps the product in steps.
    uint64_t total = width * height;
    total *= samples;
    if (total > limits->max_pixel_bytes) goto too_large;
    total *= bytes_per_sample;
    if (total > limits->max_pixel_bytes) goto too_large;
    total *= frames;
    if (total > limits->max_pixel_bytes || total > SIZE_MAX) goto too_large;
    *byte_count = (size_t)total;
    return VIGIL_OK;
too_large:
    return vigil_fail(error, VIGIL_ERR_LIMIT,
                      "%llux%llu x %llu frames x %llu samples x %llu bytes exceeds the limit of %llu bytes",
                      (unsigned long long)width, (unsigned long long)height, (unsigned long long)frames,
                      (unsigned long long)samples, (unsigned long long)bytes_per_sample,
                      (unsigned long long)limits->max_pixel_bytes);
}
