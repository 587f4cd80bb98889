import Detection
import Foundation
import Pipeline
import Profiles
import Store

/// Showing, changing, auditing and restoring a site's thresholds within the central bounds: the
/// one place the HTTP API and `vigil thresholds` go through.
public struct SiteThresholdService: Sendable {
    let store: ScanStore
    let policy: ThresholdPolicy
    let manifests: [ModelManifest]

    public init(store: ScanStore, policy: ThresholdPolicy, manifests: [ModelManifest]) {
        self.store = store
        self.policy = policy
        self.manifests = manifests
    }

    /// One class of one model at a site.
    public struct Entry: Codable, Sendable, Equatable {
        /// What the next scan is judged by.
        public var value: Double
        /// The model's calibrated threshold.
        public var calibrated: Double
        public var min: Double?
        public var max: Double?
        /// `calibrated`, `site-file` or `set` (through Vigil).
        public var source: String
    }

    /// A site's thresholds, model → class.
    public struct View: Codable, Sendable, Equatable {
        public var site: String
        public var thresholds: [String: [String: Entry]]
    }

    /// Why a change was refused: the bounds, an unknown model or class, a missing reason.
    public struct Refusal: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    public func view(site: String) throws -> View {
        let file = policy.siteFiles[site] ?? [:]
        let set = try store.siteThresholds(site: site)
        var out: [String: [String: Entry]] = [:]
        for m in manifests {
            for label in m.classes {
                let bounds = policy.bounds[m.name]?[label]
                var entry = Entry(value: m.thresholds[label] ?? 1, calibrated: m.thresholds[label] ?? 1, min: bounds?.min, max: bounds?.max,
                                  source: "calibrated")
                if let v = file[m.name]?[label] { (entry.value, entry.source) = (v, "site-file") }
                if let v = set[m.name]?[label] {
                    if let v { (entry.value, entry.source) = (v, "set") } else { (entry.value, entry.source) = (entry.calibrated, "calibrated") }
                }
                out[m.name, default: [:]][label] = entry
            }
        }
        return View(site: site, thresholds: out)
    }

    /// Sets values (nil: back to the calibrated default); all or none, each within the bounds.
    public func set(site: String, _ values: [String: [String: Double?]], user: String, reason: String) throws -> [ThresholdChange] {
        guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else { throw Refusal(description: "a change needs a reason") }
        guard !user.trimmingCharacters(in: .whitespaces).isEmpty else { throw Refusal(description: "a change needs the user making it") }
        guard !site.isEmpty, site.count <= 128 else { throw Refusal(description: "site must have 1 to 128 characters") }
        var changes: [(model: String, label: String, value: Double?)] = []
        for (model, classes) in values.sorted(by: { $0.key < $1.key }) {
            guard let manifest = manifests.first(where: { $0.name == model }) else {
                throw Refusal(description: "no installed model \(model) (installed: \(manifests.map(\.name).sorted().joined(separator: ", ")))")
            }
            for (label, value) in classes.sorted(by: { $0.key < $1.key }) {
                guard manifest.classes.contains(label) else {
                    throw Refusal(description: "model \(model) has no class \(label) (classes: \(manifest.classes.joined(separator: ", ")))")
                }
                if let value {
                    do { try policy.check(model: model, label: label, value: value) } catch { throw Refusal(description: error.description) }
                }
                changes.append((model, label, value))
            }
        }
        guard !changes.isEmpty else { throw Refusal(description: "no threshold given") }
        return try store.setThresholds(site: site, values: changes, user: user, reason: reason)
    }

    public func history(site: String) throws -> [ThresholdChange] { try store.thresholdHistory(site: site) }

    public func restore(site: String, to change: Int64, user: String, reason: String) throws -> [ThresholdChange] {
        guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else { throw Refusal(description: "a restore needs a reason") }
        return try store.restoreThresholds(site: site, to: change, user: user, reason: reason)
    }
}
