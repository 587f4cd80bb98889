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

/// What a Threat Detection Report needs to reference a received image.
typedef struct vigil_dicom_reference {
    char study_instance_uid[68];
    char series_instance_uid[68];
    char sop_class_uid[68];
    char sop_instance_uid[68];
    char frame_of_reference_uid[68];  ///< empty when absent
    char patient_id[68];              ///< Object of Inspection ID; empty when absent
    uint32_t rows;
    uint32_t columns;
    uint32_t frames;                  ///< Number of Frames; 1 when absent
    char error[256];
} vigil_dicom_reference;

/// Reads the identifying attributes of a DICOM file in memory, stopping before the pixel data.
/// Element lengths are checked against the buffer first, as vigil_dicom_decode does.
int vigil_dicom_read_reference(const uint8_t *data, size_t length, vigil_dicom_reference *out);

/// One potential threat object of a DICOS Threat Detection Report.
typedef struct vigil_tdr_pto {
    uint16_t id;                  ///< Potential Threat Object ID (4010,1010)
    const char *threat_category;  ///< (4010,1012): EXPLOSIVE, PI, CONTRABAND, ANOMALY, LAPTOP, PHARMACEUTICAL, OTHER
    const char *description;      ///< (4010,1013) Threat Category Description; may be null
    const char *assessment_flag;  ///< (4010,1015): HIGH_THREAT, THREAT, NO_THREAT, UNKNOWN
    float probability;            ///< (4010,1016), 0...1; negative leaves it out
    float polygon[6];             ///< (4010,101D): two x,y,z corners of the box, in the image's pixels
} vigil_tdr_pto;

/// A DICOS Threat Detection Report (SOP class 1.2.840.10008.5.1.4.1.1.501.3). Strings may be null
/// where marked optional; dates are DICOM DA/TM/DT strings.
typedef struct vigil_tdr {
    const char *sop_instance_uid;
    const char *series_instance_uid;     ///< the TDR's own series
    const char *study_instance_uid;      ///< the scan's (shared with the referenced image)
    const char *frame_of_reference_uid;
    const char *referenced_series_uid;
    const char *referenced_sop_class_uid;
    const char *referenced_sop_instance_uid;
    const char *ooi_id;                  ///< optional: Object of Inspection ID (0010,0020)
    const char *scan_id;                 ///< optional: Study ID (0020,0010), at most 16 characters
    const char *date;                    ///< DA: content, series, instance creation date
    const char *time;                    ///< TM
    const char *alarm_decision_time;     ///< DT
    const char *alarm_decision;          ///< ALARM, CLEAR, UNKNOWN
    const char *abort_flag;              ///< SUCCESS or ABORT
    const char *abort_reason;            ///< optional: with ABORT
    const char *algorithms;              ///< optional: backslash-separated "name@version" values
    const char *manufacturer;
    const char *software_versions;
    const char *station_name;            ///< optional
    const char *institution_name;        ///< optional (the site)
    uint16_t total_objects;
    uint16_t alarm_objects;
    float total_processing_ms;           ///< negative leaves it out
    const vigil_tdr_pto *ptos;
    size_t pto_count;
} vigil_tdr;

/// Writes the report as a Part 10 file in explicit VR little endian.
int vigil_tdr_encode(const vigil_tdr *tdr, vigil_dicom_buffer *out);

#ifdef __cplusplus
}
#endif

#endif
