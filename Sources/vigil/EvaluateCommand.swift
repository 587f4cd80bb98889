import ArgumentParser
import Foundation
import Pipeline
import Profiles
import ScanImage

/// `vigil evaluate`: detection metrics of the installed models on a labelled folder.
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Score the installed models on labelled scans (labels.json of `vigil synth`).",
        discussion: """
            Prints per-class AP@0.5, the detection rate at per-class thresholds where together at most \
            --false-alarm-rate of clear scans alarm (an object counts as found when a box of its class overlaps \
            it with IoU >= 0.3), the alarm rates at the installed thresholds, and declared-empty verification accuracy.
            """)

    @Option(help: "Folder holding the scans named in the labels file.")
    var images: String

    @Option(help: "labels.json (default: IMAGES/labels.json).")
    var labels: String?

    @Option(help: "Largest share of clear scans allowed to alarm at the operating point.")
    var falseAlarmRate = 0.01

    @Option(help: "Also write one JSON line per scan (candidates and truth) to this file.")
    var details: String?

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var profiles: ProfileOptions

    func run() throws {
        let labelsPath = labels ?? (images as NSString).appendingPathComponent("labels.json")
        guard let data = FileManager.default.contents(atPath: labelsPath) else { throw CommandFailure("\(labelsPath): cannot read the labels file") }
        let truth: GroundTruth
        do { truth = try JSONDecoder().decode(GroundTruth.self, from: data) } catch { throw CommandFailure("\(labelsPath): not a labels file: \(error)") }
        let analyzer = try modelOptions.analyzer(profiles)
        var scored: [Evaluation.Scored] = []
        var lines: [String] = []
        for entry in truth.scans {
            let path = (images as NSString).appendingPathComponent(entry.file)
            let request = Analyzer.Request(source: path, profile: entry.profile, declaration: entry.declaration)
            let scan: Scan
            do { scan = try analyzer.decoder.decodeFile(at: path) } catch { throw CommandFailure("\(error)") }
            // Candidates down to 0.01, so every operating point can be read off one pass.
            let candidates = try analyzer.candidates(scan, request, floor: 0.01)
            let result = analyzer.decide(candidates, request)
            let threats = candidates.perModel.filter { $0.manifest.purpose == .threats }.flatMap(\.candidates)
            let goods = candidates.perModel.filter { $0.manifest.purpose == .goods }
            let loadFound = goods.isEmpty ? nil : goods.contains { m in m.candidates.contains(where: m.manifest.accepts) }
            scored.append(.init(truth: entry, threats: threats,
                                alarmsAtDefaults: result.findings.contains { Evaluation.scoredKinds.contains($0.kind) },
                                loadFound: loadFound, declarationFindings: result.findings.map(\.kind)))
            if details != nil {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                lines.append(String(decoding: try encoder.encode(result), as: UTF8.self))
            }
        }
        if let details { try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: details)) }
        try printJSON(Evaluation(scored: scored).report(falseAlarmRate: falseAlarmRate))
    }
}
