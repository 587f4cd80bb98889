import Foundation
import GRDB

/// A station allowed to push scans: the site it serves, the scanner profiles it may name, and its
/// DICOM AE title when it sends over DICOM. Its `name` is the station id in HELLO / SCAN metadata
/// and the common name of its client certificate.
public struct RegisteredStation: Codable, Sendable, Equatable {
    public var name: String
    public var site: String
    public var profiles: [String]
    public var aeTitle: String?
    public var registeredBy: String
    /// ISO 8601, UTC.
    public var registeredAt: String

    public init(name: String, site: String, profiles: [String], aeTitle: String?, registeredBy: String, registeredAt: String) {
        (self.name, self.site, self.profiles, self.aeTitle, self.registeredBy, self.registeredAt) = (name, site, profiles, aeTitle, registeredBy, registeredAt)
    }
}

/// Why a station could not be registered or removed.
public struct StationRefusal: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension ScanStore {
    /// Registers a station, or replaces its registration; audited as `station.register`.
    @discardableResult
    public func registerStation(name: String, site: String, profiles: [String], aeTitle: String?, by actor: String) throws -> RegisteredStation {
        guard (1...128).contains(name.count) else { throw StationRefusal("station \"\(name)\" must have 1 to 128 characters") }
        guard (1...128).contains(site.count) else { throw StationRefusal("site must have 1 to 128 characters") }
        guard !profiles.isEmpty else { throw StationRefusal("station \(name) needs at least one --profile it may push for") }
        if let ae = aeTitle, !(1...16).contains(ae.count) || ae.contains("\\") || ae.trimmingCharacters(in: .whitespaces).isEmpty {
            throw StationRefusal("AE title \"\(ae)\" must be 1 to 16 characters, not all spaces, without a backslash")
        }
        let now = Date()
        let station = RegisteredStation(name: name, site: site, profiles: profiles, aeTitle: aeTitle, registeredBy: actor, registeredAt: Self.iso(now))
        try write("station \(name)", refusing: StationRefusal.self) { db in
            if let ae = aeTitle, let other = try String.fetchOne(db, sql: "SELECT name FROM stations WHERE aeTitle = ? AND name != ?",
                                                                arguments: [ae, name]) {
                throw StationRefusal("AE title \(ae) is already station \(other)'s")
            }
            try db.execute(sql: """
                INSERT OR REPLACE INTO stations (name, site, profiles, aeTitle, registeredBy, registeredAt) VALUES (?, ?, ?, ?, ?, ?)
                """, arguments: [name, site, profiles.joined(separator: "\n"), aeTitle, actor, now.timeIntervalSince1970])
            try Self.appendAudit(db, actor: actor, action: "station.register", subject: name,
                                 details: ["site": site, "profiles": profiles.joined(separator: ","), "aeTitle": aeTitle], at: now)
        }
        return station
    }

    /// Removes a registration; audited as `station.remove`.
    public func removeStation(name: String, by actor: String) throws {
        try write("station \(name)", refusing: StationRefusal.self) { db in
            guard try Int.fetchOne(db, sql: "SELECT 1 FROM stations WHERE name = ?", arguments: [name]) != nil else {
                throw StationRefusal("no registered station \(name)")
            }
            try db.execute(sql: "DELETE FROM stations WHERE name = ?", arguments: [name])
            try Self.appendAudit(db, actor: actor, action: "station.remove", subject: name, details: [:], at: Date())
        }
    }

    public func stations() throws(StoreError) -> [RegisteredStation] {
        try read("stations") { db in try Row.fetchAll(db, sql: "SELECT * FROM stations ORDER BY name").map(Self.station) }
    }

    public func station(named name: String) throws(StoreError) -> RegisteredStation? {
        try read("station \(name)") { db in try Row.fetchOne(db, sql: "SELECT * FROM stations WHERE name = ?", arguments: [name]).map(Self.station) }
    }

    public func station(aeTitle: String) throws(StoreError) -> RegisteredStation? {
        try read("station \(aeTitle)") { db in
            try Row.fetchOne(db, sql: "SELECT * FROM stations WHERE aeTitle = ?", arguments: [aeTitle]).map(Self.station)
        }
    }

    static func station(_ row: Row) -> RegisteredStation {
        let profiles: String = row["profiles"]
        return RegisteredStation(name: row["name"], site: row["site"], profiles: profiles.split(separator: "\n").map(String.init),
                                 aeTitle: row["aeTitle"], registeredBy: row["registeredBy"],
                                 registeredAt: iso(Date(timeIntervalSince1970: row["registeredAt"])))
    }
}
