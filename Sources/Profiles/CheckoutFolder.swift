import Foundation

/// Finds one of Vigil's data folders (ScannerProfiles, Models) so `vigil` works from a checkout
/// without flags: the environment variable, then the working directory, then beside the
/// executable's build folder.
public enum CheckoutFolder {
    /// `name` is the folder, `marker` a path inside it that proves it is the right one.
    public static func locate(_ name: String, environment: String, marker: String) -> String {
        if let env = ProcessInfo.processInfo.environment[environment], !env.isEmpty { return env }
        let fm = FileManager.default
        if fm.fileExists(atPath: "\(name)/\(marker)") { return name }
        var dir = URL(fileURLWithPath: CommandLine.arguments.first ?? ".").resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<5 {
            let candidate = dir.appendingPathComponent(name)
            if fm.fileExists(atPath: candidate.appendingPathComponent(marker).path) { return candidate.path }
            dir.deleteLastPathComponent()
        }
        return name
    }
}
