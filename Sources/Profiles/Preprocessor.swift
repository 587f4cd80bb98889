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

    public init(frames: Int, channels: Int, width: Int, height: Int, values: [Float], geometry: ScanGeometry, tiles: TileGrid?) {
        precondition(values.count == frames * channels * width * height, "values do not match the geometry")
        (self.frames, self.channels, self.width, self.height, self.values, self.geometry, self.tiles) =
            (frames, channels, width, height, values, geometry, tiles)
    }

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

    /// Tiles of one frame (1 when untiled) and their size.
    public var tileLayout: (count: Int, height: Int, width: Int) {
        guard let tiles else { return (1, height, width) }
        return (tiles.origins.count, tiles.tileHeight, tiles.tileWidth)
    }

    /// Tile `index` of frame `frame` as a model input [order.count][tile height][tile width], channel
    /// i being this scan's channel order[i]: one copy from the prepared planes; the part of the tile
    /// past the image's edge is zero. The same values as `tensor()`'s tile, channels picked.
    public func tileInput(_ index: Int, frame: Int = 0, channels order: [Int]) -> [Float] {
        let (_, th, tw) = tileLayout
        let origin = tiles.map { $0.origins[index] } ?? (x: 0, y: 0)
        let rows = min(th, height - origin.y), columns = min(tw, width - origin.x)
        return [Float](unsafeUninitializedCapacity: order.count * th * tw) { out, initialized in
            values.withUnsafeBufferPointer { src in
                for (i, c) in order.enumerated() {
                    let plane = src.baseAddress! + (frame * channels + c) * width * height
                    let dst = out.baseAddress! + i * th * tw
                    for y in 0..<th {
                        let line = dst + y * tw
                        guard y < rows else { line.initialize(repeating: 0, count: tw); continue }
                        line.initialize(from: plane + (origin.y + y) * width + origin.x, count: columns)
                        (line + columns).initialize(repeating: 0, count: tw - columns)
                    }
                }
            }
            initialized = order.count * th * tw
        }
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

    /// How the prepared image is cut for a model.
    public enum Tiling: Sendable, Equatable {
        /// As the profile's tile step says (untiled when it has none).
        case profile
        /// One tensor of the whole image.
        case none
        /// A model's own tile size.
        case tiles(width: Int, height: Int, overlap: Int)
    }

    /// The profile's steps with a model's own pitch and tiling in place of the profile's.
    public func steps(pitchMM: Double?, tiling: Tiling, clamp: Bool = true) -> [PreprocessingStep] {
        var steps = profile.preprocessing.filter {
            if case .clamp = $0 { return clamp }
            if case .tile = $0 { return tiling == .profile }
            if case .resample = $0 { return pitchMM == nil }
            return true
        }
        if let pitchMM {
            // Resampling goes after the element-wise steps (they work on received pixels) and before tiling.
            let at = steps.firstIndex { if case .tile = $0 { return true } else { return false } } ?? steps.endIndex
            steps.insert(.resample(pitchMM: pitchMM), at: at)
        }
        if case .tiles(let w, let h, let overlap) = tiling { steps.append(.tile(width: w, height: h, overlap: overlap)) }
        return steps
    }

    /// Prepares a scan that `profile.interpret` has already given its channels and pitch; a model
    /// may ask for its own pitch and tiles in place of the profile's.
    /// `clamp: false` leaves out the profile's clamp steps (a CT projection sums unclamped voxels).
    public func prepare(_ scan: Scan, pitchMM: Double? = nil, tiling: Tiling = .profile, clamp: Bool = true) -> PreparedScan {
        if let pitchMM { return finish(prepareShared(scan, clamp: clamp), pitch: scan.pitch ?? profile.pitch, pitchMM: pitchMM, tiling: tiling) }
        var prepared = start(scan)
        var pending: [ElementwiseOp] = []
        for step in steps(pitchMM: nil, tiling: tiling, clamp: clamp) {
            if let op = elementwise(step) { pending.append(op); continue }
            apply(pending, to: &prepared)
            pending.removeAll()
            switch step {
            case .resample(let target): resample(&prepared, pitch: scan.pitch ?? profile.pitch, to: target)
            case .tile(let tw, let th, let overlap):
                prepared.tiles = TileGrid(imageWidth: prepared.width, imageHeight: prepared.height, tileWidth: tw, tileHeight: th, overlap: overlap)
            default: break
            }
        }
        apply(pending, to: &prepared)
        return prepared
    }

    /// What every model reading this profile shares: the scan oriented, with the profile's
    /// element-wise steps applied at the received resolution (no resampling, no tiles). Two models
    /// of one profile then pay for the full-resolution passes once (see `finish`).
    public func prepareShared(_ scan: Scan, clamp: Bool = true) -> PreparedScan {
        start(scan, ops: steps(pitchMM: nil, tiling: .none, clamp: clamp).compactMap(elementwise))
    }

    /// A shared preparation at a model's pitch and tiles: equal to `prepare(scan, pitchMM:tiling:clamp:)`.
    public func finish(_ shared: PreparedScan, pitch: PixelPitch, pitchMM: Double, tiling: Tiling) -> PreparedScan {
        var prepared = shared
        prepared.tiles = nil
        resample(&prepared, pitch: pitch, to: pitchMM)
        switch tiling {
        case .none: break
        case .tiles(let w, let h, let overlap):
            prepared.tiles = TileGrid(imageWidth: prepared.width, imageHeight: prepared.height, tileWidth: w, tileHeight: h, overlap: overlap)
        case .profile:
            for case .tile(let w, let h, let overlap) in profile.preprocessing {
                prepared.tiles = TileGrid(imageWidth: prepared.width, imageHeight: prepared.height, tileWidth: w, tileHeight: h, overlap: overlap)
            }
        }
        return prepared
    }

    /// The scan in canonical orientation as floats, with `ops` applied to each row as it is written.
    private func start(_ scan: Scan, ops: [ElementwiseOp] = []) -> PreparedScan {
        let geometry = ScanGeometry(receivedWidth: scan.width, receivedHeight: scan.height,
                                    flipHorizontal: profile.flipHorizontal, flipVertical: profile.flipVertical,
                                    transposed: profile.travelAxis == .y, scaleX: 1, scaleY: 1)
        return PreparedScan(frames: scan.frames, channels: scan.channels.count, width: geometry.canonicalWidth,
                            height: geometry.canonicalHeight, values: orient(scan, geometry: geometry, ops: ops), geometry: geometry, tiles: nil)
    }

    private func elementwise(_ step: PreprocessingStep) -> ElementwiseOp? {
        switch step {
        case .airNormalise: return .airNormalise(profile.channels.map { (Float($0.air ?? 1), Float($0.dark ?? 0)) })
        case .logAttenuation(let minT): return .negativeLog(minTransmission: minT)
        case .rescale(let scale, let offset): return .affine(scale: scale, offset: offset)
        case .clamp(let lo, let hi): return .clamp(lo, hi)
        case .resample, .tile: return nil
        }
    }

    private func resample(_ p: inout PreparedScan, pitch: PixelPitch, to target: Double) {
        let outWidth = max(1, Int((Double(p.width) * pitch.alongTravelMM / target).rounded()))
        let outHeight = max(1, Int((Double(p.height) * pitch.acrossTravelMM / target).rounded()))
        guard outWidth != p.width || outHeight != p.height else { return }
        p.values = Resampler.resample(p.values, planes: p.frames * p.channels, width: p.width, height: p.height,
                                      outWidth: outWidth, outHeight: outHeight, pool: pool)
        p.geometry.scaleX *= Double(outWidth) / Double(p.width)
        p.geometry.scaleY *= Double(outHeight) / Double(p.height)
        (p.width, p.height) = (outWidth, outHeight)
    }

    /// Converts samples to Float and applies flips and the transpose into canonical orientation,
    /// in one pass from the decoded buffer (no intermediate float copy of the scan).
    /// Element-wise `ops` run on each row right after it is written, while it is still in cache.
    private func orient(_ scan: Scan, geometry g: ScanGeometry, ops: [ElementwiseOp]) -> [Float] {
        let planes = scan.frames * scan.channels.count
        let count = planes * scan.width * scan.height
        return [Float](unsafeUninitializedCapacity: count) { out, initialized in
            let dst = UnsafeSendableBuffer(out)
            scan.pixels.bytes.withUnsafeBytes { raw in
                switch scan.pixels.format {
                case .uint8: orient(raw.bindMemory(to: UInt8.self), dst, planes, scan, g, ops)
                case .int8: orient(raw.bindMemory(to: Int8.self), dst, planes, scan, g, ops)
                case .uint16: orient(raw.bindMemory(to: UInt16.self), dst, planes, scan, g, ops)
                case .int16: orient(raw.bindMemory(to: Int16.self), dst, planes, scan, g, ops)
                case .uint32: orient(raw.bindMemory(to: UInt32.self), dst, planes, scan, g, ops)
                case .int32: orient(raw.bindMemory(to: Int32.self), dst, planes, scan, g, ops)
                case .float32: orient(raw.bindMemory(to: Float.self), dst, planes, scan, g, ops)
                }
            }
            initialized = count
        }
    }

    // Specialised per sample type through `SampleValue`: a conversion closure here was called once
    // per sample (the pool's closure keeps it from being inlined), a tenth of a cargo scan's analysis.
    private func orient<T: SampleValue>(_ src: UnsafeBufferPointer<T>, _ dst: UnsafeSendableBuffer<Float>, _ planes: Int, _ scan: Scan,
                                        _ g: ScanGeometry, _ ops: [ElementwiseOp]) {
        let channels = scan.channels.count
        let (w, h) = (scan.width, scan.height)
        let (cw, ch) = (g.canonicalWidth, g.canonicalHeight)
        let source = UnsafeSendableBuffer(UnsafeMutableBufferPointer(mutating: src))
        pool.forEachRange(planes * ch, minimumChunk: 64) { rows in
            for row in rows {
                let p = row / ch, y = row % ch
                let s = source.base + p * w * h
                let d = dst.base + p * w * h + y * cw
                if g.transposed {
                    // Canonical (x, y) is flipped-received (row x, col y).
                    let sx = g.flipHorizontal ? w - 1 - y : y
                    for x in 0..<cw {
                        let sy = g.flipVertical ? h - 1 - x : x
                        d[x] = T.float(s[sy * w + sx])
                    }
                } else {
                    let r = s + (g.flipVertical ? h - 1 - y : y) * w
                    if g.flipHorizontal {
                        for x in 0..<cw { d[x] = T.float(r[w - 1 - x]) }
                    } else {
                        for x in 0..<cw { d[x] = T.float(r[x]) }
                    }
                }
                for op in ops { op.apply(d, count: cw, channel: p % channels) }
            }
        }
    }

    private func apply(_ ops: [ElementwiseOp], to p: inout PreparedScan) {
        guard !ops.isEmpty else { return }
        apply(ops, to: &p.values, planes: p.frames * p.channels, channels: p.channels, planeSize: p.width * p.height)
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

/// A decoded sample type and its value as a Float.
protocol SampleValue { static func float(_ value: Self) -> Float }
extension UInt8: SampleValue { @inline(__always) static func float(_ value: UInt8) -> Float { Float(value) } }
extension Int8: SampleValue { @inline(__always) static func float(_ value: Int8) -> Float { Float(value) } }
extension UInt16: SampleValue { @inline(__always) static func float(_ value: UInt16) -> Float { Float(value) } }
extension Int16: SampleValue { @inline(__always) static func float(_ value: Int16) -> Float { Float(value) } }
extension UInt32: SampleValue { @inline(__always) static func float(_ value: UInt32) -> Float { Float(value) } }
extension Int32: SampleValue { @inline(__always) static func float(_ value: Int32) -> Float { Float(value) } }
extension Float: SampleValue { @inline(__always) static func float(_ value: Float) -> Float { value } }
