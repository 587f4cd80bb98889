// Pure Swift (no NIO).

/// UIDs the network layer names (PS3.6 annex A; DICOS classes as in dcmtk 3.6.7's dcuid.h).
public enum DICOMUID {
    public static let applicationContext = "1.2.840.10008.3.1.1.1"

    public static let verification = "1.2.840.10008.1.1"
    public static let dicosCT = "1.2.840.10008.5.1.4.1.1.501.1"
    public static let dicosDXForPresentation = "1.2.840.10008.5.1.4.1.1.501.2.1"
    public static let dicosDXForProcessing = "1.2.840.10008.5.1.4.1.1.501.2.2"
    public static let dicosThreatDetectionReport = "1.2.840.10008.5.1.4.1.1.501.3"
    public static let dxForPresentation = "1.2.840.10008.5.1.4.1.1.1.1"
    public static let dxForProcessing = "1.2.840.10008.5.1.4.1.1.1.1.1"
    public static let computedRadiography = "1.2.840.10008.5.1.4.1.1.1"
    public static let ct = "1.2.840.10008.5.1.4.1.1.2"
    public static let enhancedCT = "1.2.840.10008.5.1.4.1.1.2.1"
    public static let secondaryCapture = "1.2.840.10008.5.1.4.1.1.7"
    public static let multiFrameSingleBitSC = "1.2.840.10008.5.1.4.1.1.7.1"
    public static let multiFrameGrayscaleByteSC = "1.2.840.10008.5.1.4.1.1.7.2"
    public static let multiFrameGrayscaleWordSC = "1.2.840.10008.5.1.4.1.1.7.3"
    public static let multiFrameTrueColorSC = "1.2.840.10008.5.1.4.1.1.7.4"

    public static let implicitVRLittleEndian = "1.2.840.10008.1.2"
    public static let explicitVRLittleEndian = "1.2.840.10008.1.2.1"
    public static let explicitVRBigEndian = "1.2.840.10008.1.2.2"
    public static let deflatedExplicitVRLittleEndian = "1.2.840.10008.1.2.1.99"
    public static let rleLossless = "1.2.840.10008.1.2.5"
    public static let jpegBaseline = "1.2.840.10008.1.2.4.50"
    public static let jpegExtended = "1.2.840.10008.1.2.4.51"
    public static let jpegLosslessNonHierarchical = "1.2.840.10008.1.2.4.57"
    public static let jpegLosslessSV1 = "1.2.840.10008.1.2.4.70"
    public static let jpegLSLossless = "1.2.840.10008.1.2.4.80"
    public static let jpegLSNearLossless = "1.2.840.10008.1.2.4.81"

    /// Vigil's implementation class UID (under the UUID-derived 2.25 root) and version name.
    public static let implementationClassUID = "2.25.139574820245061389440367011651458187801"
    public static let implementationVersionName = "VIGIL_1"

    /// The storage classes and Verification that Vigil's SCP accepts by default.
    public static let defaultAbstractSyntaxes: [String] = [
        verification,
        dicosCT, dicosDXForPresentation, dicosDXForProcessing, dicosThreatDetectionReport,
        dxForPresentation, dxForProcessing, computedRadiography, ct, enhancedCT,
        secondaryCapture, multiFrameSingleBitSC, multiFrameGrayscaleByteSC, multiFrameGrayscaleWordSC,
        multiFrameTrueColorSC,
    ]

    /// The transfer syntaxes Vigil's decoder (dcmtk) reads, deflated included (dcmtk inflates it
    /// from memory). Which one a context gets is `AssociationNegotiator`'s rule.
    public static let defaultTransferSyntaxes: [String] = [
        explicitVRLittleEndian, implicitVRLittleEndian, explicitVRBigEndian, deflatedExplicitVRLittleEndian,
        rleLossless, jpegBaseline, jpegExtended, jpegLosslessNonHierarchical, jpegLosslessSV1,
        jpegLSLossless, jpegLSNearLossless,
    ]

    /// True for the characters and length PS3.5 9.1 allows in a UID.
    static func isValid(_ uid: String) -> Bool {
        let u = uid.utf8
        return !u.isEmpty && u.count <= 64 && u.allSatisfy { $0 == UInt8(ascii: ".") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
    }
}
