import Foundation
import Pipeline
import ScanImage

/// HELLO: the station's first frame.
public struct Hello: Codable, Sendable {
    public var versions: [Int]
    public var station: String?
    public var client: String?

    public init(versions: [Int] = [1], station: String? = nil, client: String? = nil) {
        (self.versions, self.station, self.client) = (versions, station, client)
    }
}

/// WELCOME: what the server agreed to and its limits.
public struct Welcome: Codable, Sendable {
    public var version: Int
    public var server: String
    public var maxFrameBytes: Int
    public var maxInFlight: Int
    public var heartbeatSeconds: Int
    public var idleTimeoutSeconds: Int
}

/// ACK: the scan is durable.
public struct Acknowledgement: Codable, Sendable {
    public var scanId: String
    public var duplicate: Bool
}

/// ERROR: a code from docs/protocol.md and one line for people.
public struct ErrorMessage: Codable, Sendable, Error {
    public var code: String
    public var message: String

    public init(code: String, message: String) { (self.code, self.message) = (code, message) }
}

/// SCAN metadata as docs/protocol.md specifies it.
public struct ScanMetadata: Codable, Sendable {
    public var scanId: String
    public var station: String?
    public var site: String?
    public var profile: String?
    public var pairKey: String?
    public var declaration: Declaration?
    public var source: String?
    public var format: String?
    public var raw: RawPixels?

    /// Headerless pixels: planar channels, each a full plane.
    public struct RawPixels: Codable, Sendable {
        public var width: Int
        public var height: Int
        public var channels: Int?
        public var frames: Int?
        public var sample: String
        public var byteOrder: String?
        public var bitsStored: Int?

        public init(width: Int, height: Int, channels: Int? = nil, frames: Int? = nil, sample: String,
                    byteOrder: String? = nil, bitsStored: Int? = nil) {
            (self.width, self.height, self.channels, self.frames, self.sample, self.byteOrder, self.bitsStored) =
                (width, height, channels, frames, sample, byteOrder, bitsStored)
        }

        /// The decoder's layout, or why there is none.
        public func layout() throws(ErrorMessage) -> RawLayout {
            guard let format = SampleFormat(rawValue: sample) else {
                throw ErrorMessage(code: "unsupported-format", message: "raw sample \(sample) is not one of \(SampleFormat.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let order: RawLayout.ByteOrder
            switch byteOrder ?? "little" {
            case "little": order = .little
            case "big": order = .big
            default: throw ErrorMessage(code: "unsupported-format", message: "raw byteOrder must be little or big")
            }
            let c = channels ?? 1, f = frames ?? 1
            let limits = ScanLimits.default
            guard width > 0, height > 0, c > 0, f > 0, width <= limits.maxWidth, height <= limits.maxHeight, c <= 4, f <= limits.maxFrames else {
                throw ErrorMessage(code: "unsupported-format", message: "raw layout \(width)x\(height)x\(c)x\(f) is out of bounds")
            }
            return RawLayout(width: width, height: height, channels: c, frames: f, format: format, byteOrder: order, bitsStored: bitsStored)
        }
    }

    public init(scanId: String, station: String? = nil, site: String? = nil, profile: String? = nil, pairKey: String? = nil,
                declaration: Declaration? = nil, source: String? = nil, format: String? = nil, raw: RawPixels? = nil) {
        self.scanId = scanId
        self.station = station
        self.site = site
        self.profile = profile
        self.pairKey = pairKey
        self.declaration = declaration
        self.source = source
        self.format = format
        self.raw = raw
    }
}

enum JSON {
    static func encode<T: Encodable>(_ value: T) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return [UInt8]((try? encoder.encode(value)) ?? Data("{}".utf8))
    }
}
