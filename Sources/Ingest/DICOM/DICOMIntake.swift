import DICOMNetwork
import DICOS
import Foundation
import Logging
import Metrics
import Pipeline
import ScanImage
import Store

/// The DICOM port's side of the intake: each C-STORE'd image is checked (it must decode, and a
/// scanner profile must be known for it), handed to `ScanIntake`, and answered with a C-STORE
/// status only once it is durable (success) or refused (out of resources when the queue is
/// full, cannot understand for what Vigil cannot read).
public struct DICOMIntake: DICOMStoreDelegate {
    let intake: ScanIntake
    let stations: [String: DICOMStation]
    let logger: Logger

    public init(intake: ScanIntake, stations: [String: DICOMStation], logger: Logger = Logger(label: "vigil.dicom")) {
        self.intake = intake
        self.stations = stations
        self.logger = logger
    }

    public func store(_ object: ReceivedObject) async -> StoreStatus {
        let intake = self.intake, stations = self.stations, logger = self.logger
        // Decoding and fsync block: off the event loops and the cooperative pool.
        return await withCheckedContinuation { done in
            DispatchQueue.global().async {
                done.resume(returning: Self.accept(object, intake: intake, station: stations[object.callingAETitle], logger: logger))
            }
        }
    }

    static func accept(_ object: ReceivedObject, intake: ScanIntake, station: DICOMStation?, logger: Logger) -> StoreStatus {
        let source = object.sopInstanceUID
        let reference: ReferencedImage
        do { reference = try ReferencedImage(part10: object.part10) } catch {
            return refuse(.cannotUnderstand("not a DICOM image Vigil reads: \(error)"), "unsupported-format")
        }
        let scan: Scan
        do { scan = try intake.analyzer.decoder.decode(object.part10, source: source) } catch {
            return refuse(.cannotUnderstand("\(error)"), "unsupported-format")
        }
        let profiles = intake.analyzer.profiles.profiles
        if let id = station?.profile, profiles[id] == nil {
            return refuse(.cannotUnderstand("station \(object.callingAETitle) is configured with unknown profile \(id)"), "unknown-profile")
        }
        if station?.profile == nil, !profiles.values.contains(where: { $0.model == scan.source.model }) {
            let model = scan.source.model ?? "none"
            return refuse(.cannotUnderstand("no profile for model \(model); set one for AE \(object.callingAETitle)"),
                          "unknown-profile")
        }
        let origin = DICOMOrigin(callingAETitle: object.callingAETitle, image: reference)
        let info = ScanInfo(
            station: station?.station ?? object.callingAETitle, stationScanId: object.sopInstanceUID, site: station?.site,
            profile: station?.profile, pairKey: reference.objectOfInspectionID, source: source, format: "dicom", via: "dicom",
            dicom: origin.json)
        switch intake.submit(NewScan(info, bytes: object.part10), raw: nil, onResult: { _ in }) {
        case .accepted(let scanId, let duplicate):
            logger.debug("DICOM scan accepted", metadata: ["scan": "\(scanId)", "duplicate": "\(duplicate)", "ae": "\(object.callingAETitle)"])
            return .success
        case .refused(let refusal):
            switch refusal.code {
            case .busy, .shuttingDown, .internal: return .outOfResources(refusal.message)
            case .unsupportedFormat, .unknownProfile, .badMetadata: return .cannotUnderstand(refusal.message)
            }
        }
    }

    /// Refusals decided here are counted like the intake's own.
    private static func refuse(_ status: StoreStatus, _ cause: String) -> StoreStatus {
        Counter(label: "vigil_scans_rejected_total", dimensions: [("cause", cause)]).increment()
        return status
    }
}
