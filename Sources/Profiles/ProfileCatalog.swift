import Foundation

/// The scanner profiles installed in a `ScannerProfiles/` folder, by id.
public struct ProfileCatalog: Sendable {
    public let directory: String
    public let profiles: [String: ScannerProfile]
    /// Central threshold bounds and the sites' files.
    public let policy: ThresholdPolicy

    /// Loads every `vendors/*.json`, `policy.json` and `sites/*.json`; the first invalid file stops
    /// the load with its error.
    public init(directory: String) throws(ConfigurationError) {
        let vendors = (directory as NSString).appendingPathComponent("vendors")
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: vendors) else {
            throw ConfigurationError(file: vendors, field: "", message: "no such folder of scanner profiles")
        }
        var profiles: [String: ScannerProfile] = [:]
        for name in names.sorted() where name.hasSuffix(".json") {
            let profile = try ScannerProfile.load(path: (vendors as NSString).appendingPathComponent(name))
            profiles[profile.id] = profile
        }
        self.directory = directory
        self.profiles = profiles
        self.policy = try ThresholdPolicy.load(directory: directory)
    }

    /// The profile with this id, or an error listing the ones that exist.
    public func profile(_ id: String) throws(ConfigurationError) -> ScannerProfile {
        guard let profile = profiles[id] else {
            throw ConfigurationError(file: id, field: "", message:
                "unknown scanner profile (installed: \(profiles.keys.sorted().joined(separator: ", ")))")
        }
        return profile
    }

    /// Finds `ScannerProfiles/`: `VIGIL_PROFILES`, then the working directory, then beside the executable's
    /// build folder, so `vigil` works from a checkout without flags.
    public static func defaultDirectory() -> String {
        CheckoutFolder.locate("ScannerProfiles", environment: "VIGIL_PROFILES", marker: "vendors")
    }
}
