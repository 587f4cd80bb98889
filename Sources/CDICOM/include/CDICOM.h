#ifndef VIGIL_CDICOM_H
#define VIGIL_CDICOM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Error classes (same values as CCodecs' VIGIL_ERR_*).
enum {
    VIGIL_DICOM_OK = 0,
    VIGIL_DICOM_CORRUPT = 1,
    VIGIL_DICOM_UNSUPPORTED = 2,
    VIGIL_DICOM_LIMIT = 3,
    VIGIL_DICOM_TRUNCATED = 4,
    VIGIL_DICOM_NOMEM = 5,
    VIGIL_DICOM_NO_PIXELS = 7,
};

/// A decoded DICOM / DICOS image: geometry, the metadata the pipeline needs, and pixels.
/// Pixels are [frame][sample][y][x] (planar), host byte order, `bits_allocated` wide (8, 16 or
/// 32; 1-bit data is unpacked to one byte per pixel and reported as 8), masked to `bits_stored`
/// and sign-extended when `pixel_representation` is 1. YBR colour is converted to RGB; PALETTE
/// COLOR keeps its indices (one sample, the stored values).
typedef struct vigil_dicom_image {
    uint32_t rows;
    uint32_t columns;
    uint32_t frames;
    uint32_t samples_per_pixel;
    uint32_t bits_allocated;
    uint32_t bits_stored;
    uint32_t pixel_representation;  ///< 0 unsigned, 1 two's complement
    char photometric[32];           ///< after decoding (YBR_* becomes RGB)
    char transfer_syntax[68];       ///< of the file as received
    char sop_class_uid[68];
    char sop_instance_uid[68];
    char modality[20];
    char station_name[68];
    char manufacturer[68];
    char model_name[68];
    char acquisition_datetime[32];  ///< DT form, from AcquisitionDateTime or Date+Time
    double pixel_spacing_row;       ///< mm between rows; 0 when absent
    double pixel_spacing_column;    ///< mm between columns; 0 when absent
    double slice_thickness;         ///< mm; 0 when absent
    double rescale_slope;           ///< 1 when absent
    double rescale_intercept;       ///< 0 when absent
    uint8_t *pixels;
    size_t pixel_bytes;
    char error[256];
} vigil_dicom_image;

/// Decodes a DICOM file (with or without the Part 10 preamble) from memory.
/// Geometry is checked against the limits before pixel data is decompressed.
int vigil_dicom_decode(const uint8_t *data, size_t length, uint32_t max_width, uint32_t max_height,
                       uint32_t max_frames, uint64_t max_pixel_bytes, vigil_dicom_image *out);

void vigil_dicom_free(vigil_dicom_image *image);

#ifdef __cplusplus
}
#endif

#endif
