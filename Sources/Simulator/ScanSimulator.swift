import Compute
import Foundation
import Profiles
import ScanImage

/// Turns a scene into the raw scan a scanner of a given profile sends: Beer–Lambert
/// transmission over each channel's spectrum, detector blur, uneven travel speed, per-row gain,
/// photon (Poisson) noise, dark offset, quantisation to the profile's bits, and its orientation.
public struct ScanSimulator: Sendable {
    public let profile: ScannerProfile
    public let table: MaterialTable
    public let spectra: [Spectrum]
    public let pool: WorkerPool

    /// Photons reaching one detector pixel with nothing in the beam: linac portals are photon-rich,
    /// tube scanners less so (their noise is visible in thick cargo).
    public var photonsInAir: Double

    public init(profile: ScannerProfile, table: MaterialTable, pool: WorkerPool = .shared) throws(SimulatorError) {
        self.profile = profile
        self.table = table
        self.pool = pool
        let meV = profile.channels.first?.energy.unit == .MeV
        var spectra: [Spectrum] = []
        for (i, channel) in profile.channels.enumerated() {
            // A high channel of the same peak as its low partner is the rear layer of a sandwich detector.
            let rear = channel.role == .high && profile.channels.count == 2 && profile.channels[1].energy.peak == channel.energy.peak
            spectra.append(try Spectrum.channel(peak: channel.energy.peak, unitIsMeV: channel.energy.unit == .MeV,
                                                rearLayer: rear && i == 0, table: table))
        }
        self.spectra = spectra
        photonsInAir = meV ? 1e5 : 2e4
    }

    /// The same simulator with other channel spectra (tests use monoenergetic beams).
    init(copying other: ScanSimulator, spectra: [Spectrum]) {
        profile = other.profile
        table = other.table
        pool = other.pool
        photonsInAir = other.photonsInAir
        self.spectra = spectra
    }

    /// Transmission I/I₀ of every pixel for one channel's spectrum, noise-free.
    public func transmission(_ scene: Scene, channel: Int) throws(SimulatorError) -> [Float] {
        let materials = scene.layers.keys.sorted()
        var mu: [[Float]] = []
        for m in materials { mu.append(try table.coefficients(m).map { Float($0) }) }
        let bins = spectra[channel].weights.enumerated().filter { $0.element > 1e-7 }
        let n = scene.width * scene.height
        // All layers in one buffer, material-major, so the loop reads them through one pointer.
        var densities = [Float](repeating: 0, count: materials.count * n)
        for (m, name) in materials.enumerated() { densities.replaceSubrange((m * n)..<((m + 1) * n), with: scene.layers[name]!) }
        let coefficients = bins.map { b in materials.indices.map { mu[$0][b.offset] } }
        let weights = bins.map { Float($0.element) }
        var out = [Float](repeating: 0, count: n)
        densities.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                let dst = UnsafeSendableBuffer(dst)
                let src = UnsafeSendableBuffer(UnsafeMutableBufferPointer(mutating: src))
                pool.forEachRange(n / 16, minimumChunk: 256) { blocks in
                    for block in blocks {
                        let start = block * 16
                        // Air (nothing in the beam) transmits everything; most of a scan is air.
                        var any = false
                        for m in 0..<materials.count where !any {
                            any = UnsafeRawPointer(src.base + m * n + start).loadUnaligned(as: SIMD16<Float>.self) != .zero
                        }
                        if !any {
                            UnsafeMutableRawPointer(dst.base + start).storeBytes(of: SIMD16<Float>(repeating: 1), as: SIMD16<Float>.self)
                            continue
                        }
                        var acc = SIMD16<Float>.zero
                        for (k, c) in coefficients.enumerated() {
                            var lineIntegral = SIMD16<Float>.zero
                            for m in 0..<c.count {
                                lineIntegral += c[m] * UnsafeRawPointer(src.base + m * n + start).loadUnaligned(as: SIMD16<Float>.self)
                            }
                            acc += weights[k] * VectorMath.exp(-lineIntegral)
                        }
                        UnsafeMutableRawPointer(dst.base + start).storeBytes(of: acc, as: SIMD16<Float>.self)
                    }
                }
                // The last pixels when n is not a multiple of 16.
                for i in (n / 16 * 16)..<n {
                    var t: Float = 0
                    for (k, c) in coefficients.enumerated() {
                        var lineIntegral: Float = 0
                        for m in 0..<c.count { lineIntegral += c[m] * src.base[m * n + i] }
                        t += weights[k] * Foundation.exp(-lineIntegral)
                    }
                    dst.base[i] = t
                }
            }
        }
        return out
    }

    /// The scan as the scanner sends it, and where each scene pixel column landed (for labels).
    public func simulate(_ scene: Scene, seed: UInt64) throws(SimulatorError) -> (scan: Scan, travel: Travel) {
        var random = SeededRandom(seed: seed)
        let (w, h) = (scene.width, scene.height)
        // Uneven travel speed: output column k images object position p[k] (a smooth wobble).
        let amplitude = random.uniform(0.02, 0.08), phase = random.uniform(0, 2 * Double.pi), waves = random.uniform(0.5, 2)
        var position = [Double](repeating: 0, count: w)
        for k in 1..<max(w, 1) {
            position[k] = position[k - 1] + 1 + amplitude * Foundation.sin(2 * Double.pi * waves * Double(k) / Double(w) + phase)
        }
        let scale = Double(w - 1) / max(position[w - 1], 1)
        for k in 0..<w { position[k] *= scale }
        let gains = (0..<h).map { _ in 1 + 0.004 * random.gaussian() }
        let maxValue = Float((1 << profile.bitsStored) - 1)
        var planes: [UInt16] = []
        planes.reserveCapacity(profile.channels.count * w * h)
        for (c, channel) in profile.channels.enumerated() {
            let t = try transmission(scene, channel: c)
            let blurred = blur(stretch(t, width: w, height: h, position: position), width: w, height: h)
            let air = Float(channel.air ?? 60000), dark = Float(channel.dark ?? 0)
            var plane = [UInt16](repeating: 0, count: w * h)
            let n0 = photonsInAir
            let rowSeed = random.next()
            plane.withUnsafeMutableBufferPointer { dst in
                let dst = UnsafeSendableBuffer(dst)
                pool.forEachRange(h, minimumChunk: 16) { rows in
                    for r in rows {
                        // One generator per row keeps results independent of the thread count.
                        var rng = SeededRandom(seed: rowSeed &+ UInt64(r) &* 0x9E37_79B9)
                        for x in 0..<w {
                            let photons = rng.poisson(n0 * Double(blurred[r * w + x]))
                            let signal = dark + (air - dark) * Float(gains[r]) * Float(photons / n0) + Float(2 * rng.gaussian())
                            dst.base[r * w + x] = UInt16(min(max(signal + 0.5, 0), maxValue))  // round half up
                        }
                    }
                }
            }
            planes += plane
        }
        var scan = Scan(width: w, height: h, frames: 1, channels: profile.channels.map(\.role), bitsStored: profile.bitsStored,
                        pixels: PixelData(format: .uint16, bytes: planes.withUnsafeBytes { Array($0) }),
                        modality: profile.modality, view: profile.view, pitch: profile.pitch, source: SourceMetadata(format: "raw"))
        scan = orient(scan)
        return (scan, Travel(position: position, flipped: profile.flipHorizontal))
    }

    /// Applies the profile's flips: Vigil undoes them on receipt, so the file carries them.
    func orient(_ scan: Scan) -> Scan {
        guard profile.flipHorizontal || profile.flipVertical else { return scan }
        var s = scan
        let (w, h) = (scan.width, scan.height)
        s.pixels.bytes.withUnsafeMutableBytes { raw in
            let p = raw.bindMemory(to: UInt16.self)
            for plane in 0..<scan.channels.count {
                let base = plane * w * h
                let copy = Array(p[base..<(base + w * h)])
                for r in 0..<h {
                    for x in 0..<w {
                        let sr = profile.flipVertical ? h - 1 - r : r, sx = profile.flipHorizontal ? w - 1 - x : x
                        p[base + r * w + x] = copy[sr * w + sx]
                    }
                }
            }
        }
        return s
    }

    private func stretch(_ t: [Float], width w: Int, height h: Int, position: [Double]) -> [Float] {
        var out = [Float](repeating: 1, count: w * h)
        for k in 0..<w {
            let p = position[k], x0 = min(w - 1, Int(p)), x1 = min(w - 1, x0 + 1)
            let f = Float(p - Double(x0))
            for r in 0..<h { out[r * w + k] = t[r * w + x0] * (1 - f) + t[r * w + x1] * f }
        }
        return out
    }

    /// Detector cross-talk: a [1 2 1]/4 kernel along both axes.
    private func blur(_ t: [Float], width w: Int, height h: Int) -> [Float] {
        var a = t
        for r in 0..<h {
            for x in 1..<max(1, w - 1) { a[r * w + x] = 0.25 * t[r * w + x - 1] + 0.5 * t[r * w + x] + 0.25 * t[r * w + x + 1] }
        }
        var b = a
        for r in 1..<max(1, h - 1) {
            for x in 0..<w { b[r * w + x] = 0.25 * a[(r - 1) * w + x] + 0.5 * a[r * w + x] + 0.25 * a[(r + 1) * w + x] }
        }
        return b
    }
}

/// How a simulated scan's columns map to the scene along travel (its true, uneven speed): output
/// column k imaged scene column `position[k]`, before the profile's horizontal flip.
public struct Travel: Sendable {
    public let position: [Double]
    public let flipped: Bool

    /// The received column where scene column `x` landed.
    public func callAsFunction(_ x: Int) -> Int {
        let k = position.firstIndex { $0 >= Double(x) } ?? (position.count - 1)
        return flipped ? position.count - 1 - k : k
    }

    /// The scene column (fractional) imaged at received column `column`.
    public func sceneColumn(ofReceived column: Int) -> Double {
        position[flipped ? position.count - 1 - column : column]
    }
}
