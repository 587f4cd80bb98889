import Compute
import Profiles
import ScanImage

/// One scan in the physical space of a comparison: attenuation (−ln I/I₀ after the profile's air
/// calibration) of its high-energy (or only) channel, canonical orientation, square pixels; with the
/// geometry that maps its pixels back to the scan as received.
public struct AttenuationImage: Sendable {
    public var width: Int
    public var height: Int
    /// Row-major, `width × height`: the high-energy (or only) channel.
    public var values: [Float]
    /// The low-energy channel of a dual-energy scan, same layout; nil for a single-energy scan.
    public var low: [Float]?
    /// Pixel pitch on both axes, mm.
    public var pitchMM: Double
    public var geometry: ScanGeometry
    public var modality: Modality
    public var view: ScanView

    /// The scan at the coarser of its two pitches (no detail is invented on either axis).
    public init(_ scan: Scan, profile: ScannerProfile, pool: WorkerPool = .shared) {
        let pitch = scan.pitch ?? profile.pitch
        let pitchMM = max(pitch.alongTravelMM, pitch.acrossTravelMM)
        let pre = Preprocessor(profile: profile, pool: pool)
        let prepared = pre.finish(pre.prepareShared(scan), pitch: pitch, pitchMM: pitchMM, tiling: .none)
        let plane = prepared.width * prepared.height
        func channel(_ c: Int) -> [Float] { Array(prepared.values[(c * plane)..<((c + 1) * plane)]) }
        self.init(width: prepared.width, height: prepared.height, values: channel(scan.channels.firstIndex(of: .high) ?? 0),
                  low: scan.channels.firstIndex(of: .low).map(channel),
                  pitchMM: pitchMM, geometry: prepared.geometry, modality: scan.modality, view: scan.view)
    }

    public init(width: Int, height: Int, values: [Float], low: [Float]? = nil, pitchMM: Double, geometry: ScanGeometry,
                modality: Modality, view: ScanView) {
        precondition(values.count == width * height && (low?.count ?? values.count) == values.count,
                     "an attenuation image holds width × height values per channel")
        (self.width, self.height, self.values, self.low, self.pitchMM) = (width, height, values, low, pitchMM)
        (self.geometry, self.modality, self.view) = (geometry, modality, view)
    }

    /// Length along travel, mm.
    public var lengthMM: Double { Double(width) * pitchMM }

    /// The same image at a coarser pitch (area-weighted), its geometry following.
    public func resampled(toPitchMM target: Double, pool: WorkerPool = .shared) -> AttenuationImage {
        let outWidth = max(1, Int((Double(width) * pitchMM / target).rounded()))
        let outHeight = max(1, Int((Double(height) * pitchMM / target).rounded()))
        guard outWidth != width || outHeight != height else { return self }
        var out = self
        out.values = Resampler.resample(values, planes: 1, width: width, height: height, outWidth: outWidth, outHeight: outHeight, pool: pool)
        out.low = low.map { Resampler.resample($0, planes: 1, width: width, height: height, outWidth: outWidth, outHeight: outHeight, pool: pool) }
        out.geometry.scaleX *= Double(outWidth) / Double(width)
        out.geometry.scaleY *= Double(outHeight) / Double(height)
        (out.width, out.height, out.pitchMM) = (outWidth, outHeight, target)
        return out
    }

    @inline(__always) func at(_ x: Int, _ y: Int, plane: [Float]? = nil) -> Float {
        x >= 0 && x < width && y >= 0 && y < height ? (plane ?? values)[y * width + x] : 0
    }

    /// Bilinear sample at pixel-index coordinates of the high channel (or of `plane`, laid out the
    /// same); outside the image is air (0).
    @inline(__always) func sample(_ x: Double, _ y: Double, plane: [Float]? = nil) -> Float {
        let x0 = Int(x.rounded(.down)), y0 = Int(y.rounded(.down))
        let fx = Float(x - Double(x0)), fy = Float(y - Double(y0))
        let top = at(x0, y0, plane: plane) * (1 - fx) + at(x0 + 1, y0, plane: plane) * fx
        let bottom = at(x0, y0 + 1, plane: plane) * (1 - fx) + at(x0 + 1, y0 + 1, plane: plane) * fx
        return top * (1 - fy) + bottom * fy
    }

    /// Sum of each column (the travel profile).
    var columnProfile: [Double] {
        var out = [Double](repeating: 0, count: width)
        for y in 0..<height { for x in 0..<width { out[x] += Double(values[y * width + x]) } }
        return out
    }

    /// Sum of each row (the height profile).
    var rowProfile: [Double] {
        (0..<height).map { y in (0..<width).reduce(0.0) { $0 + Double(values[y * width + $1]) } }
    }
}

extension AttenuationImage {
    /// What the pairing store keeps: the image and its geometry, so a later scan of the same vehicle
    /// is compared without the earlier one being decoded again. A header line of `key=value;...`,
    /// then the high channel as little-endian Float16 (an error under 0.05 %, far below the noise);
    /// the low channel is left out: only the later scan's channels are used, to map its energy.
    public func encoded() -> [UInt8] {
        let g = geometry
        let header: [String: String] = [
            "width": "\(width)", "height": "\(height)", "pitchMM": "\(pitchMM)",
            "modality": modality.rawValue, "view": view.rawValue,
            "receivedWidth": "\(g.receivedWidth)", "receivedHeight": "\(g.receivedHeight)", "flipHorizontal": "\(g.flipHorizontal)",
            "flipVertical": "\(g.flipVertical)", "transposed": "\(g.transposed)", "scaleX": "\(g.scaleX)", "scaleY": "\(g.scaleY)",
        ]
        var out = Array(header.keys.sorted().map { "\($0)=\(header[$0]!)" }.joined(separator: ";").utf8) + [10]
        values.map(Float16.init).withUnsafeBytes { out += $0 }  // little-endian on every platform Vigil builds for
        return out
    }

    /// Reads `encoded()`; nil when the bytes are not one (a truncated or foreign file).
    public init?(encoded bytes: [UInt8]) {
        guard let newline = bytes.firstIndex(of: 10), let text = String(bytes: bytes[..<newline], encoding: .utf8) else { return nil }
        var h: [String: String] = [:]
        for field in text.split(separator: ";") {
            let parts = field.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { return nil }
            h[parts[0]] = parts[1]
        }
        guard let width = h["width"].flatMap(Int.init), let height = h["height"].flatMap(Int.init), width > 0, height > 0,
              let pitchMM = h["pitchMM"].flatMap(Double.init),
              let modality = h["modality"].flatMap(Modality.init), let view = h["view"].flatMap(ScanView.init),
              let rw = h["receivedWidth"].flatMap(Int.init), let rh = h["receivedHeight"].flatMap(Int.init),
              let fh = h["flipHorizontal"].flatMap(Bool.init), let fv = h["flipVertical"].flatMap(Bool.init),
              let tr = h["transposed"].flatMap(Bool.init), let sx = h["scaleX"].flatMap(Double.init), let sy = h["scaleY"].flatMap(Double.init)
        else { return nil }
        let plane = width * height, start = newline + 1
        guard bytes.count - start == plane * 2 else { return nil }
        let values = bytes.withUnsafeBytes { raw in
            (0..<plane).map { Float(raw.loadUnaligned(fromByteOffset: start + $0 * 2, as: Float16.self)) }
        }
        self.init(width: width, height: height, values: values, pitchMM: pitchMM,
                  geometry: ScanGeometry(receivedWidth: rw, receivedHeight: rh, flipHorizontal: fh, flipVertical: fv, transposed: tr,
                                         scaleX: sx, scaleY: sy),
                  modality: modality, view: view)
    }
}
