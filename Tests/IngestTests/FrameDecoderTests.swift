import NIOCore
import NIOEmbedded
import XCTest

@testable import Ingest

final class FrameDecoderTests: XCTestCase {
    func frames(_ bytes: [UInt8], max: Int = 1 << 20, chunk: Int) throws -> [Frame] {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder(maxFrameBytes: max)))
        var i = 0
        while i < bytes.count {
            let end = min(bytes.count, i + chunk)
            try channel.writeInbound(ByteBuffer(bytes: bytes[i..<end]))
            i = end
        }
        var out: [Frame] = []
        while let f = try channel.readInbound(as: Frame.self) { out.append(f) }
        _ = try? channel.finish()
        return out
    }

    func testFramesSurviveAnySplitOfTheStream() throws {
        let sent = [Frame(.hello, payload: Array(#"{"versions":[1]}"#.utf8)),
                    Frame(.scan, requestId: 7, payload: ScanPayload(metadata: Array(#"{"scanId":"A"}"#.utf8), image: [1, 2, 3]).encoded),
                    Frame(.ping, requestId: 0, payload: []),
                    Frame(.scan, requestId: 0xFFFF_FFFF, payload: [UInt8](repeating: 0xAB, count: 5000))]
        let stream = sent.flatMap(\.encoded)
        for chunk in [1, 2, 3, 15, 16, 17, 100, stream.count] {
            XCTAssertEqual(try frames(stream, chunk: chunk), sent, "chunk \(chunk)")
        }
    }

    func testWrongMagicFailsOnItsFirstByte() {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder(maxFrameBytes: 1024)))
        XCTAssertThrowsError(try channel.writeInbound(ByteBuffer(bytes: [0x47]))) { error in
            XCTAssertEqual(error as? FrameError, .badMagic([0x47]))
        }
    }

    func testAnOversizedLengthFailsBeforeThePayloadArrives() {
        var header = Frame(.scan, requestId: 1, payload: []).encoded
        header[12...15] = [0x10, 0, 0, 0]  // 256 MiB announced, nothing sent
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder(maxFrameBytes: 1 << 20)))
        XCTAssertThrowsError(try channel.writeInbound(ByteBuffer(bytes: header))) { error in
            XCTAssertEqual(error as? FrameError, .tooLarge(length: (1 << 28) + 16, limit: 1 << 20))
        }
    }

    func testUnknownTypeIsRejected() {
        var bytes = Frame(.ping).encoded
        bytes[4] = 42
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder(maxFrameBytes: 1024)))
        XCTAssertThrowsError(try channel.writeInbound(ByteBuffer(bytes: bytes))) { error in
            XCTAssertEqual(error as? FrameError, .unknownType(42))
        }
    }

    /// Property: any byte string either parses into frames that re-encode to a prefix of it, or
    /// fails with a FrameError; never a crash, never a frame over the limit.
    func testRandomAndMutatedStreamsNeverCrashTheParser() {
        var rng = SystemRandomNumberGenerator()
        let valid = Frame(.scan, requestId: 3, payload: ScanPayload(metadata: Array(#"{"scanId":"B"}"#.utf8), image: [9, 9]).encoded).encoded
        for round in 0..<2000 {
            var bytes: [UInt8]
            if round % 2 == 0 {
                bytes = (0..<Int.random(in: 0...64, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            } else {
                bytes = valid
                for _ in 0..<Int.random(in: 1...4, using: &rng) {
                    bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
                }
                bytes = Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &rng)))
            }
            let limit = 64
            var offset = 0
            while true {
                let parsed = bytes[offset...].withUnsafeBytes { buffer in Result { () throws(FrameError) in try FrameHeader.parse(buffer, maxFrameBytes: limit) } }
                guard case .success(let header?) = parsed else { break }
                XCTAssertLessThanOrEqual(header.length + Frame.headerSize, limit)
                guard bytes.count - offset >= Frame.headerSize + header.length else { break }
                let frame = Frame(header.type, requestId: header.requestId, payload: Array(bytes[(offset + 16)..<(offset + 16 + header.length)]))
                XCTAssertEqual(frame.encoded[0..<4], bytes[offset..<(offset + 4)])
                XCTAssertEqual(Array(frame.encoded[8...]), Array(bytes[(offset + 8)..<(offset + 16 + header.length)]))
                offset += 16 + header.length
            }
        }
    }

    func testScanPayloadSplitsMetadataFromImageAndRejectsLengthsBeyondIt() throws {
        let p = ScanPayload(metadata: [1, 2], image: [3, 4, 5])
        XCTAssertEqual(try ScanPayload(splitting: p.encoded), p)
        XCTAssertThrowsError(try ScanPayload(splitting: [0, 0, 0, 9, 1])) { XCTAssertEqual($0 as? ScanPayload.Problem, .metadataBeyondPayload(9, 1)) }
        XCTAssertThrowsError(try ScanPayload(splitting: [0, 0])) { XCTAssertEqual($0 as? ScanPayload.Problem, .tooShort) }
        XCTAssertThrowsError(try ScanPayload(splitting: [0xFF, 0xFF, 0xFF, 0xFF])) { XCTAssertEqual($0 as? ScanPayload.Problem, .metadataBeyondPayload(Int(UInt32.max), 0)) }
    }

    func testRawLayoutFromMetadataIsBounded() throws {
        let ok = ScanMetadata.RawPixels(width: 4, height: 2, channels: 2, sample: "uint16", byteOrder: "big")
        let layout = try ok.layout()
        XCTAssertEqual(layout.channels, 2)
        XCTAssertEqual(layout.byteOrder, .big)
        XCTAssertThrowsError(try ScanMetadata.RawPixels(width: 4, height: 2, sample: "complex64").layout())
        XCTAssertThrowsError(try ScanMetadata.RawPixels(width: 1 << 30, height: 2, sample: "uint8").layout())
        XCTAssertThrowsError(try ScanMetadata.RawPixels(width: 4, height: 2, channels: 0, sample: "uint8").layout())
    }
}
