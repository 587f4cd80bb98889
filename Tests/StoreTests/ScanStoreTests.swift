import Foundation
import Pipeline
import XCTest

@testable import Store

final class ScanStoreTests: XCTestCase {
    var folder: String!

    override func setUpWithError() throws {
        folder = NSTemporaryDirectory() + "vigil-store-\(UUID().uuidString)"
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: folder)
    }

    func newScan(_ id: String, station: String = "gate-1", site: String? = "tallinn", bytes: [UInt8] = [1, 2, 3]) -> NewScan {
        NewScan(ScanInfo(station: station, stationScanId: id, site: site, profile: "parcel-de-160kv", pairKey: "MSCU1",
                         declaration: Declaration(category: "textiles"), source: "\(id).tiff", format: "tiff", via: "native"), bytes: bytes)
    }

    /// A result as the pipeline writes it (decoded from its JSON, the form the store keeps).
    func result(_ scanId: String, verdict: String = "alarm") -> AnalysisResult {
        let finding = #"{"kind":"threat","label":"pistol","confidence":0.9,"threshold":0.3,"box":{"x":1,"y":2,"width":3,"height":4},"model":"parcel-threat@1.0.0"}"#
        let json = """
            {"scanId":"\(scanId)","source":"s.tiff","site":"tallinn","station":"gate-1","profile":"parcel-de-160kv",
             "image":{"width":10,"height":8,"channels":["high","low"],"bitsStored":16},"verdict":"\(verdict)",
             "findings":[\(verdict == "alarm" ? finding : "")],"models":[{"name":"parcel-threat","version":"1.0.0","ms":7.5}],
             "timingsMs":{"total":12}}
            """
        return try! JSONDecoder().decode(AnalysisResult.self, from: Data(json.utf8))
    }

    func testAdmittedScanKeepsItsBytesAndMetadataAcrossReopening() throws {
        let store = try ScanStore(directory: folder)
        guard case .stored(let stored) = try store.admit(newScan("A1", bytes: [9, 8, 7, 6])) else { return XCTFail("not stored") }
        let reopened = try ScanStore(directory: folder)
        let found = try XCTUnwrap(try reopened.scan(id: stored.id))
        XCTAssertEqual(found.info.stationScanId, "A1")
        XCTAssertEqual(found.info.declaration, Declaration(category: "textiles"))
        XCTAssertEqual(try reopened.bytes(of: found), [9, 8, 7, 6])
        XCTAssertEqual(try reopened.pending().map(\.id), [stored.id])
        // Only the service account reads the store.
        let mode = { (path: String) in (try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? -1 }
        XCTAssertEqual(mode(folder), 0o750)
        XCTAssertEqual(mode(folder + "/scans"), 0o750)
        XCTAssertEqual(mode(folder + "/scans/\(stored.id).tiff"), 0o640)
        XCTAssertEqual(mode(folder + "/vigil.sqlite"), 0o640)
        // No half-written file is left beside the scan.
        let files = try FileManager.default.contentsOfDirectory(atPath: folder + "/scans")
        XCTAssertEqual(files, ["\(stored.id).tiff"])
    }

    func testSameStationScanIdIsADuplicateButAnotherStationsIsNot() throws {
        let store = try ScanStore(directory: folder)
        guard case .stored(let first) = try store.admit(newScan("A1")) else { return XCTFail("not stored") }
        guard case .duplicate(let again) = try store.admit(newScan("A1")) else { return XCTFail("A1 again is a duplicate") }
        XCTAssertEqual(again.id, first.id)
        guard case .stored = try store.admit(newScan("A1", station: "gate-2")) else { return XCTFail("another station's A1 is a new scan") }
        XCTAssertEqual(try store.counts().scans, 2)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder + "/scans").count, 2)
    }

    func testAScanGetsOneResultOnly() throws {
        let store = try ScanStore(directory: folder)
        guard case .stored(let s) = try store.admit(newScan("A1")) else { return XCTFail("not stored") }
        XCTAssertTrue(try store.record(result(s.id, verdict: "alarm"), for: s.id))
        XCTAssertFalse(try store.record(result(s.id, verdict: "clear"), for: s.id))
        XCTAssertEqual(try store.result(scanId: s.id)?.verdict, "alarm")
        XCTAssertEqual(try store.pending(), [])
        XCTAssertEqual(try store.list().first?.findings, 1)
    }

    func testListFiltersBySiteVerdictTimeAndLimitNewestFirst() throws {
        let store = try ScanStore(directory: folder)
        var ids: [String] = []
        for (i, site) in ["tallinn", "narva", "tallinn", "tallinn"].enumerated() {
            guard case .stored(let s) = try store.admit(newScan("S\(i)", site: site)) else { return XCTFail("not stored") }
            ids.append(s.id)
        }
        try store.record(result(ids[0], verdict: "clear"), for: ids[0])
        try store.record(result(ids[2], verdict: "alarm"), for: ids[2])
        XCTAssertEqual(try store.list().map(\.stationScanId), ["S3", "S2", "S1", "S0"])
        XCTAssertEqual(try store.list(site: "tallinn").map(\.stationScanId), ["S3", "S2", "S0"])
        XCTAssertEqual(try store.list(verdict: "alarm").map(\.stationScanId), ["S2"])
        XCTAssertEqual(try store.list(verdict: "pending").map(\.stationScanId), ["S3", "S1"])
        XCTAssertEqual(try store.list(limit: 2).count, 2)
        XCTAssertEqual(try store.list(since: Date().addingTimeInterval(60)), [])
        XCTAssertEqual(try store.list(site: "tallinn", verdict: "clear").first?.verdict, "clear")
    }

    func testAnUnwritableFolderIsAOneLineError() {
        XCTAssertThrowsError(try ScanStore(directory: "/proc/vigil-cannot-write")) { error in
            XCTAssertTrue("\(error)".contains("/proc/vigil-cannot-write"), "\(error)")
            XCTAssertFalse("\(error)".contains("\n"))
        }
    }
}
