import Foundation
import GRDB
import Pipeline
import ScanImage

/// Scans, results, findings and per-model timings in SQLite, with each scan's bytes in a file
/// beside the database.
///
/// Invariants: a scan row exists only once its bytes are fsync'ed under `scans/`, and every
/// commit is synced (WAL, synchronous=FULL), so `admit` returning means the scan survives a crash.
/// A scan has at most one result: `record` keeps the first and ignores later ones.
public final class ScanStore: Sendable {
    /// The data folder: `vigil.sqlite` and `scans/`.
    public let directory: String
    let db: DatabasePool

    public init(directory: String) throws(StoreError) {
        self.directory = directory
        let scans = (directory as NSString).appendingPathComponent("scans")
        do {
            // Scans are law-enforcement data: the folders Vigil creates are the service account's alone
            // (an existing data folder keeps the permissions its operator gave it).
            try FileManager.default.createDirectory(atPath: scans, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o750])
            try FileManager.default.setAttributes([.posixPermissions: 0o750], ofItemAtPath: scans)
        } catch {
            throw .file(scans, "cannot be created: \(error.localizedDescription)")
        }
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        configuration.busyMode = .timeout(10)
        let path = (directory as NSString).appendingPathComponent("vigil.sqlite")
        do {
            db = try DatabasePool(path: path, configuration: configuration)
            try Schema.migrator.migrate(db)
            for file in [path, path + "-wal", path + "-shm"] where FileManager.default.fileExists(atPath: file) {
                try FileManager.default.setAttributes([.posixPermissions: 0o640], ofItemAtPath: file)
            }
        } catch {
            throw .database(path, "\(error)")
        }
    }

    /// Stores the bytes and the metadata durably, or finds the same (station, scan id) already stored.
    public func admit(_ scan: NewScan) throws(StoreError) -> Admission {
        let info = scan.info
        if let existing = try find(station: info.station, stationScanId: info.stationScanId) { return .duplicate(existing) }
        let id = UUID().uuidString.lowercased()
        let ext = (info.format ?? "bin").lowercased().filter { $0.isLetter || $0.isNumber }
        let relative = "scans/\(id).\(ext.isEmpty ? "bin" : ext)"
        let path = (directory as NSString).appendingPathComponent(relative)
        try DurableFile.write(scan.bytes, to: path)
        let stored = StoredScan(id: id, info: info, path: relative, byteCount: scan.bytes.count, receivedAt: Date())
        do {
            try db.write { db in
                try db.execute(sql: """
                    INSERT INTO scans (id, station, stationScanId, site, profile, pairKey, declaration, source, format,
                                       rawLayout, via, dicom, path, byteCount, receivedAt)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [
                        stored.id, info.station, info.stationScanId, info.site, info.profile, info.pairKey,
                        info.declaration.map(Self.json), info.source, info.format, info.rawLayout, info.via,
                        info.dicom, stored.path, stored.byteCount, stored.receivedAt.timeIntervalSince1970,
                    ])
            }
        } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE {
            // The same scan arrived twice at once and the other copy won: keep that one.
            unlink(path)
            let info = scan.info
        if let existing = try find(station: info.station, stationScanId: info.stationScanId) { return .duplicate(existing) }
            throw .database("scan \(info.stationScanId)", "\(error)")
        } catch {
            unlink(path)
            throw .database("scan \(info.stationScanId)", "\(error)")
        }
        return .stored(stored)
    }

    /// The scan's bytes as the station sent them.
    public func bytes(of scan: StoredScan) throws(StoreError) -> [UInt8] {
        try DurableFile.read((directory as NSString).appendingPathComponent(scan.path))
    }

    /// The scan decoded as the station sent it (raw pixels with their stored layout).
    public func decoded(_ scan: StoredScan, decoder: ScanDecoder) throws -> Scan {
        try decoder.decode(try bytes(of: scan), source: scan.info.source, raw: scan.info.raw)
    }

    /// Scans acknowledged but not yet analysed, oldest first: the work to redo after a restart.
    public func pending() throws(StoreError) -> [StoredScan] {
        try read("pending scans") { db in
            try Row.fetchAll(db, sql: """
                SELECT scans.* FROM scans LEFT JOIN results ON results.scanId = scans.id
                WHERE results.scanId IS NULL ORDER BY scans.receivedAt, scans.rowid
                """).map(Self.scan)
        }
    }

    public func scan(id: String) throws(StoreError) -> StoredScan? {
        try read("scan \(id)") { db in try Row.fetchOne(db, sql: "SELECT * FROM scans WHERE id = ?", arguments: [id]).map(Self.scan) }
    }

    /// Scans with this pairing key received before `scan`, at another site (or with no site), newest first.
    public func earlier(pairKey: String, than scan: StoredScan) throws(StoreError) -> [StoredScan] {
        try read("scans of pair key \(pairKey)") { db in
            try Row.fetchAll(db, sql: """
                SELECT * FROM scans WHERE pairKey = ? AND id != ? AND receivedAt <= ? AND (site IS NULL OR ? IS NULL OR site != ?)
                ORDER BY receivedAt DESC, rowid DESC LIMIT 8
                """, arguments: [pairKey, scan.id, scan.receivedAt.timeIntervalSince1970, scan.info.site, scan.info.site]).map(Self.scan)
        }
    }

    /// Whether `site` received a scan with this pairing key: its analysts then see the vehicle's
    /// scans from other sites, which the cross-check compared theirs with.
    public func siteHasScan(site: String, pairKey: String) throws(StoreError) -> Bool {
        try read("scans of \(pairKey)") { db in
            try Int.fetchOne(db, sql: "SELECT 1 FROM scans WHERE pairKey = ? AND site = ? LIMIT 1", arguments: [pairKey, site]) != nil
        }
    }

    public func find(station: String, stationScanId: String) throws(StoreError) -> StoredScan? {
        try read("scan \(stationScanId)") { db in
            try Row.fetchOne(db, sql: "SELECT * FROM scans WHERE station = ? AND stationScanId = ?",
                             arguments: [station, stationScanId]).map(Self.scan)
        }
    }

    /// Keeps the scan's result, findings and model timings; false when it already had one.
    @discardableResult
    public func record(_ result: AnalysisResult, for scanId: String) throws(StoreError) -> Bool {
        let text = Self.json(result)
        do {
            return try db.write { db in
                try db.execute(sql: """
                    INSERT OR IGNORE INTO results (scanId, verdict, json, completedAt, totalMs) VALUES (?, ?, ?, ?, ?)
                    """, arguments: [scanId, result.verdict, text, Date().timeIntervalSince1970, result.timingsMs["total"]])
                guard db.changesCount == 1 else { return false }
                for (i, f) in result.findings.enumerated() {
                    try db.execute(sql: """
                        INSERT INTO findings (scanId, ordinal, kind, label, confidence, threshold, x, y, width, height, model)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """, arguments: [scanId, i, f.kind, f.label, f.confidence, f.threshold, f.box.x, f.box.y,
                                         f.box.width, f.box.height, f.model])
                }
                for m in result.models {
                    try db.execute(sql: "INSERT OR REPLACE INTO modelTimings (scanId, model, version, ms) VALUES (?, ?, ?, ?)",
                                   arguments: [scanId, m.name, m.version, m.ms])
                }
                return true
            }
        } catch {
            throw .database("result of \(scanId)", "\(error)")
        }
    }

    /// The stored result JSON of a scan, nil while it waits for analysis.
    public func result(scanId: String) throws(StoreError) -> AnalysisResult? {
        let text: String? = try read("result of \(scanId)") { db in
            try String.fetchOne(db, sql: "SELECT json FROM results WHERE scanId = ?", arguments: [scanId])
        }
        guard let text else { return nil }
        do { return try JSONDecoder().decode(AnalysisResult.self, from: Data(text.utf8)) } catch {
            throw .database("result of \(scanId)", "unreadable: \(error)")
        }
    }

    /// Newest first; every filter optional.
    public func list(site: String? = nil, verdict: String? = nil, since: Date? = nil, station: String? = nil, label: String? = nil,
                     limit: Int = 100) throws(StoreError) -> [ScanSummary] {
        var clauses: [String] = []
        var arguments: [any DatabaseValueConvertible] = []
        if let site { clauses.append("scans.site = ?"); arguments.append(site) }
        if let station { clauses.append("scans.station = ?"); arguments.append(station) }
        if let label { clauses.append("EXISTS (SELECT 1 FROM findings WHERE findings.scanId = scans.id AND findings.label = ?)"); arguments.append(label) }
        if let verdict {
            if verdict == "pending" { clauses.append("results.scanId IS NULL") } else { clauses.append("results.verdict = ?"); arguments.append(verdict) }
        }
        if let since { clauses.append("scans.receivedAt >= ?"); arguments.append(since.timeIntervalSince1970) }
        let filter = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
        arguments.append(max(1, min(limit, 10_000)))
        let sql = """
            SELECT scans.*, results.verdict AS verdict, results.completedAt AS completedAt,
                   (SELECT COUNT(*) FROM findings WHERE findings.scanId = scans.id) AS findingCount
            FROM scans LEFT JOIN results ON results.scanId = scans.id \(filter)
            ORDER BY scans.receivedAt DESC, scans.rowid DESC LIMIT ?
            """
        return try read("scan list") { db in
            try Row.fetchAll(db, sql: sql, arguments: StatementArguments(arguments)).map { row in
                let scan = Self.scan(row)
                let completed: Double? = row["completedAt"]
                let info = scan.info
                return ScanSummary(
                    scanId: scan.id, station: info.station, stationScanId: info.stationScanId, site: info.site, profile: info.profile,
                    pairKey: info.pairKey, source: info.source, via: info.via, receivedAt: Self.iso(scan.receivedAt),
                    verdict: row["verdict"], findings: row["findingCount"], completedAt: completed.map { Self.iso(Date(timeIntervalSince1970: $0)) })
            }
        }
    }

    /// Scans stored and scans still waiting, for health checks.
    public func counts() throws(StoreError) -> (scans: Int, pending: Int) {
        try read("counts") { db in
            let all = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM scans") ?? 0
            let done = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM results") ?? 0
            return (all, all - done)
        }
    }

    func read<T>(_ what: String, _ body: (Database) throws -> T) throws(StoreError) -> T {
        do { return try db.read(body) } catch { throw .database(what, "\(error)") }
    }

    /// A write whose body may refuse with a `Refusal` (an account or station rule), passed through
    /// as is; any other failure is a database error about `what`.
    func write<T, Refusal: Error>(_ what: String, refusing: Refusal.Type, _ body: (Database) throws -> T) throws -> T {
        do { return try db.write(body) } catch let refusal as Refusal { throw refusal } catch { throw StoreError.database(what, "\(error)") }
    }

    static func scan(_ row: Row) -> StoredScan {
        let declaration: String? = row["declaration"]
        let info = ScanInfo(
            station: row["station"], stationScanId: row["stationScanId"], site: row["site"], profile: row["profile"], pairKey: row["pairKey"],
            declaration: declaration.flatMap { try? JSONDecoder().decode(Declaration.self, from: Data($0.utf8)) },
            source: row["source"], format: row["format"], rawLayout: row["rawLayout"], via: row["via"], dicom: row["dicom"])
        return StoredScan(id: row["id"], info: info, path: row["path"], byteCount: row["byteCount"],
                          receivedAt: Date(timeIntervalSince1970: row["receivedAt"]))
    }

    static func json<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(value)) ?? Data("null".utf8), as: UTF8.self)
    }

    /// ISO 8601 in UTC with milliseconds.
    public static func iso(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}
