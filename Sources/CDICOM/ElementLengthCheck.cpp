#include "ElementLengthCheck.hpp"

#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <vector>
#include <zlib.h>

namespace vigil {
namespace {

constexpr uint32_t undefinedLength = 0xFFFFFFFF;
constexpr uint16_t itemGroup = 0xFFFE;
constexpr uint16_t itemElement = 0xE000, itemEnd = 0xE00D, sequenceEnd = 0xE0DD;

struct Syntax {
    bool explicitVR;
    bool bigEndian;
};

/// A cursor over the buffer that never reads past its end.
class Reader {
public:
    Reader(const uint8_t *data, size_t length, size_t position) : data_(data), length_(length), pos_(position) {}
    size_t remaining() const { return length_ - pos_; }
    size_t position() const { return pos_; }
    bool atEnd() const { return pos_ >= length_; }
    void skip(size_t n) { pos_ += n; }
    uint16_t u16(bool big) {
        uint16_t v = big ? uint16_t(data_[pos_] << 8 | data_[pos_ + 1]) : uint16_t(data_[pos_ + 1] << 8 | data_[pos_]);
        pos_ += 2;
        return v;
    }
    uint32_t u32(bool big) {
        uint32_t v = 0;
        for (int i = 0; i < 4; i++) v |= uint32_t(data_[pos_ + i]) << (big ? 8 * (3 - i) : 8 * i);
        pos_ += 4;
        return v;
    }
    const uint8_t *here() const { return data_ + pos_; }

private:
    const uint8_t *data_;
    size_t length_;
    size_t pos_;
};

// Standard VRs with a 2-byte length. Like dcmtk, treat any other VR (the long ones, and
// non-standard names it meets in the wild) as having a reserved field and a 4-byte length.
bool hasLongLength(const char vr[2]) {
    static const char *shortVRs[] = {"AE", "AS", "AT", "CS", "DA", "DS", "DT", "FL", "FD", "IS", "LO",
                                     "LT", "PN", "SH", "SL", "SS", "ST", "TM", "UI", "UL", "US"};
    for (const char *v : shortVRs)
        if (vr[0] == v[0] && vr[1] == v[1]) return false;
    return true;
}

bool looksLikeVR(const uint8_t *p) { return p[0] >= 'A' && p[0] <= 'Z' && p[1] >= 'A' && p[1] <= 'Z'; }

class Walker {
public:
    Walker(std::string &error) : error_(error) {}

    /// Walks elements until `end` (or an item/sequence delimiter when `delimited`).
    LengthCheck elements(Reader &r, size_t end, Syntax syntax, bool delimited, int depth) {
        if (depth > 64) return fail(LengthCheck::corrupt, "sequences nested deeper than 64 levels");
        while (r.position() < end) {
            if (end - r.position() < 8) return fail(LengthCheck::truncated, "element header cut off at offset %zu", r.position());
            uint16_t group = r.u16(syntax.bigEndian);
            uint16_t element = r.u16(syntax.bigEndian);
            if (group == itemGroup) {
                uint32_t length = r.u32(syntax.bigEndian);
                (void)length;
                if (delimited && (element == itemEnd || element == sequenceEnd)) return LengthCheck::ok;
                return fail(LengthCheck::corrupt, "unexpected item tag (FFFE,%04X) at offset %zu", element, r.position() - 8);
            }
            uint32_t length;
            char vr[2] = {0, 0};
            if (syntax.explicitVR) {
                if (!looksLikeVR(r.here())) return fail(LengthCheck::corrupt, "no VR for (%04X,%04X) at offset %zu", group, element, r.position() - 4);
                vr[0] = char(r.here()[0]);
                vr[1] = char(r.here()[1]);
                r.skip(2);
                if (hasLongLength(vr)) {
                    if (end - r.position() < 6) return fail(LengthCheck::truncated, "element header cut off");
                    r.skip(2);
                    length = r.u32(syntax.bigEndian);
                } else {
                    length = r.u16(syntax.bigEndian);
                }
            } else {
                length = r.u32(syntax.bigEndian);
            }
            const bool sequence = (vr[0] == 'S' && vr[1] == 'Q') || (!syntax.explicitVR && length == undefinedLength &&
                                                                      !(group == 0x7FE0 && element == 0x0010));
            if (length == undefinedLength) {
                LengthCheck rc;
                if (sequence) {
                    rc = items(r, end, syntax, true, depth);
                } else if (group == 0x7FE0 && element == 0x0010) {
                    rc = fragments(r, end, syntax);
                } else {
                    // An undefined-length UN holds implicit-VR content; dcmtk parses it with its own
                    // bounds, and it cannot hide pixel data. Stop checking here.
                    return LengthCheck::ok;
                }
                if (rc != LengthCheck::ok) return rc;
                continue;
            }
            if (length > end - r.position())
                return fail(end == total_ ? LengthCheck::truncated : LengthCheck::corrupt,
                            "element (%04X,%04X) claims %u bytes, %zu remain", group, element, length, end - r.position());
            if (sequence) {
                Reader inner = r;
                LengthCheck rc = items(inner, r.position() + length, syntax, false, depth);
                if (rc != LengthCheck::ok) return rc;
            }
            r.skip(length);
        }
        return delimited ? fail(LengthCheck::truncated, "sequence or item not closed before the end of the data") : LengthCheck::ok;
    }

    size_t total_ = 0;

private:
    LengthCheck items(Reader &r, size_t end, Syntax syntax, bool delimited, int depth) {
        while (r.position() < end) {
            if (end - r.position() < 8) return fail(LengthCheck::truncated, "item header cut off at offset %zu", r.position());
            uint16_t group = r.u16(syntax.bigEndian);
            uint16_t element = r.u16(syntax.bigEndian);
            uint32_t length = r.u32(syntax.bigEndian);
            if (group != itemGroup) return fail(LengthCheck::corrupt, "expected an item, found (%04X,%04X)", group, element);
            if (element == sequenceEnd) return delimited ? LengthCheck::ok : fail(LengthCheck::corrupt, "stray sequence delimiter");
            if (element != itemElement) return fail(LengthCheck::corrupt, "unexpected (FFFE,%04X) in a sequence", element);
            if (length == undefinedLength) {
                LengthCheck rc = elements(r, end, syntax, true, depth + 1);
                if (rc != LengthCheck::ok) return rc;
                continue;
            }
            if (length > end - r.position())
                return fail(LengthCheck::corrupt, "item claims %u bytes, %zu remain", length, end - r.position());
            Reader inner = r;
            LengthCheck rc = elements(inner, r.position() + length, syntax, false, depth + 1);
            if (rc != LengthCheck::ok) return rc;
            r.skip(length);
        }
        return delimited ? fail(LengthCheck::truncated, "sequence not closed before the end of the data") : LengthCheck::ok;
    }

    LengthCheck fragments(Reader &r, size_t end, Syntax syntax) {
        while (r.position() < end) {
            if (end - r.position() < 8) return fail(LengthCheck::truncated, "fragment header cut off at offset %zu", r.position());
            uint16_t group = r.u16(syntax.bigEndian);
            uint16_t element = r.u16(syntax.bigEndian);
            uint32_t length = r.u32(syntax.bigEndian);
            if (group == itemGroup && element == sequenceEnd) return LengthCheck::ok;
            if (group != itemGroup || element != itemElement)
                return fail(LengthCheck::corrupt, "expected a pixel data fragment, found (%04X,%04X)", group, element);
            if (length > end - r.position())
                return fail(LengthCheck::truncated, "pixel data fragment claims %u bytes, %zu remain", length, end - r.position());
            r.skip(length);
        }
        return fail(LengthCheck::truncated, "encapsulated pixel data not closed before the end of the data");
    }

    __attribute__((format(printf, 3, 4))) LengthCheck fail(LengthCheck rc, const char *format, ...) {
        char message[200];
        va_list args;
        va_start(args, format);
        vsnprintf(message, sizeof(message), format, args);
        va_end(args);
        error_ = message;
        return rc;
    }

    std::string &error_;
};

/// Inflates a deflated data set, refusing to grow past `limit` bytes.
bool inflateBounded(const uint8_t *data, size_t length, uint64_t limit, std::vector<uint8_t> &out, bool &tooLarge) {
    z_stream z;
    memset(&z, 0, sizeof(z));
    if (inflateInit2(&z, -MAX_WBITS) != Z_OK) return false;  // raw deflate, per PS3.5 A.5
    z.next_in = const_cast<uint8_t *>(data);
    z.avail_in = static_cast<uInt>(length);
    uint8_t chunk[65536];
    int rc = Z_OK;
    tooLarge = false;
    while (rc == Z_OK) {
        z.next_out = chunk;
        z.avail_out = sizeof(chunk);
        rc = inflate(&z, Z_NO_FLUSH);
        size_t produced = sizeof(chunk) - z.avail_out;
        if (out.size() + produced > limit) {
            tooLarge = true;
            break;
        }
        out.insert(out.end(), chunk, chunk + produced);
        if (rc == Z_BUF_ERROR && z.avail_in == 0) break;
    }
    inflateEnd(&z);
    return !tooLarge && (rc == Z_STREAM_END || rc == Z_BUF_ERROR || rc == Z_OK);
}

}  // namespace

LengthCheck checkElementLengths(const uint8_t *data, size_t length, uint64_t maxInflatedBytes, std::string &error,
                                bool &deflated) {
    Walker walker(error);
    deflated = false;
    walker.total_ = length;
    size_t start = 0;
    if (length >= 132 && memcmp(data + 128, "DICM", 4) == 0) start = 132;
    Reader r(data, length, start);
    // Meta header: explicit VR little endian, group 0002, ends where another group begins.
    std::string transferSyntax;
    while (r.remaining() >= 8 && r.here()[0] == 0x02 && r.here()[1] == 0x00) {
        size_t elementStart = r.position();
        r.u16(false);
        uint16_t element = r.u16(false);
        if (!looksLikeVR(r.here())) return LengthCheck::corrupt;
        char vr[2] = {char(r.here()[0]), char(r.here()[1])};
        r.skip(2);
        uint32_t valueLength;
        if (hasLongLength(vr)) {
            if (r.remaining() < 6) return LengthCheck::truncated;
            r.skip(2);
            valueLength = r.u32(false);
        } else {
            valueLength = r.u16(false);
        }
        if (valueLength > r.remaining()) {
            error = "meta header element (0002," + std::to_string(element) + ") at offset " + std::to_string(elementStart) +
                    " runs past the end of the data";
            return LengthCheck::truncated;
        }
        if (element == 0x0000 && valueLength == 4) {
            const uint8_t *v = r.here();
            uint32_t groupLength = uint32_t(v[0]) | uint32_t(v[1]) << 8 | uint32_t(v[2]) << 16 | uint32_t(v[3]) << 24;
            if (groupLength > r.remaining() - 4) {
                error = "meta header group length " + std::to_string(groupLength) + " exceeds the " +
                        std::to_string(r.remaining() - 4) + " bytes that follow";
                return LengthCheck::corrupt;
            }
        }
        if (element == 0x0010) {
            transferSyntax.assign(reinterpret_cast<const char *>(r.here()), valueLength);
            while (!transferSyntax.empty() && (transferSyntax.back() == '\0' || transferSyntax.back() == ' '))
                transferSyntax.pop_back();
        }
        r.skip(valueLength);
    }
    if (transferSyntax == "1.2.840.10008.1.2.1.99") {
        deflated = true;
        std::vector<uint8_t> inflated;
        bool tooLarge = false;
        if (!inflateBounded(r.here(), r.remaining(), maxInflatedBytes, inflated, tooLarge)) {
            error = tooLarge ? "deflated data set inflates past the size limit" : "deflated data set is corrupt";
            return tooLarge ? LengthCheck::tooLarge : LengthCheck::corrupt;
        }
        Reader inner(inflated.data(), inflated.size(), 0);
        walker.total_ = inflated.size();
        return walker.elements(inner, inflated.size(), Syntax{true, false}, false, 0);
    }
    Syntax syntax{true, false};
    if (transferSyntax == "1.2.840.10008.1.2") {
        syntax.explicitVR = false;
    } else if (transferSyntax == "1.2.840.10008.1.2.2") {
        syntax.bigEndian = true;
    } else if (transferSyntax.empty()) {
        // No meta header: guess as dcmtk does, from whether a VR follows the first tag.
        syntax.explicitVR = r.remaining() >= 6 && looksLikeVR(r.here() + 4);
    }
    return walker.elements(r, length, syntax, false, 0);
}

}  // namespace vigil
