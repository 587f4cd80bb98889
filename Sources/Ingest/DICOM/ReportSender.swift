import DICOMNetwork
import DICOS
import Foundation
import Logging
import Metrics
import Pipeline
import Store

/// Sends each DICOM scan's Threat Detection Report to the destination configured for the AE
/// title that sent the scan (C-STORE), as results are recorded; recovered scans included.
public struct ReportSender: Sendable {
    let stations: [String: DICOMStation]
    let scu: DICOMStoreSCU
    let logger: Logger

    public init(stations: [String: DICOMStation], scu: DICOMStoreSCU, logger: Logger = Logger(label: "vigil.tdr")) {
        self.stations = stations
        self.scu = scu
        self.logger = logger
    }

    /// The `ScanIntake` observer: returns at once; the send runs in a task.
    public func resultRecorded(_ scan: StoredScan, _ result: AnalysisResult) {
        guard scan.info.via == "dicom", let origin = DICOMOrigin(json: scan.info.dicom),
              let destination = stations[origin.callingAETitle]?.reportTo else { return }
        let scu = self.scu, logger = self.logger
        Task {
            let outcome: String
            do {
                let report = try ThreatDetectionReport.of(result, origin: origin).encode()
                let status = try await scu.send(part10: report, to: destination.host, port: destination.port,
                                                calledAETitle: destination.aeTitle)
                outcome = status.isFailure ? "failed" : "sent"
                logger.info("threat detection report sent", metadata: [
                    "scan": "\(result.scanId)", "to": "\(destination.aeTitle)@\(destination.host):\(destination.port)",
                    "status": "\(String(status.code, radix: 16))"])
            } catch {
                outcome = "failed"
                logger.error("threat detection report not sent", metadata: ["scan": "\(result.scanId)", "error": "\(error)"])
            }
            Counter(label: "vigil_reports_sent_total", dimensions: [("outcome", outcome)]).increment()
        }
    }
}
