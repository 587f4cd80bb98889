import ArgumentParser
import CrossCheck
import NPYFormat
import Foundation
import Pipeline
import Profiles
import ScanImage

/// `vigil pair A B`: the same vehicle scanned twice (A earlier, B later), compared.
struct PairCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pair",
        abstract: "Cross-check two scans of one vehicle; print the differences as a result JSON.",
        discussion: "Findings are of kind paired-difference, label added or removed (from A to B), with the box in A (box) and in B (otherBox). Exit code 1 when a scan cannot be read or the two cannot be compared. See docs/crosscheck.md.")

    @Argument(help: "The earlier scan.")
    var a: String
    @Argument(help: "The later scan.")
    var b: String
    @Option(help: "Scanner profile of A (needed unless the file names its scanner model).")
    var profileA: String?
    @Option(help: "Scanner profile of B.")
    var profileB: String?
    @OptionGroup var profiles: ProfileOptions

    struct Output: Encodable {
        struct Finding: Encodable {
            var kind = "paired-difference"
            var label: String
            var confidence: Double
            var box: AnalysisResult.Box
            var otherBox: AnalysisResult.Box
            var significance: Double
            var meanAttenuationDifference: Double
        }
        struct RegistrationSummary: Encodable {
            var verticalOffsetPixels: Double
            var verticalScale: Double
            var shiftMinPixels: Double
            var shiftMaxPixels: Double
            var scale: Double
            var noise: Double
            /// [column in A, column in B] every 16 columns of A, along its middle row (received pixels).
            var columns: [[Double]]
            /// [row in A, row in B] every 16 rows of A, at its middle column.
            var rows: [[Double]]
        }
        var a: String
        var b: String
        var profileA: String
        var profileB: String
        var verdict: String
        var findings: [Finding]
        var registration: RegistrationSummary
        var timingsMs: [String: Double]
    }

    func run() throws {
        let clock = ContinuousClock()
        let t0 = clock.now
        let catalog = try profiles.catalog()
        let decoder = ScanDecoder()
        func load(_ path: String, _ id: String?) throws -> (Scan, ScannerProfile) {
            let scan = try decoder.decodeFile(at: path)
            let profile: ScannerProfile
            if let id { profile = try catalog.profile(id) } else if let model = scan.source.model,
                      let p = catalog.profiles.values.first(where: { $0.model == model }) { profile = p } else {
                throw CommandFailure("\(path): the file does not name its scanner; give its profile (--profile-a / --profile-b)")
            }
            return (try profile.interpret(scan, source: path), profile)
        }
        let (sa, pa) = try load(a, profileA)
        let (sb, pb) = try load(b, profileB)
        let t1 = clock.now
        let comparison: PairedComparison
        do { comparison = try PairedComparison.compare(sa, profileA: pa, sb, profileB: pb) } catch {
            throw CommandFailure("\(a) and \(b): \(error)")
        }
        let t2 = clock.now
        let findings = comparison.differences.map { d in
            Output.Finding(label: d.added ? "added" : "removed", confidence: d.confidence.rounded(toPlaces: 3),
                           box: .init(d.boxA, imageWidth: sa.width, imageHeight: sa.height),
                           otherBox: .init(d.boxB, imageWidth: sb.width, imageHeight: sb.height),
                           significance: d.significance.rounded(toPlaces: 1), meanAttenuationDifference: d.meanDifference.rounded(toPlaces: 3))
        }
        let shifts = comparison.registration.shift
        let columns = stride(from: 0, to: sa.width, by: 16).map { x in
            [Double(x), comparison.pointInB(x: Double(x), y: Double(sa.height / 2)).x.rounded(toPlaces: 2)]
        }
        let rows = stride(from: 0, to: sa.height, by: 16).map { y in
            [Double(y), comparison.pointInB(x: Double(sa.width / 2), y: Double(y)).y.rounded(toPlaces: 2)]
        }
        try printJSON(Output(
            a: a, b: b, profileA: pa.id, profileB: pb.id, verdict: findings.isEmpty ? "clear" : "alarm", findings: findings,
            registration: .init(verticalOffsetPixels: comparison.registration.dy.rounded(toPlaces: 2),
                                verticalScale: comparison.registration.scaleY.rounded(toPlaces: 4),
                                shiftMinPixels: (shifts.min() ?? 0).rounded(toPlaces: 2), shiftMaxPixels: (shifts.max() ?? 0).rounded(toPlaces: 2),
                                scale: comparison.scale.rounded(toPlaces: 3), noise: comparison.noise.rounded(toPlaces: 4),
                                columns: columns, rows: rows),
            timingsMs: ["decode": milliseconds(t1 - t0), "compare": milliseconds(t2 - t1), "total": milliseconds(clock.now - t0)]))
    }
}
