// Reads the UIDs and geometry of a received DICOM object, for the TDR that will reference it.

#include "CDICOM.h"
#include "ElementLengthCheck.hpp"

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dctk.h"
#include "dcmtk/dcmdata/dcistrmb.h"
#include "dcmtk/oflog/oflog.h"

#include <cstdio>
#include <cstring>
#include <string>

namespace {

void copy(DcmItem *item, const DcmTagKey &key, char *dest, size_t size) {
    OFString value;
    dest[0] = '\0';
    if (item->findAndGetOFString(key, value).good()) snprintf(dest, size, "%s", value.c_str());
}

}  // namespace

extern "C" int vigil_dicom_read_reference(const uint8_t *data, size_t length, vigil_dicom_reference *out) {
    memset(out, 0, sizeof(*out));
    OFLog::configure(OFLogger::OFF_LOG_LEVEL);
    // dcmtk allocates whatever length an element claims when reading from memory: check first.
    // Nothing is inflated beyond what a DICOM object Vigil accepts can hold.
    std::string lengthError;
    bool deflated = false;
    switch (vigil::checkElementLengths(data, length, 1ull << 30, lengthError, deflated)) {
    case vigil::LengthCheck::ok: break;
    case vigil::LengthCheck::truncated:
        snprintf(out->error, sizeof(out->error), "%s", lengthError.c_str());
        return VIGIL_DICOM_TRUNCATED;
    case vigil::LengthCheck::tooLarge:
        snprintf(out->error, sizeof(out->error), "%s", lengthError.c_str());
        return VIGIL_DICOM_LIMIT;
    case vigil::LengthCheck::corrupt:
        snprintf(out->error, sizeof(out->error), "%s", lengthError.empty() ? "malformed element structure" : lengthError.c_str());
        return VIGIL_DICOM_CORRUPT;
    }
    DcmInputBufferStream stream;
    stream.setBuffer(data, static_cast<offile_off_t>(length));
    stream.setEos();
    DcmFileFormat file;
    file.transferInit();
    // The pixel data is neither needed nor read.
    OFCondition status = file.readUntilTag(stream, EXS_Unknown, EGL_noChange, DCM_MaxReadLength, DCM_PixelData);
    file.transferEnd();
    if (status.bad()) {
        snprintf(out->error, sizeof(out->error), "not a readable DICOM file: %s", status.text());
        return VIGIL_DICOM_CORRUPT;
    }
    DcmDataset *ds = file.getDataset();
    copy(ds, DCM_StudyInstanceUID, out->study_instance_uid, sizeof(out->study_instance_uid));
    copy(ds, DCM_SeriesInstanceUID, out->series_instance_uid, sizeof(out->series_instance_uid));
    copy(ds, DCM_SOPClassUID, out->sop_class_uid, sizeof(out->sop_class_uid));
    copy(ds, DCM_SOPInstanceUID, out->sop_instance_uid, sizeof(out->sop_instance_uid));
    copy(ds, DCM_FrameOfReferenceUID, out->frame_of_reference_uid, sizeof(out->frame_of_reference_uid));
    copy(ds, DCM_PatientID, out->patient_id, sizeof(out->patient_id));
    Uint16 rows = 0, columns = 0;
    ds->findAndGetUint16(DCM_Rows, rows);
    ds->findAndGetUint16(DCM_Columns, columns);
    Sint32 frames = 1;
    if (ds->findAndGetSint32(DCM_NumberOfFrames, frames).bad() || frames < 1) frames = 1;
    out->rows = rows;
    out->columns = columns;
    out->frames = static_cast<uint32_t>(frames);
    if (out->sop_class_uid[0] == '\0' || out->sop_instance_uid[0] == '\0') {
        snprintf(out->error, sizeof(out->error), "no SOP Class UID or SOP Instance UID");
        return VIGIL_DICOM_CORRUPT;
    }
    return VIGIL_DICOM_OK;
}
