import Foundation
import NIOCore
import NIOPosix
import Pipeline
import Profiles
import Store
import XCTest

@testable import Ingest

/// The native listener, the durable intake and the real pipeline, over loopback sockets.
final class ServiceTests: XCTestCase {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let sample = repo.appendingPathComponent("ScannerProfiles/samples/parcel-de-160kv.tiff").path
    static let analyzer: Analyzer = {
        let profiles = try! ProfileCatalog(directory: repo.appendingPathComponent("ScannerProfiles").path)
        return try! Analyzer(profiles: profiles, models: InstalledModels(directory: repo.appendingPathComponent("Models").path))
    }()

    var folder: String!
    var group: MultiThreadedEventLoopGroup!

    override func setUpWithError() throws {
        folder = NSTemporaryDirectory() + "vigil-ingest-\(UUID().uuidString)"
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    }

    override func tearDown() async throws {
        try? await group.shutdownGracefully()
        try? FileManager.default.removeItem(atPath: folder)
    }

    func startService(capacity: Int = 8) async throws -> (ScanIntake, IngestServer, Int) {
        let intake = ScanIntake(store: try ScanStore(directory: folder), analyzer: Self.analyzer,
                                configuration: .init(capacity: capacity, workers: 1))
        try intake.start()
        let server = IngestServer(intake: intake, group: group)
        let port = try await server.start(host: "127.0.0.1", port: 0)
        return (intake, server, port)
    }

    func stop(_ intake: ScanIntake, _ server: IngestServer) async {
        await server.stopAccepting()
        intake.shutdown()
        await server.closeConnections()
    }

    func testAPushedScanIsAcknowledgedThenAnsweredWithThePipelinesResult() async throws {
        let (intake, server, port) = try await startService()
        let client = try await StationClient.connect(host: "127.0.0.1", port: port, hello: Hello(station: "gate-1"), group: group)
        XCTAssertEqual(client.welcome.version, 1)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Self.sample)))
        let reply = try await client.send(ScanMetadata(scanId: "S1", site: "tallinn", profile: "parcel-de-160kv", source: "sample.tiff"), image: bytes)
        let ack = try XCTUnwrap(reply.ack, "no ACK before the RESULT")
        XCTAssertFalse(ack.duplicate)
        let result = try XCTUnwrap(reply.result)
        XCTAssertEqual(result.scanId, ack.scanId)
        XCTAssertEqual(result.station, "gate-1")
        XCTAssertEqual(result.source, "sample.tiff")
        let offline = Self.analyzer.analyze(file: Self.sample, .init(source: "sample.tiff", profile: "parcel-de-160kv"))
        XCTAssertEqual(result.findings, offline.findings)
        XCTAssertEqual(result.verdict, offline.verdict)
        // Stored with its result; nothing left pending.
        XCTAssertEqual(try intake.store.result(scanId: ack.scanId)?.findings, offline.findings)
        XCTAssertEqual(try intake.store.pending(), [])

        // The same station scan again: the same scan, not a second analysis.
        let again = try await client.send(ScanMetadata(scanId: "S1", profile: "parcel-de-160kv"), image: bytes)
        XCTAssertEqual(again.ack?.scanId, ack.scanId)
        XCTAssertEqual(again.ack?.duplicate, true)
        XCTAssertEqual(again.result?.findings, offline.findings)
        XCTAssertEqual(try intake.store.counts().scans, 1)
        await client.close()
        await stop(intake, server)
    }

    func testRefusedScansGetTheirCodeAndTheConnectionKeepsWorking() async throws {
        let (intake, server, port) = try await startService()
        let client = try await StationClient.connect(host: "127.0.0.1", port: port, hello: Hello(station: "gate-1"), group: group)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Self.sample)))
        let unknown = try await client.send(ScanMetadata(scanId: "U1", profile: "no-such-scanner"), image: bytes)
        XCTAssertEqual(unknown.error?.code, "unknown-profile")
        XCTAssertNil(unknown.ack)
        let garbage = try await client.send(ScanMetadata(scanId: "U2", profile: "parcel-de-160kv"), image: [0x01, 0x02, 0x03, 0x04, 0x05])
        XCTAssertEqual(garbage.error?.code, "unsupported-format")
        let raw = try await client.send(ScanMetadata(scanId: "U3", profile: "parcel-de-160kv", format: "raw",
                                                     raw: .init(width: 8, height: 8, channels: 2, sample: "uint16")), image: [0, 1, 2])
        XCTAssertEqual(raw.error?.code, "unsupported-format")
        XCTAssertEqual(try intake.store.counts().scans, 0, "refused scans are not kept")
        let good = try await client.send(ScanMetadata(scanId: "G1", profile: "parcel-de-160kv"), image: bytes)
        XCTAssertNotNil(good.result)
        await client.close()
        await stop(intake, server)
    }

    /// What a crash leaves: scans stored (acknowledged) without results. The next start runs
    /// each of them exactly once.
    func testScansAcknowledgedBeforeAStopAreAnalysedOnceAtTheNextStart() throws {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Self.sample)))
        var ids: [String] = []
        do {
            let store = try ScanStore(directory: folder)
            for i in 0..<3 {
                guard case .stored(let s) = try store.admit(NewScan(ScanInfo(station: "gate-1", stationScanId: "C\(i)", profile: "parcel-de-160kv",
                                                                    source: "c\(i).tiff", format: "tiff", via: "native"), bytes: bytes)) else {
                    return XCTFail("not stored")
                }
                ids.append(s.id)
            }
            XCTAssertTrue(try store.record(Self.analyzer.analyze(file: Self.sample, .init(source: "c0.tiff", profile: "parcel-de-160kv", scanId: ids[0])), for: ids[0]))
        }
        let intake = ScanIntake(store: try ScanStore(directory: folder), analyzer: Self.analyzer, configuration: .init(capacity: 4, workers: 2))
        try intake.start()
        intake.shutdown()  // drains what start() queued
        XCTAssertEqual(try intake.store.pending(), [])
        for id in ids { XCTAssertNotNil(try intake.store.result(scanId: id), id) }
        XCTAssertEqual(try intake.store.list().compactMap(\.verdict).count, 3)
    }

    func testAFullQueueAnswersBusyAndKeepsNothing() throws {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Self.sample)))
        // No workers started: the queue only fills.
        let intake = ScanIntake(store: try ScanStore(directory: folder), analyzer: Self.analyzer, configuration: .init(capacity: 2, workers: 1))
        var outcomes: [IntakeOutcome] = []
        for i in 0..<4 {
            outcomes.append(intake.submit(NewScan(ScanInfo(station: "gate-1", stationScanId: "B\(i)", profile: "parcel-de-160kv", source: "b.tiff",
                                                  format: "tiff", via: "native"), bytes: bytes), raw: nil) { _ in })
        }
        let busy = outcomes.filter { if case .refused(let r) = $0 { return r.code == .busy } else { return false } }
        XCTAssertEqual(busy.count, 2)
        XCTAssertEqual(intake.depth, 2)
        XCTAssertEqual(try intake.store.counts().scans, 2)
    }
}
