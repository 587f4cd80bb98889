// Serialising a dcmtk file object into a malloc'ed buffer for Swift (internal to CDICOM).
#pragma once

#include "CDICOM.h"

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dctk.h"

namespace vigil {

/// Writes `file` (explicit VR little endian, meta header validated) into `out`; `capacity` must
/// cover the encoded size. `what` names the object in the error. Returns a VIGIL_DICOM_* code.
int writeToMemory(DcmFileFormat &file, size_t capacity, vigil_dicom_buffer *out, const char *what);

}  // namespace vigil
