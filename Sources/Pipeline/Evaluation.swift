import Detection
import Foundation
import Profiles

/// Ground truth as `vigil synth` writes it (`labels.json`, DESIGN.md).
public struct GroundTruth: Codable, Sendable {
    public struct Box: Codable, Sendable, Equatable {
        public var x: Double
        public var y: Double
        public var width: Double
        public var height: Double
        public var rect: PixelRect { PixelRect(x: x, y: y, width: width, height: height) }
    }

    public struct Object: Codable, Sendable {
        public var label: String
        public var kind: String
        public var box: Box
        /// CT: first and last slice.
        public var slices: [Int]? = nil

        public var region: Region { Region(box: box.rect, slices: slices) }
    }

    public struct Scan: Codable, Sendable {
        public var file: String
        public var profile: String
        public var kind: String
        public var declaration: Declaration
        public var objects: [Object]
        public var load: Object?
    }

    public var scans: [Scan]
}

/// A box, and for CT the slices it spans: what detections are matched on.
public struct Region: Sendable, Equatable {
    public var box: PixelRect
    public var slices: [Int]?

    public init(box: PixelRect, slices: [Int]? = nil) {
        self.box = box
        self.slices = slices
    }
}

/// Detection metrics over a labelled set: per-class AP@0.5, the detection rate at a false-alarm
/// rate per clear scan, and whether declared-empty containers are verified correctly.
public struct Evaluation: Sendable {
    /// One scan's model output (threat candidates above a low floor; goods-based declaration findings).
    public struct Scored: Sendable {
        public var truth: GroundTruth.Scan
        public var threats: [ModelRunner.Candidate]
        /// Threat findings at the installed thresholds (what an operator would see).
        public var alarmsAtDefaults: Bool
        /// The pipeline reported goods in the container (at the goods model's thresholds).
        public var loadFound: Bool?
        /// The pipeline's not-empty / declaration-mismatch findings.
        public var declarationFindings: [String]

        public init(truth: GroundTruth.Scan, threats: [ModelRunner.Candidate], alarmsAtDefaults: Bool, loadFound: Bool?,
                    declarationFindings: [String]) {
            (self.truth, self.threats, self.alarmsAtDefaults, self.loadFound, self.declarationFindings) =
                (truth, threats, alarmsAtDefaults, loadFound, declarationFindings)
        }
    }

    /// Object kinds a threat detector is scored on.
    public static let scoredKinds: Set<String> = ["threat", "concealment"]
    /// IoU for average precision (PASCAL VOC / COCO AP50).
    public static let apIoU = 0.5
    /// IoU for "found" at the operating point: the box must point the analyst at the object.
    public static let foundIoU = 0.3

    public var scored: [Scored]

    public init(scored: [Scored]) { self.scored = scored }

    /// Average precision of one class: all-point interpolated area under precision/recall,
    /// each true object matched at most once, highest confidence first.
    public static func averagePrecision(detections: [(scan: Int, confidence: Double, box: Region)],
                                        truths: [Int: [Region]], iou: Double = apIoU) -> Double? {
        let total = truths.values.reduce(0) { $0 + $1.count }
        guard total > 0 else { return nil }
        var used = truths.mapValues { [Bool](repeating: false, count: $0.count) }
        var tp: [Double] = [], fp: [Double] = []
        for d in detections.sorted(by: { $0.confidence > $1.confidence }) {
            var best = -1, bestIoU = iou
            for (i, t) in (truths[d.scan] ?? []).enumerated() where !used[d.scan]![i] {
                let o = overlap(d.box, t)
                if o >= bestIoU { (best, bestIoU) = (i, o) }
            }
            if best >= 0 { used[d.scan]![best] = true }
            tp.append(best >= 0 ? 1 : 0)
            fp.append(best >= 0 ? 0 : 1)
        }
        var ctp = 0.0, cfp = 0.0
        var recall: [Double] = [], precision: [Double] = []
        for i in tp.indices {
            ctp += tp[i]; cfp += fp[i]
            recall.append(ctp / Double(total))
            precision.append(ctp / (ctp + cfp))
        }
        // Precision envelope, then the area under it at each recall step.
        for i in stride(from: precision.count - 2, through: 0, by: -1) { precision[i] = max(precision[i], precision[i + 1]) }
        var ap = 0.0, last = 0.0
        for i in recall.indices { ap += (recall[i] - last) * precision[i]; last = recall[i] }
        return ap
    }

    /// The lowest threshold on a per-scan score at which at most `rate` of clear scans alarm.
    public static func threshold(clearScores: [Double], falseAlarmRate rate: Double) -> Double {
        let sorted = clearScores.sorted(by: >)
        let allowed = Int((rate * Double(sorted.count)).rounded(.down))
        guard allowed < sorted.count else { return 0 }
        // Just above the first clear score that would exceed the allowance.
        return sorted[allowed].nextUp
    }

    /// Intersection over union: of the boxes (`Detection.iou`), or of the cuboids when both
    /// regions span slices.
    static func overlap(_ a: Region, _ b: Region) -> Double {
        guard let sa = a.slices, let sb = b.slices, sa.count == 2, sb.count == 2 else { return Detection.iou(a.box, b.box) }
        let (p, q) = (a.box, b.box)
        let x0 = max(p.x, q.x), y0 = max(p.y, q.y), x1 = min(p.x + p.width, q.x + q.width), y1 = min(p.y + p.height, q.y + q.height)
        let depth = Double(max(0, min(sa[1], sb[1]) - max(sa[0], sb[0]) + 1))
        let inter = max(0, x1 - x0) * max(0, y1 - y0) * depth
        let va = p.width * p.height * Double(sa[1] - sa[0] + 1), vb = q.width * q.height * Double(sb[1] - sb[0] + 1)
        let union = va + vb - inter
        return union > 0 ? inter / union : 0
    }

    /// The figures `vigil evaluate` prints.
    public struct Report: Codable, Sendable {
        public struct PerClass: Codable, Sendable {
            public var objects: Int
            public var ap50: Double?
            public var detectionRate: Double?
            /// This class's threshold at the operating point.
            public var operatingThreshold: Double
        }
        public var scans: Int
        public var clearScans: Int
        public var objects: Int
        public var falseAlarmRate: Double
        public var clearScansAlarming: Double?
        public var detectionRate: Double?
        public var meanAP50: Double?
        public var perClass: [String: PerClass]
        public var atInstalledThresholds: [String: Double?]
        public var emptyVerification: [String: Double?]
        public var declarationMismatch: [String: Double?]
    }

    public func report(falseAlarmRate: Double = 0.01) -> Report {
        let targets = scored.map { $0.truth.objects.filter { Evaluation.scoredKinds.contains($0.kind) } }
        let clear = scored.indices.filter { targets[$0].isEmpty }
        var labels = Set(targets.flatMap { $0.map(\.label) })
        labels.formUnion(scored.flatMap { $0.threats.map(\.label) })
        // One threshold per class: classes are not calibrated alike (a class whose scores run
        // low would be drowned by one threshold for all). The false-alarm budget is split
        // equally, so together they alarm at most `falseAlarmRate` of clear scans.
        let budget = falseAlarmRate / Double(max(1, labels.count))
        var t: [String: Double] = [:]
        for label in labels {
            t[label] = Evaluation.threshold(clearScores: clear.map { i in scored[i].threats.filter { $0.label == label }.map(\.confidence).max() ?? 0 },
                                            falseAlarmRate: budget)
        }
        func alarms(_ i: Int) -> Bool { scored[i].threats.contains { $0.confidence >= t[$0.label]! } }
        var perClass: [String: Report.PerClass] = [:]
        var found = 0, total = 0
        for label in labels.sorted() {
            var truths: [Int: [Region]] = [:]
            var dets: [(scan: Int, confidence: Double, box: Region)] = []
            var n = 0, hit = 0
            for (i, s) in scored.enumerated() {
                let mine = targets[i].filter { $0.label == label }.map(\.region)
                if !mine.isEmpty { truths[i] = mine }
                n += mine.count
                let candidates = s.threats.filter { $0.label == label }
                dets += candidates.map { (i, $0.confidence, Region(box: $0.box, slices: $0.slices)) }
                let operating = candidates.filter { $0.confidence >= t[label]! }
                hit += mine.filter { m in operating.contains { Evaluation.overlap(Region(box: $0.box, slices: $0.slices), m) >= Evaluation.foundIoU } }.count
            }
            found += hit
            total += n
            perClass[label] = .init(objects: n, ap50: Evaluation.averagePrecision(detections: dets, truths: truths).map(round4),
                                    detectionRate: n > 0 ? round4(Double(hit) / Double(n)) : nil,
                                    operatingThreshold: round4(t[label]!))
        }
        let aps = perClass.values.compactMap(\.ap50)
        let alarmingClear = clear.filter(alarms).count
        // What an operator sees at the installed thresholds.
        let defaultsClear = clear.filter { scored[$0].alarmsAtDefaults }.count
        let withTargets = scored.indices.filter { !targets[$0].isEmpty }
        let defaultsHit = withTargets.filter { scored[$0].alarmsAtDefaults }.count
        // Declared-empty containers: verified when "not-empty" is reported exactly when there is a load.
        let declaredEmpty = scored.filter { $0.truth.declaration.declaredEmpty }
        let verified = declaredEmpty.filter { ($0.truth.load != nil) == $0.declarationFindings.contains("not-empty") }.count
        let loaded = declaredEmpty.filter { $0.truth.load != nil }
        let goodsRead = scored.filter { $0.loadFound != nil }
        let goodsRight = goodsRead.filter { $0.loadFound == ($0.truth.load != nil) }.count
        let mismatched = scored.filter { $0.truth.objects.contains { $0.kind == "declaration-mismatch" } }
        let consistent = scored.filter { !$0.truth.declaration.declaredEmpty && $0.truth.load != nil
            && !$0.truth.objects.contains { $0.kind == "declaration-mismatch" } }
        // Without a goods model installed nothing verifies declarations: no figures, not zeros.
        let checked = !goodsRead.isEmpty
        func rate(_ a: Int, _ b: Int) -> Double? { b > 0 ? round4(Double(a) / Double(b)) : nil }
        func declared(_ a: Int, _ b: Int) -> Double? { checked ? rate(a, b) : nil }
        return Report(
            scans: scored.count, clearScans: clear.count, objects: total, falseAlarmRate: falseAlarmRate,
            clearScansAlarming: rate(alarmingClear, clear.count), detectionRate: rate(found, total),
            meanAP50: aps.isEmpty ? nil : round4(aps.reduce(0, +) / Double(aps.count)), perClass: perClass,
            atInstalledThresholds: ["clearScansAlarming": rate(defaultsClear, clear.count),
                                    "scansWithObjectsAlarming": rate(defaultsHit, withTargets.count)],
            emptyVerification: ["declaredEmpty": Double(declaredEmpty.count), "accuracy": declared(verified, declaredEmpty.count),
                                "loadedFound": declared(loaded.filter { $0.declarationFindings.contains("not-empty") }.count, loaded.count),
                                "emptyOrLoadedAccuracyAllScans": declared(goodsRight, goodsRead.count)],
            declarationMismatch: ["mismatched": Double(mismatched.count),
                                  "found": declared(mismatched.filter { $0.declarationFindings.contains("declaration-mismatch") }.count, mismatched.count),
                                  "falseOnConsistent": declared(consistent.filter { $0.declarationFindings.contains("declaration-mismatch") }.count, consistent.count)])
    }
}

private func round4(_ v: Double) -> Double { (v * 10000).rounded() / 10000 }
