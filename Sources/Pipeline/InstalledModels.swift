import Detection
import Engine
import Foundation
import Profiles

/// The models in `Models/<name>/<version>/`: the newest version of each name is the one in service.
public struct InstalledModels: Sendable {
    public let directory: String
    /// Newest version per model name, by name.
    public let manifests: [ModelManifest]

    public init(directory: String) throws(PipelineError) {
        self.directory = directory
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: directory) else {
            throw .configuration(directory, "cannot read the models folder")
        }
        var newest: [ModelManifest] = []
        for name in names.sorted() where name != "training" && !name.hasPrefix(".") {
            let folder = (directory as NSString).appendingPathComponent(name)
            let versions = ((try? fm.contentsOfDirectory(atPath: folder)) ?? [])
                .filter { fm.fileExists(atPath: "\(folder)/\($0)/manifest.json") }
                .sorted { InstalledModels.isOlder($0, than: $1) }
            guard let version = versions.last else { continue }
            let path = "\(folder)/\(version)/manifest.json"
            let manifest: ModelManifest
            do { manifest = try ModelManifest.load(path: path) } catch {
                throw .configuration(error.file, error.field.isEmpty ? error.message : "\(error.field): \(error.message)")
            }
            guard manifest.name == name, manifest.version == version else {
                throw .configuration(path, "names \(manifest.id) but lives in \(name)/\(version)")
            }
            newest.append(manifest)
        }
        manifests = newest
    }

    /// The models that read scans of `profile`, threat detectors first.
    public func serving(_ profile: String) -> [ModelManifest] {
        manifests.filter { $0.profiles.contains(profile) }.sorted { ($0.purpose == .threats ? 0 : 1, $0.name) < ($1.purpose == .threats ? 0 : 1, $1.name) }
    }

    public func modelPath(_ m: ModelManifest) -> String { "\(directory)/\(m.name)/\(m.version)/model.onnx" }

    /// Dotted numeric versions compare number by number (1.10.0 is newer than 1.9.0).
    static func isOlder(_ a: String, than b: String) -> Bool {
        let x = a.split(separator: ".").map { Int($0) ?? -1 }, y = b.split(separator: ".").map { Int($0) ?? -1 }
        return x.lexicographicallyPrecedes(y)
    }

    /// `$VIGIL_MODELS`, `./Models`, or the `Models` folder of the checkout the binary was built in.
    public static func defaultDirectory() -> String {
        CheckoutFolder.locate("Models", environment: "VIGIL_MODELS", marker: "cargo-threat")
    }
}
