// libFuzzer harness for the DICOM upper-layer parser (Sources/DICOMNetwork, pure-Swift files only).
// Built and run by Tests/Fuzz/run_swift.sh. Besides "never crash", it checks one property: a PDU
// that parses re-serialises to bytes that parse to the same PDU.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPDU(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let limits = PDULimits(maxPDULength: 1 << 20)
    if let pdu = try? PDUParser.parse(bytes[...], limits: limits) {
        let again = PDUSerializer.serialize(pdu)
        guard let reparsed = try? PDUParser.parse(again[...], limits: limits), reparsed == pdu else {
            fatalError("PDU did not survive a serialise/parse round trip: \(pdu)")
        }
        switch pdu {
        case .dataTF(let pdvs):
            var assembler = DIMSEAssembler(maxDataSetLength: 1 << 16)
            for pdv in pdvs {
                guard let message = try? assembler.append(pdv) else { continue }
                _ = message.command.serialize()
            }
        case .associateRQ(let rq):
            let negotiator = AssociationNegotiator(aeTitle: "VIGIL", abstractSyntaxes: DICOMUID.defaultAbstractSyntaxes,
                                                   transferSyntaxes: DICOMUID.defaultTransferSyntaxes, maxPDULength: 1 << 20)
            if case .accept(let ac, _) = negotiator.negotiate(rq) {
                let acBytes = PDUSerializer.serialize(.associateAC(ac))
                guard (try? PDUParser.parse(acBytes[...], limits: limits)) != nil else { fatalError("our own A-ASSOCIATE-AC does not parse") }
            }
        default:
            break
        }
    }
    // The same bytes as a command set, a Part-10 header and an explicit VR data set.
    _ = try? DIMSECommand.parse(bytes[...])
    _ = try? Part10.readMeta(bytes)
    _ = try? ImplicitVRTranscoder.transcode(explicitLittleEndian: bytes)
    return 0
}
