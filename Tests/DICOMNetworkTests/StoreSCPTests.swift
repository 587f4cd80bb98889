import DICOMNetwork
import Foundation
import NIOCore
import XCTest

/// Vigil's SCP against dcmtk's echoscu and storescu, run as real processes on a port picked at run time.
final class StoreSCPTests: XCTestCase {
    /// Starts an SCP on 127.0.0.1 (free port) with a folder-writing delegate, runs `body`, stops it.
    private func withSCP(_ configure: (inout DICOMStoreSCP.Configuration) -> Void = { _ in },
                         _ body: (DICOMStoreSCP, FolderDelegate) async throws -> Void) async throws {
        let folder = try makeTemporaryFolder("scp")
        defer { try? FileManager.default.removeItem(at: folder) }
        let delegate = FolderDelegate(folder: folder)
        var configuration = DICOMStoreSCP.Configuration()
        configuration.port = 0
        configure(&configuration)
        let scp = try await DICOMStoreSCP.start(configuration: configuration, delegate: delegate)
        do {
            try await body(scp, delegate)
        } catch {
            await scp.stop()
            throw error
        }
        await scp.stop()
    }

    private func echo(_ scp: DICOMStoreSCP, file: StaticString = #filePath, line: UInt = #line) async throws {
        let run = try await Subprocess.run("echoscu", ["-aec", "VIGIL", "127.0.0.1", "\(scp.localPort)"])
        XCTAssertEqual(run.status, 0, "echoscu: \(run.output)", file: file, line: line)
    }

    /// Test objects made from the samples with dcmtk: every storage class family and encoding Vigil takes.
    private func makeTestObjects(in folder: URL) async throws -> [URL] {
        let dx = samplesFolder.appendingPathComponent("vehicle-top.dcm")    // DICOS DX for presentation
        let ct = samplesFolder.appendingPathComponent("parcel-ct.dcm")      // DICOS CT, 24 frames
        var files = [dx, ct]
        func derive(_ name: String, _ tool: String, _ arguments: [String]) async throws {
            let url = folder.appendingPathComponent(name)
            let run = try await Subprocess.run(tool, arguments + [url.path])
            XCTAssertEqual(run.status, 0, "\(tool): \(run.output)")
            // A new SOP instance UID, so that each object is told apart from the one it was made from.
            let renumber = try await Subprocess.run("dcmodify", ["-nb", "-gin", url.path])
            XCTAssertEqual(renumber.status, 0, "dcmodify: \(renumber.output)")
            files.append(url)
        }
        func modify(_ name: String, from source: URL, sopClass: String) async throws {
            let url = folder.appendingPathComponent(name)
            try FileManager.default.copyItem(at: source, to: url)
            let run = try await Subprocess.run("dcmodify", ["-nb", "-m", "(0008,0016)=\(sopClass)", "-gin", url.path])
            XCTAssertEqual(run.status, 0, "dcmodify: \(run.output)")
            files.append(url)
        }
        try await modify("dicos-dx-processing.dcm", from: dx, sopClass: DICOMUID.dicosDXForProcessing)
        try await modify("dx-presentation.dcm", from: dx, sopClass: DICOMUID.dxForPresentation)
        try await derive("dicos-dx-rle.dcm", "dcmcrle", [dx.path])
        try await derive("dicos-ct-jpegls.dcm", "dcmcjpls", [ct.path])
        try await derive("dicos-dx-deflated.dcm", "dcmconv", ["+td", dx.path])
        return files
    }

    func testEcho() async throws {
        try await withSCP { scp, _ in try await echo(scp) }
    }

    func testStoreFromStorescuKeepsEveryByte() async throws {
        let work = try makeTemporaryFolder("objects")
        defer { try? FileManager.default.removeItem(at: work) }
        let files = try await makeTestObjects(in: work)
        try await withSCP { scp, delegate in
            // storescu proposes uncompressed transfer syntaxes unless told otherwise: the
            // uncompressed files go in one association, each compressed one with its own proposal.
            var batches: [(arguments: [String], files: [URL])] = [([], [])]
            for file in files {
                switch file.lastPathComponent {
                case let name where name.hasSuffix("-rle.dcm"): batches.append((["-xr"], [file]))
                case let name where name.hasSuffix("-jpegls.dcm"): batches.append((["-xt"], [file]))
                case let name where name.hasSuffix("-deflated.dcm"): batches.append((["-xd"], [file]))
                default: batches[0].files.append(file)
                }
            }
            for batch in batches {
                let run = try await Subprocess.run("storescu", ["-aec", "VIGIL", "-aet", "STATION1", "-R"] + batch.arguments
                                                   + ["127.0.0.1", "\(scp.localPort)"] + batch.files.map(\.path))
                XCTAssertEqual(run.status, 0, "storescu \(batch.arguments): \(run.output)")
            }
            let received = delegate.received
            XCTAssertEqual(received.count, files.count)
            for original in files {
                let originalBytes = [UInt8](try Data(contentsOf: original))
                let (meta, _) = try Part10.readMeta(originalBytes)
                guard let (object, stored) = received.first(where: { $0.object.sopInstanceUID == meta.sopInstanceUID }) else {
                    XCTFail("\(original.lastPathComponent) (\(meta.sopClassUID)) did not reach the delegate")
                    continue
                }
                XCTAssertEqual(object.callingAETitle, "STATION1")
                XCTAssertEqual(object.calledAETitle, "VIGIL")
                XCTAssertTrue(object.peerAddress.contains("127.0.0.1"), object.peerAddress)
                XCTAssertEqual(object.transferSyntaxUID, meta.transferSyntaxUID, original.lastPathComponent)
                if meta.transferSyntaxUID != DICOMUID.deflatedExplicitVRLittleEndian {
                    // Deflate output depends on the compressor's settings; its pixel data is compared below.
                    let same = try dataSetBytes(of: stored) == dataSetBytes(of: original)
                    XCTAssertTrue(same, "\(original.lastPathComponent): data set changed")
                }
                try await assertSamePixelData(original, stored)
            }
            XCTAssertEqual(Set(received.map(\.object.transferSyntaxUID)).count, 4, "explicit LE, RLE, JPEG-LS and deflated")
            XCTAssertEqual(Set(received.map(\.object.sopInstanceUID)).count, files.count)
        }
    }

    /// dcmdump reads the stored file without complaint and writes the same pixel data as from the original.
    private func assertSamePixelData(_ original: URL, _ stored: URL) async throws {
        let out = try makeTemporaryFolder("pixels")
        defer { try? FileManager.default.removeItem(at: out) }
        var pixels: [Data] = []
        for (index, url) in [original, stored].enumerated() {
            let dir = out.appendingPathComponent("\(index)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            let run = try await Subprocess.run("dcmdump", ["+W", dir.path, url.path])
            XCTAssertEqual(run.status, 0, "dcmdump \(url.lastPathComponent): \(run.stderr)")
            XCTAssertFalse(run.stderr.lowercased().contains("error") || run.stderr.lowercased().contains("warn"), run.stderr)
            let raws = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
            XCTAssertFalse(raws.isEmpty, "dcmdump wrote no pixel data for \(url.lastPathComponent)")
            pixels.append(try raws.reduce(into: Data()) { $0.append(try Data(contentsOf: dir.appendingPathComponent($1))) })
        }
        XCTAssertEqual(pixels[0], pixels[1], "pixel data of \(original.lastPathComponent)")
        XCTAssertGreaterThan(pixels[0].count, 1000)
    }

    func testWrongCalledAETitleIsRejected() async throws {
        try await withSCP { scp, delegate in
            let file = samplesFolder.appendingPathComponent("vehicle-top.dcm").path
            let run = try await Subprocess.run("storescu", ["-aec", "NOTVIGIL", "-R", "127.0.0.1", "\(scp.localPort)", file])
            XCTAssertNotEqual(run.status, 0)
            XCTAssertTrue(run.output.contains("Association Rejected"), run.output)
            XCTAssertTrue(run.output.contains("Called AE Title Not Recognized"), run.output)
            XCTAssertTrue(delegate.received.isEmpty)
            try await echo(scp)
        }
    }

    func testUnsupportedClassIsRefusedCleanly() async throws {
        let work = try makeTemporaryFolder("mr")
        defer { try? FileManager.default.removeItem(at: work) }
        let mr = work.appendingPathComponent("mr.dcm")
        try FileManager.default.copyItem(at: samplesFolder.appendingPathComponent("vehicle-top.dcm"), to: mr)
        let modify = try await Subprocess.run("dcmodify", ["-nb", "-m", "(0008,0016)=1.2.840.10008.5.1.4.1.1.4", "-gin", mr.path])
        XCTAssertEqual(modify.status, 0, modify.output)
        try await withSCP { scp, delegate in
            let run = try await Subprocess.run("storescu", ["-aec", "VIGIL", "-R", "127.0.0.1", "\(scp.localPort)", mr.path], timeout: 30)
            XCTAssertNotEqual(run.status, 0, run.output)
            // An A-ASSOCIATE-AC with every context rejected (reason 3): storescu says so and stops.
            XCTAssertTrue(run.output.contains("No Acceptable Presentation Contexts"), run.output)
            XCTAssertTrue(delegate.received.isEmpty)
            try await echo(scp)
        }
    }

    func testOutOfResourcesReachesTheSender() async throws {
        try await withSCP { scp, delegate in
            delegate.status = .outOfResources("queue full")
            let file = samplesFolder.appendingPathComponent("vehicle-top.dcm").path
            let run = try await Subprocess.run("storescu", ["-d", "-aec", "VIGIL", "-R", "127.0.0.1", "\(scp.localPort)", file])
            XCTAssertTrue(run.output.lowercased().contains("a700"), "storescu: \(run.output)")
            XCTAssertTrue(run.output.contains("queue full"), "the error comment reaches storescu: \(run.output)")
            XCTAssertEqual(delegate.received.count, 1)
        }
    }

    func testGarbageClosesTheConnectionAndTheSCPServesTheNext() async throws {
        try await withSCP { scp, _ in
            var generator = SystemRandomNumberGenerator()
            let random = (0..<4096).map { _ in UInt8.random(in: 0...255, using: &generator) }
            // A-ASSOCIATE-RQ header announcing 200 bytes, followed by 20: then the peer stops sending.
            let truncated: [UInt8] = [0x01, 0x00, 0x00, 0x00, 0x00, 0xC8] + Array(repeating: 0x20, count: 20)
            // A P-DATA-TF claiming almost 4 GiB.
            let oversized: [UInt8] = [0x04, 0x00, 0xFF, 0xFF, 0xFF, 0xF0] + Array(repeating: 0, count: 64)
            // An unknown PDU type.
            let unknown: [UInt8] = [0x09, 0x00, 0x00, 0x00, 0x00, 0x04, 0, 0, 0, 0]

            let oversizedReply = try await RawConnection.exchange(port: scp.localPort, payload: oversized, endOutput: false)
            XCTAssertEqual(oversizedReply.first, 0x07, "an A-ABORT answers an oversized PDU")
            let unknownReply = try await RawConnection.exchange(port: scp.localPort, payload: unknown, endOutput: false)
            XCTAssertEqual(unknownReply, [0x07, 0, 0, 0, 0, 4, 0, 0, 2, 1], "A-ABORT, service provider, unrecognized PDU")
            _ = try await RawConnection.exchange(port: scp.localPort, payload: truncated, endOutput: true)
            _ = try await RawConnection.exchange(port: scp.localPort, payload: random, endOutput: true)
            try await echo(scp)
        }
    }

    func testMalformedDIMSEAfterAssociationAborts() async throws {
        try await withSCP { scp, _ in
            let rq = AssociateRequest(calledAETitle: "VIGIL", callingAETitle: "FUZZ", presentationContexts: [
                ProposedPresentationContext(id: 1, abstractSyntax: DICOMUID.verification, transferSyntaxes: [DICOMUID.implicitVRLittleEndian]),
            ], userInformation: UserInformation(maxPDULength: 16384, implementationClassUID: "1.2.3", implementationVersionName: nil))
            let garbageCommand = PDUSerializer.serialize(.dataTF([
                PresentationDataValue(contextID: 1, isCommand: true, isLast: true, data: [0x00, 0x00, 0x00, 0x01, 0xFF, 0xFF, 0xFF, 0x7F][...]),
            ]))
            let reply = try await RawConnection.exchange(port: scp.localPort, payload: PDUSerializer.serialize(.associateRQ(rq)) + garbageCommand,
                                                         endOutput: false)
            let first = try PDUParser.parse(reply[..<(6 + Int(reply[5]) + Int(reply[4]) << 8)], limits: PDULimits())
            guard case .associateAC(let ac) = first else { return XCTFail("expected an A-ASSOCIATE-AC, got \(first)") }
            XCTAssertEqual(ac.presentationContexts.first?.outcome, .acceptance)
            XCTAssertEqual(ac.userInformation.implementationClassUID, DICOMUID.implementationClassUID)
            XCTAssertEqual(Array(reply.suffix(10).prefix(1)), [0x07], "then an A-ABORT")
            try await echo(scp)
        }
    }

    func testIdleAssociationIsClosed() async throws {
        try await withSCP({ $0.idleTimeout = .milliseconds(300) }) { scp, _ in
            let reply = try await RawConnection.exchange(port: scp.localPort, payload: [], endOutput: false)
            XCTAssertEqual(reply, [], "closed without a word before association")
            try await echo(scp)
        }
    }
}
