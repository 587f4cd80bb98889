import CDICOM
import Foundation
import Pipeline

/// A Vigil analysis result as a DICOS Threat Detection Report (SOP class …501.3), Part 10 bytes.
///
/// Mapping (NEMA IIC 1 TDR IOD; tags and VRs from dcmtk 3.6.7's dictionary):
/// - TDR Type MACHINE; Alarm Decision ALARM / CLEAR from the verdict, UNKNOWN with Abort Flag ABORT
///   and an Abort Reason when the verdict is "error" (SUCCESS otherwise).
/// - One Threat Sequence item per finding: PTO ID (1-based), one assessment (category from
///   `threatCategory(for:)`, the label as Threat Category Description, NO_INTERFERENCE, THREAT, the
///   confidence as probability), one PTO representation with the Bounding Polygon and a reference
///   to the scanned image.
/// - Bounding Polygon is FL with VM 6-n in the dictionary: x,y,z points. Two points are opposite
///   corners of the box (top-left, bottom-right, in the referenced image's pixel columns and rows).
///   For a projection image z is 0; for a CT finding with `slices` [first, last], z is the 0-based
///   slice (frame) index, so the two points span the slices where the object was seen.
public struct ThreatDetectionReport: Sendable {
    public var result: AnalysisResult
    public var image: ReferencedImage
    public var sopInstanceUID: String
    public var seriesInstanceUID: String
    public var date: Date
    public var softwareVersion: String

    public static let sopClassUID = DICOSClass.threatDetectionReport

    public init(result: AnalysisResult, image: ReferencedImage, sopInstanceUID: String = UIDGenerator.make(),
                seriesInstanceUID: String = UIDGenerator.make(), date: Date = Date(), softwareVersion: String = "Vigil 1") {
        self.result = result
        self.image = image
        self.sopInstanceUID = sopInstanceUID
        self.seriesInstanceUID = seriesInstanceUID
        self.date = date
        self.softwareVersion = softwareVersion
    }

    /// The DICOS Threat Category (4010,1012) for a finding: weapons are PI (prohibited items);
    /// narcotics and undeclared vehicles CONTRABAND; what Vigil finds by comparison rather than by
    /// recognition (concealment, not empty, declaration mismatch, paired difference) ANOMALY.
    public static func threatCategory(for finding: AnalysisResult.Finding) -> String {
        switch finding.kind {
        case "concealment", "not-empty", "declaration-mismatch", "paired-difference":
            return "ANOMALY"
        default:
            break
        }
        switch finding.label.lowercased() {
        case "pistol", "rifle", "firearm", "gun", "handgun", "blade", "knife", "weapon", "ammunition":
            return "PI"
        case "explosive", "explosives", "ied":
            return "EXPLOSIVE"
        case "narcotics", "drugs", "car", "vehicle", "cigarettes", "tobacco", "currency", "alcohol":
            return "CONTRABAND"
        case "pharmaceutical", "pharmaceuticals", "medicine":
            return "PHARMACEUTICAL"
        case "laptop":
            return "LAPTOP"
        default:
            return "OTHER"
        }
    }

    /// DICOS Abort Reason (4010,1021) for an error result, from the words of its error.
    static func abortReason(for error: String?) -> String {
        let text = (error ?? "").lowercased()
        if text.contains("timeout") || text.contains("timed out") { return "TIMEOUT" }
        if ["too large", "exceeds", "oversize", "limit", "out of bounds"].contains(where: text.contains) { return "OUT_OF_BOUNDS" }
        if ["decode", "unsupported", "unreadable", "corrupt", "format", "unknown"].contains(where: text.contains) { return "UNKNOWN_DATATYPE" }
        return "FAILED_RECON"
    }

    /// The report as a Part 10 file in explicit VR little endian.
    public func encode() throws(TDREncodingError) -> [UInt8] {
        let strings = CStringPool()
        let verdict = result.verdict
        let alarm = verdict == "alarm" ? "ALARM" : verdict == "clear" ? "CLEAR" : "UNKNOWN"
        let isError = verdict == "error"

        var ptos: [vigil_tdr_pto] = []
        for (index, finding) in result.findings.enumerated() {
            guard index < Int(UInt16.max) else { break }
            let box = finding.box
            let (z0, z1): (Float, Float)
            if let slices = finding.slices, slices.count == 2 {
                (z0, z1) = (Float(slices[0]), Float(slices[1]))
            } else {
                (z0, z1) = (0, 0)
            }
            // Bottom-right is the last pixel inside the box (inclusive: boxes cover columns x..<x+width).
            let polygon = (Float(box.x), Float(box.y), z0,
                           Float(box.x + max(box.width, 1) - 1), Float(box.y + max(box.height, 1) - 1), z1)
            ptos.append(vigil_tdr_pto(
                id: UInt16(index + 1),
                threat_category: strings.make(Self.threatCategory(for: finding)),
                description: strings.make(lt(finding.kind == "threat" ? finding.label : "\(finding.kind): \(finding.label)")),
                assessment_flag: strings.make("THREAT"),
                probability: Float(min(max(finding.confidence, 0), 1)),
                polygon: polygon))
        }
        let algorithms = result.models.map { String("\($0.name)@\($0.version)".prefix(64)) }
            .map { $0.replacingOccurrences(of: "\\", with: "/") }.joined(separator: "\\")
        let (da, tm, dt) = Self.dicomDateTime(date)
        let total = result.timingsMs["total"].map(Float.init) ?? -1

        var out = vigil_dicom_buffer()
        // The pool must outlive the C call, not just its last use in Swift.
        let status = withExtendedLifetime(strings) { ptos.withUnsafeBufferPointer { ptoBuffer -> Int32 in
            var tdr = vigil_tdr(
                sop_instance_uid: strings.make(sopInstanceUID),
                series_instance_uid: strings.make(seriesInstanceUID),
                study_instance_uid: strings.make(image.studyInstanceUID),
                frame_of_reference_uid: strings.make(image.frameOfReferenceUID ?? UIDGenerator.make()),
                referenced_series_uid: strings.make(image.seriesInstanceUID),
                referenced_sop_class_uid: strings.make(image.sopClassUID),
                referenced_sop_instance_uid: strings.make(image.sopInstanceUID),
                ooi_id: strings.make(image.objectOfInspectionID.map { String($0.prefix(64)) }),
                scan_id: strings.make(String(result.scanId.prefix(16))),
                date: strings.make(da), time: strings.make(tm), alarm_decision_time: strings.make(dt),
                alarm_decision: strings.make(alarm),
                abort_flag: strings.make(isError ? "ABORT" : "SUCCESS"),
                abort_reason: strings.make(isError ? Self.abortReason(for: result.error) : nil),
                algorithms: strings.make(algorithms.isEmpty ? nil : algorithms),
                manufacturer: strings.make("Vigil"),
                software_versions: strings.make(String(softwareVersion.prefix(64))),
                station_name: strings.make(result.station.map { String($0.prefix(16)) }),
                institution_name: strings.make(result.site.map { String($0.prefix(64)) }),
                total_objects: UInt16(min(result.findings.count, Int(UInt16.max))),
                alarm_objects: UInt16(min(alarm == "ALARM" ? result.findings.count : 0, Int(UInt16.max))),
                total_processing_ms: total,
                ptos: ptoBuffer.baseAddress, pto_count: ptoBuffer.count)
            return vigil_tdr_encode(&tdr, &out)
        } }
        defer { vigil_dicom_buffer_free(&out) }
        guard status == 0, let data = out.data else {
            let message = withUnsafeBytes(of: out.error) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            throw TDREncodingError(scanId: result.scanId, cause: message)
        }
        return Array(UnsafeBufferPointer(start: data, count: out.length))
    }

    /// LT holds at most 10240 characters; a backslash is allowed there, but keep labels plain.
    private func lt(_ s: String) -> String { String(s.prefix(1024)) }

    /// DA, TM and DT strings for `date`, in UTC (DT carries the +0000 offset).
    static func dicomDateTime(_ date: Date) -> (String, String, String) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .nanosecond], from: date)
        func pad(_ v: Int?, _ width: Int) -> String {
            let s = String(v ?? 0)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        let da = pad(c.year, 4) + pad(c.month, 2) + pad(c.day, 2)
        let tm = pad(c.hour, 2) + pad(c.minute, 2) + pad(c.second, 2) + "." + pad((c.nanosecond ?? 0) / 1000, 6)
        return (da, tm, da + tm + "+0000")
    }
}

/// The report could not be written.
public struct TDREncodingError: Error, Sendable, CustomStringConvertible {
    public var scanId: String
    public var cause: String
    public var description: String { "cannot write the threat detection report for scan \(scanId): \(cause)" }
}

/// C strings that live as long as the pool: the C API takes plain pointers.
private final class CStringPool {
    private var pointers: [UnsafeMutablePointer<CChar>] = []

    func make(_ s: String?) -> UnsafePointer<CChar>? {
        guard let s else { return nil }
        let p = strdup(s)!
        pointers.append(p)
        return UnsafePointer(p)
    }

    deinit { pointers.forEach { free($0) } }
}
