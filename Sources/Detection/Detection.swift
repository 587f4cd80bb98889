import Profiles

/// One detected object: class, confidence, and its box (in whatever pixels the stage is in).
public struct Detection: Sendable, Equatable {
    public var classIndex: Int
    public var confidence: Float
    public var box: PixelRect

    public init(classIndex: Int, confidence: Float, box: PixelRect) {
        self.classIndex = classIndex
        self.confidence = confidence
        self.box = box
    }

    /// Intersection over union of two boxes.
    public static func iou(_ a: PixelRect, _ b: PixelRect) -> Double {
        let x0 = max(a.x, b.x), y0 = max(a.y, b.y)
        let x1 = min(a.x + a.width, b.x + b.width), y1 = min(a.y + a.height, b.y + b.height)
        let inter = max(0, x1 - x0) * max(0, y1 - y0)
        let union = a.width * a.height + b.width * b.height - inter
        return union > 0 ? inter / union : 0
    }
}

/// Decoding of YOLOv8-style outputs: [4 + classes, anchors], each anchor a centre/size box in
/// model-input pixels and one probability per class; the best class above its threshold is kept.
public enum YOLODecoder {
    public static func decode(_ output: [Float], classes: Int, anchors: Int, thresholds: [Float]) -> [Detection] {
        precondition(output.count == (4 + classes) * anchors, "output does not hold \(4 + classes) x \(anchors) values")
        var found: [Detection] = []
        for a in 0..<anchors {
            var best = 0
            for c in 1..<max(classes, 1) where output[(4 + c) * anchors + a] > output[(4 + best) * anchors + a] { best = c }
            let score = output[(4 + best) * anchors + a]
            guard score >= thresholds[best] else { continue }
            let cx = Double(output[a]), cy = Double(output[anchors + a])
            let w = Double(output[2 * anchors + a]), h = Double(output[3 * anchors + a])
            found.append(Detection(classIndex: best, confidence: score, box: PixelRect(x: cx - w / 2, y: cy - h / 2, width: w, height: h)))
        }
        return found
    }
}

/// Greedy non-maximum suppression per class: highest confidence first, dropping boxes that
/// overlap a kept one of the same class by more than `iou`.
public enum NonMaximumSuppression {
    public static func apply(_ detections: [Detection], iou threshold: Double) -> [Detection] {
        // Stable order (confidence, then position) so equal inputs give equal outputs.
        let sorted = detections.sorted {
            $0.confidence != $1.confidence ? $0.confidence > $1.confidence
                : ($0.box.x, $0.box.y, $0.classIndex) < ($1.box.x, $1.box.y, $1.classIndex)
        }
        var kept: [Detection] = []
        for d in sorted where !kept.contains(where: { $0.classIndex == d.classIndex && Detection.iou($0.box, d.box) > threshold }) {
            kept.append(d)
        }
        return kept
    }
}

/// Brings per-tile detections into the scan as received: tile offset, then the preprocessing
/// geometry (resampling, transpose, flips), then one NMS across tiles, so an object cut by a
/// tile seam and seen by two overlapping tiles is reported once.
public enum TileMerger {
    public static func merge(_ perTile: [[Detection]], tiles: TileGrid, geometry: ScanGeometry, iou: Double) -> [Detection] {
        var all: [Detection] = []
        for (t, origin) in tiles.origins.enumerated() where t < perTile.count {
            for var d in perTile[t] {
                let prepared = PixelRect(x: d.box.x + Double(origin.x), y: d.box.y + Double(origin.y), width: d.box.width, height: d.box.height)
                d.box = geometry.toReceived(prepared)
                all.append(d)
            }
        }
        return NonMaximumSuppression.apply(all, iou: iou)
    }
}
