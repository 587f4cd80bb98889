// The framing of docs/protocol.md, over plain bytes: no NIO types here, so the parser can be
// compiled alone into a libFuzzer harness (Tests/Fuzz/run_swift.sh).

/// Frame types of the native protocol, version 1.
public enum FrameType: UInt8, Sendable, CaseIterable {
    case hello = 1, welcome, scan, ack, result, error, ping, pong
}

/// One frame: type, the request id it concerns (0 for the connection), payload.
public struct Frame: Sendable, Equatable {
    public var type: FrameType
    public var requestId: UInt32
    public var payload: [UInt8]

    public init(_ type: FrameType, requestId: UInt32 = 0, payload: [UInt8] = []) {
        self.type = type
        self.requestId = requestId
        self.payload = payload
    }

    /// `VIGL`
    public static let magic: [UInt8] = [0x56, 0x49, 0x47, 0x4C]
    public static let headerSize = 16

    /// Header plus payload, ready for the wire.
    public var encoded: [UInt8] {
        var out = Frame.magic
        out.reserveCapacity(Frame.headerSize + payload.count)
        out += [type.rawValue, 0, 0, 0]
        out += FrameHeader.bigEndian(requestId)
        out += FrameHeader.bigEndian(UInt32(payload.count))
        out += payload
        return out
    }
}

/// Why bytes on the connection are not a frame; the connection cannot continue after any of these.
public enum FrameError: Error, Sendable, Equatable, CustomStringConvertible {
    case badMagic([UInt8])
    case unknownType(UInt8)
    case tooLarge(length: UInt64, limit: Int)

    public var description: String {
        switch self {
        case .badMagic(let bytes):
            // 0x15/0x16 then 0x03: a TLS alert or handshake record, i.e. one side speaks TLS and the other does not.
            let tls = bytes.count >= 2 && (bytes[0] == 0x15 || bytes[0] == 0x16) && bytes[1] == 0x03
            return "bad-frame: the frame does not start with VIGL (got \(bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined(separator: " ")))"
                + (tls ? "; that is TLS: the other side speaks TLS and this one does not (vigil push --ca)" : "")
        case .unknownType(let t): return "bad-frame: unknown frame type \(t)"
        case .tooLarge(let length, let limit): return "too-large: a frame of \(length) bytes is over the limit of \(limit)"
        }
    }
}

/// The fixed 16-byte header.
public struct FrameHeader: Sendable, Equatable {
    public var type: FrameType
    public var requestId: UInt32
    public var length: Int

    /// Reads a header from the first 16 bytes; nil when fewer are available yet. The payload
    /// length is checked against `maxFrameBytes` (header included) before anyone allocates for it.
    public static func parse(_ bytes: UnsafeRawBufferPointer, maxFrameBytes: Int) throws(FrameError) -> FrameHeader? {
        // Reject a wrong magic as soon as its first bytes arrive, not after 16.
        for i in 0..<min(4, bytes.count) where bytes[i] != Frame.magic[i] {
            throw .badMagic(Array(bytes.prefix(4)))
        }
        guard bytes.count >= Frame.headerSize else { return nil }
        guard let type = FrameType(rawValue: bytes[4]) else { throw .unknownType(bytes[4]) }
        let requestId = readBigEndian(bytes, at: 8)
        let length = UInt64(readBigEndian(bytes, at: 12))
        guard length + UInt64(Frame.headerSize) <= UInt64(maxFrameBytes) else {
            throw .tooLarge(length: length + UInt64(Frame.headerSize), limit: maxFrameBytes)
        }
        return FrameHeader(type: type, requestId: requestId, length: Int(length))
    }

    static func readBigEndian(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> UInt32 {
        (UInt32(bytes[offset]) << 24) | (UInt32(bytes[offset + 1]) << 16) | (UInt32(bytes[offset + 2]) << 8) | UInt32(bytes[offset + 3])
    }

    static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
    }
}

/// A SCAN payload split into its metadata JSON and image bytes.
public struct ScanPayload: Sendable, Equatable {
    public var metadata: [UInt8]
    public var image: [UInt8]

    public enum Problem: Error, Sendable, Equatable { case tooShort, metadataBeyondPayload(Int, Int) }

    public init(splitting payload: [UInt8]) throws(Problem) {
        guard payload.count >= 4 else { throw .tooShort }
        let m = payload.withUnsafeBytes { Int(FrameHeader.readBigEndian($0, at: 0)) }
        guard m <= payload.count - 4 else { throw .metadataBeyondPayload(m, payload.count - 4) }
        metadata = Array(payload[4..<(4 + m)])
        image = Array(payload[(4 + m)...])
    }

    public init(metadata: [UInt8], image: [UInt8]) {
        self.metadata = metadata
        self.image = image
    }

    public var encoded: [UInt8] { FrameHeader.bigEndian(UInt32(metadata.count)) + metadata + image }
}
