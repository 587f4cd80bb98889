// Bounds every element length in a DICOM buffer before dcmtk sees it.
//
// dcmtk refuses an element longer than the rest of the file only when it reads from a file
// stream; from a memory buffer it allocates the claimed length first. This walk rejects such
// lengths without allocating anything.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace vigil {

enum class LengthCheck { ok, truncated, corrupt, tooLarge };

/// Walks the meta header and data set (recursing into sequences and items) and checks that no
/// defined length runs past the end of the data. A deflated data set is inflated, up to
/// `maxInflatedBytes`, and checked the same way; `deflated` tells the caller so. `error` says
/// which element failed.
LengthCheck checkElementLengths(const uint8_t *data, size_t length, uint64_t maxInflatedBytes, std::string &error,
                                bool &deflated);

}  // namespace vigil
