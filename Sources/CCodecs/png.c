#include "common.h"
#include <png.h>
#include <setjmp.h>
#include <stdlib.h>

typedef struct {
    const uint8_t *data;
    size_t length;
    size_t offset;
} png_source;

typedef struct {
    char *error;
} png_context;

static void png_read_from_memory(png_structp png, png_bytep out, png_size_t count) {
    png_source *src = (png_source *)png_get_io_ptr(png);
    if (count > src->length - src->offset) png_error(png, "file ends early (truncated)");
    memcpy(out, src->data + src->offset, count);
    src->offset += count;
}

static void png_on_error(png_structp png, png_const_charp message) {
    png_context *ctx = (png_context *)png_get_error_ptr(png);
    snprintf(ctx->error, 256, "%s", message);
    png_longjmp(png, 1);
}

static void png_on_warning(png_structp png, png_const_charp message) {
    (void)png;
    (void)message;  // Warnings (e.g. a bad iCCP chunk) do not affect pixel values.
}

int vigil_png_decode(const uint8_t *data, size_t length, const vigil_raster_limits *limits, vigil_raster *out) {
    memset(out, 0, sizeof(*out));
    if (length < 8 || png_sig_cmp(data, 0, 8) != 0)
        return vigil_fail(out->error, VIGIL_ERR_CORRUPT, "not a PNG file (bad signature)");
    png_context ctx = {out->error};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &ctx, png_on_error, png_on_warning);
    if (png == NULL) return vigil_fail(out->error, VIGIL_ERR_NOMEM, "libpng could not start");
    png_infop info = png_create_info_struct(png);
    png_source src = {data, length, 0};
    uint8_t *volatile pixels = NULL;
    png_bytep *volatile rows = NULL;
    if (setjmp(png_jmpbuf(png))) {
        free(pixels);
        free(rows);
        png_destroy_read_struct(&png, &info, NULL);
        out->pixels = NULL;
        int truncated = strstr(out->error, "truncated") != NULL || strstr(out->error, "Read Error") != NULL;
        return truncated ? VIGIL_ERR_TRUNCATED : VIGIL_ERR_CORRUPT;
    }
    png_set_read_fn(png, &src, png_read_from_memory);
    // libpng's own dimension check runs before ours; keep it no looser than our limits.
    png_set_user_limits(png, limits->max_width, limits->max_height);
    png_read_info(png, info);

    png_uint_32 width = png_get_image_width(png, info);
    png_uint_32 height = png_get_image_height(png, info);
    int bit_depth = png_get_bit_depth(png, info);
    int color_type = png_get_color_type(png, info);
    if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
    if (bit_depth == 16) png_set_swap(png);  // PNG stores big endian; we want host order.
    png_set_interlace_handling(png);
    png_read_update_info(png, info);

    uint32_t channels = png_get_channels(png, info);
    uint32_t depth = png_get_bit_depth(png, info);
    size_t total = 0;
    int rc = vigil_check_geometry(limits, width, height, 1, channels, depth / 8, &total, out->error);
    if (rc != VIGIL_OK) {
        png_destroy_read_struct(&png, &info, NULL);
        return rc;
    }
    size_t row_bytes = png_get_rowbytes(png, info);
    if (row_bytes != (size_t)width * channels * (depth / 8)) {
        png_destroy_read_struct(&png, &info, NULL);
        return vigil_fail(out->error, VIGIL_ERR_UNSUPPORTED, "unexpected PNG row layout");
    }
    pixels = malloc(total);
    rows = malloc(sizeof(png_bytep) * height);
    if (pixels == NULL || rows == NULL) {
        free(pixels);
        free(rows);
        png_destroy_read_struct(&png, &info, NULL);
        return vigil_fail(out->error, VIGIL_ERR_NOMEM, "out of memory for %zu bytes", total);
    }
    for (png_uint_32 y = 0; y < height; y++) rows[y] = pixels + (size_t)y * row_bytes;
    png_read_image(png, rows);
    png_read_end(png, NULL);
    free(rows);
    png_destroy_read_struct(&png, &info, NULL);

    out->width = width;
    out->height = height;
    out->frames = 1;
    out->samples = channels;
    out->bits_allocated = depth;
    out->bits_stored = depth;
    out->sample_format = VIGIL_UINT;
    out->planar = 0;
    snprintf(out->photometric, sizeof(out->photometric), "%s", channels >= 3 ? "RGB" : "MONOCHROME2");
    snprintf(out->compression, sizeof(out->compression), "deflate");
    out->pixels = pixels;
    out->pixel_bytes = total;
    return VIGIL_OK;
}

typedef struct {
    uint8_t *data;
    size_t length;
    size_t capacity;
    int failed;
} png_sink;

static void png_write_to_memory(png_structp png, png_bytep in, png_size_t count) {
    png_sink *sink = (png_sink *)png_get_io_ptr(png);
    if (sink->length + count > sink->capacity) {
        size_t capacity = sink->capacity ? sink->capacity : 65536;
        while (capacity < sink->length + count) capacity *= 2;
        uint8_t *grown = realloc(sink->data, capacity);
        if (grown == NULL) png_error(png, "out of memory");
        sink->data = grown;
        sink->capacity = capacity;
    }
    memcpy(sink->data + sink->length, in, count);
    sink->length += count;
}

static void png_flush_memory(png_structp png) { (void)png; }

int vigil_png_encode(const uint8_t *pixels, uint32_t width, uint32_t height, uint32_t samples,
                     uint32_t bit_depth, vigil_buffer *out) {
    memset(out, 0, sizeof(*out));
    int color_type;
    switch (samples) {
    case 1: color_type = PNG_COLOR_TYPE_GRAY; break;
    case 2: color_type = PNG_COLOR_TYPE_GRAY_ALPHA; break;
    case 3: color_type = PNG_COLOR_TYPE_RGB; break;
    case 4: color_type = PNG_COLOR_TYPE_RGB_ALPHA; break;
    default: return vigil_fail(out->error, VIGIL_ERR_ENCODE, "PNG cannot hold %u samples per pixel", samples);
    }
    if (bit_depth != 8 && bit_depth != 16)
        return vigil_fail(out->error, VIGIL_ERR_ENCODE, "PNG is written with 8 or 16 bits, not %u", bit_depth);
    png_context ctx = {out->error};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &ctx, png_on_error, png_on_warning);
    if (png == NULL) return vigil_fail(out->error, VIGIL_ERR_NOMEM, "libpng could not start");
    png_infop info = png_create_info_struct(png);
    png_sink sink = {NULL, 0, 0, 0};
    png_bytep *volatile rows = NULL;
    if (setjmp(png_jmpbuf(png))) {
        free(rows);
        free(sink.data);
        png_destroy_write_struct(&png, &info);
        return VIGIL_ERR_ENCODE;
    }
    png_set_write_fn(png, &sink, png_write_to_memory, png_flush_memory);
    png_set_IHDR(png, info, width, height, (int)bit_depth, color_type, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_set_compression_level(png, 6);
    png_write_info(png, info);
    if (bit_depth == 16) png_set_swap(png);
    rows = malloc(sizeof(png_bytep) * height);
    if (rows == NULL) png_error(png, "out of memory");
    size_t row_bytes = (size_t)width * samples * (bit_depth / 8);
    for (uint32_t y = 0; y < height; y++) rows[y] = (png_bytep)(pixels + (size_t)y * row_bytes);
    png_write_image(png, rows);
    png_write_end(png, NULL);
    free(rows);
    png_destroy_write_struct(&png, &info);
    out->data = sink.data;
    out->length = sink.length;
    return VIGIL_OK;
}
