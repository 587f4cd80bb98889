import DICOMNetwork
import Foundation
import NIOCore
import XCTest

/// The SCP's limits and its stop: association limit, and a stop while a store is with the delegate.
final class SCPLifecycleTests: XCTestCase {
    func testAssociationsBeyondTheLimitAreRejectedTransiently() async throws {
        let folder = try makeTemporaryFolder("limit")
        defer { try? FileManager.default.removeItem(at: folder) }
        var configuration = DICOMStoreSCP.Configuration()
        configuration.port = 0
        configuration.maxAssociations = 1
        let scp = try await DICOMStoreSCP.start(configuration: configuration, delegate: FolderDelegate(folder: folder))
        let held = try await HeldAssociation.open(port: scp.localPort)
        XCTAssertEqual(held.answer.first, PDUType.associateAC.rawValue)

        let refused = try await Subprocess.run("echoscu", ["-aec", "VIGIL", "127.0.0.1", "\(scp.localPort)"])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.output.contains("Association Rejected"), refused.output)
        XCTAssertTrue(refused.output.contains("Local Limit Exceeded"), refused.output)

        try await held.connection.close()
        // The closed association leaves the count as soon as the SCP's event loop sees the close.
        var echoed = false
        for _ in 0..<50 where !echoed {
            echoed = try await Subprocess.run("echoscu", ["-aec", "VIGIL", "127.0.0.1", "\(scp.localPort)"]).status == 0
            if !echoed { try await Task.sleep(nanoseconds: 100_000_000) }
        }
        XCTAssertTrue(echoed, "a free slot is used again")
        await scp.stop()
    }

    func testStopLetsTheStoreWithTheDelegateFinish() async throws {
        let delegate = GatedDelegate()
        var configuration = DICOMStoreSCP.Configuration()
        configuration.port = 0
        let scp = try await DICOMStoreSCP.start(configuration: configuration, delegate: delegate)
        let port = scp.localPort
        let bytes = [UInt8](try Data(contentsOf: samplesFolder.appendingPathComponent("vehicle-top.dcm")))
        let sending = Task { try await DICOMStoreSCU().send(part10: bytes, to: "127.0.0.1", port: port, calledAETitle: "VIGIL") }
        await delegate.waitForArrival()
        let stopping = Task { await scp.stop(gracePeriod: .seconds(30)) }
        delegate.open()
        let status = try await sending.value
        XCTAssertEqual(status, .success, "the object held by the delegate is answered before the SCP closes")
        await stopping.value
        let after = try await Subprocess.run("echoscu", ["-aec", "VIGIL", "127.0.0.1", "\(port)"])
        XCTAssertNotEqual(after.status, 0, "nothing listens after stop")
    }
}
