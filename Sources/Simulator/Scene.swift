/// What the beam crosses: per material, the areal density (g/cm²) along the ray through each
/// pixel of the canonical image (travel along x, front on the left, ground at the bottom).
public struct Scene: Sendable {
    public let width: Int
    public let height: Int
    /// Pixel pitch in cm along travel (x)...
    public let pitchCM: Double
    /// ... and across it (y): scanners whose detector pitch differs from their sampling along travel
    /// (cargo-de-mobile: 6 mm along, 5 mm across) see objects with other pixel proportions.
    public let pitchYCM: Double
    public private(set) var layers: [String: [Float]] = [:]
    public private(set) var objects: [SceneObject] = []
    /// The `group` each object was labelled in (parallel to `objects`).
    public private(set) var objectGroups: [Int] = []
    /// Raises (or lowers) everything: the same vehicle sits differently in two scanners.
    public var yOffsetCM: Double = 0
    /// The goods in a container (label = goods category, kind "load"), nil when it is empty.
    public var load: SceneObject?
    /// Every box added, in cm, so a volume can be built from the same scene (CT).
    public private(set) var primitives: [Primitive] = []
    /// Boxes added under one group number are parts of one item (they share a height in a volume).
    public var group = 0
    /// Edges fall where they are: a pixel a box or disc partly covers gets that fraction of it, as a
    /// detector integrating over its pixel would see. Off, edges snap to the nearest pixel boundary
    /// (the scenes the default models were trained and evaluated on); paired scans need it on, or the
    /// two scanners' snapping alone would misplace edges by up to half a pixel each.
    public var exactEdges = false

    /// One box as added: material, density, rectangle and depth along the beam, in cm.
    public struct Primitive: Sendable, Equatable {
        public var material: String
        public var density: Double
        public var x, y, width, height, depth: Double
        public var group: Int
    }

    public init(width: Int, height: Int, pitchCM: Double, pitchYCM: Double? = nil) {
        self.width = width
        self.height = height
        self.pitchCM = pitchCM
        self.pitchYCM = pitchYCM ?? pitchCM
    }

    /// Adds `material` `depthCM` thick (along the beam) over a rectangle given in cm, with the
    /// origin at the front of the scene and the ground (y up).
    public mutating func box(_ material: String, density: Double, x: Double, y: Double, width w: Double, height h: Double,
                             depthCM: Double) {
        primitives.append(Primitive(material: material, density: density, x: x, y: y, width: w, height: h, depth: depthCM, group: group))
        let y = y + yOffsetCM
        if exactEdges {
            // Coverage of each column and row by the box, 0...1.
            func cover(_ lo: Double, _ hi: Double, pitch: Double, count: Int) -> [(Int, Float)] {
                let first = max(0, Int((lo / pitch).rounded(.down))), last = min(count - 1, Int((hi / pitch).rounded(.up)) - 1)
                guard first <= last else { return [] }
                return (first...last).compactMap { i in
                    let f = (min(hi, Double(i + 1) * pitch) - max(lo, Double(i) * pitch)) / pitch
                    return f > 0 ? (i, Float(f)) : nil
                }
            }
            let columns = cover(x, x + w, pitch: pitchCM, count: width)
            // Row r spans heights (H − r − 1)·pitch to (H − r)·pitch: count rows from the bottom, then flip.
            let rows = cover(y, y + h, pitch: pitchYCM, count: height).map { (height - 1 - $0.0, $0.1) }
            let add = Float(density * depthCM), sceneWidth = width
            modify(material) { layer in
                for (r, fr) in rows { for (c, fc) in columns { layer[r * sceneWidth + c] += add * fr * fc } }
            }
            return
        }
        let x0 = max(0, Int((x / pitchCM).rounded())), x1 = min(width, Int(((x + w) / pitchCM).rounded()))
        let row0 = max(0, height - Int(((y + h) / pitchYCM).rounded())), row1 = min(height, height - Int((y / pitchYCM).rounded()))
        guard x0 < x1, row0 < row1 else { return }
        let add = Float(density * depthCM)
        let w = width
        modify(material) { layer in
            layer.withUnsafeMutableBufferPointer { p in
                for r in row0..<row1 { for c in x0..<x1 { p[r * w + c] += add } }
            }
        }
    }

    /// Mutates a material's layer in place (created on first use).
    private mutating func modify(_ material: String, _ body: (inout [Float]) -> Void) {
        let count = width * height
        body(&layers[material, default: [Float](repeating: 0, count: count)])
    }

    /// Sum of all materials' areal density over a pixel box (for occlusion).
    public func totalDensity(in box: PixelBox) -> Double {
        var total = 0.0
        for layer in layers.values {
            for r in max(0, box.y)..<min(height, box.y + box.height) {
                for c in max(0, box.x)..<min(width, box.x + box.width) { total += Double(layer[r * width + c]) }
            }
        }
        return total
    }

    /// Adds a solid disc seen face-on (wheels, drums end-on), `depthCM` thick.
    public mutating func disc(_ material: String, density: Double, centreX: Double, centreY: Double, radius: Double, depthCM: Double) {
        let add = Float(density * depthCM)
        // A circle in cm: an ellipse in pixels when the two pitches differ.
        let cx = centreX / pitchCM, cy = Double(height) - (centreY + yOffsetCM) / pitchYCM
        let rx = radius / pitchCM, ry = radius / pitchYCM
        let (w, h) = (width, height)
        // Exact edges: the fraction of 4 x 4 points of each pixel inside the disc.
        let samples = exactEdges ? 4 : 1
        modify(material) { layer in
            for row in max(0, Int(cy - ry))..<min(h, Int(cy + ry) + 1) {
                for col in max(0, Int(cx - rx))..<min(w, Int(cx + rx) + 1) {
                    var inside = 0
                    for sy in 0..<samples {
                        for sx in 0..<samples {
                            let dx = (Double(col) + (Double(sx) + 0.5) / Double(samples) - cx) / rx
                            let dy = (Double(row) + (Double(sy) + 0.5) / Double(samples) - cy) / ry
                            if dx * dx + dy * dy <= 1 { inside += 1 }
                        }
                    }
                    layer[row * w + col] += add * Float(inside) / Float(samples * samples)
                }
            }
        }
    }

    /// Records a ground-truth object with its box in canonical pixels (and the group it was built in).
    public mutating func label(_ object: SceneObject) {
        objects.append(object)
        objectGroups.append(group)
    }

    /// A box in cm (origin front-bottom, y up) as canonical pixels (origin top-left).
    public func pixels(x: Double, y: Double, width w: Double, height h: Double) -> PixelBox {
        let y = y + yOffsetCM
        let x0 = Int((x / pitchCM).rounded()), x1 = Int(((x + w) / pitchCM).rounded())
        let top = height - Int(((y + h) / pitchYCM).rounded()), bottom = height - Int((y / pitchYCM).rounded())
        return PixelBox(x: x0, y: top, width: x1 - x0, height: bottom - top)
    }
}

/// An axis-aligned box in image pixels.
public struct PixelBox: Sendable, Codable, Equatable {
    public var x: Int
    public var y: Int
    public var width: Int
    public var height: Int
}

/// A labelled object of a synthetic scan (DESIGN.md's labels.json).
public struct SceneObject: Sendable, Codable, Equatable {
    public var label: String
    public var kind: String
    public var material: String
    public var occlusion: Double
    public var box: PixelBox
    /// For a paired difference: the same change in the other scan of the pair.
    public var otherBox: PixelBox? = nil
    /// CT volumes: first and last slice holding the object (the box is in slice pixels).
    public var slices: [Int]? = nil
    /// For a paired difference: its areal density along the beam (g/cm²) and its size (width, height in cm).
    public var massThickness: Double? = nil
    public var sizeCM: [Double]? = nil
}
