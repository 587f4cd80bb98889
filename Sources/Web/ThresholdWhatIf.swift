import Foundation
import Store

/// What a threshold would do at a site, from its reviewed history: how many findings analysts
/// confirmed would still be found, how many they dismissed would still alarm, at the current value
/// and at a candidate, and the curve of both over the class's central bounds.
///
/// Replayed from the confidences stored with each reviewed finding. A finding below the threshold
/// in force when its scan was analysed was never stored, so lowering a threshold below that value
/// cannot show the detections it would add; `floor` says where that starts.
public struct ThresholdWhatIf: Codable, Sendable, Equatable {
    public struct Point: Codable, Sendable, Equatable {
        public var threshold: Double
        public var confirmedFound: Int
        public var dismissedAlarming: Int
    }

    public var site: String
    public var model: String
    public var label: String
    public var confirmed: Int
    public var dismissed: Int
    public var current: Point
    public var candidate: Point
    /// The lowest threshold the reviewed findings were judged at: below it the counts are a lower bound.
    public var floor: Double?
    public var curve: [Point]

    /// Counts at `value` over `reviewed` (one class's reviewed findings).
    static func point(_ value: Double, _ reviewed: [ReviewedFinding]) -> Point {
        Point(threshold: value,
              confirmedFound: reviewed.filter { $0.decision == "confirm" && $0.confidence >= value }.count,
              dismissedAlarming: reviewed.filter { $0.decision == "dismiss" && $0.confidence >= value }.count)
    }

    public init(site: String, model: String, label: String, current: Double, candidate: Double, bounds: (Double, Double),
                reviewed: [ReviewedFinding], floor: Double?) {
        self.site = site
        self.model = model
        self.label = label
        confirmed = reviewed.filter { $0.decision == "confirm" }.count
        dismissed = reviewed.filter { $0.decision == "dismiss" }.count
        self.current = Self.point(current, reviewed)
        self.candidate = Self.point(candidate, reviewed)
        self.floor = floor
        let steps = 40
        curve = (0...steps).map { i in
            Self.point(((bounds.0 + (bounds.1 - bounds.0) * Double(i) / Double(steps)) * 1000).rounded() / 1000, reviewed)
        }
    }

    /// The curve as an SVG: detection (confirmed still found, %) against false alarms (dismissed
    /// still alarming), one point per threshold step, current and candidate marked.
    public var svg: String {
        let (w, h, m) = (520.0, 340.0, 48.0)
        let maxFA = Double(max(1, curve.map(\.dismissedAlarming).max() ?? 1))
        func x(_ p: Point) -> Double { m + (w - 2 * m) * Double(p.dismissedAlarming) / maxFA }
        func y(_ p: Point) -> Double {
            let rate = confirmed > 0 ? Double(p.confirmedFound) / Double(confirmed) : 0
            return h - m - (h - 2 * m) * rate
        }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        let line = curve.map { "\(f(x($0))),\(f(y($0)))" }.joined(separator: " ")
        func mark(_ p: Point, _ colour: String, _ name: String) -> String {
            """
            <circle cx="\(f(x(p)))" cy="\(f(y(p)))" r="5" fill="\(colour)"><title>\(name) \(p.threshold): \(p.confirmedFound)/\(confirmed) confirmed found, \(p.dismissedAlarming) dismissed alarming</title></circle>
            <text x="\(f(x(p) + 8))" y="\(f(y(p) - 8))" font-size="12" fill="\(colour)">\(name) \(p.threshold)</text>
            """
        }
        return """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(w))" height="\(Int(h))" viewBox="0 0 \(Int(w)) \(Int(h))" font-family="sans-serif">
            <title>\(model) \(label) at \(site): detection against false alarms, thresholds \(curve.first?.threshold ?? 0) to \(curve.last?.threshold ?? 1)</title>
            <rect width="100%" height="100%" fill="white"/>
            <line x1="\(f(m))" y1="\(f(h - m))" x2="\(f(w - m))" y2="\(f(h - m))" stroke="black"/>
            <line x1="\(f(m))" y1="\(f(m))" x2="\(f(m))" y2="\(f(h - m))" stroke="black"/>
            <text x="\(f(w / 2))" y="\(f(h - 12))" text-anchor="middle" font-size="13">dismissed findings still alarming (of \(dismissed))</text>
            <text x="14" y="\(f(h / 2))" text-anchor="middle" font-size="13" transform="rotate(-90 14 \(f(h / 2)))">confirmed findings still found (% of \(confirmed))</text>
            <text x="\(f(m - 6))" y="\(f(m + 4))" text-anchor="end" font-size="11">100</text>
            <text x="\(f(m - 6))" y="\(f(h - m + 4))" text-anchor="end" font-size="11">0</text>
            <text x="\(f(w - m))" y="\(f(h - m + 16))" text-anchor="end" font-size="11">\(Int(maxFA))</text>
            <polyline points="\(line)" fill="none" stroke="#1f5fa8" stroke-width="2"/>
            \(mark(current, "#555555", "current"))
            \(mark(candidate, "#c2410c", "candidate"))
            </svg>
            """
    }
}

extension SiteThresholdService {
    /// The what-if of one class (or of every class of `model` when `label` is nil) at `value`
    /// (the current value when nil).
    public func whatIf(site: String, model: String, label: String?, value: Double?) throws -> [ThresholdWhatIf] {
        guard let manifest = manifests.first(where: { $0.name == model }) else {
            throw Refusal(description: "no installed model \(model) (installed: \(manifests.map(\.name).sorted().joined(separator: ", ")))")
        }
        let labels = label.map { [$0] } ?? manifest.classes
        let view = try view(site: site)
        let reviewed = try store.reviewedFindings(site: site).filter { $0.model == model }
        return try labels.map { label in
            guard let entry = view.thresholds[model]?[label] else {
                throw Refusal(description: "model \(model) has no class \(label) (classes: \(manifest.classes.joined(separator: ", ")))")
            }
            let candidate = value ?? entry.value
            if let value {
                do { try policy.check(model: model, label: label, value: value) } catch { throw Refusal(description: "\(error)") }
            }
            let mine = reviewed.filter { $0.label == label }
            return ThresholdWhatIf(site: site, model: model, label: label, current: entry.value, candidate: candidate,
                                   bounds: (entry.min ?? entry.value, entry.max ?? entry.value), reviewed: mine,
                                   floor: mine.map(\.threshold).min())
        }
    }
}
