import CrossCheck
import Foundation
import Logging
import Pipeline
import Profiles
import ScanImage
import Store
import Synchronization

/// The pairing store and the automatic cross-check: a scan carrying a pairing key (plate,
/// container number, transit document) is compared with the latest earlier scan of that key taken
/// at another site, and the differences join its result. What a later comparison needs, each
/// keyed scan's attenuation image, is kept in `<data>/pairing/` for the retention period.
public final class PairedScans: Sendable {
    let store: ScanStore
    let directory: String
    let retention: TimeInterval
    private let lastPurge = Mutex<Date>(.distantPast)

    public init(store: ScanStore, retentionDays: Double) throws {
        self.store = store
        self.directory = (store.directory as NSString).appendingPathComponent("pairing")
        self.retention = retentionDays * 86_400
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o750])
        purgeIfDue()
    }

    func path(_ scanId: String) -> String { (directory as NSString).appendingPathComponent(scanId + ".att") }

    /// Adds the paired differences to `result` (this scan is the later one, B) and keeps this scan's
    /// attenuation for the next. A comparison that cannot be made is logged, never a finding.
    func check(_ scan: StoredScan, decoded: Scan, profile: ScannerProfile, result: inout AnalysisResult, logger: Logger) {
        guard let key = scan.info.pairKey, !key.isEmpty else { return }
        let clock = ContinuousClock()
        let start = clock.now
        let image = AttenuationImage(decoded, profile: profile)
        do {
            let cutoff = Date().addingTimeInterval(-retention)
            for earlier in try store.earlier(pairKey: key, than: scan) where earlier.receivedAt >= cutoff {
                guard let bytes = FileManager.default.contents(atPath: path(earlier.id)),
                      let before = AttenuationImage(encoded: Array(bytes)) else { continue }
                let comparison = try PairedComparison.compare(before, image)
                let (w, h) = (result.image.width, result.image.height)
                let (ow, oh) = (before.geometry.receivedWidth, before.geometry.receivedHeight)
                result.findings += comparison.differences.map { d in
                    AnalysisResult.Finding(kind: "paired-difference", label: d.added ? "added" : "removed",
                                           confidence: (d.confidence * 1000).rounded() / 1000, threshold: 0,
                                           box: .init(d.boxB, imageWidth: w, imageHeight: h), model: "crosscheck",
                                           pairedScanId: earlier.id, otherBox: .init(d.boxA, imageWidth: ow, imageHeight: oh))
                }
                if !comparison.differences.isEmpty { result.verdict = "alarm" }
                logger.info("cross-checked", metadata: ["scan": "\(scan.id)", "earlier": "\(earlier.id)", "pairKey": "\(key)",
                                                        "differences": "\(comparison.differences.count)"])
                break
            }
        } catch {
            logger.notice("could not cross-check", metadata: ["scan": "\(scan.id)", "pairKey": "\(key)", "error": "\(error)"])
        }
        let file = path(scan.id)
        if FileManager.default.createFile(atPath: file, contents: Data(image.encoded()), attributes: [.posixPermissions: 0o640]) == false {
            logger.error("could not keep the scan for later cross-checks", metadata: ["scan": "\(scan.id)", "path": "\(file)"])
        }
        let elapsed = clock.now - start
        let ms = (Double(elapsed.components.seconds) * 1e3 + Double(elapsed.components.attoseconds) / 1e15).rounded()
        result.timingsMs["crosscheck"] = ms
        result.timingsMs["total", default: 0] += ms
        purgeIfDue()
    }

    /// Deletes what is older than the retention period, at most once an hour.
    func purgeIfDue() {
        let now = Date()
        guard lastPurge.withLock({ last in
            guard now.timeIntervalSince(last) > 3600 else { return false }
            last = now
            return true
        }) else { return }
        let cutoff = now.addingTimeInterval(-retention)
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where name.hasSuffix(".att") {
            let file = (directory as NSString).appendingPathComponent(name)
            if let modified = (try? FileManager.default.attributesOfItem(atPath: file))?[.modificationDate] as? Date, modified < cutoff {
                try? FileManager.default.removeItem(atPath: file)
            }
        }
    }
}
