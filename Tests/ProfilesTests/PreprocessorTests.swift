import CKernels
import Compute
import Foundation
import ScanImage
import XCTest

@testable import Profiles

/// Preprocessing gives exactly the values its formulas say, on scans small enough to check by hand.
final class PreprocessorTests: XCTestCase {
    func profile(_ steps: [PreprocessingStep], channels: [ScannerProfile.Channel]? = nil, travel: TravelAxis = .x,
                 flipH: Bool = false, flipV: Bool = false, pitch: PixelPitch = PixelPitch(alongTravelMM: 2, acrossTravelMM: 2)) -> ScannerProfile {
        let energy = ScannerProfile.Energy(peak: 6, unit: .MeV)
        return ScannerProfile(
            id: "t", vendor: "v", model: "m", description: "d", sources: ["s"], modality: .dr, view: .side, bitsStored: 16,
            channels: channels ?? [.init(role: .single, energy: energy, air: 1000, dark: 100)], pitch: pitch, sliceMM: nil,
            detectorPixels: 4, travelAxis: travel, flipHorizontal: flipH, flipVertical: flipV, preprocessing: steps)
    }

    func scan(_ values: [UInt16], width: Int, height: Int, channels: Int = 1) -> Scan {
        Scan(width: width, height: height, frames: 1, channels: Array(repeating: .single, count: channels), bitsStored: 16,
             pixels: PixelData(format: .uint16, bytes: values.withUnsafeBytes { Array($0) }), source: SourceMetadata(format: "test"))
    }

    func testAirNormaliseLogAndClampMatchTheFormula() throws {
        let p = profile([.airNormalise, .logAttenuation(minTransmission: 1e-3), .clamp(min: 0, max: 5)])
        // Values 1000 (air), 550 (t = 0.5), 145 (t = 0.05), 100 (dark: clamps at minTransmission), 1900 (t = 2).
        let raw: [UInt16] = [1000, 550, 145, 100, 1900, 1000, 1000, 1000]
        let s = try p.interpret(scan(raw, width: 4, height: 2), source: "t")
        let out = Preprocessor(profile: p).prepare(s).values
        let expected: [Float] = [0, -logf(0.5), -logf(0.05), 5, 0, 0, 0, 0]  // -ln(1e-3) = 6.9 clamps to 5
        for (a, e) in zip(out, expected) { XCTAssertEqual(a, e, accuracy: 2e-6 * max(1, e)) }
    }

    func testDualEnergyPagesBecomeChannelsWithTheirOwnCalibration() throws {
        let energy = ScannerProfile.Energy(peak: 6, unit: .MeV)
        let p = profile([.airNormalise], channels: [.init(role: .high, energy: energy, air: 1100, dark: 100),
                                                    .init(role: .low, energy: energy, air: 300, dark: 100)])
        let pages: [UInt16] = [600, 1100, 200, 300]  // page 1 (high), then page 2 (low)
        let s = try p.interpret(Scan(width: 2, height: 1, frames: 2, channels: [.single], bitsStored: 16,
                                     pixels: PixelData(format: .uint16, bytes: pages.withUnsafeBytes { Array($0) }),
                                     source: SourceMetadata(format: "tiff")), source: "de.tiff")
        XCTAssertEqual(s.channels, [.high, .low])
        XCTAssertEqual(Preprocessor(profile: p).prepare(s).values, [0.5, 1, 0.5, 1])
    }

    func testProfileMismatchNamesInputAndProfile() {
        let p = profile([])
        let rgb = Scan(width: 1, height: 1, frames: 1, channels: [.red, .green, .blue], bitsStored: 8,
                       pixels: PixelData(format: .uint8, bytes: [1, 2, 3]), source: SourceMetadata(format: "png"))
        XCTAssertThrowsError(try p.interpret(rgb, source: "photo.png")) { error in
            XCTAssertTrue("\(error)".hasPrefix("photo.png: does not fit scanner profile t: colour images"), "\(error)")
        }
    }

    func testFlipsAndTransposeGiveCanonicalOrientationAndMapBack() throws {
        // 3 wide, 2 high: values are their own received indices.
        let raw: [UInt16] = [0, 1, 2, 3, 4, 5]
        let flipped = profile([], flipH: true, flipV: true)
        XCTAssertEqual(Preprocessor(profile: flipped).prepare(try flipped.interpret(scan(raw, width: 3, height: 2), source: "t")).values,
                       [5, 4, 3, 2, 1, 0])
        let transposed = profile([], travel: .y)
        let prepared = Preprocessor(profile: transposed).prepare(try transposed.interpret(scan(raw, width: 3, height: 2), source: "t"))
        XCTAssertEqual([prepared.width, prepared.height], [2, 3])
        XCTAssertEqual(prepared.values, [0, 3, 1, 4, 2, 5])
        // Canonical pixel (x 1, y 2) holds received index 5 = received (x 2, y 1).
        XCTAssertEqual(prepared.geometry.toReceived(PixelRect(x: 1, y: 2, width: 1, height: 1)), PixelRect(x: 2, y: 1, width: 1, height: 1))
        let both = profile([], travel: .y, flipH: true)
        let g = Preprocessor(profile: both).prepare(try both.interpret(scan(raw, width: 3, height: 2), source: "t"))
        let value = g.values[2 * g.width + 1]  // canonical (1, 2)
        let r = g.geometry.toReceived(PixelRect(x: 1, y: 2, width: 1, height: 1))
        XCTAssertEqual(Double(value), Double(raw[Int(r.y) * 3 + Int(r.x)]))
    }

    func testResampleByHalfAveragesWithTentWeights() throws {
        // Pitch 2 mm to 4 mm halves both axes; a row 0,4,8,12,... of width 8 gives taps 1/8,3/8,3/8,1/8.
        let p = profile([.resample(pitchMM: 4)])
        let raw: [UInt16] = (0..<16).map { UInt16($0 % 8 * 4) }
        let prepared = Preprocessor(profile: p).prepare(try p.interpret(scan(raw, width: 8, height: 2), source: "t"))
        XCTAssertEqual([prepared.width, prepared.height], [4, 1])
        // Output x=1 centres on input 2.5: (1*4 + 3*8 + 3*12 + 1*16) / 8 = 10.
        XCTAssertEqual(prepared.values[1], 10, accuracy: 1e-5)
        // Output x=0 centres on 0.5; input -1 is outside, so weights 3,3,1 renormalise: (0*3 + 4*3 + 8) / 7.
        XCTAssertEqual(prepared.values[0], 20.0 / 7.0, accuracy: 1e-5)
        XCTAssertEqual(prepared.geometry.toReceived(PixelRect(x: 1, y: 0, width: 1, height: 1)),
                       PixelRect(x: 2, y: 0, width: 2, height: 2))
    }

    func testTilesCoverTheImageWithOverlapAndPadPastSmallImages() throws {
        let grid = TileGrid(imageWidth: 1000, imageHeight: 300, tileWidth: 320, tileHeight: 320, overlap: 32)
        XCTAssertEqual(grid.xs, [0, 288, 576, 680])
        XCTAssertEqual(grid.ys, [0])
        let p = profile([.tile(width: 16, height: 16, overlap: 4)])
        let prepared = Preprocessor(profile: p).prepare(try p.interpret(scan(Array(repeating: 7, count: 20 * 10), width: 20, height: 10), source: "t"))
        let (shape, values) = prepared.tensor()
        XCTAssertEqual(shape, [2, 1, 16, 16])
        XCTAssertEqual(values[0], 7)
        XCTAssertEqual(values[9 * 16 + 15], 7)   // last image row
        XCTAssertEqual(values[10 * 16], 0)       // padding below the image
    }

    func testVectorLogAgreesWithLibmAcrossTheRange() {
        var worst: Float = 0
        var x: Float = 1e-6
        while x < 1e6 {
            let v = SIMD16<Float>((0..<16).map { x * (1 + Float($0) * 0.013) })
            let got = VectorMath.log(v)
            for i in 0..<16 {
                let want = logf(v[i])
                worst = max(worst, abs(got[i] - want) / max(abs(want), 1e-3))
            }
            x *= 1.37
        }
        XCTAssertLessThan(worst, 1e-6)
    }

    func testParallelPreprocessingEqualsSerial() throws {
        let p = profile([.airNormalise, .logAttenuation(minTransmission: 1e-4), .resample(pitchMM: 3)], flipV: true)
        let raw: [UInt16] = (0..<(301 * 97)).map { UInt16(100 + ($0 * 7919) % 900) }
        let s = try p.interpret(scan(raw, width: 301, height: 97), source: "t")
        let serial = Preprocessor(profile: p, pool: WorkerPool(threads: 1)).prepare(s)
        let parallel = Preprocessor(profile: p, pool: WorkerPool(threads: 4)).prepare(s)
        XCTAssertEqual(serial.values, parallel.values)
    }

    /// A tile built straight for the model (channels picked, edge zero-filled) holds what the
    /// whole tiled tensor holds for that tile.
    func testTileInputEqualsTheTensorsTileWithChannelsPicked() throws {
        let channels: [ScannerProfile.Channel] = [
            .init(role: .high, energy: .init(peak: 6, unit: .MeV), air: 1000, dark: 100),
            .init(role: .low, energy: .init(peak: 4, unit: .MeV), air: 900, dark: 90),
        ]
        let p = profile([.airNormalise, .tile(width: 16, height: 8, overlap: 3)], channels: channels)
        let (w, h) = (37, 19)
        var rng = SystemRandomNumberGenerator()
        let raw = (0..<(2 * w * h)).map { _ in UInt16.random(in: 100...1200, using: &rng) }
        let prepared = Preprocessor(profile: p, pool: WorkerPool(threads: 2)).prepare(try p.interpret(scan(raw, width: w, height: h, channels: 2), source: "t"))
        let (shape, values) = prepared.tensor()
        let layout = prepared.tileLayout
        XCTAssertEqual([layout.count, 2, layout.height, layout.width], shape)
        let plane = layout.height * layout.width
        for t in 0..<layout.count {
            for order in [[0, 1], [1, 0], [1]] {
                var expected: [Float] = []
                for c in order {
                    let start: Int = (t * 2 + c) * plane
                    expected += values[start..<(start + plane)]
                }
                XCTAssertEqual(prepared.tileInput(t, channels: order), expected, "tile \(t), channels \(order)")
            }
        }
    }

    /// The shared path (orientation and element-wise steps fused per row, then each model's
    /// resample and tiles) gives what the step-by-step path gives.
    func testSharedPreparationThenFinishEqualsPrepareAtAModelsPitch() throws {
        let p = profile([.airNormalise, .logAttenuation(minTransmission: 1e-3), .clamp(min: 0, max: 5)], flipH: true, flipV: true)
        var rng = SystemRandomNumberGenerator()
        let (w, h) = (37, 23)
        let raw = (0..<(w * h)).map { _ in UInt16.random(in: 100...1200, using: &rng) }
        let s = try p.interpret(scan(raw, width: w, height: h), source: "t")
        let pre = Preprocessor(profile: p, pool: WorkerPool(threads: 2))
        for pitch in [2.0, 5.0, 9.5] {
            let tiling = Preprocessor.Tiling.tiles(width: 8, height: 8, overlap: 2)
            let direct = pre.prepare(s, pitchMM: pitch, tiling: tiling)
            let shared = pre.finish(pre.prepareShared(s), pitch: p.pitch, pitchMM: pitch, tiling: tiling)
            XCTAssertEqual(direct.values, shared.values, "pitch \(pitch)")
            XCTAssertEqual(direct.geometry, shared.geometry)
            XCTAssertEqual(direct.tiles, shared.tiles)
        }
        // Fused per row or applied as a separate pass: the same numbers.
        let unfused = pre.prepare(s)
        let fused = pre.prepareShared(s)
        XCTAssertEqual(unfused.values, fused.values)
    }

    /// Shrinking averages every input pixel: a constant stays constant, a ramp keeps its mean.
    func testResamplingKeepsConstantsAndMeans() {
        let (w, h) = (101, 13)
        let constant = [Float](repeating: 3.25, count: w * h)
        for (ow, oh) in [(10, 13), (40, 5), (101, 13), (7, 2), (150, 20)] {
            let out = Resampler.resample(constant, planes: 1, width: w, height: h, outWidth: ow, outHeight: oh, pool: WorkerPool(threads: 2))
            XCTAssertEqual(out.count, ow * oh)
            for v in out { XCTAssertEqual(v, 3.25, accuracy: 1e-5) }
        }
        let ramp = (0..<(w * h)).map { Float($0 % w) }
        let small = Resampler.resample(ramp, planes: 1, width: w, height: h, outWidth: 10, outHeight: 13, pool: WorkerPool(threads: 1))
        XCTAssertEqual(small.reduce(0, +) / Float(small.count), ramp.reduce(0, +) / Float(ramp.count), accuracy: 0.6)
        // Every output is its taps' weighted sum, right edge included (where the window is shifted).
        let taps = Resampler.taps(inputLength: w, outputLength: 10)
        for (x, t) in taps.enumerated() {
            let expected = t.weights.enumerated().reduce(Float(0)) { $0 + $1.element * Float(t.start + $1.offset) }
            XCTAssertEqual(small[x], expected, accuracy: 1e-4, "output \(x)")
        }
    }

    /// The C log attenuation kernel and Swift's SIMD log give the same bits, edge cases included.
    func testNegativeLogKernelMatchesVectorMathBitForBit() {
        var rng = SystemRandomNumberGenerator()
        var values: [Float] = [0, -1, 1e-3, 1e-4, 0.5, 0.7071067, 0.70710677, 1, 2, 1e-38, 1e-45, .greatestFiniteMagnitude, .infinity]
        values += (0..<10_000).map { _ in Float.random(in: 0...2, using: &rng) }
        values += (0..<1_000).map { _ in Float(bitPattern: UInt32.random(in: 0..<0x7F80_0000, using: &rng)) }
        for minT: Float in [1e-3, 1e-6] {
            var c = values
            vigil_negative_log(&c, c.count, minT)
            for (i, x) in values.enumerated() {
                let swift = -VectorMath.log(SIMD16(repeating: max(x, minT)))[0]
                XCTAssertEqual(c[i].bitPattern, swift.bitPattern, "x = \(x), minT = \(minT)")
            }
        }
    }
}
