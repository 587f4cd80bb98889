import Foundation

/// The central bounds within which a site may set each model class's threshold
/// (`ScannerProfiles/policy.json`), and the values sites chose in files (`ScannerProfiles/sites/<site>.json`).
public struct ThresholdPolicy: Sendable, Equatable {
    /// Inclusive range a site's value must fall in.
    public struct Bounds: Sendable, Equatable, Codable {
        public var min: Double
        public var max: Double

        public init(min: Double, max: Double) { (self.min, self.max) = (min, max) }
    }

    /// model name → class → bounds.
    public var bounds: [String: [String: Bounds]]
    /// site → model name → class → value, from the site files.
    public var siteFiles: [String: [String: [String: Double]]]

    public init(bounds: [String: [String: Bounds]] = [:], siteFiles: [String: [String: [String: Double]]] = [:]) {
        self.bounds = bounds
        self.siteFiles = siteFiles
    }

    /// A site's value refused by the policy, with the bounds to quote.
    public struct Violation: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// Whether `value` is allowed for `model`'s class `label`.
    public func check(model: String, label: String, value: Double) throws(Violation) {
        guard let classes = bounds[model] else {
            throw Violation(description: "no central bounds for model \(model) (policy.json has \(bounds.keys.sorted().joined(separator: ", ")))")
        }
        guard let b = classes[label] else {
            throw Violation(description: "model \(model) has no class \(label) (classes: \(classes.keys.sorted().joined(separator: ", ")))")
        }
        guard value.isFinite, value >= b.min, value <= b.max else {
            throw Violation(description: "threshold \(value) for \(model)/\(label) is outside the central bounds [\(b.min), \(b.max)]")
        }
    }

    /// The lowest threshold any site may use for `model`: candidates below it never matter.
    public func floor(model: String) -> Double? { bounds[model]?.values.map(\.min).min() }

    /// Reads `policy.json` and `sites/*.json` under `directory`; both are optional (no bounds means
    /// no site may change anything). Site values outside the bounds are a configuration error.
    public static func load(directory: String) throws(ConfigurationError) -> ThresholdPolicy {
        var policy = ThresholdPolicy()
        let path = (directory as NSString).appendingPathComponent("policy.json")
        if FileManager.default.fileExists(atPath: path) {
            struct File: Decodable { var models: [String: [String: Bounds]] }
            let file: File
            do { file = try JSONDecoder().decode(File.self, from: try Data(contentsOf: URL(fileURLWithPath: path))) } catch {
                throw ConfigurationError(file: path, field: "", message: "not a policy file: \(error)")
            }
            for (model, classes) in file.models {
                for (label, b) in classes where !(0 <= b.min && b.min <= b.max && b.max <= 1) {
                    throw ConfigurationError(file: path, field: "models.\(model).\(label)", message: "bounds must satisfy 0 <= min <= max <= 1")
                }
            }
            policy.bounds = file.models
        }
        let sites = (directory as NSString).appendingPathComponent("sites")
        for name in ((try? FileManager.default.contentsOfDirectory(atPath: sites)) ?? []).sorted() where name.hasSuffix(".json") {
            let file = (sites as NSString).appendingPathComponent(name)
            struct Site: Decodable { var site: String; var thresholds: [String: [String: Double]] }
            let site: Site
            do { site = try JSONDecoder().decode(Site.self, from: try Data(contentsOf: URL(fileURLWithPath: file))) } catch {
                throw ConfigurationError(file: file, field: "", message: "not a site file ({\"site\": ..., \"thresholds\": {model: {class: value}}}): \(error)")
            }
            for (model, classes) in site.thresholds {
                for (label, value) in classes {
                    do { try policy.check(model: model, label: label, value: value) } catch {
                        throw ConfigurationError(file: file, field: "thresholds.\(model).\(label)", message: error.description)
                    }
                }
            }
            policy.siteFiles[site.site] = site.thresholds
        }
        return policy
    }
}
