import Foundation
import GRDB
import Pipeline
import Profiles

/// One change of a site's threshold: who, when, why, from what to what. `oldValue` nil: not set
/// through Vigil before (the site file's value or the calibrated default); `newValue` nil: reset to
/// the calibrated default.
public struct ThresholdChange: Codable, Sendable, Equatable {
    public var id: Int64
    public var site: String
    public var model: String
    public var label: String
    public var oldValue: Double?
    public var newValue: Double?
    public var user: String
    public var reason: String
    /// ISO 8601, UTC.
    public var at: String

    enum CodingKeys: String, CodingKey { case id, site, model, label, oldValue, newValue, user, reason, at }

    /// Absent values are written as null: every change has the same keys.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(site, forKey: .site)
        try c.encode(model, forKey: .model)
        try c.encode(label, forKey: .label)
        try c.encode(oldValue, forKey: .oldValue)
        try c.encode(newValue, forKey: .newValue)
        try c.encode(user, forKey: .user)
        try c.encode(reason, forKey: .reason)
        try c.encode(at, forKey: .at)
    }
}

extension ScanStore {
    /// The values `site` set through Vigil (model → class → value); a class reset to its calibrated
    /// default maps to nil; classes never set through Vigil are absent.
    public func siteThresholds(site: String) throws(StoreError) -> [String: [String: Double?]] {
        let rows: [Row] = try read("thresholds of \(site)") { db in
            try Row.fetchAll(db, sql: """
                SELECT model, label, newValue FROM thresholdChanges c
                WHERE site = ? AND id = (SELECT MAX(id) FROM thresholdChanges d
                                         WHERE d.site = c.site AND d.model = c.model AND d.label = c.label)
                """, arguments: [site])
        }
        var out: [String: [String: Double?]] = [:]
        for row in rows {
            let value: Double? = row["newValue"]
            out[row["model"], default: [:]][row["label"]] = .some(value)
        }
        return out
    }

    /// Records new values (nil resets a class to its default) as one change per class, in one transaction.
    @discardableResult
    public func setThresholds(site: String, values: [(model: String, label: String, value: Double?)], user: String,
                              reason: String) throws(StoreError) -> [ThresholdChange] {
        do {
            return try db.write { db in
                var changes: [ThresholdChange] = []
                let now = Date()
                for v in values {
                    let old = try Double?.fetchOne(db, sql: """
                        SELECT newValue FROM thresholdChanges WHERE site = ? AND model = ? AND label = ? ORDER BY id DESC LIMIT 1
                        """, arguments: [site, v.model, v.label]) ?? nil
                    try db.execute(sql: """
                        INSERT INTO thresholdChanges (site, model, label, oldValue, newValue, user, reason, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                        """, arguments: [site, v.model, v.label, old, v.value, user, reason, now.timeIntervalSince1970])
                    changes.append(ThresholdChange(id: db.lastInsertedRowID, site: site, model: v.model, label: v.label, oldValue: old,
                                                   newValue: v.value, user: user, reason: reason, at: Self.iso(now)))
                    try Self.appendAudit(db, actor: user, action: "threshold.set", subject: site, details: [
                        "model": v.model, "class": v.label, "old": old.map { String($0) }, "new": v.value.map { String($0) }, "reason": reason,
                    ], at: now)
                }
                return changes
            }
        } catch {
            throw .database("thresholds of \(site)", "\(error)")
        }
    }

    /// Every change of `site`, oldest first.
    public func thresholdHistory(site: String) throws(StoreError) -> [ThresholdChange] {
        try read("threshold history of \(site)") { db in
            try Row.fetchAll(db, sql: "SELECT * FROM thresholdChanges WHERE site = ? ORDER BY id", arguments: [site]).map { row in
                ThresholdChange(id: row["id"], site: row["site"], model: row["model"], label: row["label"], oldValue: row["oldValue"],
                                newValue: row["newValue"], user: row["user"], reason: row["reason"],
                                at: Self.iso(Date(timeIntervalSince1970: row["at"])))
            }
        }
    }

    /// Puts every class of `site` back to its value right after change `id` (the default for classes
    /// first set later), as new changes; returns them (empty when nothing differs).
    @discardableResult
    public func restoreThresholds(site: String, to id: Int64, user: String, reason: String) throws(StoreError) -> [ThresholdChange] {
        let history = try thresholdHistory(site: site)
        guard history.contains(where: { $0.id == id }) else { throw .database("threshold change \(id)", "no such change for site \(site)") }
        var then: [String: Double?] = [:], now: [String: Double?] = [:]
        var keys: [String: (String, String)] = [:]
        for c in history {
            let key = c.model + "\u{0}" + c.label
            keys[key] = (c.model, c.label)
            now[key] = .some(c.newValue)
            if c.id <= id { then[key] = .some(c.newValue) }
        }
        var values: [(model: String, label: String, value: Double?)] = []
        for (key, (model, label)) in keys.sorted(by: { $0.key < $1.key }) {
            let target = then[key] ?? nil, current = now[key] ?? nil
            if target != current { values.append((model, label, target)) }
        }
        return values.isEmpty ? [] : try setThresholds(site: site, values: values, user: user, reason: reason)
    }
}

/// A site's thresholds as the service applies them: its file, overlaid by what was set through
/// Vigil since (read from the store for every scan, so a change applies to the next one).
public struct StoredSiteThresholds: SiteThresholds {
    let store: ScanStore
    let files: ThresholdPolicy

    public init(store: ScanStore, files: ThresholdPolicy) {
        self.store = store
        self.files = files
    }

    public func values(site: String) -> [String: [String: Double]] {
        var values = files.siteFiles[site] ?? [:]
        // A store that cannot be read leaves the files' values: the scan is still judged.
        for (model, classes) in (try? store.siteThresholds(site: site)) ?? [:] {
            for (label, value) in classes { values[model, default: [:]][label] = value }
        }
        return values
    }
}
