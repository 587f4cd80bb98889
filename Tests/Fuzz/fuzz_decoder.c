// libFuzzer target for one of Vigil's C decoders, chosen at compile time with -DFUZZ_PNG,
// -DFUZZ_JPEG, -DFUZZ_TIFF or -DFUZZ_DICOM. Build and run with `make fuzz` (see Makefile).
// Limits are small so that a hostile header cannot make the fuzzer itself run out of memory:
// the property under test is "no crash, no sanitizer report, no allocation past the limits".

#include <stddef.h>
#include <stdint.h>

#include "CCodecs.h"
#include "CDICOM.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const uint64_t max_bytes = 64u << 20;
#if defined(FUZZ_DICOM)
    vigil_dicom_image image;
    vigil_dicom_decode(data, size, 8192, 8192, 256, max_bytes, &image);
    vigil_dicom_free(&image);
#else
    vigil_raster_limits limits = {8192, 8192, 256, 4, max_bytes};
    vigil_raster raster;
#if defined(FUZZ_PNG)
    vigil_png_decode(data, size, &limits, &raster);
#elif defined(FUZZ_JPEG)
    vigil_jpeg_decode(data, size, &limits, &raster);
#elif defined(FUZZ_TIFF)
    vigil_tiff_decode(data, size, &limits, &raster);
#else
#error "define one of FUZZ_PNG, FUZZ_JPEG, FUZZ_TIFF, FUZZ_DICOM"
#endif
    vigil_raster_free(&raster);
#endif
    return 0;
}
