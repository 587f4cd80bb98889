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

/// What vigil_dicom_encode writes: a DICOS Digital X-Ray image (for presentation), explicit VR
/// little endian, unsigned 16-bit MONOCHROME2, one frame per channel (high energy first).
typedef struct vigil_dicom_dx {
    uint32_t rows;
    uint32_t columns;
    uint32_t frames;
    uint32_t bits_stored;
    const uint16_t *pixels;  ///< frames x rows x columns
    double pixel_spacing_row;
    double pixel_spacing_column;
    const char *station_name;
    const char *manufacturer;
    const char *model_name;
    /// When set, UIDs are <uid_root>.1 (instance), .2 (study), .3 (series): reproducible files.
    /// When null, dcmtk generates unique ones.
    const char *uid_root;
} vigil_dicom_dx;

/// An encoded file, malloc'ed; release with vigil_dicom_buffer_free.
typedef struct vigil_dicom_buffer {
    uint8_t *data;
    size_t length;
    char error[256];
} vigil_dicom_buffer;

int vigil_dicom_encode(const vigil_dicom_dx *image, vigil_dicom_buffer *out);
void vigil_dicom_buffer_free(vigil_dicom_buffer *buffer);

#ifdef __cplusplus
}
#endif

#endif
