// A C API over dcmtk: parse a DICOM file from memory, decompress its pixel data with dcmtk's
// own codecs, and hand back planar samples plus the metadata Vigil's pipeline reads.

#include "CDICOM.h"
#include "ElementLengthCheck.hpp"

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dctk.h"
#include "dcmtk/dcmdata/dcistrmb.h"
#include "dcmtk/dcmdata/dcrledrg.h"
#include "dcmtk/dcmjpeg/djdecode.h"
#include "dcmtk/dcmjpls/djdecode.h"
#include "dcmtk/oflog/oflog.h"

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <utility>
#include <vector>

namespace {

int fail(vigil_dicom_image *out, int code, const char *format, ...) {
    va_list args;
    va_start(args, format);
    vsnprintf(out->error, sizeof(out->error), format, args);
    va_end(args);
    return code;
}

void registerCodecsOnce() {
    static std::once_flag once;
    std::call_once(once, [] {
        // dcmtk logs parse warnings to stderr by default; Vigil reports its own one-line errors.
        OFLog::configure(OFLogger::OFF_LOG_LEVEL);
        DcmRLEDecoderRegistration::registerCodecs();
        DJDecoderRegistration::registerCodecs(EDC_photometricInterpretation);
        DJLSDecoderRegistration::registerCodecs();
    });
}

void copyString(DcmItem *item, const DcmTagKey &key, char *dest, size_t size) {
    OFString value;
    dest[0] = '\0';
    if (item->findAndGetOFString(key, value).good()) {
        snprintf(dest, size, "%s", value.c_str());
    }
}

double number(DcmItem *item, const DcmTagKey &key, unsigned long position, double fallback) {
    Float64 value = 0;
    return item->findAndGetFloat64(key, value, position).good() ? value : fallback;
}

// A memory stream that can hand dcmtk a factory for re-reading a value later, as a file stream
// does. With it dcmtk defers loading values longer than the read limit and, before deferring,
// checks that they fit in the data; without it dcmtk allocates whatever length an element claims.
class MemoryInputStream : public DcmInputBufferStream {
public:
    /// `deferrable` is false for a deflated data set, whose stream positions are not buffer offsets.
    MemoryInputStream(const uint8_t *data, size_t length, bool deferrable)
        : data_(data), length_(length), deferrable_(deferrable) {
        setBuffer(data, static_cast<offile_off_t>(length));
        setEos();
    }
    DcmInputStreamFactory *newFactory() const override;

private:
    const uint8_t *data_;
    size_t length_;
    bool deferrable_;
};

class MemoryInputStreamFactory : public DcmInputStreamFactory {
public:
    MemoryInputStreamFactory(const uint8_t *data, size_t length, offile_off_t offset)
        : data_(data), length_(length), offset_(offset) {}
    DcmInputStream *create() const override {
        auto *stream = new MemoryInputStream(data_, length_, true);
        stream->skip(offset_);
        return stream;
    }
    DcmInputStreamFactory *clone() const override { return new MemoryInputStreamFactory(*this); }
    // Not a file: dcmtk only uses this to avoid overwriting the file it is reading from.
    DcmInputStreamFactoryType ident() const override { return DFT_DcmInputTempFileStreamFactory; }

private:
    const uint8_t *data_;
    size_t length_;
    offile_off_t offset_;
};

DcmInputStreamFactory *MemoryInputStream::newFactory() const {
    return deferrable_ ? new MemoryInputStreamFactory(data_, length_, tell()) : nullptr;
}

/// Values longer than this are loaded from the buffer when first used, after a bounds check.
constexpr Uint32 deferredValueLength = 4096;

/// Copies `n` samples of type T, keeping bits [shift, shift + stored) and sign-extending when asked.
template <typename T>
void extractSamples(const uint8_t *source, uint8_t *destination, size_t n, int shift, int stored, bool sign) {
    const T *s = reinterpret_cast<const T *>(source);
    T *d = reinterpret_cast<T *>(destination);
    const uint64_t mask = stored >= 64 ? ~0ull : (1ull << stored) - 1;
    for (size_t i = 0; i < n; i++) {
        uint64_t v = (static_cast<uint64_t>(s[i]) >> shift) & mask;
        if (sign && ((v >> (stored - 1)) & 1)) v |= ~mask;
        d[i] = static_cast<T>(v);
    }
}

/// Encapsulated transfer syntaxes whose decoders registerCodecsOnce() installs.
bool hasDecoder(E_TransferSyntax xfer) {
    switch (xfer) {
    case EXS_RLELossless:
    case EXS_JPEGProcess1: case EXS_JPEGProcess2_4: case EXS_JPEGProcess6_8: case EXS_JPEGProcess10_12:
    case EXS_JPEGProcess14: case EXS_JPEGProcess14SV1:
    case EXS_JPEGLSLossless: case EXS_JPEGLSLossy:
        return true;
    default:
        return false;
    }
}

uint8_t clampByte(double v) { return v < 0 ? 0 : v > 255 ? 255 : static_cast<uint8_t>(v + 0.5); }

// PS3.3 C.7.6.3.1.2: YBR_FULL to RGB for 8-bit samples.
void ybrToRgb(uint8_t y, uint8_t cb, uint8_t cr, uint8_t *rgb) {
    double Y = y, Cb = cb - 128.0, Cr = cr - 128.0;
    rgb[0] = clampByte(Y + 1.402 * Cr);
    rgb[1] = clampByte(Y - 0.344136 * Cb - 0.714136 * Cr);
    rgb[2] = clampByte(Y + 1.772 * Cb);
}

}  // namespace

extern "C" void vigil_dicom_free(vigil_dicom_image *image) {
    if (image == nullptr) return;
    free(image->pixels);
    image->pixels = nullptr;
    image->pixel_bytes = 0;
}

extern "C" int vigil_dicom_decode(const uint8_t *data, size_t length, uint32_t max_width, uint32_t max_height,
                                  uint32_t max_frames, uint64_t max_pixel_bytes, vigil_dicom_image *out) {
    memset(out, 0, sizeof(*out));
    out->rescale_slope = 1;
    registerCodecsOnce();

    // dcmtk allocates whatever length an element claims when reading from memory; check first.
    std::string lengthError;
    bool deflated = false;
    switch (vigil::checkElementLengths(data, length, max_pixel_bytes + (64u << 20), lengthError, deflated)) {
    case vigil::LengthCheck::ok: break;
    case vigil::LengthCheck::truncated: return fail(out, VIGIL_DICOM_TRUNCATED, "%s", lengthError.c_str());
    case vigil::LengthCheck::tooLarge: return fail(out, VIGIL_DICOM_LIMIT, "%s", lengthError.c_str());
    case vigil::LengthCheck::corrupt:
        return fail(out, VIGIL_DICOM_CORRUPT, "%s", lengthError.empty() ? "malformed element structure" : lengthError.c_str());
    }

    MemoryInputStream stream(data, length, !deflated);
    DcmFileFormat file;
    file.transferInit();
    OFCondition status = file.read(stream, EXS_Unknown, EGL_noChange, deferredValueLength);
    file.transferEnd();
    // A bad status with the whole buffer consumed means the data set stopped mid-element.
    if (status == EC_StreamNotifyClient || (status.bad() && stream.eos()))
        return fail(out, VIGIL_DICOM_TRUNCATED, "file ends early (%s)", status.text());
    if (status.bad()) return fail(out, VIGIL_DICOM_CORRUPT, "not a readable DICOM file: %s", status.text());

    DcmDataset *ds = file.getDataset();
    E_TransferSyntax xfer = ds->getOriginalXfer();
    DcmXfer original(xfer);
    snprintf(out->transfer_syntax, sizeof(out->transfer_syntax), "%s", original.getXferID());
    // A transfer syntax dcmtk has never heard of (e.g. HTJ2K in 3.6.7) is not corrupt data.
    OFString declared;
    if (file.getMetaInfo()->findAndGetOFString(DCM_TransferSyntaxUID, declared).good() && !declared.empty() &&
        DcmXfer(declared.c_str()).getXfer() == EXS_Unknown) {
        snprintf(out->transfer_syntax, sizeof(out->transfer_syntax), "%s", declared.c_str());
        return fail(out, VIGIL_DICOM_UNSUPPORTED, "transfer syntax %s is not supported", declared.c_str());
    }
    copyString(ds, DCM_SOPClassUID, out->sop_class_uid, sizeof(out->sop_class_uid));
    copyString(ds, DCM_SOPInstanceUID, out->sop_instance_uid, sizeof(out->sop_instance_uid));
    copyString(ds, DCM_Modality, out->modality, sizeof(out->modality));
    copyString(ds, DCM_StationName, out->station_name, sizeof(out->station_name));
    copyString(ds, DCM_Manufacturer, out->manufacturer, sizeof(out->manufacturer));
    copyString(ds, DCM_ManufacturerModelName, out->model_name, sizeof(out->model_name));
    copyString(ds, DCM_AcquisitionDateTime, out->acquisition_datetime, sizeof(out->acquisition_datetime));
    if (out->acquisition_datetime[0] == '\0') {
        OFString date, time;
        if (ds->findAndGetOFString(DCM_AcquisitionDate, date).bad()) ds->findAndGetOFString(DCM_ContentDate, date);
        if (ds->findAndGetOFString(DCM_AcquisitionTime, time).bad()) ds->findAndGetOFString(DCM_ContentTime, time);
        snprintf(out->acquisition_datetime, sizeof(out->acquisition_datetime), "%s%s", date.c_str(), time.c_str());
    }
    out->pixel_spacing_row = number(ds, DCM_PixelSpacing, 0, 0);
    out->pixel_spacing_column = number(ds, DCM_PixelSpacing, 1, 0);
    if (out->pixel_spacing_row == 0) {
        out->pixel_spacing_row = number(ds, DCM_ImagerPixelSpacing, 0, 0);
        out->pixel_spacing_column = number(ds, DCM_ImagerPixelSpacing, 1, 0);
    }
    out->slice_thickness = number(ds, DCM_SliceThickness, 0, 0);
    out->rescale_slope = number(ds, DCM_RescaleSlope, 0, 1);
    out->rescale_intercept = number(ds, DCM_RescaleIntercept, 0, 0);

    if (!ds->tagExists(DCM_PixelData)) return fail(out, VIGIL_DICOM_NO_PIXELS, "the file has no pixel data");

    Uint16 rows = 0, columns = 0, samples = 1, allocated = 0, stored = 0, high = 0, representation = 0, planar = 0;
    Sint32 frames = 1;
    OFString photometric;
    if (ds->findAndGetUint16(DCM_Rows, rows).bad() || ds->findAndGetUint16(DCM_Columns, columns).bad())
        return fail(out, VIGIL_DICOM_CORRUPT, "Rows or Columns is missing");
    ds->findAndGetUint16(DCM_SamplesPerPixel, samples);
    if (ds->findAndGetUint16(DCM_BitsAllocated, allocated).bad())
        return fail(out, VIGIL_DICOM_CORRUPT, "BitsAllocated is missing");
    if (ds->findAndGetUint16(DCM_BitsStored, stored).bad()) stored = allocated;
    if (ds->findAndGetUint16(DCM_HighBit, high).bad()) high = stored ? stored - 1 : 0;
    ds->findAndGetUint16(DCM_PixelRepresentation, representation);
    ds->findAndGetUint16(DCM_PlanarConfiguration, planar);
    if (ds->findAndGetSint32(DCM_NumberOfFrames, frames).bad()) frames = 1;
    ds->findAndGetOFString(DCM_PhotometricInterpretation, photometric);

    if (rows == 0 || columns == 0) return fail(out, VIGIL_DICOM_CORRUPT, "empty image (%ux%u)", columns, rows);
    if (frames < 1) return fail(out, VIGIL_DICOM_CORRUPT, "NumberOfFrames is %d", frames);
    if (columns > max_width) return fail(out, VIGIL_DICOM_LIMIT, "width %u exceeds the limit of %u", columns, max_width);
    if (rows > max_height) return fail(out, VIGIL_DICOM_LIMIT, "height %u exceeds the limit of %u", rows, max_height);
    if (static_cast<uint32_t>(frames) > max_frames)
        return fail(out, VIGIL_DICOM_LIMIT, "%d frames exceed the limit of %u", frames, max_frames);
    if (allocated != 1 && allocated != 8 && allocated != 16 && allocated != 32)
        return fail(out, VIGIL_DICOM_UNSUPPORTED, "BitsAllocated %u is not supported (1, 8, 16 or 32)", allocated);
    if (stored == 0 || stored > allocated || high >= allocated || high + 1 < stored)
        return fail(out, VIGIL_DICOM_CORRUPT, "inconsistent BitsStored %u / HighBit %u for BitsAllocated %u", stored, high, allocated);
    // PALETTE COLOR keeps its stored indices, like a grey image: the values as received.
    bool monochrome = photometric == "MONOCHROME1" || photometric == "MONOCHROME2" || photometric == "PALETTE COLOR";
    bool ybr = photometric == "YBR_FULL" || photometric == "YBR_FULL_422";
    if (monochrome && samples != 1)
        return fail(out, VIGIL_DICOM_CORRUPT, "%s with %u samples per pixel", photometric.c_str(), samples);
    if (!monochrome && photometric != "RGB" && !ybr)
        return fail(out, VIGIL_DICOM_UNSUPPORTED, "photometric interpretation '%s' is not supported", photometric.c_str());
    if (!monochrome && samples != 3)
        return fail(out, VIGIL_DICOM_CORRUPT, "%s with %u samples per pixel", photometric.c_str(), samples);
    if (ybr && allocated != 8)
        return fail(out, VIGIL_DICOM_UNSUPPORTED, "%u-bit %s is not supported", allocated, photometric.c_str());

    if (allocated == 1 && samples != 1) return fail(out, VIGIL_DICOM_CORRUPT, "1-bit data with %u samples", samples);
    const bool bitmap = allocated == 1;  // unpacked to one byte per pixel
    const uint64_t bytesPerSample = bitmap ? 1 : allocated / 8;
    const uint64_t frameSamples = static_cast<uint64_t>(rows) * columns * samples;
    const uint64_t total = frameSamples * bytesPerSample * static_cast<uint64_t>(frames);
    if (total > max_pixel_bytes)
        return fail(out, VIGIL_DICOM_LIMIT, "%ux%u x %d frames x %u samples x %llu bytes exceeds the limit of %llu bytes",
                    columns, rows, frames, samples, static_cast<unsigned long long>(bytesPerSample),
                    static_cast<unsigned long long>(max_pixel_bytes));

    // Decompress in place with dcmtk's codecs (RLE, JPEG, JPEG-LS) when the file is encapsulated.
    if (original.isEncapsulated()) {
        status = ds->chooseRepresentation(EXS_LittleEndianExplicit, nullptr);
        if (status.bad() || !ds->canWriteXfer(EXS_LittleEndianExplicit)) {
            // With a registered decoder a failure means the compressed data is bad; without one,
            // the transfer syntax is one Vigil does not decode (JPEG 2000, MPEG, ...).
            if (hasDecoder(xfer))
                return fail(out, VIGIL_DICOM_CORRUPT, "%s pixel data cannot be decompressed (%s)", original.getXferName(),
                            status.bad() ? status.text() : "decoder refused it");
            return fail(out, VIGIL_DICOM_UNSUPPORTED, "transfer syntax %s (%s) is not supported", original.getXferName(),
                        original.getXferID());
        }
        // JPEG decoders convert YBR to RGB and update the attribute; read it again.
        ds->findAndGetOFString(DCM_PhotometricInterpretation, photometric);
        ds->findAndGetUint16(DCM_PlanarConfiguration, planar);
        ybr = photometric == "YBR_FULL" || photometric == "YBR_FULL_422";
    }

    DcmElement *element = nullptr;
    if (ds->findAndGetElement(DCM_PixelData, element).bad() || element == nullptr)
        return fail(out, VIGIL_DICOM_NO_PIXELS, "the file has no pixel data");
    // OB for 8-bit and bitmap data, OW (words in host order) otherwise; 32-bit samples are word
    // pairs, which on a little-endian host read back as 32-bit values.
    const uint8_t *raw = nullptr;
    if (allocated <= 8) {
        Uint8 *bytes = nullptr;
        status = element->getUint8Array(bytes);
        raw = bytes;
    } else {
        Uint16 *words = nullptr;
        status = element->getUint16Array(words);
        raw = reinterpret_cast<const uint8_t *>(words);
    }
    if (status.bad() || raw == nullptr) return fail(out, VIGIL_DICOM_CORRUPT, "pixel data cannot be read: %s", status.text());
    // dcmtk swaps a big-endian OW value word by word; a 32-bit sample also needs its two words swapped.
    std::vector<uint8_t> reordered;
    if (allocated == 32 && original.getByteOrder() == EBO_BigEndian) {
        reordered.assign(raw, raw + element->getLength());
        uint16_t *w = reinterpret_cast<uint16_t *>(reordered.data());
        for (size_t i = 0; i + 1 < reordered.size() / 2; i += 2) std::swap(w[i], w[i + 1]);
        raw = reordered.data();
    }
    const uint64_t available = element->getLength();
    // Uncompressed YBR_FULL_422 carries two luma samples and one chroma pair per two pixels.
    const bool subsampled = photometric == "YBR_FULL_422";
    const uint64_t expected = subsampled ? static_cast<uint64_t>(rows) * columns * 2 * frames
                              : bitmap ? (static_cast<uint64_t>(rows) * columns * frames + 7) / 8 : total;
    if (available < expected)
        return fail(out, VIGIL_DICOM_TRUNCATED, "pixel data holds %llu bytes, the header needs %llu",
                    static_cast<unsigned long long>(available), static_cast<unsigned long long>(expected));

    uint8_t *pixels = static_cast<uint8_t *>(malloc(total));
    if (pixels == nullptr) return fail(out, VIGIL_DICOM_NOMEM, "out of memory for %llu bytes", static_cast<unsigned long long>(total));
    const size_t plane = static_cast<size_t>(rows) * columns;
    for (Sint32 f = 0; f < frames; f++) {
        uint8_t *dest = pixels + f * frameSamples * bytesPerSample;
        if (samples == 1) {
            if (bitmap) {
                // Bits run on across frames, least significant bit first (PS3.5 8.1.1).
                const uint64_t first = static_cast<uint64_t>(f) * plane;
                for (size_t i = 0; i < plane; i++) dest[i] = (raw[(first + i) / 8] >> ((first + i) % 8)) & 1;
                continue;
            }
            const uint8_t *src = raw + f * frameSamples * bytesPerSample;
            const int shift = high + 1 - stored;
            const bool sign = representation == 1;
            switch (allocated) {
            case 8: extractSamples<uint8_t>(src, dest, plane, shift, stored, sign); break;
            case 16: extractSamples<uint16_t>(src, dest, plane, shift, stored, sign); break;
            default: extractSamples<uint32_t>(src, dest, plane, shift, stored, sign); break;
            }
            continue;
        }
        // Colour: produce planar RGB.
        if (subsampled) {
            const uint8_t *src = raw + static_cast<size_t>(f) * plane * 2;
            for (size_t i = 0; i < plane; i += 2) {
                const uint8_t *group = src + i * 2;  // Y0 Y1 Cb Cr
                for (size_t k = 0; k < 2 && i + k < plane; k++) {
                    uint8_t rgb[3];
                    ybrToRgb(group[k], group[2], group[3], rgb);
                    for (int c = 0; c < 3; c++) dest[c * plane + i + k] = rgb[c];
                }
            }
            continue;
        }
        const uint8_t *src = raw + f * frameSamples * bytesPerSample;
        for (size_t i = 0; i < plane; i++) {
            for (int c = 0; c < 3; c++) {
                size_t from = planar == 1 ? c * plane + i : i * 3 + c;
                memcpy(dest + (c * plane + i) * bytesPerSample, src + from * bytesPerSample, bytesPerSample);
            }
            if (ybr) {
                uint8_t rgb[3];
                ybrToRgb(dest[i], dest[plane + i], dest[2 * plane + i], rgb);
                for (int c = 0; c < 3; c++) dest[c * plane + i] = rgb[c];
            }
        }
    }

    out->rows = rows;
    out->columns = columns;
    out->frames = static_cast<uint32_t>(frames);
    out->samples_per_pixel = samples;
    out->bits_allocated = bitmap ? 8 : allocated;
    out->bits_stored = stored;
    out->pixel_representation = representation;
    snprintf(out->photometric, sizeof(out->photometric), "%s", ybr ? "RGB" : photometric.c_str());
    out->pixels = pixels;
    out->pixel_bytes = total;
    return VIGIL_DICOM_OK;
}
