import Foundation
import Pipeline
import ScanImage

/// What the station said about a scan: who sent it, from where, which scanner, what was declared.
public struct ScanInfo: Sendable, Equatable {
    public var station: String
    /// The station's own id for the scan; (station, stationScanId) is unique.
    public var stationScanId: String
    public var site: String?
    public var profile: String?
    public var pairKey: String?
    public var declaration: Declaration?
    public var source: String
    /// Declared format (`raw` needs `rawLayout`); nil when the bytes say it.
    public var format: String?
    /// JSON of the raw layout, as the station sent it.
    public var rawLayout: String?
    /// `native` or `dicom`.
    public var via: String
    /// JSON of the DICOM identity (calling AE, study/series/instance UIDs) for scans that came by DICOM.
    public var dicom: String?

    public init(station: String, stationScanId: String, site: String? = nil, profile: String? = nil, pairKey: String? = nil,
                declaration: Declaration? = nil, source: String, format: String? = nil, rawLayout: String? = nil,
                via: String, dicom: String? = nil) {
        self.station = station
        self.stationScanId = stationScanId
        self.site = site
        self.profile = profile
        self.pairKey = pairKey
        self.declaration = declaration
        self.source = source
        self.format = format
        self.rawLayout = rawLayout
        self.via = via
        self.dicom = dicom
    }
}

extension ScanInfo {
    /// The raw layout `rawLayout` holds, for headerless pixels (nil otherwise).
    public var raw: RawLayout? {
        rawLayout.flatMap { try? JSONDecoder().decode(RawLayout.self, from: Data($0.utf8)) }
    }
}

/// A scan as a station handed it over, before it is stored.
public struct NewScan: Sendable {
    public var info: ScanInfo
    public var bytes: [UInt8]

    public init(_ info: ScanInfo, bytes: [UInt8]) {
        self.info = info
        self.bytes = bytes
    }
}

/// A scan the store holds: what the station said and where its bytes are.
public struct StoredScan: Sendable, Equatable {
    /// Vigil's id (the result's `scanId`).
    public var id: String
    public var info: ScanInfo
    /// Path of the bytes, relative to the data folder.
    public var path: String
    public var byteCount: Int
    public var receivedAt: Date
}

/// One line of the scan list: what an analyst sees before opening the scan.
public struct ScanSummary: Codable, Sendable, Equatable {
    public var scanId: String
    public var station: String
    public var stationScanId: String
    public var site: String?
    public var profile: String?
    public var pairKey: String?
    public var source: String
    public var via: String
    /// ISO 8601, UTC.
    public var receivedAt: String
    /// Nil while the scan waits for analysis.
    public var verdict: String?
    public var findings: Int
    public var completedAt: String?

    enum CodingKeys: String, CodingKey {
        case scanId, station, stationScanId, site, profile, pairKey, source, via, receivedAt, verdict, findings, completedAt
    }

    /// Members without a value are written as null, so every line has the same keys.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(scanId, forKey: .scanId)
        try c.encode(station, forKey: .station)
        try c.encode(stationScanId, forKey: .stationScanId)
        try c.encode(site, forKey: .site)
        try c.encode(profile, forKey: .profile)
        try c.encode(pairKey, forKey: .pairKey)
        try c.encode(source, forKey: .source)
        try c.encode(via, forKey: .via)
        try c.encode(receivedAt, forKey: .receivedAt)
        try c.encode(verdict, forKey: .verdict)
        try c.encode(findings, forKey: .findings)
        try c.encode(completedAt, forKey: .completedAt)
    }
}

/// What `admit` did with a scan.
public enum Admission: Sendable, Equatable {
    /// Stored now, durably.
    case stored(StoredScan)
    /// The station already sent this scan; nothing new was stored.
    case duplicate(StoredScan)
}
