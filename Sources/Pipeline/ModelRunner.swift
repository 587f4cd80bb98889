import Compute
import Detection
import Engine
import Profiles
import ScanImage

/// One installed model ready to run: its manifest and its engine session (plans cached per shape).
public struct ModelRunner: Sendable {
    public let manifest: ModelManifest
    let session: InferenceSession

    /// A detection in the pixels of the scan as received, before any threshold policy.
    public struct Candidate: Sendable, Equatable {
        public var label: String
        public var confidence: Double
        public var box: PixelRect
        /// CT: first and last slice (the box is then in slice pixels).
        public var slices: [Int]?

        public init(label: String, confidence: Double, box: PixelRect, slices: [Int]? = nil) {
            (self.label, self.confidence, self.box, self.slices) = (label, confidence, box, slices)
        }
    }

    init(manifest: ModelManifest, path: String, pool: WorkerPool) throws(PipelineError) {
        self.manifest = manifest
        do { session = try InferenceSession(path: path, pool: pool) } catch { throw .configuration(path, "\(error)") }
        guard session.inputs.contains(where: { $0.name == manifest.inputName }) else {
            throw .configuration(path, "has no input '\(manifest.inputName)' (manifest \(manifest.id))")
        }
        guard session.outputs.contains(where: { $0.name == manifest.outputName }) else {
            throw .configuration(path, "has no output '\(manifest.outputName)' (manifest \(manifest.id))")
        }
    }

    /// Preprocesses `scan` for this model (its pitch and tiles), runs every tile and returns the
    /// candidates at or above `floor`, merged across tiles, in received pixels.
    /// `shared` is `Preprocessor.prepareShared(scan)`, when the caller runs several models on one scan.
    func detect(_ scan: Scan, profile: ScannerProfile, floor: Double, pool: WorkerPool, source: String,
                shared: PreparedScan? = nil) throws(PipelineError) -> Timed {
        if scan.modality == .ct { return try detectVolume(scan, profile: profile, floor: floor, pool: pool, source: source) }
        let clock = ContinuousClock()
        let t0 = clock.now
        let order = try channelOrder(scan, source: source)
        let preprocessor = Preprocessor(profile: profile, pool: pool)
        let tiling = Preprocessor.Tiling.tiles(width: manifest.inputWidth, height: manifest.inputHeight, overlap: manifest.tileOverlap)
        let prepared = if let shared, let pitchMM = manifest.pitchMM {
            preprocessor.finish(shared, pitch: scan.pitch ?? profile.pitch, pitchMM: pitchMM, tiling: tiling)
        } else {
            preprocessor.prepare(scan, pitchMM: manifest.pitchMM, tiling: tiling)
        }
        var timed = try run(prepared, channels: order, floor: floor, source: source)
        timed.preprocessMs = ms(clock.now - t0) - timed.inferenceMs - timed.postMs
        return timed
    }

    /// A CT volume: the top-view projection goes through the model like a radiograph (one energy
    /// in every input channel); each box found gives the slices (along travel) and columns
    /// (across) directly, and the rows (height) from the densest matter inside it.
    func detectVolume(_ scan: Scan, profile: ScannerProfile, floor: Double, pool: WorkerPool,
                      source: String) throws(PipelineError) -> Timed {
        let clock = ContinuousClock()
        let t0 = clock.now
        let prepared = Preprocessor(profile: profile, pool: pool).prepare(scan, tiling: .none, clamp: false)
        let volume = VolumeProjection(slices: prepared.frames, rows: prepared.height, columns: prepared.width, values: prepared.values)
        let pitch = scan.pitch ?? profile.pitch
        let top = volume.topView(voxelHeightMM: pitch.acrossTravelMM, pool: pool)
        let modelPitch = manifest.pitchMM ?? pitch.acrossTravelMM
        let sliceMM = profile.sliceMM ?? pitch.alongTravelMM
        let outW = max(1, Int((Double(volume.slices) * sliceMM / modelPitch).rounded()))
        let outH = max(1, Int((Double(volume.columns) * pitch.acrossTravelMM / modelPitch).rounded()))
        let image = Resampler.resample(top, planes: 1, width: volume.slices, height: volume.columns, outWidth: outW, outHeight: outH, pool: pool)
        let geometry = ScanGeometry(receivedWidth: volume.slices, receivedHeight: volume.columns, flipHorizontal: false, flipVertical: false,
                                    transposed: false, scaleX: Double(outW) / Double(volume.slices), scaleY: Double(outH) / Double(volume.columns))
        let tiles = TileGrid(imageWidth: outW, imageHeight: outH, tileWidth: manifest.inputWidth, tileHeight: manifest.inputHeight,
                             overlap: manifest.tileOverlap)
        let projection = PreparedScan(frames: 1, channels: 1, width: outW, height: outH, values: image, geometry: geometry, tiles: tiles)
        var timed = try run(projection, channels: manifest.channels.map { _ in 0 }, floor: floor, source: source)
        let t1 = clock.now
        // Each candidate's height search reads its box through every slice: candidates in parallel.
        var placed = timed.candidates
        if !placed.isEmpty { placed.withUnsafeMutableBufferPointer { buffer in
            let candidates = UnsafeSendableBuffer(buffer)
            pool.forEachRange(buffer.count) { range in
                for i in range {
                    let c = candidates.base[i]
                    let s0 = Int(c.box.x.rounded(FloatingPointRoundingRule.down)), s1 = Int((c.box.x + c.box.width).rounded(FloatingPointRoundingRule.up))
                    let c0 = Int(c.box.y.rounded(FloatingPointRoundingRule.down)), c1 = Int((c.box.y + c.box.height).rounded(FloatingPointRoundingRule.up))
                    let rows = volume.rows(slices: s0..<s1, columns: c0..<c1)
                    candidates.base[i].box = PixelRect(x: Double(c0), y: Double(rows.lowerBound), width: Double(c1 - c0), height: Double(rows.count))
                    candidates.base[i].slices = [max(0, s0), min(volume.slices, s1) - 1]
                }
            }
        } }
        timed.candidates = placed
        timed.postMs += ms(clock.now - t1)
        timed.preprocessMs = ms(clock.now - t0) - timed.inferenceMs - timed.postMs
        return timed
    }

    /// Candidates with the time each stage took.
    struct Timed {
        var candidates: [Candidate]
        var preprocessMs = 0.0
        var inferenceMs = 0.0
        var postMs = 0.0
    }

    /// Runs every tile of a one-frame prepared image (input channel i = prepared channel `channels[i]`),
    /// decodes at `floor`, and merges across tiles into received pixels.
    private func run(_ prepared: PreparedScan, channels order: [Int], floor: Double, source: String) throws(PipelineError) -> Timed {
        let clock = ContinuousClock()
        let t1 = clock.now
        let (tiles, th, tw) = prepared.tileLayout
        var outputs: [[Float]] = []
        for t in 0..<tiles {
            let input = prepared.tileInput(t, channels: order)
            let result: [String: Tensor]
            do {
                result = try session.run([manifest.inputName: Tensor(shape: [1, order.count, th, tw], floats: input)])
            } catch { throw .input(source, "model \(manifest.id): \(error)") }
            outputs.append(result[manifest.outputName]!.floats)
        }
        let t2 = clock.now
        let classes = manifest.classes.count
        let thresholds = [Float](repeating: Float(floor), count: classes)
        let perTile = outputs.map { out in
            YOLODecoder.decode(out, classes: classes, anchors: out.count / (4 + classes), thresholds: thresholds)
        }
        // One frame: radiographs, and the projection of a CT volume.
        let merged = TileMerger.merge(perTile, tiles: prepared.tiles!, geometry: prepared.geometry, iou: manifest.nmsIoU)
        let candidates = merged.map { Candidate(label: manifest.classes[$0.classIndex], confidence: Double($0.confidence), box: $0.box) }
        return Timed(candidates: candidates, inferenceMs: ms(t2 - t1), postMs: ms(clock.now - t2))
    }

    /// Index of each model input channel among the scan's channels.
    private func channelOrder(_ scan: Scan, source: String) throws(PipelineError) -> [Int] {
        var order: [Int] = []
        for name in manifest.channels {
            guard let i = scan.channels.firstIndex(where: { $0.rawValue == name }) else {
                throw .input(source, "model \(manifest.id) reads channel '\(name)'; the scan has \(scan.channels.map(\.rawValue))")
            }
            order.append(i)
        }
        return order
    }
}

func ms(_ d: Duration) -> Double {
    let (s, atto) = d.components
    return thousandths(Double(s) * 1e3 + Double(atto) / 1e15)
}

/// Confidences and milliseconds in results are given to three decimals.
func thousandths(_ v: Double) -> Double { (v * 1000).rounded() / 1000 }

extension ModelManifest {
    /// Whether a candidate reaches its class's threshold.
    public func accepts(_ c: ModelRunner.Candidate) -> Bool { c.confidence >= thresholds[c.label] ?? 1 }
}
