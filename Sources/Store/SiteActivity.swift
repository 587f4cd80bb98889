import Foundation
import GRDB

/// What a site's scanners, models and analysts did, per day: so a drifting scanner or model, or a
/// backlog of reviews, shows up.
public struct SiteActivity: Codable, Sendable, Equatable {
    /// One station on one day.
    public struct StationDay: Codable, Sendable, Equatable {
        public var day: String
        public var station: String
        public var scans: Int
        public var alarms: Int
        /// Scans with a release or inspect decision.
        public var decided: Int
    }

    /// One class at one station on one day.
    public struct ClassDay: Codable, Sendable, Equatable {
        public var day: String
        public var station: String
        public var label: String
        public var findings: Int
        public var confirmed: Int
        public var dismissed: Int
        /// Mean seconds from the result to the first decision on a finding (null when none reviewed).
        public var meanReviewSeconds: Double?

        enum CodingKeys: String, CodingKey { case day, station, label, findings, confirmed, dismissed, meanReviewSeconds }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(day, forKey: .day)
            try c.encode(station, forKey: .station)
            try c.encode(label, forKey: .label)
            try c.encode(findings, forKey: .findings)
            try c.encode(confirmed, forKey: .confirmed)
            try c.encode(dismissed, forKey: .dismissed)
            try c.encode(meanReviewSeconds, forKey: .meanReviewSeconds)
        }
    }

    public var site: String
    public var since: String
    public var stations: [StationDay]
    public var classes: [ClassDay]
}

extension ScanStore {
    /// The site's activity since `since`, by UTC day.
    public func activity(site: String, since: Date) throws(StoreError) -> SiteActivity {
        try read("activity of \(site)") { db in
            let t0 = since.timeIntervalSince1970
            let stations = try Row.fetchAll(db, sql: """
                SELECT date(s.receivedAt, 'unixepoch') AS day, s.station, COUNT(*) AS scans,
                       SUM(CASE WHEN r.verdict = 'alarm' THEN 1 ELSE 0 END) AS alarms,
                       SUM(CASE WHEN EXISTS (SELECT 1 FROM reviews v WHERE v.scanId = s.id AND v.finding IS NULL) THEN 1 ELSE 0 END) AS decided
                FROM scans s LEFT JOIN results r ON r.scanId = s.id
                WHERE s.site = ? AND s.receivedAt >= ?
                GROUP BY day, s.station ORDER BY day, s.station
                """, arguments: [site, t0]).map { row in
                SiteActivity.StationDay(day: row["day"], station: row["station"], scans: row["scans"], alarms: row["alarms"], decided: row["decided"])
            }
            let classes = try Row.fetchAll(db, sql: """
                SELECT date(s.receivedAt, 'unixepoch') AS day, s.station, f.label, COUNT(*) AS findings,
                       SUM(CASE WHEN latest.decision = 'confirm' THEN 1 ELSE 0 END) AS confirmed,
                       SUM(CASE WHEN latest.decision = 'dismiss' THEN 1 ELSE 0 END) AS dismissed,
                       AVG(first.at - r.completedAt) AS meanReviewSeconds
                FROM findings f
                JOIN scans s ON s.id = f.scanId
                JOIN results r ON r.scanId = f.scanId
                LEFT JOIN reviews latest ON latest.id = (SELECT MAX(id) FROM reviews q WHERE q.scanId = f.scanId AND q.finding = f.ordinal)
                LEFT JOIN reviews first ON first.id = (SELECT MIN(id) FROM reviews q WHERE q.scanId = f.scanId AND q.finding = f.ordinal)
                WHERE s.site = ? AND s.receivedAt >= ?
                GROUP BY day, s.station, f.label ORDER BY day, s.station, f.label
                """, arguments: [site, t0]).map { row in
                SiteActivity.ClassDay(day: row["day"], station: row["station"], label: row["label"], findings: row["findings"],
                                      confirmed: row["confirmed"], dismissed: row["dismissed"], meanReviewSeconds: row["meanReviewSeconds"])
            }
            return SiteActivity(site: site, since: Self.iso(since), stations: stations, classes: classes)
        }
    }
}
