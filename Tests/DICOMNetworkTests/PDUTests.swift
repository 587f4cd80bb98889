import DICOMNetwork
import XCTest

/// The pure-Swift layer: parsing bounds, negotiation outcomes, DIMSE reassembly, re-encoding.
final class PDUTests: XCTestCase {
    private let user = UserInformation(maxPDULength: 16384, implementationClassUID: "1.2.3.4", implementationVersionName: "T")

    private func request(_ contexts: [ProposedPresentationContext], called: String = "VIGIL") -> AssociateRequest {
        AssociateRequest(calledAETitle: called, callingAETitle: "SCU", presentationContexts: contexts, userInformation: user)
    }

    func testAssociateRequestRoundTrips() throws {
        let rq = request([
            ProposedPresentationContext(id: 1, abstractSyntax: DICOMUID.dicosCT, transferSyntaxes: [DICOMUID.explicitVRLittleEndian, DICOMUID.implicitVRLittleEndian]),
            ProposedPresentationContext(id: 3, abstractSyntax: DICOMUID.verification, transferSyntaxes: [DICOMUID.implicitVRLittleEndian]),
        ])
        let bytes = PDUSerializer.serialize(.associateRQ(rq))
        XCTAssertEqual(try PDUParser.parse(bytes[...], limits: PDULimits()), .associateRQ(rq))
    }

    func testNegotiationPicksTheProposersFirstSupportedSyntaxAndNamesEachRefusal() {
        let negotiator = AssociationNegotiator(aeTitle: "VIGIL", abstractSyntaxes: DICOMUID.defaultAbstractSyntaxes,
                                               transferSyntaxes: DICOMUID.defaultTransferSyntaxes, maxPDULength: 1 << 20)
        let rq = request([
            ProposedPresentationContext(id: 1, abstractSyntax: DICOMUID.dicosDXForPresentation,
                                        transferSyntaxes: ["1.2.840.10008.1.2.4.90", DICOMUID.rleLossless, DICOMUID.explicitVRLittleEndian]),
            ProposedPresentationContext(id: 3, abstractSyntax: "1.2.840.10008.5.1.4.1.1.4", transferSyntaxes: [DICOMUID.implicitVRLittleEndian]),
            ProposedPresentationContext(id: 5, abstractSyntax: DICOMUID.ct, transferSyntaxes: ["1.2.840.10008.1.2.4.90"]),
        ])
        guard case .accept(let ac, let contexts) = negotiator.negotiate(rq) else { return XCTFail("rejected") }
        XCTAssertEqual(ac.presentationContexts.map(\.outcome), [.acceptance, .abstractSyntaxNotSupported, .transferSyntaxesNotSupported])
        XCTAssertEqual(contexts[1]?.transferSyntax, DICOMUID.rleLossless)
        XCTAssertEqual(Set(contexts.keys), [1])
        XCTAssertEqual(ac.userInformation.maxPDULength, 1 << 20)
        XCTAssertEqual(ac.userInformation.implementationVersionName, DICOMUID.implementationVersionName)

        XCTAssertEqual(negotiator.negotiate(request(rq.presentationContexts, called: "OTHER")), .reject(.calledAETitleNotRecognized))
        var wrongContext = rq
        wrongContext.applicationContext = "1.2.3"
        XCTAssertEqual(negotiator.negotiate(wrongContext), .reject(.applicationContextNotSupported))
    }

    func testBoundsAreCheckedBeforeAnythingIsRead() {
        // A header announcing 2 MiB against a 1 MiB limit fails on the header alone.
        XCTAssertThrowsError(try PDUParser.frame([0x04, 0, 0x00, 0x20, 0x00, 0x00][...], limits: PDULimits(maxPDULength: 1 << 20)))
        // 129 presentation contexts.
        var many = (0..<129).map { ProposedPresentationContext(id: UInt8(truncatingIfNeeded: 2 * $0 + 1), abstractSyntax: DICOMUID.ct,
                                                              transferSyntaxes: [DICOMUID.implicitVRLittleEndian]) }
        XCTAssertThrowsError(try PDUParser.parse(PDUSerializer.serialize(.associateRQ(request(many)))[...], limits: PDULimits())) {
            XCTAssertTrue("\($0)".contains("presentation contexts"), "\($0)")
        }
        many.removeLast()
        XCTAssertNoThrow(try PDUParser.parse(PDUSerializer.serialize(.associateRQ(request(many)))[...], limits: PDULimits()))
        // A PDV item whose length runs past its PDU, and one too short to hold its header.
        XCTAssertThrowsError(try PDUParser.parse([0x04, 0, 0, 0, 0, 6, 0, 0, 0, 9, 1, 3][...], limits: PDULimits()))
        XCTAssertThrowsError(try PDUParser.parse([0x04, 0, 0, 0, 0, 6, 0, 0, 0, 1, 1, 3][...], limits: PDULimits()))
        // AE titles with control characters.
        var rq = PDUSerializer.serialize(.associateRQ(request([ProposedPresentationContext(id: 1, abstractSyntax: DICOMUID.ct,
                                                                                             transferSyntaxes: [DICOMUID.implicitVRLittleEndian])])))
        rq[10] = 0x07
        XCTAssertThrowsError(try PDUParser.parse(rq[...], limits: PDULimits()))
    }

    func testAssemblerJoinsFragmentsAndEnforcesTheObjectLimit() throws {
        let command = DIMSECommand(commandField: DIMSECommandField.cStoreRQ.rawValue, affectedSOPClassUID: DICOMUID.ct, messageID: 9,
                                   priority: 0, commandDataSetType: 0, affectedSOPInstanceUID: "1.2.3")
        let encoded = command.serialize()
        var assembler = DIMSEAssembler(maxDataSetLength: 10)
        XCTAssertNil(try assembler.append(PresentationDataValue(contextID: 1, isCommand: true, isLast: false, data: encoded[..<10])))
        XCTAssertNil(try assembler.append(PresentationDataValue(contextID: 1, isCommand: true, isLast: true, data: encoded[10...])))
        XCTAssertNil(try assembler.append(PresentationDataValue(contextID: 1, isCommand: false, isLast: false, data: [1, 2, 3, 4][...])))
        let message = try assembler.append(PresentationDataValue(contextID: 1, isCommand: false, isLast: true, data: [5, 6][...]))
        XCTAssertEqual(message?.command, command)
        XCTAssertEqual(message?.dataSet, [1, 2, 3, 4, 5, 6])

        XCTAssertNil(try assembler.append(PresentationDataValue(contextID: 3, isCommand: true, isLast: true, data: encoded[...])))
        XCTAssertThrowsError(try assembler.append(PresentationDataValue(contextID: 3, isCommand: false, isLast: false, data: [UInt8](repeating: 0, count: 11)[...])))
    }

    func testDataSetsAreFragmentedToThePeersLimit() {
        let pdus = PDataFragmenter.pdus(contextID: 5, isCommand: false, bytes: [UInt8](repeating: 7, count: 100), peerMaxPDULength: 46)
        XCTAssertEqual(pdus.count, 3)
        for (index, pdu) in pdus.enumerated() {
            guard case .dataTF(let pdvs) = pdu, let pdv = pdvs.first else { return XCTFail("\(pdu)") }
            XCTAssertLessThanOrEqual(pdv.data.count + 6, 46)
            XCTAssertEqual(pdv.isLast, index == 2)
            XCTAssertLessThanOrEqual(PDUSerializer.serialize(pdu).count - 6, 46)
        }
    }

    func testExplicitToImplicitKeepsValuesAndUndefinesSequenceLengths() throws {
        // (0008,0016) UI "1.2" ; (0008,1115) SQ defined length with one item holding (0020,000E) UI "9".
        let item: [UInt8] = [0x20, 0x00, 0x0E, 0x00, 0x55, 0x49, 0x02, 0x00, 0x39, 0x00]
        let explicit: [UInt8] = [0x08, 0x00, 0x16, 0x00, 0x55, 0x49, 0x04, 0x00, 0x31, 0x2E, 0x32, 0x00,
                                 0x08, 0x00, 0x15, 0x11, 0x53, 0x51, 0, 0, UInt8(item.count + 8), 0, 0, 0,
                                 0xFE, 0xFF, 0x00, 0xE0, UInt8(item.count), 0, 0, 0] + item
        let implicit = try ImplicitVRTranscoder.transcode(explicitLittleEndian: explicit)
        XCTAssertEqual(implicit, [0x08, 0x00, 0x16, 0x00, 4, 0, 0, 0, 0x31, 0x2E, 0x32, 0x00,
                                  0x08, 0x00, 0x15, 0x11, 0xFF, 0xFF, 0xFF, 0xFF,
                                  0xFE, 0xFF, 0x00, 0xE0, 0xFF, 0xFF, 0xFF, 0xFF,
                                  0x20, 0x00, 0x0E, 0x00, 2, 0, 0, 0, 0x39, 0x00,
                                  0xFE, 0xFF, 0x0D, 0xE0, 0, 0, 0, 0,
                                  0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0])
        XCTAssertThrowsError(try ImplicitVRTranscoder.transcode(explicitLittleEndian: Array(explicit.dropLast(3))))
    }

    func testStatusClasses() {
        XCTAssertTrue(StoreStatus.success.isSuccess)
        XCTAssertTrue(StoreStatus.outOfResources().isFailure)
        XCTAssertTrue(StoreStatus(code: 0xB000).isWarning)
        XCTAssertFalse(StoreStatus(code: 0xB000).isFailure)
        XCTAssertEqual(StoreStatus.cannotUnderstand("bad pixels").description, "status 0xC000 (bad pixels)")
    }
}
