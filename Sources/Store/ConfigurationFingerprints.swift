import Crypto
import Foundation
import GRDB

extension ScanStore {
    /// Compares what is installed now (item → fingerprint, e.g. a model's version and file hash)
    /// with what this store saw last time, and records each item added, changed or removed as an
    /// audit entry `<kind>.add|change|remove`. Models and policy files change outside Vigil (a
    /// file copied into place), so the service notices at start; returns the entries' summaries.
    @discardableResult
    public func recordFingerprints(kind: String, _ current: [String: String], actor: String) throws(StoreError) -> [String] {
        do {
            return try db.write { db in
                var known: [String: String] = [:]
                for row in try Row.fetchAll(db, sql: "SELECT item, fingerprint FROM fingerprints WHERE kind = ?", arguments: [kind]) {
                    known[row["item"]] = row["fingerprint"]
                }
                var changes: [String] = []
                let now = Date()
                for item in Set(known.keys).union(current.keys).sorted() {
                    let (old, new) = (known[item], current[item])
                    guard old != new else { continue }
                    let action = old == nil ? "add" : new == nil ? "remove" : "change"
                    try Self.appendAudit(db, actor: actor, action: "\(kind).\(action)", subject: item, details: ["old": old, "new": new], at: now)
                    if let new {
                        try db.execute(sql: "INSERT OR REPLACE INTO fingerprints (kind, item, fingerprint) VALUES (?, ?, ?)", arguments: [kind, item, new])
                    } else {
                        try db.execute(sql: "DELETE FROM fingerprints WHERE kind = ? AND item = ?", arguments: [kind, item])
                    }
                    changes.append("\(kind) \(action): \(item)")
                }
                return changes
            }
        } catch {
            throw .database("\(kind) fingerprints", "\(error)")
        }
    }

    /// SHA-256 of a file's bytes, hex; nil when it cannot be read.
    public static func fileFingerprint(_ path: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }
}
