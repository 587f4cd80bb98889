import DICOMNetwork
import Foundation
import NIOCore
import XCTest

/// Vigil's SCU against dcmtk's storescp (a real peer on a free port) and against Vigil's own SCP.
final class StoreSCUTests: XCTestCase {
    private let sample = samplesFolder.appendingPathComponent("vehicle-top.dcm")

    /// dcmdump reads `url` without complaint; returns its dump of the meta header and data set.
    private func dump(_ url: URL) async throws -> String {
        let run = try await Subprocess.run("dcmdump", ["-M", "-Un", url.path])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertFalse(run.stderr.lowercased().contains("error") || run.stderr.lowercased().contains("warn"), run.stderr)
        return run.stdout
    }

    private func pixelData(_ url: URL) async throws -> Data {
        let folder = try makeTemporaryFolder("pixels")
        defer { try? FileManager.default.removeItem(at: folder) }
        let run = try await Subprocess.run("dcmdump", ["+W", folder.path, url.path])
        XCTAssertEqual(run.status, 0, run.stderr)
        let raws = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        return try raws.reduce(into: Data()) { $0.append(try Data(contentsOf: folder.appendingPathComponent($1))) }
    }

    func testStoreToStorescp() async throws {
        let storescp = try await Storescp(aeTitle: "STATION")
        defer { storescp.stop() }
        let status = try await DICOMStoreSCU().send(part10: [UInt8](try Data(contentsOf: sample)), to: "127.0.0.1",
                                                    port: storescp.port, calledAETitle: "STATION")
        XCTAssertEqual(status, .success)
        let files = storescp.receivedFiles
        XCTAssertEqual(files.count, 1)
        guard let file = files.first else { return }
        let d = try await dump(file)
        XCTAssertTrue(d.contains("(0002,0010) UI [1.2.840.10008.1.2.1]"), "received in explicit VR little endian")
        XCTAssertTrue(d.contains("(0002,0016) AE [VIGIL]"), "calling AE title")
        XCTAssertTrue(d.contains("1.2.840.10008.5.1.4.1.1.501.2.1"))
        let sent = try await pixelData(sample), arrived = try await pixelData(file)
        XCTAssertGreaterThan(sent.count, 1000)
        XCTAssertTrue(sent == arrived, "pixel data changed in transit")
    }

    func testImplicitOnlyPeerGetsAReencodedDataSet() async throws {
        let storescp = try await Storescp(aeTitle: "STATION", extraArguments: ["+xi"])
        defer { storescp.stop() }
        let status = try await DICOMStoreSCU().send(part10: [UInt8](try Data(contentsOf: sample)), to: "127.0.0.1",
                                                    port: storescp.port, calledAETitle: "STATION", callingAETitle: "VIGIL2")
        XCTAssertEqual(status, .success)
        guard let file = storescp.receivedFiles.first else { return XCTFail("storescp stored nothing") }
        let d = try await dump(file)
        XCTAssertTrue(d.contains("(0002,0010) UI [1.2.840.10008.1.2]"), "received in implicit VR little endian:\n\(d.prefix(2000))")
        XCTAssertTrue(d.contains("(0002,0016) AE [VIGIL2]"))
        let sent = try await pixelData(sample), arrived = try await pixelData(file)
        XCTAssertTrue(sent == arrived, "pixel data changed in transit")
    }

    func testStoreToVigilsOwnSCPAndItsRefusals() async throws {
        let folder = try makeTemporaryFolder("own")
        defer { try? FileManager.default.removeItem(at: folder) }
        let delegate = FolderDelegate(folder: folder)
        var configuration = DICOMStoreSCP.Configuration()
        configuration.port = 0
        let scp = try await DICOMStoreSCP.start(configuration: configuration, delegate: delegate)
        let bytes = [UInt8](try Data(contentsOf: sample))
        let scu = DICOMStoreSCU()
        do {
            let status = try await scu.send(part10: bytes, to: "127.0.0.1", port: scp.localPort, calledAETitle: "VIGIL")
            XCTAssertEqual(status, .success)
            XCTAssertEqual(delegate.received.count, 1)
            if let stored = delegate.received.first {
                XCTAssertEqual(stored.object.callingAETitle, "VIGIL")
                XCTAssertTrue(try dataSetBytes(of: stored.file) == dataSetBytes(of: sample))
            }

            await assertThrows(try await scu.send(part10: bytes, to: "127.0.0.1", port: scp.localPort, calledAETitle: "OTHER")) {
                XCTAssertEqual($0.cause, .associationRejected(.calledAETitleNotRecognized))
                XCTAssertTrue($0.description.contains("OTHER@127.0.0.1:\(scp.localPort)"), $0.description)
                XCTAssertTrue($0.description.contains("called AE title not recognized"), $0.description)
            }

            delegate.status = .outOfResources("queue full")
            await assertThrows(try await scu.send(part10: bytes, to: "127.0.0.1", port: scp.localPort, calledAETitle: "VIGIL")) {
                XCTAssertEqual($0.cause, .storeFailed(StoreStatus(code: 0xA700, errorComment: "queue full")))
                XCTAssertTrue($0.description.contains("status 0xA700 (queue full)"), $0.description)
            }

            // An MR image: Vigil's SCP accepts no context for it.
            let (meta, offset) = try Part10.readMeta(bytes)
            await assertThrows(try await scu.send(dataSet: Array(bytes[offset...]), sopClassUID: "1.2.840.10008.5.1.4.1.1.4",
                                                  sopInstanceUID: meta.sopInstanceUID, transferSyntaxUID: meta.transferSyntaxUID,
                                                  to: "127.0.0.1", port: scp.localPort, calledAETitle: "VIGIL")) {
                XCTAssertEqual($0.cause, .noAcceptablePresentationContext(sopClassUID: "1.2.840.10008.5.1.4.1.1.4"))
            }

            await assertThrows(try await scu.send(part10: Array(bytes.prefix(100)), to: "127.0.0.1", port: scp.localPort,
                                                  calledAETitle: "VIGIL")) {
                guard case .invalidObject = $0.cause else { return XCTFail("\($0)") }
            }
        } catch {
            await scp.stop()
            throw error
        }
        await scp.stop()

        let closedPort = try freePort()
        await assertThrows(try await scu.send(part10: bytes, to: "127.0.0.1", port: closedPort, calledAETitle: "VIGIL")) {
            guard case .connectionFailed = $0.cause else { return XCTFail("\($0)") }
        }
    }

    private func assertThrows(_ body: @autoclosure () async throws -> StoreStatus, file: StaticString = #filePath, line: UInt = #line,
                              _ check: (DICOMSCUError) -> Void) async {
        do {
            let status = try await body()
            XCTFail("expected an error, got \(status)", file: file, line: line)
        } catch let error as DICOMSCUError {
            check(error)
        } catch {
            XCTFail("expected a DICOMSCUError, got \(error)", file: file, line: line)
        }
    }
}
