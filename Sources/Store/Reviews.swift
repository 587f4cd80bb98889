import Foundation
import GRDB

/// An analyst's decision on one finding (`confirm` / `dismiss`) or on the whole scan
/// (`release` / `inspect`, `finding` nil), with who and when.
public struct Review: Codable, Sendable, Equatable {
    public var id: Int64
    public var scanId: String
    /// Index into the result's findings; nil for the decision on the scan.
    public var finding: Int?
    public var decision: String
    public var note: String?
    public var user: String
    /// ISO 8601, UTC.
    public var at: String

    public static let findingDecisions: Set<String> = ["confirm", "dismiss"]
    public static let scanDecisions: Set<String> = ["release", "inspect"]

    enum CodingKeys: String, CodingKey { case id, scanId, finding, decision, note, user, at }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(scanId, forKey: .scanId)
        try c.encode(finding, forKey: .finding)
        try c.encode(decision, forKey: .decision)
        try c.encode(note, forKey: .note)
        try c.encode(user, forKey: .user)
        try c.encode(at, forKey: .at)
    }
}

/// A reviewed finding as a threshold what-if replays it.
public struct ReviewedFinding: Sendable, Equatable {
    /// Model name without version.
    public var model: String
    public var label: String
    public var confidence: Double
    /// The threshold the finding was judged by when its scan was analysed.
    public var threshold: Double
    /// `confirm` or `dismiss` (the latest decision).
    public var decision: String
}

extension ScanStore {
    /// Records decisions (one transaction); `finding` indices must exist in the scan's result.
    @discardableResult
    public func addReviews(scanId: String, _ decisions: [(finding: Int?, decision: String, note: String?)], user: String) throws(StoreError) -> [Review] {
        do {
            return try db.write { db in
                let now = Date()
                var out: [Review] = []
                for d in decisions {
                    try db.execute(sql: "INSERT INTO reviews (scanId, finding, decision, note, user, at) VALUES (?, ?, ?, ?, ?, ?)",
                                   arguments: [scanId, d.finding, d.decision, d.note, user, now.timeIntervalSince1970])
                    out.append(Review(id: db.lastInsertedRowID, scanId: scanId, finding: d.finding, decision: d.decision, note: d.note,
                                      user: user, at: Self.iso(now)))
                    try Self.appendAudit(db, actor: user, action: "review", subject: scanId, details: [
                        "finding": d.finding.map { String($0) }, "decision": d.decision, "note": d.note,
                    ], at: now)
                }
                return out
            }
        } catch {
            throw .database("reviews of \(scanId)", "\(error)")
        }
    }

    /// Every decision on a scan, oldest first.
    public func reviews(scanId: String) throws(StoreError) -> [Review] {
        try read("reviews of \(scanId)") { db in
            try Row.fetchAll(db, sql: "SELECT * FROM reviews WHERE scanId = ? ORDER BY id", arguments: [scanId]).map { row in
                Review(id: row["id"], scanId: row["scanId"], finding: row["finding"], decision: row["decision"], note: row["note"],
                       user: row["user"], at: Self.iso(Date(timeIntervalSince1970: row["at"])))
            }
        }
    }

    /// The findings of `site`'s scans that an analyst confirmed or dismissed (latest decision each).
    public func reviewedFindings(site: String) throws(StoreError) -> [ReviewedFinding] {
        try read("reviewed findings of \(site)") { db in
            try Row.fetchAll(db, sql: """
                SELECT f.model, f.label, f.confidence, f.threshold, r.decision FROM reviews r
                JOIN scans s ON s.id = r.scanId
                JOIN findings f ON f.scanId = r.scanId AND f.ordinal = r.finding
                WHERE s.site = ? AND r.finding IS NOT NULL
                  AND r.id = (SELECT MAX(id) FROM reviews q WHERE q.scanId = r.scanId AND q.finding = r.finding)
                """, arguments: [site]).map { row in
                let model: String = row["model"]
                return ReviewedFinding(model: String(model.split(separator: "@").first ?? Substring(model)), label: row["label"],
                                       confidence: row["confidence"], threshold: row["threshold"], decision: row["decision"])
            }
        }
    }
}
