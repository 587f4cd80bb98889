import Logging
import NIOCore

/// Sent through each open association's pipeline when the SCP stops.
struct SCPShutdownEvent: Sendable {}

/// The acceptor side of one association: negotiation, C-ECHO and C-STORE, release, abort and the
/// idle timer. One per child channel, behind `PDUDecoder`.
///
/// Invariants: at most one C-STORE is with the delegate at a time; the association runs in
/// synchronous mode (no asynchronous operations window is negotiated, PS3.7 D.3.3.3), so a peer
/// that sends another request before the response is aborted instead of queued. A release asked
/// for while a store is with the delegate is answered after the store's response. On stop, idle
/// associations are aborted; busy ones finish their message first.
final class SCPAssociationHandler: ChannelInboundHandler {
    typealias InboundIn = PDU
    typealias OutboundOut = PDU

    private struct Association {
        var callingAETitle: String
        var calledAETitle: String
        var peerMaxPDULength: UInt32
        var contexts: [UInt8: AcceptedPresentationContext]
    }

    private enum State {
        case awaitingRequest
        case established(Association)
        case closing
    }

    private let configuration: DICOMStoreSCP.Configuration
    private let negotiator: AssociationNegotiator
    private let delegate: any DICOMStoreDelegate
    private let registry: AssociationRegistry
    private var logger: Logger
    private var state = State.awaitingRequest
    private var assembler: DIMSEAssembler
    private var storeInProgress = false
    private var releaseRequested = false
    private var shutdownRequested = false
    private var idleTimer: Scheduled<Void>?
    private var peerAddress = "unknown peer"

    init(configuration: DICOMStoreSCP.Configuration, delegate: any DICOMStoreDelegate, registry: AssociationRegistry, logger: Logger) {
        self.configuration = configuration
        self.negotiator = AssociationNegotiator(aeTitle: configuration.aeTitle, abstractSyntaxes: configuration.abstractSyntaxes,
                                                transferSyntaxes: configuration.transferSyntaxes,
                                                maxPDULength: configuration.maxPDULength)
        self.delegate = delegate
        self.registry = registry
        self.logger = logger
        self.assembler = DIMSEAssembler(maxDataSetLength: configuration.maxObjectSize)
    }

    func channelActive(context: ChannelHandlerContext) {
        peerAddress = context.remoteAddress.map { "\($0)" } ?? "unknown peer"
        logger[metadataKey: "peer"] = "\(peerAddress)"
        armIdleTimer(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        idleTimer?.cancel()
        state = .closing
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let pdu = unwrapInboundIn(data)
        armIdleTimer(context)
        switch (state, pdu) {
        case (.closing, _):
            return
        case (.awaitingRequest, .associateRQ(let rq)):
            associate(context, rq)
        case (.established(let association), .dataTF(let pdvs)):
            receive(context, association, pdvs)
        case (.established, .releaseRQ):
            if storeInProgress {
                releaseRequested = true
            } else if assembler.isAssembling {
                abort(context, .unexpectedPDU, "A-RELEASE-RQ in the middle of a DIMSE message")
            } else {
                sendAndClose(context, .releaseRP)
            }
        case (_, .abort(let source, let reason)):
            logger.info("peer aborted the association", metadata: ["source": "\(source)", "reason": "\(reason)"])
            state = .closing
            context.close(promise: nil)
        default:
            abort(context, .unexpectedPDU, "unexpected \(pdu.type) PDU")
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if let error = error as? PDUParseError {
            abort(context, error.abortReason, "malformed PDU: \(error)")
        } else {
            logger.info("association closed: \(error)")
            state = .closing
            context.close(promise: nil)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is SCPShutdownEvent else { return context.fireUserInboundEventTriggered(event) }
        shutdownRequested = true
        // A message being received or stored is answered first (a C-STORE arriving now gets A700).
        guard !storeInProgress, !assembler.isAssembling else { return }
        shutDown(context)
    }

    // MARK: Association

    private func associate(_ context: ChannelHandlerContext, _ rq: AssociateRequest) {
        var log = logger
        log[metadataKey: "calling"] = "\(rq.callingAETitle)"
        log[metadataKey: "called"] = "\(rq.calledAETitle)"
        if registry.count > configuration.maxAssociations {
            log.warning("association rejected: more than \(configuration.maxAssociations) open")
            return sendAndClose(context, .associateRJ(.localLimitExceeded))
        }
        if let admit = configuration.admit, let refusal = admit(rq.callingAETitle, TLSPeer.commonName(context.pipeline)) {
            log.warning("association rejected: \(refusal)")
            return sendAndClose(context, .associateRJ(.callingAETitleNotRecognized))
        }
        switch negotiator.negotiate(rq) {
        case .reject(let rj):
            log.warning("association rejected: \(rj)")
            sendAndClose(context, .associateRJ(rj))
        case .accept(let ac, let contexts):
            if contexts.isEmpty {
                let proposed = rq.presentationContexts.map(\.abstractSyntax).joined(separator: ", ")
                log.warning("association has no acceptable presentation context (proposed: \(proposed))")
            }
            logger = log
            state = .established(Association(callingAETitle: rq.callingAETitle, calledAETitle: rq.calledAETitle,
                                              peerMaxPDULength: rq.userInformation.maxPDULength, contexts: contexts))
            context.writeAndFlush(wrapOutboundOut(.associateAC(ac)), promise: nil)
        }
    }

    private func receive(_ context: ChannelHandlerContext, _ association: Association, _ pdvs: [PresentationDataValue]) {
        for pdv in pdvs {
            guard association.contexts[pdv.contextID] != nil else {
                return abort(context, .invalidPDUParameterValue, "PDV on presentation context \(pdv.contextID), which was not accepted")
            }
            guard !storeInProgress else {
                return abort(context, .unexpectedPDU, "DIMSE data while a C-STORE is outstanding (synchronous mode)")
            }
            do {
                if let message = try assembler.append(pdv) {
                    handle(context, association, message)
                }
            } catch {
                return abort(context, error.abortReason, "malformed DIMSE message: \(error)")
            }
        }
    }

    // MARK: DIMSE

    private func handle(_ context: ChannelHandlerContext, _ association: Association, _ message: DIMSEMessage) {
        let pc = association.contexts[message.contextID]!  // checked in receive
        let command = message.command
        switch DIMSECommandField(rawValue: command.commandField) {
        case .cEchoRQ:
            respond(context, association, message.contextID,
                    DIMSECommand(commandField: DIMSECommandField.cEchoRSP.rawValue,
                                 affectedSOPClassUID: command.affectedSOPClassUID ?? pc.abstractSyntax,
                                 messageIDBeingRespondedTo: command.messageID, status: 0))
        case .cStoreRQ:
            store(context, association, pc, message)
        default:
            abort(context, .unexpectedPDUParameter, "unsupported DIMSE command 0x\(String(command.commandField, radix: 16))")
        }
    }

    private func store(_ context: ChannelHandlerContext, _ association: Association, _ pc: AcceptedPresentationContext,
                       _ message: DIMSEMessage) {
        let command = message.command
        func reply(_ status: StoreStatus) {
            respond(context, association, message.contextID,
                    DIMSECommand(commandField: DIMSECommandField.cStoreRSP.rawValue, affectedSOPClassUID: command.affectedSOPClassUID,
                                 messageIDBeingRespondedTo: command.messageID, status: status.code,
                                 errorComment: status.errorComment, affectedSOPInstanceUID: command.affectedSOPInstanceUID))
        }
        guard !shutdownRequested else { return reply(.outOfResources("Vigil's DICOM receiver is stopping")) }
        guard let sopClass = command.affectedSOPClassUID, let sopInstance = command.affectedSOPInstanceUID,
              !sopInstance.isEmpty, let dataSet = message.dataSet, !dataSet.isEmpty else {
            return reply(.cannotUnderstand("C-STORE-RQ without SOP class, SOP instance or data set"))
        }
        guard sopClass == pc.abstractSyntax else {
            return reply(.sopClassNotSupported("SOP class \(sopClass) sent on a context negotiated for \(pc.abstractSyntax)"))
        }
        let object = ReceivedObject(
            callingAETitle: association.callingAETitle, calledAETitle: association.calledAETitle, peerAddress: peerAddress,
            sopClassUID: sopClass, sopInstanceUID: sopInstance, transferSyntaxUID: pc.transferSyntax,
            part10: Part10.wrap(dataSet: dataSet, sopClassUID: sopClass, sopInstanceUID: sopInstance,
                                transferSyntaxUID: pc.transferSyntax, sourceAETitle: association.callingAETitle,
                                implementationClassUID: configuration.implementationClassUID,
                                implementationVersionName: configuration.implementationVersionName))
        storeInProgress = true
        let delegate = self.delegate
        let promise = context.eventLoop.makePromise(of: StoreStatus.self)
        promise.completeWithTask { await delegate.store(object) }
        promise.futureResult.assumeIsolated().whenSuccess { status in
            self.storeInProgress = false
            guard case .established = self.state else { return }  // the peer went away meanwhile
            self.logger.debug("stored \(sopInstance): \(status)")
            reply(status)
            // When stopping, the peer still gets to release after its response; the SCP's grace
            // period closes the association if it does not.
            if self.releaseRequested { self.sendAndClose(context, .releaseRP) }
        }
    }

    private func respond(_ context: ChannelHandlerContext, _ association: Association, _ contextID: UInt8, _ command: DIMSECommand) {
        for pdu in PDataFragmenter.pdus(contextID: contextID, isCommand: true, bytes: command.serialize(),
                                         peerMaxPDULength: association.peerMaxPDULength) {
            context.write(wrapOutboundOut(pdu), promise: nil)
        }
        context.flush()
    }

    // MARK: Ending

    private func shutDown(_ context: ChannelHandlerContext) {
        if case .established = state {
            abort(context, .notSpecified, "the SCP is stopping")
        } else {
            state = .closing
            context.close(promise: nil)
        }
    }

    /// A-ABORT from the service provider, then close (PS3.8 7.3.2 / state machine AA-8).
    private func abort(_ context: ChannelHandlerContext, _ reason: AbortReason, _ why: String) {
        logger.warning("aborting association: \(why)")
        sendAndClose(context, .abort(source: AbortSource.serviceProvider.rawValue, reason: reason.rawValue))
    }

    private func sendAndClose(_ context: ChannelHandlerContext, _ pdu: PDU) {
        state = .closing
        idleTimer?.cancel()
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(pdu)).whenComplete { _ in channel.close(promise: nil) }
    }

    private func armIdleTimer(_ context: ChannelHandlerContext) {
        idleTimer?.cancel()
        idleTimer = nil
        if case .closing = state { return }
        idleTimer = context.eventLoop.assumeIsolated().scheduleTask(in: configuration.idleTimeout) {
            self.idleTimedOut(context)
        }
    }

    private func idleTimedOut(_ context: ChannelHandlerContext) {
        switch state {
        case .closing:
            return
        case .awaitingRequest:
            logger.info("no A-ASSOCIATE-RQ within \(configuration.idleTimeout); closing")
            state = .closing
            context.close(promise: nil)
        case .established:
            // The peer waits for Vigil while the delegate works: that is not the peer being idle.
            if storeInProgress { return armIdleTimer(context) }
            abort(context, .notSpecified, "idle for \(configuration.idleTimeout)")
        }
    }
}
