import DICOMNetwork
import DICOS
import Foundation
import Pipeline
import XCTest

/// A TDR goes back to a station over DICOM: Vigil's SCU sends it, Vigil's SCP (which accepts the
/// TDR class) stores it. The SCP here takes implicit VR little endian only, so the SCU must
/// re-encode the report's nested sequences; dcmdump must then show the same elements and values.
final class TDRTransferTests: XCTestCase {
    private struct Collector: DICOMStoreDelegate {
        let folder: URL
        func store(_ object: ReceivedObject) async -> StoreStatus {
            do {
                try Data(object.part10).write(to: folder.appendingPathComponent("\(object.sopInstanceUID).dcs"))
                return .success
            } catch {
                return .outOfResources("\(error)")
            }
        }
    }

    private func elements(_ url: URL) throws -> [String] {
        let run = try Subprocess.run("/usr/bin/dcmdump", ["-Un", url.path])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertFalse(run.stderr.lowercased().contains("warn") || run.stderr.lowercased().contains("error"), run.stderr)
        // Element lines only: item and sequence framing differs (defined vs undefined lengths) by design.
        return run.stdout.split(separator: "\n").map(String.init)
            .filter { $0.trimmingCharacters(in: .whitespaces).hasPrefix("(") }
            .filter { !$0.contains("(fffe,") && !$0.contains(" SQ (") && !$0.hasPrefix("(0002,") }
    }

    func testReportReachesAnImplicitOnlySCPIntact() async throws {
        let json = """
        {"scanId": "s-1", "source": "x.tiff", "site": null, "station": null, "profile": "cargo",
         "image": {"width": 2048, "height": 1024, "channels": ["high", "low"], "bitsStored": 16},
         "verdict": "alarm", "findings": [
           {"kind": "threat", "label": "rifle", "confidence": 0.8, "threshold": 0.6, "box": {"x": 1, "y": 2, "width": 30, "height": 40}, "model": "cargo-threat@1.0.0"},
           {"kind": "concealment", "label": "textiles", "confidence": 0.7, "threshold": 0.5, "box": {"x": 100, "y": 200, "width": 300, "height": 400}, "model": "cargo-empty@1.0.0"}],
         "models": [{"name": "cargo-threat", "version": "1.0.0", "ms": 7.9}], "timingsMs": {"total": 10.6}}
        """
        let result = try JSONDecoder().decode(AnalysisResult.self, from: Data(json.utf8))
        let report = ThreatDetectionReport(result: result, image: .synthetic(for: result))
        let bytes = try report.encode()

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tdr-scp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var configuration = DICOMStoreSCP.Configuration()
        configuration.port = 0
        configuration.transferSyntaxes = [DICOMUID.implicitVRLittleEndian]
        let scp = try await DICOMStoreSCP.start(configuration: configuration, delegate: Collector(folder: folder))
        let status: StoreStatus
        do {
            status = try await DICOMStoreSCU().send(part10: bytes, to: "127.0.0.1", port: scp.localPort, calledAETitle: "VIGIL")
        } catch {
            await scp.stop()
            throw error
        }
        await scp.stop()
        XCTAssertEqual(status, .success)

        let original = folder.appendingPathComponent("original.dcs")
        try Data(bytes).write(to: original)
        let stored = folder.appendingPathComponent("\(report.sopInstanceUID).dcs")
        let meta = try Part10.readMeta([UInt8](try Data(contentsOf: stored))).meta
        XCTAssertEqual(meta.transferSyntaxUID, DICOMUID.implicitVRLittleEndian)
        XCTAssertEqual(meta.sopClassUID, ThreatDetectionReport.sopClassUID)
        let sent = try elements(original), received = try elements(stored)
        XCTAssertGreaterThan(sent.count, 40)
        XCTAssertEqual(sent, received)
        XCTAssertTrue(received.contains { $0.contains("(4010,1012) CS [ANOMALY]") })
        XCTAssertTrue(received.contains { $0.contains("(4010,101d) FL 1\\2\\0\\30\\41\\0") })
    }
}
