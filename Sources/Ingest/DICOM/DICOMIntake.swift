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
    let gate: StationGate?
    let logger: Logger

    /// `gate`: with a station registry, the calling AE title's registered station decides the
    /// station, site and profile (the association was only accepted for a registered AE title).
    public init(intake: ScanIntake, stations: [String: DICOMStation], gate: StationGate? = nil, logger: Logger = Logger(label: "vigil.dicom")) {
        self.intake = intake
        self.stations = stations
        self.gate = gate
        self.logger = logger
    }

    /// The association-level check for `DICOMStoreSCP.Configuration.admit`: with a registry, the
    /// calling AE title must be a registered station's, and over TLS the client certificate must
    /// be that station's.
    public static func admission(_ gate: StationGate) -> @Sendable (String, String?) -> String? {
        { callingAETitle, certified in
            switch gate.station(aeTitle: callingAETitle) {
            case .failure(let refused): return refused.description
            case .success(let registered):
                if let registered, let certified, certified != registered.name {
                    return "the client certificate is station \(certified)'s, but AE title \(callingAETitle) is station \(registered.name)'s"
                }
                return nil
            }
        }
    }

    public func store(_ object: ReceivedObject) async -> StoreStatus {
        let intake = self.intake, logger = self.logger, configured = stations[object.callingAETitle], gate = self.gate
        // Decoding, the registry and fsync block: off the event loops and the cooperative pool.
        return await withCheckedContinuation { done in
            DispatchQueue.global().async {
                switch Self.resolve(configured, gate: gate, callingAETitle: object.callingAETitle) {
                case .failure(let refused): done.resume(returning: Self.refuse(.notAuthorized(refused.description), "forbidden"))
                case .success(let (station, allowed)):
                    done.resume(returning: Self.accept(object, intake: intake, station: station, allowedProfiles: allowed, logger: logger))
                }
            }
        }
    }

    /// The station a calling AE title stands for: the configuration's, overlaid by its registration
    /// (station name and site), which the configuration may not contradict; and, when registered,
    /// the profiles it may push for.
    static func resolve(_ configured: DICOMStation?, gate: StationGate?,
                        callingAETitle ae: String) -> Result<(DICOMStation?, [String]?), StationRefused> {
        guard let gate, case .success(let registered?) = gate.station(aeTitle: ae) else { return .success((configured, nil)) }
        if let site = configured?.site, site != registered.site {
            return .failure(StationRefused("AE \(ae) is registered for site \(registered.site) but configured for \(site)"))
        }
        if let profile = configured?.profile, !registered.profiles.contains(profile) {
            return .failure(StationRefused("AE \(ae) may push for \(registered.profiles.joined(separator: ", ")), not \(profile)"))
        }
        return .success((DICOMStation(station: registered.name, site: registered.site, profile: configured?.profile,
                                      reportTo: configured?.reportTo), registered.profiles))
    }

    static func accept(_ object: ReceivedObject, intake: ScanIntake, station: DICOMStation?, allowedProfiles: [String]? = nil,
                       logger: Logger) -> StoreStatus {
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
        // The profile: configured for the AE title, else the one whose scanner model the file names,
        // else a registered station's only profile.
        let named = profiles.first(where: { $0.value.model == scan.source.model })?.key
        let profile = station?.profile ?? named ?? (allowedProfiles?.count == 1 ? allowedProfiles?.first : nil)
        guard let profile else {
            let model = scan.source.model ?? "none"
            return refuse(.cannotUnderstand("no profile for model \(model); set one for AE \(object.callingAETitle)"), "unknown-profile")
        }
        // A registered station pushes for its own profiles only, whether configured or named by the file.
        if let allowed = allowedProfiles, !allowed.contains(profile) {
            return refuse(.notAuthorized("station \(station?.station ?? object.callingAETitle) may push for \(allowed.joined(separator: ", ")), not \(profile)"),
                          "forbidden")
        }
        let origin = DICOMOrigin(callingAETitle: object.callingAETitle, image: reference)
        let info = ScanInfo(
            station: station?.station ?? object.callingAETitle, stationScanId: object.sopInstanceUID, site: station?.site,
            profile: station?.profile ?? (named == nil ? profile : nil), pairKey: reference.objectOfInspectionID, source: source, format: "dicom", via: "dicom",
            dicom: origin.json)
        switch intake.submit(NewScan(info, bytes: object.part10), raw: nil, onResult: { _ in }) {
        case .accepted(let scanId, let duplicate):
            logger.debug("DICOM scan accepted", metadata: ["scan": "\(scanId)", "duplicate": "\(duplicate)", "ae": "\(object.callingAETitle)"])
            return .success
        case .refused(let refusal):
            switch refusal.code {
            case .busy, .shuttingDown, .internal: return .outOfResources(refusal.message)
            case .unsupportedFormat, .unknownProfile, .badMetadata: return .cannotUnderstand(refusal.message)
            case .forbidden: return .notAuthorized(refusal.message)
            }
        }
    }

    /// Refusals decided here are counted like the intake's own.
    private static func refuse(_ status: StoreStatus, _ cause: String) -> StoreStatus {
        Counter(label: "vigil_scans_rejected_total", dimensions: [("cause", cause)]).increment()
        return status
    }
}
