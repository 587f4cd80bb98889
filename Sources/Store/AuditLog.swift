import Crypto
import Foundation
import GRDB

/// One entry of the audit log: who did what to which subject, chained to the entry before it.
public struct AuditEntry: Codable, Sendable, Equatable {
    public var id: Int64
    /// ISO 8601, UTC, milliseconds.
    public var at: String
    public var actor: String
    /// e.g. `threshold.set`, `review`.
    public var action: String
    /// What it concerns: a site, a scan id.
    public var subject: String
    /// JSON with the particulars (old and new value, decision, note, reason).
    public var details: String
    public var previousHash: String
    /// SHA-256 over the previous hash and this entry's fields.
    public var hash: String

    static func digest(previous: String, id: Int64, at: String, actor: String, action: String, subject: String, details: String) -> String {
        let text = [previous, String(id), at, actor, action, subject, details].joined(separator: "\n")
        return SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}

/// What `verifyAudit` found.
public struct AuditVerification: Codable, Sendable, Equatable {
    public var entries: Int
    public var ok: Bool
    /// The first entry whose hash does not follow from its content and its predecessor, or whose
    /// predecessor is missing.
    public var firstBroken: Int64?
    public var problem: String?
}

extension ScanStore {
    /// Appends an entry inside the caller's transaction, so the action and its record commit together.
    static func appendAudit(_ db: Database, actor: String, action: String, subject: String, details: [String: String?], at: Date) throws {
        let previous = try String.fetchOne(db, sql: "SELECT hash FROM audit ORDER BY id DESC LIMIT 1") ?? String(repeating: "0", count: 64)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let text = String(decoding: (try? encoder.encode(details)) ?? Data("{}".utf8), as: UTF8.self)
        let when = Self.iso(at)
        let id = (try Int64.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = 'audit'") ?? 0) + 1
        let hash = AuditEntry.digest(previous: previous, id: id, at: when, actor: actor, action: action, subject: subject, details: text)
        try db.execute(sql: "INSERT INTO audit (id, at, actor, action, subject, details, previousHash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       arguments: [id, at.timeIntervalSince1970, actor, action, subject, text, previous, hash])
    }

    /// The whole log, oldest first.
    public func auditLog() throws(StoreError) -> [AuditEntry] {
        try read("audit log") { db in
            try Row.fetchAll(db, sql: "SELECT * FROM audit ORDER BY id").map { row in
                AuditEntry(id: row["id"], at: Self.iso(Date(timeIntervalSince1970: row["at"])), actor: row["actor"], action: row["action"],
                           subject: row["subject"], details: row["details"], previousHash: row["previousHash"], hash: row["hash"])
            }
        }
    }

    /// Recomputes the chain; names the first entry that was edited, or that follows a removed one.
    public func verifyAudit() throws(StoreError) -> AuditVerification {
        let log = try auditLog()
        let issued: Int64 = try read("audit log") { db in try Int64.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = 'audit'") ?? 0 }
        var previous = String(repeating: "0", count: 64)
        var expectedId: Int64 = 1
        for e in log {
            if e.id != expectedId {
                return AuditVerification(entries: log.count, ok: false, firstBroken: e.id, problem: "entry \(expectedId) is missing before entry \(e.id)")
            }
            if e.previousHash != previous {
                return AuditVerification(entries: log.count, ok: false, firstBroken: e.id, problem: "entry \(e.id) does not follow from the entry before it")
            }
            let recomputed = AuditEntry.digest(previous: previous, id: e.id, at: e.at, actor: e.actor, action: e.action, subject: e.subject,
                                               details: e.details)
            if recomputed != e.hash {
                return AuditVerification(entries: log.count, ok: false, firstBroken: e.id, problem: "entry \(e.id) was changed after it was written")
            }
            previous = e.hash
            expectedId += 1
        }
        // The newest entries removed: the chain is intact but shorter than the ids handed out.
        if issued >= expectedId {
            return AuditVerification(entries: log.count, ok: false, firstBroken: expectedId,
                                     problem: "entries \(expectedId) to \(issued) were removed from the end")
        }
        return AuditVerification(entries: log.count, ok: true, firstBroken: nil, problem: nil)
    }
}
