#include "common.h"
#include <pthread.h>
#include <stdlib.h>
#include <tiffio.h>
#include <unistd.h>

// An in-memory file for libtiff's client API, readable and growable for writing.
typedef struct {
    uint8_t *data;
    size_t length;
    size_t capacity;
    size_t position;
    int writable;
} tiff_memory;

static tmsize_t tiff_mem_read(thandle_t handle, void *buffer, tmsize_t size) {
    tiff_memory *m = (tiff_memory *)handle;
    if (size < 0 || m->position >= m->length) return 0;
    size_t count = (size_t)size;
    if (count > m->length - m->position) count = m->length - m->position;
    memcpy(buffer, m->data + m->position, count);
    m->position += count;
    return (tmsize_t)count;
}

static tmsize_t tiff_mem_write(thandle_t handle, void *buffer, tmsize_t size) {
    tiff_memory *m = (tiff_memory *)handle;
    if (!m->writable || size < 0) return -1;
    size_t end = m->position + (size_t)size;
    if (end > m->capacity) {
        size_t capacity = m->capacity ? m->capacity : 65536;
        while (capacity < end) capacity *= 2;
        uint8_t *grown = realloc(m->data, capacity);
        if (grown == NULL) return -1;
        m->data = grown;
        m->capacity = capacity;
    }
    if (m->position > m->length) memset(m->data + m->length, 0, m->position - m->length);
    memcpy(m->data + m->position, buffer, (size_t)size);
    m->position = end;
    if (end > m->length) m->length = end;
    return size;
}

static toff_t tiff_mem_seek(thandle_t handle, toff_t offset, int whence) {
    tiff_memory *m = (tiff_memory *)handle;
    uint64_t base = whence == SEEK_CUR ? m->position : whence == SEEK_END ? m->length : 0;
    uint64_t target = base + offset;
    if (!m->writable && target > m->length) target = m->length;
    m->position = (size_t)target;
    return target;
}

static int tiff_mem_close(thandle_t handle) { (void)handle; return 0; }
static toff_t tiff_mem_size(thandle_t handle) { return ((tiff_memory *)handle)->length; }
static int tiff_mem_map(thandle_t h, void **base, toff_t *size) { (void)h; (void)base; (void)size; return 0; }
static void tiff_mem_unmap(thandle_t h, void *base, toff_t size) { (void)h; (void)base; (void)size; }

static int tiff_on_error(TIFF *tif, void *user, const char *module, const char *format, va_list args) {
    (void)tif;
    char *error = (char *)user;
    if (error[0] == '\0') {
        char message[200];
        vsnprintf(message, sizeof(message), format, args);
        snprintf(error, 256, "%s: %s", module ? module : "libtiff", message);
    }
    return 1;  // handled: libtiff prints nothing to stderr
}

static int tiff_on_warning(TIFF *tif, void *user, const char *module, const char *format, va_list args) {
    (void)tif; (void)user; (void)module; (void)format; (void)args;
    return 1;  // unknown tags and similar warnings do not change pixel values
}

typedef struct {
    uint32_t width, height, bits, samples, format, planar, photometric, compression;
} tiff_page;

static int tiff_read_page_header(TIFF *tif, tiff_page *page, char *error) {
    uint16_t bits = 1, samples = 1, format = SAMPLEFORMAT_UINT, planar = PLANARCONFIG_CONTIG;
    uint16_t photometric = PHOTOMETRIC_MINISBLACK, compression = COMPRESSION_NONE;
    if (!TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &page->width) || !TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &page->height))
        return vigil_fail(error, VIGIL_ERR_CORRUPT, "TIFF page has no width or height");
    TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &bits);
    TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &samples);
    TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLEFORMAT, &format);
    TIFFGetFieldDefaulted(tif, TIFFTAG_PLANARCONFIG, &planar);
    TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &photometric);
    TIFFGetFieldDefaulted(tif, TIFFTAG_COMPRESSION, &compression);
    if (bits != 8 && bits != 16 && bits != 32)
        return vigil_fail(error, VIGIL_ERR_UNSUPPORTED, "%u bits per sample is not supported (8, 16 or 32)", bits);
    if (format == SAMPLEFORMAT_IEEEFP && bits != 32)
        return vigil_fail(error, VIGIL_ERR_UNSUPPORTED, "%u-bit floating point is not supported (32 only)", bits);
    if (format != SAMPLEFORMAT_UINT && format != SAMPLEFORMAT_INT && format != SAMPLEFORMAT_IEEEFP)
        return vigil_fail(error, VIGIL_ERR_UNSUPPORTED, "sample format %u is not supported", format);
    if (photometric == PHOTOMETRIC_PALETTE)
        return vigil_fail(error, VIGIL_ERR_UNSUPPORTED, "palette-colour TIFF is not supported");
    if (photometric == PHOTOMETRIC_YCBCR) {
        if (compression != COMPRESSION_JPEG)
            return vigil_fail(error, VIGIL_ERR_UNSUPPORTED, "YCbCr TIFF without JPEG compression is not supported");
        // Let libjpeg convert to RGB so the page reads as plain interleaved RGB.
        TIFFSetField(tif, TIFFTAG_JPEGCOLORMODE, JPEGCOLORMODE_RGB);
        photometric = PHOTOMETRIC_RGB;
    }
    if (photometric != PHOTOMETRIC_MINISBLACK && photometric != PHOTOMETRIC_MINISWHITE && photometric != PHOTOMETRIC_RGB)
        return vigil_fail(error, VIGIL_ERR_UNSUPPORTED, "photometric interpretation %u is not supported", photometric);
    page->bits = bits;
    page->samples = samples;
    page->format = format;
    page->planar = planar;
    page->photometric = photometric;
    page->compression = compression;
    return VIGIL_OK;
}

// Copies one decoded strip or tile (rows x cols of `pixel_bytes` each) into the page buffer.
static void tiff_blit(uint8_t *page, const uint8_t *block, uint32_t page_width, uint32_t page_height,
                      uint32_t x0, uint32_t y0, uint32_t block_width, uint32_t block_height, size_t pixel_bytes) {
    for (uint32_t y = 0; y < block_height && y0 + y < page_height; y++) {
        uint32_t cols = block_width;
        if (x0 + cols > page_width) cols = page_width - x0;
        memcpy(page + ((size_t)(y0 + y) * page_width + x0) * pixel_bytes,
               block + (size_t)y * block_width * pixel_bytes, (size_t)cols * pixel_bytes);
    }
}

// Each sample becomes the sum of itself and the one `samples` before it on its row (modulo 2^bits),
// left to right: TIFF's horizontal predictor, reversed. The running sums stay in registers.
#define VIGIL_UNDO_HORIZONTAL(type)                                                                 \
    for (uint32_t r = 0; r < rows; r++) {                                                           \
        type *row = (type *)data + (size_t)r * width * samples;                                     \
        for (uint32_t s = 0; s < samples; s++) {                                                    \
            type sum = row[s];                                                                      \
            for (size_t x = 1; x < width; x++) {                                                    \
                sum = (type)(sum + row[x * samples + s]);                                           \
                row[x * samples + s] = sum;                                                         \
            }                                                                                       \
        }                                                                                           \
    }

static void tiff_undo_horizontal(uint8_t *data, uint32_t rows, uint32_t width, uint32_t samples, uint32_t bits) {
    if (bits == 8) { VIGIL_UNDO_HORIZONTAL(uint8_t) }
    else if (bits == 16) { VIGIL_UNDO_HORIZONTAL(uint16_t) }
    else { VIGIL_UNDO_HORIZONTAL(uint32_t) }
}

// Reads one page into `dest`: interleaved [y][x][s] when contiguous, [s][y][x] when separate.
static int tiff_read_page(TIFF *tif, const tiff_page *page, uint8_t *dest, char *error) {
    size_t bytes = page->bits / 8;
    uint32_t planes = page->planar == PLANARCONFIG_SEPARATE ? page->samples : 1;
    size_t pixel_bytes = bytes * (page->planar == PLANARCONFIG_SEPARATE ? 1 : page->samples);
    size_t plane_bytes = (size_t)page->width * page->height * pixel_bytes;
    if (TIFFIsTiled(tif)) {
        uint32_t tw = 0, th = 0;
        TIFFGetField(tif, TIFFTAG_TILEWIDTH, &tw);
        TIFFGetField(tif, TIFFTAG_TILELENGTH, &th);
        if (tw == 0 || th == 0 || tw > 65536 || th > 65536)
            return vigil_fail(error, VIGIL_ERR_CORRUPT, "invalid TIFF tile size %ux%u", tw, th);
        tmsize_t tile_size = TIFFTileSize(tif);
        if (tile_size <= 0 || (size_t)tile_size < (size_t)tw * th * pixel_bytes)
            return vigil_fail(error, VIGIL_ERR_CORRUPT, "inconsistent TIFF tile size");
        uint8_t *tile = malloc((size_t)tile_size);
        if (tile == NULL) return vigil_fail(error, VIGIL_ERR_NOMEM, "out of memory for a tile");
        for (uint32_t s = 0; s < planes; s++)
            for (uint32_t y = 0; y < page->height; y += th)
                for (uint32_t x = 0; x < page->width; x += tw) {
                    ttile_t index = TIFFComputeTile(tif, x, y, 0, (uint16_t)s);
                    if (TIFFReadEncodedTile(tif, index, tile, tile_size) < 0) {
                        free(tile);
                        if (error[0] == '\0') snprintf(error, 256, "cannot decode tile %u", index);
                        return VIGIL_ERR_CORRUPT;
                    }
                    tiff_blit(dest + s * plane_bytes, tile, page->width, page->height, x, y, tw, th, pixel_bytes);
                }
        free(tile);
        return VIGIL_OK;
    }
    uint32_t rows_per_strip = page->height;
    TIFFGetFieldDefaulted(tif, TIFFTAG_ROWSPERSTRIP, &rows_per_strip);
    if (rows_per_strip == 0 || rows_per_strip > page->height) rows_per_strip = page->height;
    uint32_t strips_per_plane = (page->height + rows_per_strip - 1) / rows_per_strip;
    if ((uint64_t)strips_per_plane * planes > TIFFNumberOfStrips(tif))
        return vigil_fail(error, VIGIL_ERR_CORRUPT, "TIFF declares %u strips, needs %u",
                          TIFFNumberOfStrips(tif), strips_per_plane * planes);
    // Horizontal differencing on integer samples is undone here, not by libtiff: its loop adds
    // through memory, a store-to-load dependency per sample (about 5 cycles each, 14 ms of CPU for
    // a 4125 x 1280 dual-energy scan); a running sum in a register takes one.
    uint16_t predictor = PREDICTOR_NONE;
    TIFFGetFieldDefaulted(tif, TIFFTAG_PREDICTOR, &predictor);
    int own_predictor = predictor == PREDICTOR_HORIZONTAL && page->format != SAMPLEFORMAT_IEEEFP &&
                        TIFFSetField(tif, TIFFTAG_PREDICTOR, PREDICTOR_NONE) == 1;
    uint32_t interleaved = page->planar == PLANARCONFIG_SEPARATE ? 1 : page->samples;
    for (uint32_t s = 0; s < planes; s++)
        for (uint32_t i = 0; i < strips_per_plane; i++) {
            uint32_t y = i * rows_per_strip;
            uint32_t rows = page->height - y < rows_per_strip ? page->height - y : rows_per_strip;
            size_t want = (size_t)rows * page->width * pixel_bytes;
            uint8_t *at = dest + s * plane_bytes + (size_t)y * page->width * pixel_bytes;
            tmsize_t got = TIFFReadEncodedStrip(tif, s * strips_per_plane + i, at, (tmsize_t)want);
            if (got < 0 || (size_t)got < want) {
                if (error[0] == '\0')
                    snprintf(error, 256, "strip %u holds %lld of %zu bytes", i, (long long)got, want);
                return got < 0 ? VIGIL_ERR_CORRUPT : VIGIL_ERR_TRUNCATED;
            }
            if (own_predictor) tiff_undo_horizontal(at, rows, page->width, interleaved, page->bits);
        }
    return VIGIL_OK;
}

static const char *tiff_compression_name(uint32_t compression) {
    switch (compression) {
    case COMPRESSION_NONE: return "none";
    case COMPRESSION_LZW: return "lzw";
    case COMPRESSION_ADOBE_DEFLATE: case COMPRESSION_DEFLATE: return "deflate";
    case COMPRESSION_PACKBITS: return "packbits";
    case COMPRESSION_JPEG: return "jpeg";
    case COMPRESSION_ZSTD: return "zstd";
    case COMPRESSION_LZMA: return "lzma";
    case COMPRESSION_WEBP: return "webp";
    default: return "other";
    }
}

static uint64_t tiff_read_uint(const uint8_t *p, int bytes, int big_endian) {
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++) v |= (uint64_t)p[big_endian ? i : bytes - 1 - i] << (8 * (bytes - 1 - i));
    return v;
}

// The raw "next directory" offset stored after the directory at `dir_offset`, or UINT64_MAX
// when that directory itself runs past the data.
static uint64_t tiff_next_offset(const tiff_memory *m, uint64_t dir_offset) {
    int big_endian = m->data[0] == 'M';
    int bigtiff = tiff_read_uint(m->data + 2, 2, big_endian) == 43;
    uint64_t count_bytes = bigtiff ? 8 : 2, entry_bytes = bigtiff ? 20 : 12, offset_bytes = bigtiff ? 8 : 4;
    if (dir_offset > m->length || m->length - dir_offset < count_bytes) return UINT64_MAX;
    uint64_t entries = tiff_read_uint(m->data + dir_offset, (int)count_bytes, big_endian);
    if (entries > (m->length - dir_offset) / entry_bytes) return UINT64_MAX;
    uint64_t at = dir_offset + count_bytes + entries * entry_bytes;
    if (at + offset_bytes > m->length) return UINT64_MAX;
    return tiff_read_uint(m->data + at, (int)offset_bytes, big_endian);
}

// Advances to the next page. libtiff treats a next-directory offset past the end of the data as
// the end of the chain; for us it is a truncated file, or a dual-energy scan would read as one page.
static int tiff_next_page(TIFF *tif, const tiff_memory *m, int *rc, char *error) {
    if (*rc != VIGIL_OK) return 0;
    uint64_t next = tiff_next_offset(m, TIFFCurrentDirOffset(tif));
    if (next == 0) return 0;
    if (next == UINT64_MAX)
        return *rc = vigil_fail(error, VIGIL_ERR_TRUNCATED, "the page directory at offset %llu runs past the end of the data",
                                (unsigned long long)TIFFCurrentDirOffset(tif)), 0;
    if (next >= m->length) {
        *rc = vigil_fail(error, VIGIL_ERR_TRUNCATED, "a page directory lies past the end of the data (offset %llu of %zu bytes)",
                         (unsigned long long)next, m->length);
        return 0;
    }
    if (TIFFReadDirectory(tif)) return 1;
    if (error[0] == '\0') snprintf(error, 256, "the next page's directory cannot be read");
    *rc = VIGIL_ERR_CORRUPT;
    return 0;
}

static TIFF *tiff_open_memory(tiff_memory *mem, const vigil_raster_limits *limits, char *error) {
    TIFFOpenOptions *options = TIFFOpenOptionsAlloc();
    // Caps every single allocation libtiff makes (strip buffers, tag arrays) by our pixel limit.
    TIFFOpenOptionsSetMaxSingleMemAlloc(options, (tmsize_t)(limits->max_pixel_bytes < INT64_MAX ? limits->max_pixel_bytes : INT64_MAX));
    TIFFOpenOptionsSetErrorHandlerExtR(options, tiff_on_error, error);
    TIFFOpenOptionsSetWarningHandlerExtR(options, tiff_on_warning, NULL);
    TIFF *tif = TIFFClientOpenExt("memory", "rm", (thandle_t)mem, tiff_mem_read, tiff_mem_write, tiff_mem_seek,
                                  tiff_mem_close, tiff_mem_size, tiff_mem_map, tiff_mem_unmap, options);
    TIFFOpenOptionsFree(options);
    return tif;
}

// One decoding thread's share: full-resolution pages first, first + stride, ... (in page order).
typedef struct {
    const uint8_t *data;
    size_t length;
    const vigil_raster_limits *limits;
    uint8_t *pixels;
    size_t page_bytes;
    uint32_t pages;
    uint32_t first;
    uint32_t stride;
    int rc;
    char error[256];
} tiff_page_job;

static void *tiff_decode_pages_thread(void *arg) {
    tiff_page_job *job = arg;
    tiff_memory mem = {(uint8_t *)job->data, job->length, job->length, 0, 0};
    TIFF *tif = tiff_open_memory(&mem, job->limits, job->error);
    if (tif == NULL) {
        job->rc = vigil_fail(job->error, VIGIL_ERR_CORRUPT, "not a readable TIFF file");
        return NULL;
    }
    uint32_t index = 0;
    int rc = VIGIL_OK;
    do {
        uint32_t subfile = 0;
        TIFFGetFieldDefaulted(tif, TIFFTAG_SUBFILETYPE, &subfile);
        if (subfile & FILETYPE_REDUCEDIMAGE) continue;
        if (index % job->stride == job->first) {
            tiff_page page;
            rc = tiff_read_page_header(tif, &page, job->error);
            if (rc == VIGIL_OK) rc = tiff_read_page(tif, &page, job->pixels + index * job->page_bytes, job->error);
            if (rc != VIGIL_OK) break;
        }
        index++;
    } while (index < job->pages && TIFFReadDirectory(tif));
    if (rc == VIGIL_OK && index < job->pages)
        rc = vigil_fail(job->error, VIGIL_ERR_CORRUPT, "page %u could not be read", index + 1);
    TIFFClose(tif);
    job->rc = rc;
    return NULL;
}

int vigil_tiff_decode(const uint8_t *data, size_t length, const vigil_raster_limits *limits, vigil_raster *out) {
    memset(out, 0, sizeof(*out));
    if (length < 8 || !((data[0] == 'I' && data[1] == 'I') || (data[0] == 'M' && data[1] == 'M')))
        return vigil_fail(out->error, VIGIL_ERR_CORRUPT, "not a TIFF file (bad byte-order mark)");
    tiff_memory mem = {(uint8_t *)data, length, length, 0, 0};
    TIFF *tif = tiff_open_memory(&mem, limits, out->error);
    if (tif == NULL) {
        if (out->error[0] == '\0') snprintf(out->error, 256, "not a readable TIFF file");
        return VIGIL_ERR_CORRUPT;
    }
    // First pass: count full-resolution pages and check they agree.
    tiff_page first;
    memset(&first, 0, sizeof(first));
    uint32_t pages = 0;
    int rc = VIGIL_OK;
    do {
        uint32_t subfile = 0;
        TIFFGetFieldDefaulted(tif, TIFFTAG_SUBFILETYPE, &subfile);
        if (subfile & FILETYPE_REDUCEDIMAGE) continue;  // thumbnails and previews
        tiff_page page;
        rc = tiff_read_page_header(tif, &page, out->error);
        if (rc != VIGIL_OK) break;
        if (pages == 0) {
            first = page;
        } else if (page.width != first.width || page.height != first.height || page.bits != first.bits ||
                   page.samples != first.samples || page.format != first.format || page.planar != first.planar) {
            rc = vigil_fail(out->error, VIGIL_ERR_UNSUPPORTED,
                            "page %u (%ux%u, %u x %u-bit) differs from page 1 (%ux%u, %u x %u-bit)", pages + 1,
                            page.width, page.height, page.samples, page.bits, first.width, first.height,
                            first.samples, first.bits);
            break;
        }
        pages++;
        if (pages > limits->max_frames) {
            rc = vigil_fail(out->error, VIGIL_ERR_LIMIT, "more than %u pages", limits->max_frames);
            break;
        }
    } while (tiff_next_page(tif, &mem, &rc, out->error));
    if (rc == VIGIL_OK && pages == 0) rc = vigil_fail(out->error, VIGIL_ERR_CORRUPT, "TIFF has no full-resolution page");
    size_t total = 0;
    if (rc == VIGIL_OK)
        rc = vigil_check_geometry(limits, first.width, first.height, pages, first.samples, first.bits / 8, &total, out->error);
    if (rc != VIGIL_OK) {
        TIFFClose(tif);
        return rc;
    }
    uint8_t *pixels = malloc(total);
    if (pixels == NULL) {
        TIFFClose(tif);
        return vigil_fail(out->error, VIGIL_ERR_NOMEM, "out of memory for %zu bytes", total);
    }
    // Second pass: decode the pages. Pages are independent, so a multi-page scan (dual-energy
    // planes, CT slices) is decoded by several threads, each with its own libtiff handle.
    TIFFSetDirectory(tif, 0);
    size_t page_bytes = total / pages;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    uint32_t threads = pages < 2 || total < ((size_t)4 << 20) || cores < 2 ? 1 : (uint32_t)(cores < pages ? cores : pages);
    if (threads > 8) threads = 8;
    tiff_page_job jobs[8];
    pthread_t ids[8];
    uint32_t started = 0;
    for (uint32_t t = 0; t < threads; t++) {
        jobs[t] = (tiff_page_job){data, length, limits, pixels, page_bytes, pages, t, threads, VIGIL_OK, {0}};
        if (t == 0 || pthread_create(&ids[t], NULL, tiff_decode_pages_thread, &jobs[t]) != 0) continue;
        started |= 1u << t;
    }
    // The calling thread takes job 0 and any job whose thread could not start.
    for (uint32_t t = 0; t < threads; t++)
        if (!(started & (1u << t))) tiff_decode_pages_thread(&jobs[t]);
    for (uint32_t t = 0; t < threads; t++) {
        if (started & (1u << t)) pthread_join(ids[t], NULL);
        if (rc == VIGIL_OK && jobs[t].rc != VIGIL_OK) {
            rc = jobs[t].rc;
            memcpy(out->error, jobs[t].error, sizeof(jobs[t].error));
        }
    }
    if (rc == VIGIL_OK) {
        float xres = 0, yres = 0;
        uint16_t unit = RESUNIT_INCH;
        if (TIFFSetDirectory(tif, 0)) {
            TIFFGetField(tif, TIFFTAG_XRESOLUTION, &xres);
            TIFFGetField(tif, TIFFTAG_YRESOLUTION, &yres);
            TIFFGetFieldDefaulted(tif, TIFFTAG_RESOLUTIONUNIT, &unit);
        }
        out->x_resolution = xres;
        out->y_resolution = yres;
        out->resolution_unit = unit;
    }
    TIFFClose(tif);
    if (rc != VIGIL_OK) {
        free(pixels);
        return rc;
    }
    out->width = first.width;
    out->height = first.height;
    out->frames = pages;
    out->samples = first.samples;
    out->bits_allocated = first.bits;
    out->bits_stored = first.bits;
    out->sample_format = first.format == SAMPLEFORMAT_IEEEFP ? VIGIL_FLOAT : first.format == SAMPLEFORMAT_INT ? VIGIL_INT : VIGIL_UINT;
    out->planar = first.planar == PLANARCONFIG_SEPARATE;
    const char *photometric = first.photometric == PHOTOMETRIC_MINISWHITE ? "MONOCHROME1"
                              : first.photometric == PHOTOMETRIC_RGB      ? "RGB"
                                                                          : "MONOCHROME2";
    snprintf(out->photometric, sizeof(out->photometric), "%s", photometric);
    snprintf(out->compression, sizeof(out->compression), "%s", tiff_compression_name(first.compression));
    out->pixels = pixels;
    out->pixel_bytes = total;
    return VIGIL_OK;
}

int vigil_tiff_encode(const uint8_t *pixels, uint32_t width, uint32_t height, uint32_t pages,
                      uint32_t samples, uint32_t bits, uint32_t sample_format, vigil_buffer *out) {
    memset(out, 0, sizeof(*out));
    if (bits != 8 && bits != 16 && bits != 32)
        return vigil_fail(out->error, VIGIL_ERR_ENCODE, "TIFF is written with 8, 16 or 32 bits, not %u", bits);
    tiff_memory mem = {NULL, 0, 0, 0, 1};
    TIFFOpenOptions *options = TIFFOpenOptionsAlloc();
    TIFFOpenOptionsSetErrorHandlerExtR(options, tiff_on_error, out->error);
    TIFFOpenOptionsSetWarningHandlerExtR(options, tiff_on_warning, NULL);
    TIFF *tif = TIFFClientOpenExt("memory", "w", (thandle_t)&mem, tiff_mem_read, tiff_mem_write, tiff_mem_seek,
                                  tiff_mem_close, tiff_mem_size, tiff_mem_map, tiff_mem_unmap, options);
    TIFFOpenOptionsFree(options);
    if (tif == NULL) return vigil_fail(out->error, VIGIL_ERR_ENCODE, "libtiff could not open a memory file");
    size_t row_bytes = (size_t)width * samples * (bits / 8);
    uint32_t rows_per_strip = (uint32_t)(65536 / (row_bytes ? row_bytes : 1));
    if (rows_per_strip == 0) rows_per_strip = 1;
    int rc = VIGIL_OK;
    for (uint32_t p = 0; p < pages && rc == VIGIL_OK; p++) {
        TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, width);
        TIFFSetField(tif, TIFFTAG_IMAGELENGTH, height);
        TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, (uint16_t)bits);
        TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, (uint16_t)samples);
        TIFFSetField(tif, TIFFTAG_SAMPLEFORMAT, (uint16_t)(sample_format == VIGIL_FLOAT ? SAMPLEFORMAT_IEEEFP
                                                           : sample_format == VIGIL_INT ? SAMPLEFORMAT_INT
                                                                                        : SAMPLEFORMAT_UINT));
        TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, (uint16_t)(samples >= 3 ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISBLACK));
        TIFFSetField(tif, TIFFTAG_PLANARCONFIG, (uint16_t)PLANARCONFIG_CONTIG);
        TIFFSetField(tif, TIFFTAG_COMPRESSION, (uint16_t)COMPRESSION_ADOBE_DEFLATE);
        TIFFSetField(tif, TIFFTAG_PREDICTOR, (uint16_t)(sample_format == VIGIL_FLOAT ? PREDICTOR_NONE : PREDICTOR_HORIZONTAL));
        TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, rows_per_strip);
        if (pages > 1) {
            TIFFSetField(tif, TIFFTAG_SUBFILETYPE, (uint32_t)FILETYPE_PAGE);
            TIFFSetField(tif, TIFFTAG_PAGENUMBER, (uint16_t)p, (uint16_t)pages);
        }
        const uint8_t *page = pixels + (size_t)p * row_bytes * height;
        for (uint32_t y = 0; y < height; y += rows_per_strip) {
            uint32_t rows = height - y < rows_per_strip ? height - y : rows_per_strip;
            // libtiff's predictor modifies the buffer in place, so hand it a copy.
            uint8_t *strip = malloc(rows * row_bytes);
            if (strip == NULL) { rc = vigil_fail(out->error, VIGIL_ERR_NOMEM, "out of memory"); break; }
            memcpy(strip, page + (size_t)y * row_bytes, rows * row_bytes);
            tmsize_t written = TIFFWriteEncodedStrip(tif, y / rows_per_strip, strip, (tmsize_t)(rows * row_bytes));
            free(strip);
            if (written < 0) { rc = VIGIL_ERR_ENCODE; break; }
        }
        if (rc == VIGIL_OK && !TIFFWriteDirectory(tif)) rc = VIGIL_ERR_ENCODE;
    }
    TIFFClose(tif);
    if (rc != VIGIL_OK) {
        if (out->error[0] == '\0') snprintf(out->error, 256, "libtiff could not write the image");
        free(mem.data);
        return rc;
    }
    out->data = mem.data;
    out->length = mem.length;
    return VIGIL_OK;
}
