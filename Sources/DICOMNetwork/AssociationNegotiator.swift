// Pure Swift (no NIO).

/// A presentation context the acceptor accepted: what the peer may send on it, and how it is encoded.
public struct AcceptedPresentationContext: Sendable, Hashable {
    public var id: UInt8
    public var abstractSyntax: String
    public var transferSyntax: String
}

/// The acceptor's side of association negotiation (PS3.8 7.1.1 and 9.3.3; PS3.7 annex D).
///
/// Rules: the called AE title must be ours; the application context must be the DICOM one; each
/// proposed context is accepted with the first of *its* transfer syntaxes that we support (the
/// proposer lists them in its order of preference), otherwise rejected with reason 3 (abstract
/// syntax not supported) or 4 (transfer syntaxes not supported). When no context is acceptable the
/// answer is still an A-ASSOCIATE-AC with every context rejected: PS3.8 has no A-ASSOCIATE-RJ
/// reason for it, and SCUs (dcmtk's storescu among them) report "no acceptable presentation
/// contexts" from that AC and then release.
public struct AssociationNegotiator: Sendable {
    public var aeTitle: String
    public var abstractSyntaxes: Set<String>
    public var transferSyntaxes: Set<String>
    /// Advertised in the AC: the largest P-DATA-TF we accept.
    public var maxPDULength: UInt32
    public var implementationClassUID: String
    public var implementationVersionName: String

    public init(aeTitle: String, abstractSyntaxes: [String], transferSyntaxes: [String], maxPDULength: UInt32,
                implementationClassUID: String = DICOMUID.implementationClassUID,
                implementationVersionName: String = DICOMUID.implementationVersionName) {
        self.aeTitle = aeTitle
        self.abstractSyntaxes = Set(abstractSyntaxes)
        self.transferSyntaxes = Set(transferSyntaxes)
        self.maxPDULength = maxPDULength
        self.implementationClassUID = implementationClassUID
        self.implementationVersionName = implementationVersionName
    }

    /// The answer to send: an A-ASSOCIATE-AC with the contexts to honour, or an A-ASSOCIATE-RJ.
    public enum Outcome: Sendable, Hashable {
        case accept(AssociateAccept, contexts: [UInt8: AcceptedPresentationContext])
        case reject(AssociateReject)
    }

    public func negotiate(_ rq: AssociateRequest) -> Outcome {
        // Bit 0 of the protocol version is version 1, the only one defined.
        guard rq.protocolVersion & 1 == 1 else { return .reject(.protocolVersionNotSupported) }
        guard rq.calledAETitle == aeTitle else { return .reject(.calledAETitleNotRecognized) }
        guard rq.applicationContext == DICOMUID.applicationContext else { return .reject(.applicationContextNotSupported) }
        var results: [PresentationContextResult] = []
        var accepted: [UInt8: AcceptedPresentationContext] = [:]
        for pc in rq.presentationContexts {
            guard abstractSyntaxes.contains(pc.abstractSyntax) else {
                results.append(PresentationContextResult(id: pc.id, outcome: .abstractSyntaxNotSupported,
                                                         transferSyntax: pc.transferSyntaxes[0]))
                continue
            }
            guard let ts = pc.transferSyntaxes.first(where: transferSyntaxes.contains) else {
                results.append(PresentationContextResult(id: pc.id, outcome: .transferSyntaxesNotSupported,
                                                         transferSyntax: pc.transferSyntaxes[0]))
                continue
            }
            results.append(PresentationContextResult(id: pc.id, outcome: .acceptance, transferSyntax: ts))
            accepted[pc.id] = AcceptedPresentationContext(id: pc.id, abstractSyntax: pc.abstractSyntax, transferSyntax: ts)
        }
        let ac = AssociateAccept(protocolVersion: 1, calledAETitle: rq.calledAETitle, callingAETitle: rq.callingAETitle,
                                 presentationContexts: results,
                                 userInformation: UserInformation(maxPDULength: maxPDULength,
                                                                  implementationClassUID: implementationClassUID,
                                                                  implementationVersionName: implementationVersionName))
        return .accept(ac, contexts: accepted)
    }
}
