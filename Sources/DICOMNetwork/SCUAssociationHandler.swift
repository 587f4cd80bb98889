import NIOCore

/// What one SCU association sends: a single object, proposed in up to two presentation contexts.
struct SCURequest: Sendable {
    var calledAETitle: String
    var callingAETitle: String
    var sopClassUID: String
    var sopInstanceUID: String
    var maxPDULength: UInt32
    /// Presentation context ID → (transfer syntax, data set encoded in it).
    var encodings: [(id: UInt8, transferSyntax: String, dataSet: [UInt8])]
    var timeout: TimeAmount
    var peer: String

    var associateRequest: AssociateRequest {
        AssociateRequest(calledAETitle: calledAETitle, callingAETitle: callingAETitle,
                         presentationContexts: encodings.map {
                             ProposedPresentationContext(id: $0.id, abstractSyntax: sopClassUID, transferSyntaxes: [$0.transferSyntax])
                         },
                         userInformation: UserInformation(maxPDULength: maxPDULength,
                                                          implementationClassUID: DICOMUID.implementationClassUID,
                                                          implementationVersionName: DICOMUID.implementationVersionName))
    }
}

/// The requestor side of one association: A-ASSOCIATE-RQ, one C-STORE, A-RELEASE-RQ.
/// Completes `promise` exactly once, with the response status or a `DICOMSCUError`.
final class SCUAssociationHandler: ChannelInboundHandler {
    typealias InboundIn = PDU
    typealias OutboundOut = PDU

    private enum State {
        case awaitingAccept
        case awaitingResponse(peerMaxPDULength: UInt32)
        case awaitingReleaseReply(Result<StoreStatus, DICOMSCUError>)
        case done
    }

    private let request: SCURequest
    private let promise: EventLoopPromise<StoreStatus>
    private var state = State.awaitingAccept
    private var assembler = DIMSEAssembler(maxDataSetLength: 0)  // responses carry no data set
    private var timer: Scheduled<Void>?
    private let messageID: UInt16 = 1

    init(request: SCURequest, promise: EventLoopPromise<StoreStatus>) {
        self.request = request
        self.promise = promise
    }

    func channelActive(context: ChannelHandlerContext) {
        armTimer(context)
        context.writeAndFlush(wrapOutboundOut(.associateRQ(request.associateRequest)), promise: nil)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        if case .awaitingReleaseReply(let result) = state {
            // The peer answered the C-STORE, then went away instead of replying to the release:
            // the object's fate is known, so its status stands.
            finish(context, result)
        } else {
            finish(context, .failure(error(.connectionClosed)))
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if let parseError = error as? PDUParseError {
            context.writeAndFlush(wrapOutboundOut(.abort(source: AbortSource.serviceProvider.rawValue,
                                                         reason: parseError.abortReason.rawValue)), promise: nil)
        }
        finish(context, .failure(self.error(.protocolError("\(error)"))))
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let pdu = unwrapInboundIn(data)
        armTimer(context)
        switch (state, pdu) {
        case (.done, _):
            return
        case (.awaitingAccept, .associateAC(let ac)):
            accepted(context, ac)
        case (.awaitingAccept, .associateRJ(let rj)):
            finish(context, .failure(error(.associationRejected(rj))))
        case (.awaitingResponse, .dataTF(let pdvs)):
            for pdv in pdvs {
                do {
                    guard let message = try assembler.append(pdv) else { continue }
                    return responded(context, message)
                } catch {
                    return protocolFailure(context, "malformed C-STORE-RSP: \(error)")
                }
            }
        case (.awaitingReleaseReply(let result), .releaseRP):
            finish(context, result)
        case (.awaitingReleaseReply(let result), .releaseRQ):
            // Release collision (PS3.8 7.2): answer it and take the result we already have.
            context.writeAndFlush(wrapOutboundOut(.releaseRP), promise: nil)
            finish(context, result)
        case (.awaitingReleaseReply(let result), .abort):
            finish(context, result)  // as for a close during release: the response already came
        case (_, .abort(let source, let reason)):
            finish(context, .failure(error(.associationAborted(source: source, reason: reason))))
        default:
            protocolFailure(context, "unexpected \(pdu.type) PDU")
        }
    }

    private func accepted(_ context: ChannelHandlerContext, _ ac: AssociateAccept) {
        let acceptedIDs = Set(ac.presentationContexts.filter { $0.outcome == .acceptance }.map(\.id))
        guard let encoding = request.encodings.first(where: { acceptedIDs.contains($0.id) }) else {
            return release(context, .failure(error(.noAcceptablePresentationContext(sopClassUID: request.sopClassUID))))
        }
        state = .awaitingResponse(peerMaxPDULength: ac.userInformation.maxPDULength)
        let command = DIMSECommand(commandField: DIMSECommandField.cStoreRQ.rawValue, affectedSOPClassUID: request.sopClassUID,
                                   messageID: messageID, priority: 0, commandDataSetType: 0x0000,
                                   affectedSOPInstanceUID: request.sopInstanceUID)
        let peerMax = ac.userInformation.maxPDULength
        for pdu in PDataFragmenter.pdus(contextID: encoding.id, isCommand: true, bytes: command.serialize(), peerMaxPDULength: peerMax) {
            context.write(wrapOutboundOut(pdu), promise: nil)
        }
        for pdu in PDataFragmenter.pdus(contextID: encoding.id, isCommand: false, bytes: encoding.dataSet, peerMaxPDULength: peerMax) {
            context.write(wrapOutboundOut(pdu), promise: nil)
        }
        context.flush()
    }

    private func responded(_ context: ChannelHandlerContext, _ message: DIMSEMessage) {
        let command = message.command
        guard command.commandField == DIMSECommandField.cStoreRSP.rawValue, command.messageIDBeingRespondedTo == messageID,
              let code = command.status else {
            return protocolFailure(context, "expected the C-STORE-RSP to message \(messageID)")
        }
        let status = StoreStatus(code: code, errorComment: command.errorComment)
        release(context, status.isFailure ? .failure(error(.storeFailed(status))) : .success(status))
    }

    private func release(_ context: ChannelHandlerContext, _ result: Result<StoreStatus, DICOMSCUError>) {
        state = .awaitingReleaseReply(result)
        context.writeAndFlush(wrapOutboundOut(.releaseRQ), promise: nil)
    }

    private func protocolFailure(_ context: ChannelHandlerContext, _ why: String) {
        context.writeAndFlush(wrapOutboundOut(.abort(source: AbortSource.serviceUser.rawValue, reason: 0)), promise: nil)
        finish(context, .failure(error(.protocolError(why))))
    }

    private func finish(_ context: ChannelHandlerContext, _ result: Result<StoreStatus, DICOMSCUError>) {
        if case .done = state { return }
        state = .done
        timer?.cancel()
        promise.completeWith(result.mapError { $0 as any Error })
        context.close(promise: nil)
    }

    private func armTimer(_ context: ChannelHandlerContext) {
        timer?.cancel()
        if case .done = state { return }
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: request.timeout) {
            context.writeAndFlush(self.wrapOutboundOut(.abort(source: AbortSource.serviceUser.rawValue, reason: 0)), promise: nil)
            self.finish(context, .failure(self.error(.timeout(seconds: self.request.timeout.nanoseconds / 1_000_000_000))))
        }
    }

    private func error(_ cause: DICOMSCUError.Cause) -> DICOMSCUError {
        DICOMSCUError(peer: request.peer, object: request.sopInstanceUID, cause: cause)
    }
}
