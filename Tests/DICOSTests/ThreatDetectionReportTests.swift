import DICOS
import Foundation
import Pipeline
import XCTest

/// TDRs checked with dcmtk's dcmdump: it must parse them without a warning and show the values.
final class ThreatDetectionReportTests: XCTestCase {
    private func result(verdict: String, findings: String, error: String? = nil, frames: Int? = nil) throws -> AnalysisResult {
        let json = """
        {"scanId": "scan-0001", "source": "parcel-ct.dcm", "site": "port-a", "station": "lane-3", "profile": "parcel-ct",
         "image": {"width": 256, "height": 256, "channels": ["ct"], "bitsStored": 16\(frames.map { ", \"frames\": \($0)" } ?? "")},
         "verdict": "\(verdict)", "findings": [\(findings)],
         "models": [{"name": "parcel-threat", "version": "1.0.0", "ms": 7.5}, {"name": "cargo-empty", "version": "1.1.0", "ms": 2.0}],
         "timingsMs": {"decode": 1.0, "total": 12.5}\(error.map { ", \"error\": \"\($0)\"" } ?? "")}
        """
        return try JSONDecoder().decode(AnalysisResult.self, from: Data(json.utf8))
    }

    private let twoFindings = """
        {"kind": "threat", "label": "pistol", "confidence": 0.91, "threshold": 0.6,
         "box": {"x": 120, "y": 40, "width": 80, "height": 30}, "model": "parcel-threat@1.0.0"},
        {"kind": "threat", "label": "narcotics", "confidence": 0.75, "threshold": 0.5,
         "box": {"x": 10, "y": 20, "width": 5, "height": 6}, "model": "parcel-threat@1.0.0", "slices": [3, 9]}
        """

    private let image = ReferencedImage(studyInstanceUID: "1.2.826.0.1.3680043.2.1", seriesInstanceUID: "1.2.826.0.1.3680043.2.2",
                                        sopClassUID: DICOSClass.ct, sopInstanceUID: "1.2.826.0.1.3680043.2.3",
                                        objectOfInspectionID: "MSCU1234567", rows: 256, columns: 256, frames: 24)

    /// Writes the report and returns dcmdump's stdout; fails on any error or warning on stderr.
    private func dump(_ report: ThreatDetectionReport, name: String = #function) throws -> String {
        let bytes = try report.encode()
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tdr-\(UUID().uuidString).dcm")
        try Data(bytes).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        // Tests/python/test_tdr_pydicom.py reads the same reports with pydicom.
        if let keep = ProcessInfo.processInfo.environment["VIGIL_TDR_SAMPLES"] {
            try Data(bytes).write(to: URL(fileURLWithPath: keep).appendingPathComponent("\(name).dcs"))
        }
        let run = try Subprocess.run("/usr/bin/dcmdump", ["-M", "+L", "-Un", url.path])
        XCTAssertEqual(run.status, 0, run.stderr)
        let complaints = run.stderr.split(separator: "\n").filter { $0.lowercased().contains("error") || $0.lowercased().contains("warn") }
        XCTAssertEqual(complaints, [], "dcmdump complained")
        return run.stdout
    }

    private func assertLine(_ dump: String, _ tag: String, _ value: String, file: StaticString = #filePath, line: UInt = #line) {
        let lines = dump.split(separator: "\n").filter { $0.contains("(\(tag))") }
        XCTAssertTrue(lines.contains { $0.contains(value) }, "\(tag) \(value) not in \(lines)", file: file, line: line)
    }

    func testAlarmWithTwoDimensionalAndCTFindings() throws {
        let report = ThreatDetectionReport(result: try result(verdict: "alarm", findings: twoFindings, frames: 24), image: image)
        let d = try dump(report)
        assertLine(d, "0002,0002", "1.2.840.10008.5.1.4.1.1.501.3")
        assertLine(d, "0002,0010", "1.2.840.10008.1.2.1]")
        assertLine(d, "0008,0016", "1.2.840.10008.5.1.4.1.1.501.3")
        assertLine(d, "0008,0060", "[TDR]")
        assertLine(d, "0008,0070", "[Vigil]")
        assertLine(d, "0010,0020", "[MSCU1234567]")
        assertLine(d, "0020,000d", "[1.2.826.0.1.3680043.2.1]")
        assertLine(d, "4010,1027", "[MACHINE]")
        assertLine(d, "4010,1031", "[ALARM]")
        assertLine(d, "4010,1024", "[SUCCESS]")
        assertLine(d, "4010,1029", "[parcel-threat@1.0.0\\cargo-empty@1.1.0]")
        assertLine(d, "4010,1033", "US 2")
        assertLine(d, "4010,1034", "US 2")
        assertLine(d, "4010,1069", "FL 12.5")
        assertLine(d, "4010,1010", "US 1")
        assertLine(d, "4010,1010", "US 2")
        assertLine(d, "4010,1012", "[PI]")
        assertLine(d, "4010,1012", "[CONTRABAND]")
        assertLine(d, "4010,1013", "[pistol]")
        assertLine(d, "4010,1014", "[NO_INTERFERENCE]")
        assertLine(d, "4010,1015", "[THREAT]")
        assertLine(d, "4010,1016", "FL 0.91")
        assertLine(d, "4010,1016", "FL 0.75")
        // 2-D box 120,40 80x30 → (120,40,0)-(199,69,0); CT box on slices 3...9.
        assertLine(d, "4010,101d", "FL 120\\40\\0\\199\\69\\0")
        assertLine(d, "4010,101d", "FL 10\\20\\3\\14\\25\\9")
        // The scanned image is referenced from the report and from each PTO.
        XCTAssertEqual(d.components(separatedBy: "[1.2.826.0.1.3680043.2.3]").count - 1, 3)
        XCTAssertFalse(d.contains("(4010,1021)"), "no abort reason on success")
    }

    func testClearReportHasNoThreats() throws {
        let report = ThreatDetectionReport(result: try result(verdict: "clear", findings: ""), image: image)
        let d = try dump(report)
        assertLine(d, "4010,1031", "[CLEAR]")
        assertLine(d, "4010,1033", "US 0")
        assertLine(d, "4010,1034", "US 0")
        XCTAssertFalse(d.contains("(4010,1010)"))
    }

    func testErrorReportIsUnknownAndAborted() throws {
        let report = ThreatDetectionReport(
            result: try result(verdict: "error", findings: "", error: "cannot decode parcel-ct.dcm: unsupported transfer syntax"),
            image: .synthetic(for: try result(verdict: "error", findings: "")))
        let d = try dump(report)
        assertLine(d, "4010,1031", "[UNKNOWN]")
        assertLine(d, "4010,1024", "[ABORT]")
        assertLine(d, "4010,1021", "[UNKNOWN_DATATYPE]")
        assertLine(d, "0020,000d", "[2.25.")
        assertLine(d, "0010,0020", "PatientID")
    }

    func testCategories() throws {
        func finding(_ kind: String, _ label: String) throws -> AnalysisResult.Finding {
            let json = #"{"kind": "\#(kind)", "label": "\#(label)", "confidence": 0.5, "threshold": 0.5, "box": {"x": 0, "y": 0, "width": 1, "height": 1}, "model": "m@1"}"#
            return try JSONDecoder().decode(AnalysisResult.Finding.self, from: Data(json.utf8))
        }
        XCTAssertEqual(ThreatDetectionReport.threatCategory(for: try finding("threat", "rifle")), "PI")
        XCTAssertEqual(ThreatDetectionReport.threatCategory(for: try finding("threat", "blade")), "PI")
        XCTAssertEqual(ThreatDetectionReport.threatCategory(for: try finding("threat", "car")), "CONTRABAND")
        XCTAssertEqual(ThreatDetectionReport.threatCategory(for: try finding("concealment", "textiles")), "ANOMALY")
        XCTAssertEqual(ThreatDetectionReport.threatCategory(for: try finding("not-empty", "goods")), "ANOMALY")
        XCTAssertEqual(ThreatDetectionReport.threatCategory(for: try finding("paired-difference", "pistol")), "ANOMALY")
        XCTAssertEqual(ThreatDetectionReport.threatCategory(for: try finding("threat", "textiles")), "OTHER")
    }

    func testSyntheticUIDsAreValidAndDistinct() {
        let a = UIDGenerator.make(), b = UIDGenerator.make()
        XCTAssertNotEqual(a, b)
        for uid in [a, b] {
            XCTAssertTrue(uid.hasPrefix("2.25."))
            XCTAssertLessThanOrEqual(uid.count, 64)
            XCTAssertTrue(uid.allSatisfy { $0 == "." || $0.isNumber })
            XCTAssertFalse(uid.dropFirst(5).hasPrefix("0") && uid.count > 6, "no leading zero in a UID component")
        }
    }
}

/// References to received objects, read with dcmtk and checked against dcmdump.
final class ReferencedImageTests: XCTestCase {
    private let samples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("ScannerProfiles/samples")

    private func value(_ tag: String, in url: URL) throws -> String {
        let run = try Subprocess.run("/usr/bin/dcmdump", ["-Un", "+P", tag, url.path])
        guard let open = run.stdout.firstIndex(of: "["), let close = run.stdout.firstIndex(of: "]") else { return "" }
        return String(run.stdout[run.stdout.index(after: open)..<close])
    }

    func testReferenceToAReceivedCT() throws {
        let url = samples.appendingPathComponent("parcel-ct.dcm")
        let image = try ReferencedImage(part10: [UInt8](try Data(contentsOf: url)))
        XCTAssertEqual(image.sopClassUID, DICOSClass.ct)
        XCTAssertEqual(image.sopInstanceUID, try value("0008,0018", in: url))
        // The sample has no study or series: the reference gets new ones rather than empty UIDs.
        XCTAssertEqual(try value("0020,000d", in: url), "")
        XCTAssertTrue(image.studyInstanceUID.hasPrefix("2.25."))
        XCTAssertTrue(image.seriesInstanceUID.hasPrefix("2.25."))
        XCTAssertNil(image.objectOfInspectionID)
        XCTAssertEqual(image.frames, 24)
        XCTAssertEqual(image.rows, 256)
        XCTAssertEqual(image.columns, 256)
    }

    func testReferenceKeepsTheObjectsOwnStudySeriesAndID() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("ref-\(UUID().uuidString).dcm")
        try FileManager.default.copyItem(at: samples.appendingPathComponent("vehicle-top.dcm"), to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let modify = try Subprocess.run("/usr/bin/dcmodify", ["-nb", "-i", "(0020,000D)=1.2.3.4", "-i", "(0020,000E)=1.2.3.5",
                                                              "-i", "(0020,0052)=1.2.3.6", "-i", "(0010,0020)=ABCU1234560", url.path])
        XCTAssertEqual(modify.status, 0, modify.stderr)
        let image = try ReferencedImage(part10: [UInt8](try Data(contentsOf: url)))
        XCTAssertEqual(image, ReferencedImage(studyInstanceUID: "1.2.3.4", seriesInstanceUID: "1.2.3.5", sopClassUID: DICOSClass.dxForPresentation,
                                              sopInstanceUID: try value("0008,0018", in: url), frameOfReferenceUID: "1.2.3.6",
                                              objectOfInspectionID: "ABCU1234560", rows: 1152, columns: 800, frames: 1))
    }

    func testTruncatedObjectIsRefused() throws {
        let bytes = [UInt8](try Data(contentsOf: samples.appendingPathComponent("vehicle-top.dcm")))
        XCTAssertThrowsError(try ReferencedImage(part10: Array(bytes.prefix(400)))) {
            XCTAssertTrue("\($0)".hasPrefix("cannot reference the received DICOM object:"), "\($0)")
        }
    }
}
