import Foundation
import Pipeline

/// Where a scan that came by DICOM came from: the device's AE title and the image it sent.
public struct DICOMOrigin: Codable, Sendable, Equatable {
    public var callingAETitle: String
    public var image: ReferencedImage

    public init(callingAETitle: String, image: ReferencedImage) {
        self.callingAETitle = callingAETitle
        self.image = image
    }

    /// The origin as the store keeps it (`ScanInfo.dicom`); nil for scans that did not come by DICOM.
    public init?(json: String?) {
        guard let json, let origin = try? JSONDecoder().decode(DICOMOrigin.self, from: Data(json.utf8)) else { return nil }
        self = origin
    }

    /// The form `init?(json:)` reads.
    public var json: String { String(decoding: (try? JSONEncoder().encode(self)) ?? Data(), as: UTF8.self) }
}

extension ThreatDetectionReport {
    /// The report of a stored scan: it references the received DICOM image, or, for a scan pushed
    /// natively, a DICOS instance whose UIDs are derived from the scan id (the same on every call,
    /// so downloading a report twice gives the same object).
    public static func of(_ result: AnalysisResult, origin: DICOMOrigin?) -> ThreatDetectionReport {
        let scan = UUID(uuidString: result.scanId) ?? UUID()
        var image = origin?.image ?? ReferencedImage.synthetic(for: result)
        if origin == nil {
            image.studyInstanceUID = UIDGenerator.make(from: scan, role: 1)
            image.seriesInstanceUID = UIDGenerator.make(from: scan, role: 2)
            image.sopInstanceUID = UIDGenerator.make(from: scan, role: 3)
        }
        return ThreatDetectionReport(result: result, image: image, sopInstanceUID: UIDGenerator.make(from: scan, role: 4),
                                     seriesInstanceUID: UIDGenerator.make(from: scan, role: 5))
    }
}
