#include "MemoryWriter.hpp"

#include "dcmtk/dcmdata/dcostrmb.h"

#include <cstdio>
#include <cstdlib>

namespace vigil {

int writeToMemory(DcmFileFormat &file, size_t capacity, vigil_dicom_buffer *out, const char *what) {
    OFCondition c = file.validateMetaInfo(EXS_LittleEndianExplicit);
    uint8_t *buffer = static_cast<uint8_t *>(malloc(capacity));
    if (buffer == nullptr) {
        snprintf(out->error, sizeof(out->error), "out of memory for %zu bytes", capacity);
        return VIGIL_DICOM_NOMEM;
    }
    DcmOutputBufferStream stream(buffer, capacity);
    file.transferInit();
    if (c.good()) c = file.write(stream, EXS_LittleEndianExplicit, EET_ExplicitLength, nullptr);
    file.transferEnd();
    if (c.bad()) {
        free(buffer);
        snprintf(out->error, sizeof(out->error), "cannot write %s: %s", what, c.text());
        return VIGIL_DICOM_CORRUPT;
    }
    void *written = nullptr;
    offile_off_t used = 0;
    stream.flushBuffer(written, used);
    out->data = buffer;
    out->length = static_cast<size_t>(used);
    return VIGIL_DICOM_OK;
}

}  // namespace vigil
