import Foundation

/// `vigil serve --config FILE`: every member optional; command-line options win over the file,
/// the file over DESIGN.md's defaults. Unknown members are an error, so a typo is not silently ignored.
struct ServeConfiguration: Codable, Sendable {
    /// Address every listener binds (default loopback).
    var bind: String?
    var data: String?
    var ingestPort: Int?
    var dicomPort: Int?
    var httpPort: Int?
    var models: String?
    var profiles: String?
    var queue: Queue?
    var ingest: Ingest?
    var dicom: DICOM?
    var pairing: Pairing?
    var accounts: Accounts?
    var tls: TLS?
    var stations: Stations?

    /// TLS on every listener. Paths are relative to the configuration file's folder.
    struct TLS: Codable, Sendable {
        var certificate: String?
        var key: String?
        /// The CA whose certificates stations present on the native and DICOM ports.
        var clientCA: String?
        var requireClientCertificates: Bool?
        /// Serve without TLS on an address other than loopback anyway (a test network).
        var allowPlaintext: Bool?
    }

    /// Which stations may push: with `registeredOnly`, only those `vigil stations add` registered.
    struct Stations: Codable, Sendable {
        var registeredOnly: Bool?
    }

    /// Sign-in on the HTTP API: how long a token (and the review page's cookie) lasts.
    struct Accounts: Codable, Sendable {
        var tokenHours: Double?
    }

    /// The pairing store: how long a keyed scan's attenuation is kept for later cross-checks.
    struct Pairing: Codable, Sendable {
        var retentionDays: Double?
    }

    struct Queue: Codable, Sendable {
        var capacity: Int?
        var workers: Int?
    }

    struct Ingest: Codable, Sendable {
        var maxFrameBytes: Int?
        var maxInFlight: Int?
        var heartbeatSeconds: Int?
        var idleTimeoutSeconds: Int?
    }

    struct DICOM: Codable, Sendable {
        var aeTitle: String?
        /// Associations at once, and the largest object one may send: together they bound memory.
        var maxAssociations: Int?
        var maxObjectBytes: Int?
        /// Per calling AE title: who the device is and where its reports go.
        var stations: [String: Station]?

        struct Station: Codable, Sendable {
            var station: String?
            var site: String?
            var profile: String?
            var reportTo: Destination?
        }

        struct Destination: Codable, Sendable {
            var host: String
            var port: Int
            var aeTitle: String
        }
    }

    static func load(_ path: String) throws -> ServeConfiguration {
        guard let data = FileManager.default.contents(atPath: path) else { throw CommandFailure("\(path): cannot be read") }
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: data) } catch { throw CommandFailure("\(path): not valid JSON") }
        if let unknown = unknownKeys(object, allowed: allowedKeys, at: "").first { throw CommandFailure("\(path): unknown setting \(unknown)") }
        do {
            return try JSONDecoder().decode(ServeConfiguration.self, from: data)
        } catch let DecodingError.typeMismatch(_, c), let DecodingError.valueNotFound(_, c), let DecodingError.keyNotFound(_, c) {
            throw CommandFailure("\(path): \(c.codingPath.map(\.stringValue).joined(separator: ".")): \(c.debugDescription)")
        } catch {
            throw CommandFailure("\(path): \(error)")
        }
    }

    /// The settings the file may hold; "*" stands for any key (AE titles).
    private static var allowedKeys: [String: Any] { [
        "bind": 0, "data": 0, "ingestPort": 0, "dicomPort": 0, "httpPort": 0, "models": 0, "profiles": 0,
        "queue": ["capacity": 0, "workers": 0] as [String: Any],
        "pairing": ["retentionDays": 0] as [String: Any],
        "accounts": ["tokenHours": 0] as [String: Any],
        "tls": ["certificate": 0, "key": 0, "clientCA": 0, "requireClientCertificates": 0, "allowPlaintext": 0] as [String: Any],
        "stations": ["registeredOnly": 0] as [String: Any],
        "ingest": ["maxFrameBytes": 0, "maxInFlight": 0, "heartbeatSeconds": 0, "idleTimeoutSeconds": 0] as [String: Any],
        "dicom": ["aeTitle": 0, "maxAssociations": 0, "maxObjectBytes": 0, "stations": ["*": ["station": 0, "site": 0, "profile": 0,
                                                    "reportTo": ["host": 0, "port": 0, "aeTitle": 0] as [String: Any]] as [String: Any]] as [String: Any]] as [String: Any],
    ] }

    private static func unknownKeys(_ value: Any, allowed: [String: Any], at path: String) -> [String] {
        guard let object = value as? [String: Any] else { return [] }
        var unknown: [String] = []
        for (key, child) in object {
            let name = path.isEmpty ? key : "\(path).\(key)"
            guard let rule = allowed[key] ?? allowed["*"] else { unknown.append(name); continue }
            if let nested = rule as? [String: Any] { unknown += unknownKeys(child, allowed: nested, at: name) }
        }
        return unknown.sorted()
    }
}
