import NPYFormat
import XCTest

@testable import ScanImage

/// Encoders and decoders agree with each other on every sample format they share.
final class CodecRoundTripTests: XCTestCase {
    func testPNG16RoundTripKeepsEveryValue() throws {
        let scan = TestScans.gradient(width: 37, height: 23, format: .uint16)
        let png = try ScanEncoder.encode(scan, as: .png, output: "out.png")
        let back = try ScanDecoder().decode(png, source: "out.png")
        XCTAssertEqual(back.pixels, scan.pixels)
        XCTAssertEqual(back.source.format, "png")
        XCTAssertEqual(back.bitsStored, 16)
    }

    func testPNG8RGBRoundTrip() throws {
        var scan = TestScans.gradient(width: 9, height: 5, format: .uint8, channels: 3)
        scan.channels = [.red, .green, .blue]
        let png = try ScanEncoder.encode(scan, as: .png, output: "rgb.png")
        let back = try ScanDecoder().decode(png, source: "rgb.png")
        XCTAssertEqual(back.channels, [.red, .green, .blue])
        XCTAssertEqual(back.pixels, scan.pixels)
    }

    func testTIFFRoundTripForEverySampleFormatAndPages() throws {
        for format in [SampleFormat.uint8, .uint16, .int16, .float32] {
            for frames in [1, 3] {
                let scan = TestScans.gradient(width: 70, height: 41, format: format, frames: frames)
                let tiff = try ScanEncoder.encode(scan, as: .tiff, output: "x.tiff")
                let back = try ScanDecoder().decode(tiff, source: "x.tiff")
                XCTAssertEqual(back.frames, frames, "\(format)")
                XCTAssertEqual(back.pixels, scan.pixels, "\(format) x \(frames)")
            }
        }
    }

    func testDualEnergyChannelsBecomeTIFFPages() throws {
        var scan = TestScans.gradient(width: 16, height: 8, format: .uint16, channels: 2)
        scan.channels = [.high, .low]
        let back = try ScanDecoder().decode(try ScanEncoder.encode(scan, as: .tiff, output: "de.tiff"), source: "de.tiff")
        XCTAssertEqual(back.frames, 2)
        XCTAssertEqual(back.pixels, scan.pixels)
    }

    func testDICOSDualEnergyRoundTripKeepsChannelsAsFrames() throws {
        var scan = TestScans.gradient(width: 40, height: 24, format: .uint16, channels: 2)
        scan.channels = [.high, .low]
        scan.pitch = PixelPitch(alongTravelMM: 5, acrossTravelMM: 4)
        let dcm = try ScanEncoder.encode(scan, as: .dicom, output: "de.dcm")
        let back = try ScanDecoder().decode(dcm, source: "de.dcm")
        XCTAssertEqual(back.frames, 2)
        XCTAssertEqual(back.pixels, scan.pixels)
        XCTAssertEqual(back.source.sopClassUID, "1.2.840.10008.5.1.4.1.1.501.2.1")
        XCTAssertEqual(back.pitch, scan.pitch)
    }

    func testNPYUsesPydicomAxisOrder() throws {
        var scan = TestScans.gradient(width: 4, height: 3, format: .uint8, channels: 3)
        scan.channels = [.red, .green, .blue]
        let array = ScanEncoder.npy(scan)
        XCTAssertEqual(array.shape, [3, 4, 3])
        // Sample (x=1, y=2) of the green plane lands at [2][1][1].
        XCTAssertEqual(Double(array.bytes[(2 * 4 + 1) * 3 + 1]), scan.sample(x: 1, y: 2, channel: 1))
        let back = try ScanDecoder().decode(array.encoded(), source: "a.npy")
        XCTAssertEqual(back.pixels, scan.pixels)
    }

    func testNPYHeaderIsAlignedAndParsesBack() throws {
        let array = NPYArray(shape: [2, 3], floats: [1, 2, 3, 4, 5, 6.5])
        let bytes = array.encoded()
        XCTAssertEqual((bytes.count - 24) % 64, 0)
        XCTAssertEqual(try NPYArray(decoding: bytes), array)
        XCTAssertEqual(try NPYArray(decoding: bytes).floats(), [1, 2, 3, 4, 5, 6.5])
    }

    func testPNGRefusesSignedSamplesWithAClearReason() {
        let scan = TestScans.gradient(width: 4, height: 4, format: .int16)
        XCTAssertThrowsError(try ScanEncoder.encode(scan, as: .png, output: "s.png")) { error in
            XCTAssertEqual((error as? ScanImageError)?.input, "s.png")
            XCTAssertTrue("\(error)".contains("use .tiff or .npy"), "\(error)")
        }
    }

    func testRawLayoutParsesAndDecodesBigEndian() throws {
        let layout = try XCTUnwrap(RawLayout(parsing: "3x2x2:uint16be"))
        XCTAssertEqual(layout, RawLayout(width: 3, height: 2, channels: 2, format: .uint16, byteOrder: .big))
        let bytes: [UInt8] = (0..<12).flatMap { [UInt8(0), UInt8($0)] }
        let scan = try ScanDecoder().decode(bytes, source: "scan.raw", raw: layout)
        XCTAssertEqual(scan.channels, [.high, .low])
        XCTAssertEqual(scan.sample(x: 2, y: 1, channel: 1), 11)
        XCTAssertNil(RawLayout(parsing: "3x:uint16"))
        XCTAssertNil(RawLayout(parsing: "3x2:uint12"))
    }

    func testFormatDetection() {
        XCTAssertEqual(ImageFormat.detect(Array(repeating: 0, count: 128) + Array("DICM".utf8)), .dicom)
        XCTAssertEqual(ImageFormat.detect([0x49, 0x49, 0x2A, 0x00, 8, 0, 0, 0]), .tiff)
        XCTAssertEqual(ImageFormat.detect([0xFF, 0xD8, 0xFF, 0xE0]), .jpeg)
        XCTAssertNil(ImageFormat.detect(Array("hello world".utf8)))
    }
}
