import XCTest

@testable import ScanImage

/// Corrupt, truncated and hostile files end in a typed error naming the input; never a crash,
/// a hang, or an allocation the limits did not allow.
final class HostileInputTests: XCTestCase {
    func testPNGDeclaringHugeDimensionsIsRefusedBeforeAllocation() throws {
        var png = try ScanEncoder.encode(TestScans.gradient(width: 8, height: 8, format: .uint16), as: .png, output: "p")
        // IHDR width and height sit at bytes 16..<24; claim 60000 x 60000 (7.2 GB at 16 bits).
        for offset in [16, 20] { png.replaceSubrange(offset..<(offset + 4), with: [0, 0, 0xEA, 0x60]) }
        fixPNGChunkCRC(&png, chunkStart: 8)
        var limits = ScanLimits.default
        limits.maxPixelBytes = 64 << 20
        XCTAssertThrowsError(try ScanDecoder(limits: limits).decode(png, source: "huge.png")) { error in
            guard case .limitExceeded = (error as? ScanImageError)?.cause else { return XCTFail("\(error)") }
            XCTAssertTrue("\(error)".hasPrefix("huge.png: too large:"), "\(error)")
        }
    }

    func testTruncatedFilesOfEveryFormatFailCleanly() throws {
        let scan = TestScans.gradient(width: 64, height: 32, format: .uint16, frames: 2)
        let files: [(String, [UInt8])] = [
            ("t.tiff", try ScanEncoder.encode(scan, as: .tiff, output: "t")),
            ("t.png", try ScanEncoder.encode(TestScans.gradient(width: 64, height: 32, format: .uint16), as: .png, output: "t")),
            ("t.npy", ScanEncoder.npy(scan).encoded()),
            ("t.dcm", DICOMWriter.explicitLittle(scan: TestScans.gradient(width: 64, height: 32, format: .uint16))),
        ]
        for (name, bytes) in files {
            XCTAssertNoThrow(try ScanDecoder().decode(bytes, source: name), name)
            for cut in [bytes.count / 3, bytes.count / 2, bytes.count - 7] {
                XCTAssertThrowsError(try ScanDecoder().decode(Array(bytes[0..<cut]), source: name), "\(name) cut at \(cut) of \(bytes.count)") { error in
                    XCTAssertEqual((error as? ScanImageError)?.input, name)
                }
            }
        }
    }

    func testDICOMLimitsApplyBeforeDecompression() throws {
        let file = DICOMWriter.explicitLittle(scan: TestScans.gradient(width: 64, height: 32, format: .uint16))
        var limits = ScanLimits.default
        limits.maxWidth = 32
        XCTAssertThrowsError(try ScanDecoder(limits: limits).decode(file, source: "wide.dcm")) { error in
            XCTAssertEqual("\(error)", "wide.dcm: too large: width 64 exceeds the limit of 32")
        }
    }

    func testDICOMWithoutPixelDataSaysSo() throws {
        let file = DICOMWriter.explicitLittle(scan: TestScans.gradient(width: 4, height: 4, format: .uint16), pixelData: false)
        XCTAssertThrowsError(try ScanDecoder().decode(file, source: "nopix.dcm")) { error in
            XCTAssertEqual((error as? ScanImageError)?.cause, .noPixelData)
        }
    }

    func testDICOMDecodesWhatTheWriterWrote() throws {
        let scan = TestScans.gradient(width: 33, height: 17, format: .uint16)
        let back = try ScanDecoder().decode(DICOMWriter.explicitLittle(scan: scan), source: "w.dcm")
        XCTAssertEqual(back.pixels, scan.pixels)
        XCTAssertEqual(back.source.transferSyntax, "1.2.840.10008.1.2.1")
    }

    /// A bounded, seeded mutation fuzzer over every decoder: flipped bytes, lying lengths,
    /// cut files. The property is that decoding returns a scan or a ScanImageError.
    func testMutatedFilesNeverCrashAnyDecoder() throws {
        var rng = SplitMix64(seed: 0x5EED)
        let small = TestScans.gradient(width: 24, height: 16, format: .uint16, frames: 2)
        var rgb = TestScans.gradient(width: 12, height: 8, format: .uint8, channels: 3)
        rgb.channels = [.red, .green, .blue]
        let seeds: [(String, [UInt8])] = [
            ("seed.tiff", try ScanEncoder.encode(small, as: .tiff, output: "s")),
            ("seed.png", try ScanEncoder.encode(rgb, as: .png, output: "s")),
            ("seed.npy", ScanEncoder.npy(small).encoded()),
            ("seed.dcm", DICOMWriter.explicitLittle(scan: TestScans.gradient(width: 24, height: 16, format: .uint16))),
            ("seed.jpg", TestJPEG.grey16x16),
        ]
        var limits = ScanLimits.default
        limits.maxPixelBytes = 16 << 20
        limits.maxFileBytes = 16 << 20
        let decoder = ScanDecoder(limits: limits)
        var outcomes = [String: (ok: Int, failed: Int)]()
        for (name, seed) in seeds {
            for _ in 0..<400 {
                var bytes = seed
                for _ in 0..<(1 + Int(rng.next() % 4)) {
                    let at = Int(rng.next() % UInt64(bytes.count))
                    switch rng.next() % 4 {
                    case 0: bytes[at] = UInt8(truncatingIfNeeded: rng.next())
                    case 1: bytes[at] = 0xFF  // lying lengths and dimensions
                    case 2: bytes.removeSubrange(at..<min(bytes.count, at + Int(rng.next() % 64)))
                    default: bytes.insert(contentsOf: repeatElement(UInt8(0xFF), count: 4), at: at)
                    }
                    if bytes.isEmpty { bytes = [0] }
                }
                do {
                    _ = try decoder.decode(bytes, source: name)
                    outcomes[name, default: (0, 0)].ok += 1
                } catch {
                    XCTAssertEqual(error.input, name)
                    outcomes[name, default: (0, 0)].failed += 1
                }
            }
        }
        // Every decoder must have seen both outcomes, or the fuzzer is not exercising it.
        for (name, _) in seeds {
            let o = outcomes[name, default: (0, 0)]
            XCTAssertGreaterThan(o.failed, 0, "\(name): no mutation was rejected")
        }
    }
}

/// Recomputes the CRC of the PNG chunk starting at `chunkStart` (length, type, data, CRC).
func fixPNGChunkCRC(_ png: inout [UInt8], chunkStart: Int) {
    let length = Int(png[chunkStart]) << 24 | Int(png[chunkStart + 1]) << 16 | Int(png[chunkStart + 2]) << 8 | Int(png[chunkStart + 3])
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in png[(chunkStart + 4)..<(chunkStart + 8 + length)] {
        crc ^= UInt32(byte)
        for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
    }
    crc ^= 0xFFFF_FFFF
    let at = chunkStart + 8 + length
    png.replaceSubrange(at..<(at + 4), with: [UInt8(crc >> 24), UInt8(crc >> 16 & 0xFF), UInt8(crc >> 8 & 0xFF), UInt8(crc & 0xFF)])
}

/// A small deterministic generator, so fuzz runs repeat exactly.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
