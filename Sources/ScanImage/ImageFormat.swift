/// Encoded formats Vigil reads, recognised by their leading bytes.
public enum ImageFormat: String, Sendable, CaseIterable {
    case dicom, tiff, png, jpeg, npy, raw

    /// Sniffs the format; nil when nothing matches (raw pixels must be declared).
    public static func detect(_ bytes: [UInt8]) -> ImageFormat? {
        if bytes.count >= 132, bytes[128] == 0x44, bytes[129] == 0x49, bytes[130] == 0x43, bytes[131] == 0x4D {
            return .dicom  // "DICM" after the 128-byte preamble
        }
        if bytes.count >= 8, bytes[0] == 0x89, bytes[1] == 0x50, bytes[2] == 0x4E, bytes[3] == 0x47 { return .png }
        if bytes.count >= 4 {
            let b = (bytes[0], bytes[1], bytes[2], bytes[3])
            if b == (0x49, 0x49, 0x2A, 0x00) || b == (0x4D, 0x4D, 0x00, 0x2A)
                || b == (0x49, 0x49, 0x2B, 0x00) || b == (0x4D, 0x4D, 0x00, 0x2B) {
                return .tiff
            }
        }
        if bytes.count >= 3, bytes[0] == 0xFF, bytes[1] == 0xD8, bytes[2] == 0xFF { return .jpeg }
        if bytes.count >= 6, bytes[0] == 0x93, bytes[1] == 0x4E, bytes[2] == 0x55, bytes[3] == 0x4D { return .npy }
        // A DICOM data set without preamble starts with a group 0002 or 0008 tag, little endian.
        if bytes.count >= 8, bytes[1] == 0x00, bytes[0] == 0x02 || bytes[0] == 0x08, bytes[3] == 0x00 {
            return .dicom
        }
        return nil
    }
}
