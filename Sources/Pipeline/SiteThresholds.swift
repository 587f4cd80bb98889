import Profiles

/// Where a site's chosen thresholds come from: its file under `ScannerProfiles/sites/`, and in the
/// service the values changed since through the API (kept in the store).
public protocol SiteThresholds: Sendable {
    /// model name → class → the value `site` chose; classes it did not set are absent.
    func values(site: String) -> [String: [String: Double]]
}

/// The site files only (`vigil analyze --site`).
public struct SiteThresholdFiles: SiteThresholds {
    public let policy: ThresholdPolicy

    public init(policy: ThresholdPolicy) { self.policy = policy }

    public func values(site: String) -> [String: [String: Double]] { policy.siteFiles[site] ?? [:] }
}
