#include "common.h"
#include <jpeglib.h>
#include <setjmp.h>
#include <stdlib.h>

typedef struct {
    struct jpeg_error_mgr base;
    jmp_buf jump;
    char *error;
    int warnings;
} jpeg_error_context;

static void jpeg_on_error(j_common_ptr cinfo) {
    jpeg_error_context *ctx = (jpeg_error_context *)cinfo->err;
    char message[JMSG_LENGTH_MAX];
    (*cinfo->err->format_message)(cinfo, message);
    snprintf(ctx->error, 256, "%s", message);
    longjmp(ctx->jump, 1);
}

static void jpeg_on_message(j_common_ptr cinfo, int level) {
    // A warning (level -1) such as premature end of data means the image is incomplete.
    if (level < 0) ((jpeg_error_context *)cinfo->err)->warnings++;
}

int vigil_jpeg_decode(const uint8_t *data, size_t length, const vigil_raster_limits *limits, vigil_raster *out) {
    memset(out, 0, sizeof(*out));
    if (length < 3 || data[0] != 0xFF || data[1] != 0xD8)
        return vigil_fail(out->error, VIGIL_ERR_CORRUPT, "not a JPEG file (no SOI marker)");
    struct jpeg_decompress_struct cinfo;
    jpeg_error_context err;
    uint8_t *volatile pixels = NULL;
    cinfo.err = jpeg_std_error(&err.base);
    err.base.error_exit = jpeg_on_error;
    err.base.emit_message = jpeg_on_message;
    err.error = out->error;
    err.warnings = 0;
    if (setjmp(err.jump)) {
        free(pixels);
        jpeg_destroy_decompress(&cinfo);
        return VIGIL_ERR_CORRUPT;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, (unsigned long)length);
    jpeg_read_header(&cinfo, TRUE);
    if (cinfo.num_components == 1) {
        cinfo.out_color_space = JCS_GRAYSCALE;
    } else if (cinfo.num_components == 3) {
        cinfo.out_color_space = JCS_RGB;
    } else {
        int n = cinfo.num_components;
        jpeg_destroy_decompress(&cinfo);
        return vigil_fail(out->error, VIGIL_ERR_UNSUPPORTED, "JPEG with %d components (CMYK?) is not supported", n);
    }
    size_t total = 0;
    int rc = vigil_check_geometry(limits, cinfo.image_width, cinfo.image_height, 1,
                                  (uint64_t)cinfo.num_components, 1, &total, out->error);
    if (rc != VIGIL_OK) {
        jpeg_destroy_decompress(&cinfo);
        return rc;
    }
    jpeg_start_decompress(&cinfo);
    pixels = malloc(total);
    if (pixels == NULL) {
        jpeg_destroy_decompress(&cinfo);
        return vigil_fail(out->error, VIGIL_ERR_NOMEM, "out of memory for %zu bytes", total);
    }
    size_t row_bytes = (size_t)cinfo.output_width * cinfo.output_components;
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = pixels + (size_t)cinfo.output_scanline * row_bytes;
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_decompress(&cinfo);
    out->width = cinfo.output_width;
    out->height = cinfo.output_height;
    out->samples = (uint32_t)cinfo.output_components;
    jpeg_destroy_decompress(&cinfo);
    // libjpeg fills missing data with grey and warns; an incomplete image is not a result.
    if (err.warnings > 0) {
        free(pixels);
        return vigil_fail(out->error, VIGIL_ERR_TRUNCATED, "JPEG data is corrupt or ends early");
    }
    out->frames = 1;
    out->bits_allocated = 8;
    out->bits_stored = 8;
    out->sample_format = VIGIL_UINT;
    out->planar = 0;
    snprintf(out->photometric, sizeof(out->photometric), "%s", out->samples == 3 ? "RGB" : "MONOCHROME2");
    snprintf(out->compression, sizeof(out->compression), "jpeg");
    out->pixels = pixels;
    out->pixel_bytes = total;
    return VIGIL_OK;
}
