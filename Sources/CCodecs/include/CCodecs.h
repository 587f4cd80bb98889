#ifndef VIGIL_CCODECS_H
#define VIGIL_CCODECS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Bounds checked against a file's declared geometry before any pixel buffer is allocated.
typedef struct vigil_raster_limits {
    uint32_t max_width;
    uint32_t max_height;
    uint32_t max_frames;
    uint32_t max_samples;
    uint64_t max_pixel_bytes;
} vigil_raster_limits;

/// Sample formats shared by the shims (values match Swift's SampleFormat raw values).
enum {
    VIGIL_UINT = 1,
    VIGIL_INT = 2,
    VIGIL_FLOAT = 3,
};

/// Error classes, so Swift can name the cause without parsing the message.
enum {
    VIGIL_OK = 0,
    VIGIL_ERR_CORRUPT = 1,      ///< the bytes do not form a valid file of this format
    VIGIL_ERR_UNSUPPORTED = 2,  ///< valid, but a variant Vigil does not decode
    VIGIL_ERR_LIMIT = 3,        ///< declared geometry exceeds the configured limits
    VIGIL_ERR_TRUNCATED = 4,    ///< the file ends before its pixel data does
    VIGIL_ERR_NOMEM = 5,
    VIGIL_ERR_ENCODE = 6,
};

/// A decoded raster. Samples are interleaved within a frame ([frame][y][x][sample]) unless
/// `planar` is set ([frame][sample][y][x]); multi-byte samples are in host byte order.
typedef struct vigil_raster {
    uint32_t width;
    uint32_t height;
    uint32_t frames;
    uint32_t samples;
    uint32_t bits_allocated;  ///< 8, 16 or 32
    uint32_t bits_stored;
    uint32_t sample_format;   ///< VIGIL_UINT, VIGIL_INT or VIGIL_FLOAT
    uint32_t planar;
    char photometric[32];     ///< DICOM spelling: MONOCHROME1, MONOCHROME2, RGB, PALETTE COLOR, ...
    char compression[32];
    double x_resolution;      ///< pixels per unit, 0 when absent (TIFF)
    double y_resolution;
    uint32_t resolution_unit; ///< TIFF: 1 none, 2 inch, 3 centimetre
    uint8_t *pixels;          ///< malloc'ed; release with vigil_raster_free
    size_t pixel_bytes;
    char error[256];
} vigil_raster;

void vigil_raster_free(vigil_raster *raster);

int vigil_png_decode(const uint8_t *data, size_t length, const vigil_raster_limits *limits, vigil_raster *out);
int vigil_jpeg_decode(const uint8_t *data, size_t length, const vigil_raster_limits *limits, vigil_raster *out);
int vigil_tiff_decode(const uint8_t *data, size_t length, const vigil_raster_limits *limits, vigil_raster *out);

/// An encoded file, malloc'ed; release with vigil_buffer_free.
typedef struct vigil_buffer {
    uint8_t *data;
    size_t length;
    char error[256];
} vigil_buffer;

void vigil_buffer_free(vigil_buffer *buffer);

/// Encodes interleaved 8- or 16-bit (host order) grey, grey+alpha or RGB samples as PNG.
int vigil_png_encode(const uint8_t *pixels, uint32_t width, uint32_t height, uint32_t samples,
                     uint32_t bit_depth, vigil_buffer *out);

/// Encodes `pages` planes of width x height samples (host order) as a multi-page TIFF.
/// `samples` > 1 writes interleaved samples per page (RGB). Deflate-compressed.
int vigil_tiff_encode(const uint8_t *pixels, uint32_t width, uint32_t height, uint32_t pages,
                      uint32_t samples, uint32_t bits, uint32_t sample_format, vigil_buffer *out);

#ifdef __cplusplus
}
#endif

#endif
