import XCTest
import Profiles
@testable import Pipeline

final class EvaluationTests: XCTestCase {
    func box(_ x: Double, _ y: Double = 0, _ w: Double = 10, _ h: Double = 10) -> PixelRect { PixelRect(x: x, y: y, width: w, height: h) }
    func region(_ x: Double, _ y: Double = 0, _ w: Double = 10, _ h: Double = 10) -> Region { Region(box: box(x, y, w, h)) }

    func testAveragePrecisionOfPerfectRankingIsOne() {
        let truths = [0: [region(0)], 1: [region(50)]]
        let ap = Evaluation.averagePrecision(detections: [(0, 0.9, region(0)), (1, 0.8, region(50)), (1, 0.1, region(200))], truths: truths)
        XCTAssertEqual(ap!, 1, accuracy: 1e-12)
    }

    func testAveragePrecisionHandComputed() {
        // Ranked: TP, FP, TP; two objects. Precision 1, 1/2, 2/3 at recall 1/2, 1/2, 1.
        // Envelope: 1 up to recall 1/2, then 2/3: AP = 0.5 * 1 + 0.5 * 2/3.
        let truths = [0: [region(0), region(100)]]
        let ap = Evaluation.averagePrecision(detections: [(0, 0.9, region(0)), (0, 0.8, region(300)), (0, 0.7, region(100))], truths: truths)
        XCTAssertEqual(ap!, 0.5 + 0.5 * 2 / 3, accuracy: 1e-12)
    }

    func testDuplicateDetectionOfOneObjectIsAFalsePositive() {
        let ap = Evaluation.averagePrecision(detections: [(0, 0.9, region(0)), (0, 0.8, region(1))], truths: [0: [region(0), region(500)]])
        // Recall reaches only 1/2, precision 1 there.
        XCTAssertEqual(ap!, 0.5, accuracy: 1e-12)
    }

    func testNoObjectsGivesNoAP() {
        XCTAssertNil(Evaluation.averagePrecision(detections: [(0, 0.9, region(0))], truths: [:]))
    }

    func testVolumesMatchOnCuboids() {
        // Same box, half the slices overlapping: IoU = 5 / 15.
        let a = Region(box: box(0), slices: [0, 9]), b = Region(box: box(0), slices: [5, 14])
        XCTAssertEqual(Evaluation.overlap(a, b), 5.0 / 15.0, accuracy: 1e-12)
        XCTAssertEqual(Evaluation.overlap(Region(box: box(0)), Region(box: box(5))), 50.0 / 150.0, accuracy: 1e-12)
    }

    func testThresholdKeepsFalseAlarmsWithinRate() {
        let clear = (0..<200).map { Double($0) / 200 }  // 0 ... 0.995
        let t = Evaluation.threshold(clearScores: clear, falseAlarmRate: 0.01)
        XCTAssertEqual(clear.filter { $0 >= t }.count, 2)
        // Fewer than 100 clear scans: no false alarm allowed at 1 %.
        let few = [0.2, 0.7, 0.4]
        let t2 = Evaluation.threshold(clearScores: few, falseAlarmRate: 0.01)
        XCTAssertTrue(t2 > 0.7 && t2 < 0.7001)
    }

    func testReportCountsFoundObjectsAndDeclaredEmpty() {
        func truth(_ objects: [GroundTruth.Object], empty: Bool, load: Bool) -> GroundTruth.Scan {
            GroundTruth.Scan(file: "f", profile: "p", kind: "cargo", declaration: Declaration(category: empty ? "empty" : "bulk", declaredEmpty: empty),
                             objects: objects, load: load ? GroundTruth.Object(label: "bulk", kind: "load", box: .init(x: 0, y: 0, width: 5, height: 5)) : nil)
        }
        let pistol = GroundTruth.Object(label: "pistol", kind: "threat", box: .init(x: 10, y: 10, width: 20, height: 10))
        let scored = [
            Evaluation.Scored(truth: truth([pistol], empty: false, load: true),
                              threats: [.init(label: "pistol", confidence: 0.9, box: box(11, 10, 20, 10))],
                              alarmsAtDefaults: true, loadFound: true, declarationFindings: ["threat"]),
            Evaluation.Scored(truth: truth([], empty: true, load: false), threats: [.init(label: "pistol", confidence: 0.3, box: box(0))],
                              alarmsAtDefaults: false, loadFound: false, declarationFindings: []),
            Evaluation.Scored(truth: truth([], empty: true, load: true), threats: [],
                              alarmsAtDefaults: false, loadFound: false, declarationFindings: []),
        ]
        let r = Evaluation(scored: scored).report()
        XCTAssertEqual(r.clearScans, 2)
        XCTAssertEqual(r.objects, 1)
        XCTAssertEqual(r.detectionRate, 1)
        XCTAssertEqual(r.clearScansAlarming, 0)
        XCTAssertEqual(r.perClass["pistol"]?.ap50, 1)
        // Two declared empty: one truly empty (verified), one loaded but missed.
        XCTAssertEqual(r.emptyVerification["accuracy"]!, 0.5)
        XCTAssertEqual(r.emptyVerification["loadedFound"]!, 0)
    }

    func testEachClassGetsItsOwnOperatingThreshold() {
        func scan(_ objects: [GroundTruth.Object], _ threats: [ModelRunner.Candidate]) -> Evaluation.Scored {
            .init(truth: GroundTruth.Scan(file: "f", profile: "p", kind: "parcel", declaration: Declaration(), objects: objects, load: nil),
                  threats: threats, alarmsAtDefaults: false, loadFound: nil, declarationFindings: [])
        }
        let pistol = GroundTruth.Object(label: "pistol", kind: "threat", box: .init(x: 0, y: 0, width: 10, height: 10))
        // Pistols score low but cleanly; blades throw a 0.6 false alarm on a clear scan. One
        // threshold for both would sit above 0.6 and lose every pistol.
        let scored = [scan([pistol], [.init(label: "pistol", confidence: 0.3, box: box(0))]),
                      scan([], [.init(label: "blade", confidence: 0.6, box: box(50)), .init(label: "pistol", confidence: 0.1, box: box(80))]),
                      scan([], [])]
        let r = Evaluation(scored: scored).report()
        XCTAssertEqual(r.detectionRate, 1)
        XCTAssertEqual(r.clearScansAlarming, 0)
        XCTAssertEqual(r.perClass["pistol"]!.operatingThreshold, 0.1, accuracy: 1e-4)
        XCTAssertEqual(r.perClass["blade"]!.operatingThreshold, 0.6, accuracy: 1e-4)
    }
}
