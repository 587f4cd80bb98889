import Detection
import Profiles

/// Compares what a goods model sees with what was declared: a container declared empty that holds
/// goods is `not-empty`; goods of another category than declared are `declaration-mismatch`.
public enum DeclarationCheck {
    public struct Finding: Sendable, Equatable {
        public var kind: String
        public var label: String
        public var confidence: Double
        public var threshold: Double
        public var box: PixelRect
    }

    /// `goods` are the model's detections above their thresholds, in received pixels.
    public static func findings(goods: [ModelRunner.Candidate], declaration: Declaration?, manifest: ModelManifest) -> [Finding] {
        guard let declaration, let best = goods.max(by: { $0.confidence < $1.confidence }) else { return [] }
        if declaration.declaredEmpty {
            // Where the load is: the union of everything seen, whatever its category.
            let x0 = goods.map(\.box.x).min()!, y0 = goods.map(\.box.y).min()!
            let x1 = goods.map { $0.box.x + $0.box.width }.max()!, y1 = goods.map { $0.box.y + $0.box.height }.max()!
            return [Finding(kind: "not-empty", label: "load", confidence: best.confidence, threshold: manifest.thresholds[best.label]!,
                            box: PixelRect(x: x0, y: y0, width: x1 - x0, height: y1 - y0))]
        }
        guard let declared = declaration.category, manifest.classes.contains(declared) else { return [] }
        // A mismatch only when the declared category is not seen at all and another one is.
        if goods.contains(where: { $0.label == declared }) || best.label == declared { return [] }
        return [Finding(kind: "declaration-mismatch", label: best.label, confidence: best.confidence,
                        threshold: manifest.thresholds[best.label]!, box: best.box)]
    }
}
