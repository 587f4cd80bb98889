// Writes a DICOS Digital X-Ray image with dcmtk: the format stations send to a DICOS receiver.

#include "CDICOM.h"
#include "MemoryWriter.hpp"

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dctk.h"
#include "dcmtk/dcmdata/dcostrmb.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {
// DICOS Digital X-Ray Image Storage - For Presentation (NEMA IIC 1; dcmtk's dcuid.h).
const char *const kDicosDXPresentation = "1.2.840.10008.5.1.4.1.1.501.2.1";
}  // namespace

extern "C" void vigil_dicom_buffer_free(vigil_dicom_buffer *buffer) {
    if (buffer == nullptr) return;
    free(buffer->data);
    buffer->data = nullptr;
    buffer->length = 0;
}

extern "C" int vigil_dicom_encode(const vigil_dicom_dx *image, vigil_dicom_buffer *out) {
    memset(out, 0, sizeof(*out));
    if (image->rows == 0 || image->columns == 0 || image->frames == 0 || image->rows > 65535 || image->columns > 65535) {
        snprintf(out->error, sizeof(out->error), "cannot write a %ux%u image as DICOM", image->columns, image->rows);
        return VIGIL_DICOM_UNSUPPORTED;
    }
    DcmFileFormat file;
    DcmDataset *ds = file.getDataset();
    char uid[100], study[100], series[100];
    if (image->uid_root != nullptr) {
        snprintf(uid, sizeof(uid), "%s.1", image->uid_root);
        snprintf(study, sizeof(study), "%s.2", image->uid_root);
        snprintf(series, sizeof(series), "%s.3", image->uid_root);
    } else {
        dcmGenerateUniqueIdentifier(uid, SITE_INSTANCE_UID_ROOT);
        dcmGenerateUniqueIdentifier(study, SITE_STUDY_UID_ROOT);
        dcmGenerateUniqueIdentifier(series, SITE_SERIES_UID_ROOT);
    }
    char spacing[64];
    snprintf(spacing, sizeof(spacing), "%.6g\\%.6g", image->pixel_spacing_row, image->pixel_spacing_column);
    OFCondition c = EC_Normal;
    auto put = [&](const DcmTagKey &key, const char *value) {
        if (c.good() && value != nullptr) c = ds->putAndInsertString(key, value);
    };
    put(DCM_SOPClassUID, kDicosDXPresentation);
    put(DCM_SOPInstanceUID, uid);
    put(DCM_StudyInstanceUID, study);
    put(DCM_SeriesInstanceUID, series);
    put(DCM_Modality, "DX");
    put(DCM_StationName, image->station_name);
    put(DCM_Manufacturer, image->manufacturer);
    put(DCM_ManufacturerModelName, image->model_name);
    put(DCM_PhotometricInterpretation, "MONOCHROME2");
    put(DCM_ImagerPixelSpacing, spacing);
    put(DCM_PixelSpacing, spacing);
    if (image->frames > 1) put(DCM_NumberOfFrames, std::to_string(image->frames).c_str());
    if (c.good()) c = ds->putAndInsertUint16(DCM_SamplesPerPixel, 1);
    if (c.good()) c = ds->putAndInsertUint16(DCM_Rows, static_cast<Uint16>(image->rows));
    if (c.good()) c = ds->putAndInsertUint16(DCM_Columns, static_cast<Uint16>(image->columns));
    if (c.good()) c = ds->putAndInsertUint16(DCM_BitsAllocated, 16);
    if (c.good()) c = ds->putAndInsertUint16(DCM_BitsStored, static_cast<Uint16>(image->bits_stored));
    if (c.good()) c = ds->putAndInsertUint16(DCM_HighBit, static_cast<Uint16>(image->bits_stored - 1));
    if (c.good()) c = ds->putAndInsertUint16(DCM_PixelRepresentation, 0);
    const unsigned long words = static_cast<unsigned long>(image->rows) * image->columns * image->frames;
    if (c.good()) c = ds->putAndInsertUint16Array(DCM_PixelData, image->pixels, words);
    if (c.bad()) {
        snprintf(out->error, sizeof(out->error), "cannot build the data set: %s", c.text());
        return VIGIL_DICOM_CORRUPT;
    }
    // Meta header and transfer syntax, then serialise to memory.
    file.getMetaInfo()->putAndInsertString(DCM_MediaStorageSOPClassUID, kDicosDXPresentation);
    file.getMetaInfo()->putAndInsertString(DCM_MediaStorageSOPInstanceUID, uid);
    return vigil::writeToMemory(file, 1024 * 1024 + static_cast<size_t>(words) * 2, out, "DICOM");
}
