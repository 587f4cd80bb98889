import CDICOM
import Foundation
import Pipeline

/// The scanned image a Threat Detection Report refers to.
public struct ReferencedImage: Sendable, Hashable, Codable {
    public var studyInstanceUID: String
    public var seriesInstanceUID: String
    public var sopClassUID: String
    public var sopInstanceUID: String
    /// The image's frame of reference; a new one is made when unknown.
    public var frameOfReferenceUID: String?
    /// Object of Inspection ID (0010,0020), e.g. a container or plate number.
    public var objectOfInspectionID: String?
    public var rows: Int?
    public var columns: Int?
    public var frames: Int?

    public init(studyInstanceUID: String, seriesInstanceUID: String, sopClassUID: String, sopInstanceUID: String,
                frameOfReferenceUID: String? = nil, objectOfInspectionID: String? = nil,
                rows: Int? = nil, columns: Int? = nil, frames: Int? = nil) {
        self.studyInstanceUID = studyInstanceUID
        self.seriesInstanceUID = seriesInstanceUID
        self.sopClassUID = sopClassUID
        self.sopInstanceUID = sopInstanceUID
        self.frameOfReferenceUID = frameOfReferenceUID
        self.objectOfInspectionID = objectOfInspectionID
        self.rows = rows
        self.columns = columns
        self.frames = frames
    }

    /// The reference to a received DICOM object (a DICOS or DICOM image, Part 10 bytes). A missing
    /// Study or Series Instance UID is replaced by a new one, so the report is still valid.
    public init(part10 bytes: [UInt8]) throws(ReferencedImageError) {
        var out = vigil_dicom_reference()
        let status = bytes.withUnsafeBufferPointer { vigil_dicom_read_reference($0.baseAddress, $0.count, &out) }
        func text<T>(_ field: T) -> String {
            withUnsafeBytes(of: field) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        }
        guard status == 0 else { throw ReferencedImageError(cause: text(out.error)) }
        let study = text(out.study_instance_uid), series = text(out.series_instance_uid)
        let frameOfReference = text(out.frame_of_reference_uid), patient = text(out.patient_id)
        self.init(studyInstanceUID: study.isEmpty ? UIDGenerator.make() : study,
                  seriesInstanceUID: series.isEmpty ? UIDGenerator.make() : series,
                  sopClassUID: text(out.sop_class_uid), sopInstanceUID: text(out.sop_instance_uid),
                  frameOfReferenceUID: frameOfReference.isEmpty ? nil : frameOfReference,
                  objectOfInspectionID: patient.isEmpty ? nil : patient,
                  rows: Int(out.rows), columns: Int(out.columns), frames: Int(out.frames))
    }

    /// For a scan pushed natively (no DICOM object): a synthetic DICOS instance with fresh UIDs,
    /// a DICOS CT when the result has slices, a DICOS DX for presentation otherwise.
    public static func synthetic(for result: AnalysisResult, objectOfInspectionID: String? = nil) -> ReferencedImage {
        let isCT = (result.image.frames ?? 0) > 1 || result.findings.contains { $0.slices != nil }
        return ReferencedImage(studyInstanceUID: UIDGenerator.make(), seriesInstanceUID: UIDGenerator.make(),
                               sopClassUID: isCT ? DICOSClass.ct : DICOSClass.dxForPresentation,
                               sopInstanceUID: UIDGenerator.make(), objectOfInspectionID: objectOfInspectionID,
                               rows: result.image.height, columns: result.image.width, frames: result.image.frames)
    }
}

/// A received object could not be read as a DICOM image to reference.
public struct ReferencedImageError: Error, Sendable, CustomStringConvertible {
    public var cause: String
    public var description: String { "cannot reference the received DICOM object: \(cause)" }
}

/// DICOS SOP class UIDs (NEMA IIC 1, as in dcmtk 3.6.7's dcuid.h).
public enum DICOSClass {
    public static let ct = "1.2.840.10008.5.1.4.1.1.501.1"
    public static let dxForPresentation = "1.2.840.10008.5.1.4.1.1.501.2.1"
    public static let dxForProcessing = "1.2.840.10008.5.1.4.1.1.501.2.2"
    public static let threatDetectionReport = "1.2.840.10008.5.1.4.1.1.501.3"
}

/// UIDs under the 2.25 root (PS3.5 B.2): a random UUID written as one decimal integer.
public enum UIDGenerator {
    public static func make() -> String { make(from: UUID()) }

    /// A UID under 2.25 (ISO/IEC 9834-8) from a UUID; `role` (0-255) gives distinct UIDs for the
    /// objects that belong to one scan (study, series, instance, report), the same on every call.
    public static func make(from uuid: UUID, role: UInt8 = 0) -> String {
        let u = uuid.uuid
        let bytes = [u.0, u.1, u.2, u.3, u.4, u.5, u.6, u.7, u.8, u.9, u.10, u.11, u.12, u.13, u.14, u.15 ^ role]
        return "2.25." + decimal(bytes)
    }

    /// Big-endian bytes as a decimal string (long division by 10; at most 39 digits for 16 bytes).
    static func decimal(_ bytes: [UInt8]) -> String {
        var number = bytes
        var digits: [UInt8] = []
        while number.contains(where: { $0 != 0 }) {
            var remainder = 0
            for i in number.indices {
                let value = remainder << 8 | Int(number[i])
                number[i] = UInt8(value / 10)
                remainder = value % 10
            }
            digits.append(UInt8(ascii: "0") + UInt8(remainder))
        }
        return digits.isEmpty ? "0" : String(decoding: digits.reversed(), as: UTF8.self)
    }
}
