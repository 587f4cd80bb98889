import Compute
import ScanImage

/// A scan prepared for a model: float planes in canonical orientation, after the profile's steps.
public struct PreparedScan: Sendable {
    /// CT slices, or 1.
    public var frames: Int
    public var channels: Int
    public var width: Int
    public var height: Int
    /// `[frame][channel][y][x]`.
    public var values: [Float]
    public var geometry: ScanGeometry
    /// Present when the profile ends with a tile step.
    public var tiles: TileGrid?

    /// The tensor a model sees: tiles stacked as `[frames * tiles, C, tileH, tileW]` (padded with 0
    /// past the image edge), or the whole image as `[frames, C, H, W]` without tiling.
    public func tensor() -> (shape: [Int], values: [Float]) {
        guard let tiles else { return ([frames, channels, height, width], values) }
        let tw = tiles.tileWidth, th = tiles.tileHeight
        let origins = tiles.origins
        var out = [Float](repeating: 0, count: frames * origins.count * channels * th * tw)
        for f in 0..<frames {
            for (t, o) in origins.enumerated() {
                for c in 0..<channels {
                    let plane = (f * channels + c) * width * height
                    let dst = ((f * origins.count + t) * channels + c) * th * tw
                    for y in 0..<min(th, height - o.y) {
                        let src = plane + (o.y + y) * width + o.x
                        let n = min(tw, width - o.x)
                        out.withUnsafeMutableBufferPointer { d in
                            values.withUnsafeBufferPointer { s in
                                (d.baseAddress! + dst + y * tw).update(from: s.baseAddress! + src, count: n)
                            }
                        }
                    }
                }
            }
        }
        return ([frames * origins.count, channels, th, tw], out)
    }
}

/// Runs a profile's preprocessing on the shared pool: orientation, then each step in order,
/// consecutive element-wise steps fused into one pass over the data.
public struct Preprocessor: Sendable {
    public let profile: ScannerProfile
    public let pool: WorkerPool

    public init(profile: ScannerProfile, pool: WorkerPool = .shared) {
        self.profile = profile
        self.pool = pool
    }

    /// Prepares a scan that `profile.interpret` has already given its channels and pitch.
    public func prepare(_ scan: Scan) -> PreparedScan {
        let transposed = profile.travelAxis == .y
        var geometry = ScanGeometry(receivedWidth: scan.width, receivedHeight: scan.height,
                                    flipHorizontal: profile.flipHorizontal, flipVertical: profile.flipVertical,
                                    transposed: transposed, scaleX: 1, scaleY: 1)
        let planes = scan.frames * scan.channels.count
        var width = geometry.canonicalWidth
        var height = geometry.canonicalHeight
        var values = orient(scan, geometry: geometry)
        var pending: [ElementwiseOp] = []
        var tiles: TileGrid?

        func flush() {
            guard !pending.isEmpty else { return }
            apply(pending, to: &values, planes: planes, channels: scan.channels.count, planeSize: width * height)
            pending.removeAll()
        }
        for step in profile.preprocessing {
            switch step {
            case .airNormalise:
                pending.append(.airNormalise(profile.channels.map { (Float($0.air ?? 1), Float($0.dark ?? 0)) }))
            case .logAttenuation(let minT):
                pending.append(.negativeLog(minTransmission: minT))
            case .rescale(let scale, let offset):
                pending.append(.affine(scale: scale, offset: offset))
            case .clamp(let lo, let hi):
                pending.append(.clamp(lo, hi))
            case .resample(let target):
                flush()
                let pitch = scan.pitch ?? profile.pitch
                let outWidth = max(1, Int((Double(width) * pitch.alongTravelMM / target).rounded()))
                let outHeight = max(1, Int((Double(height) * pitch.acrossTravelMM / target).rounded()))
                if outWidth != width || outHeight != height {
                    values = Resampler.resample(values, planes: planes, width: width, height: height,
                                                outWidth: outWidth, outHeight: outHeight, pool: pool)
                    geometry.scaleX = Double(outWidth) / Double(width)
                    geometry.scaleY = Double(outHeight) / Double(height)
                    (width, height) = (outWidth, outHeight)
                }
            case .tile(let tw, let th, let overlap):
                tiles = TileGrid(imageWidth: width, imageHeight: height, tileWidth: tw, tileHeight: th, overlap: overlap)
            }
        }
        flush()
        return PreparedScan(frames: scan.frames, channels: scan.channels.count, width: width, height: height,
                            values: values, geometry: geometry, tiles: tiles)
    }

    /// Converts samples to Float and applies flips and the transpose into canonical orientation.
    private func orient(_ scan: Scan, geometry g: ScanGeometry) -> [Float] {
        let planes = scan.frames * scan.channels.count
        let (w, h) = (scan.width, scan.height)
        let (cw, ch) = (g.canonicalWidth, g.canonicalHeight)
        var out = [Float](repeating: 0, count: planes * w * h)
        for p in 0..<planes {
            let plane = scan.pixels.floatPlane(index: p, planeSize: w * h)
            if !g.flipHorizontal && !g.flipVertical && !g.transposed {
                out.replaceSubrange((p * w * h)..<((p + 1) * w * h), with: plane)
                continue
            }
            plane.withUnsafeBufferPointer { src in
                out.withUnsafeMutableBufferPointer { dst in
                    let dst = UnsafeSendableBuffer(dst)
                    pool.forEachRange(ch, minimumChunk: 64) { rows in
                        for y in rows {
                            let d = dst.base + p * w * h + y * cw
                            for x in 0..<cw {
                                // Canonical (x, y) is flipped-received (row y, col x), or (row x, col y) transposed.
                                var (sx, sy) = g.transposed ? (y, x) : (x, y)
                                if g.flipHorizontal { sx = w - 1 - sx }
                                if g.flipVertical { sy = h - 1 - sy }
                                d[x] = src[sy * w + sx]
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    private func apply(_ ops: [ElementwiseOp], to values: inout [Float], planes: Int, channels: Int, planeSize: Int) {
        values.withUnsafeMutableBufferPointer { buffer in
            let buffer = UnsafeSendableBuffer(buffer)
            for p in 0..<planes {
                let channel = p % channels
                let base = buffer.base + p * planeSize
                // Blocks of 4096 floats stay in L1 while every fused op passes over them.
                let blocks = (planeSize + 4095) / 4096
                pool.forEachRange(blocks, minimumChunk: 16) { range in
                    for block in range {
                        let start = block * 4096
                        let count = min(4096, planeSize - start)
                        for op in ops { op.apply(base + start, count: count, channel: channel) }
                    }
                }
            }
        }
    }
}
