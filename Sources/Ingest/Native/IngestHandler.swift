import Foundation
import Logging
import Metrics
import NIOCore
import NIOPosix
import DICOMNetwork
import Pipeline
import ScanImage
import Store

/// Limits and timings a connection announces in WELCOME.
public struct IngestLimits: Sendable {
    public var maxFrameBytes: Int
    public var maxInFlight: Int
    public var heartbeatSeconds: Int
    public var idleTimeoutSeconds: Int

    public init(maxFrameBytes: Int = 256 << 20, maxInFlight: Int = 16, heartbeatSeconds: Int = 10, idleTimeoutSeconds: Int = 30) {
        self.maxFrameBytes = maxFrameBytes
        self.maxInFlight = maxInFlight
        self.heartbeatSeconds = heartbeatSeconds
        self.idleTimeoutSeconds = idleTimeoutSeconds
    }
}

/// One station connection: handshake, SCAN → ACK → RESULT with several in flight, PING, errors.
///
/// Invariants: all state is touched on the channel's event loop only; a request id is in
/// `requests` from its SCAN until its ERROR or RESULT is written; RESULT is never written before
/// the ACK of the same request (a result that arrives first waits in `early`).
final class IngestHandler: ChannelInboundHandler {
    typealias InboundIn = Frame
    typealias OutboundOut = Frame

    private enum Phase { case awaitingHello, ready }

    private struct Request {
        var token: UInt64
        var acknowledged = false
        var early: AnalysisResult?
    }

    private let intake: ScanIntake
    private let limits: IngestLimits
    private let blockingPool: NIOThreadPool
    private var logger: Logger
    private var phase = Phase.awaitingHello
    private var station: String?
    /// The common name of the client certificate the station presented over TLS, if any.
    private var certified: String?
    private let gate: StationGate?
    private var requests: [UInt32: Request] = [:]
    private var nextToken: UInt64 = 0
    private var context: ChannelHandlerContext?

    init(intake: ScanIntake, limits: IngestLimits, blockingPool: NIOThreadPool, logger: Logger, gate: StationGate? = nil) {
        self.intake = intake
        self.gate = gate
        self.limits = limits
        self.blockingPool = blockingPool
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        logger[metadataKey: "peer"] = "\(context.remoteAddress.map { "\($0)" } ?? "?")"
    }

    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch (phase, frame.type) {
        case (.awaitingHello, .hello): hello(frame, context: context)
        case (.ready, .scan): scan(frame, context: context)
        case (.ready, .ping):
            guard frame.payload.count <= 64 else { return fail(frame.requestId, "bad-frame", "a PING carries at most 64 bytes", context: context) }
            context.writeAndFlush(wrapOutboundOut(Frame(.pong, requestId: frame.requestId, payload: frame.payload)), promise: nil)
        case (.ready, .pong): break
        case (.awaitingHello, _):
            closeWithError(frame.requestId, "bad-frame", "the first frame must be HELLO, got \(frame.type)", context: context)
        default:
            closeWithError(frame.requestId, "bad-frame", "a station does not send \(frame.type) frames here", context: context)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
            // A station waiting for its results is not idle, even if it sends nothing meanwhile.
            guard requests.isEmpty else { return }
            closeWithError(0, "idle-timeout", "nothing received for \(limits.idleTimeoutSeconds) s", context: context)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if let error = error as? FrameError {
            let code: String
            if case .tooLarge = error { code = "too-large" } else { code = "bad-frame" }
            closeWithError(0, code, "\(error)", context: context)
        } else if let error = error as? ByteToMessageDecoderError, case .leftoverDataWhenDone = error {
            context.close(promise: nil)
        } else {
            logger.debug("connection error", metadata: ["error": "\(error)"])
            context.close(promise: nil)
        }
    }

    private func hello(_ frame: Frame, context: ChannelHandlerContext) {
        guard let hello = try? JSONDecoder().decode(Hello.self, from: Data(frame.payload)) else {
            return closeWithError(0, "bad-frame", "HELLO must be a JSON object with versions", context: context)
        }
        if let station = hello.station, station.isEmpty || station.count > 128 {
            return closeWithError(0, "bad-frame", "station must have 1 to 128 characters", context: context)
        }
        guard hello.versions.contains(1) else {
            return closeWithError(0, "unsupported-version", "this server speaks protocol version 1; the station offered \(hello.versions)", context: context)
        }
        station = hello.station
        // The TLS handshake is over once HELLO has come through it.
        certified = TLSPeer.commonName(context.pipeline)
        if let station = hello.station ?? certified { logger[metadataKey: "station"] = "\(station)" }
        phase = .ready
        let welcome = Welcome(version: 1, server: "vigil", maxFrameBytes: limits.maxFrameBytes, maxInFlight: limits.maxInFlight,
                              heartbeatSeconds: limits.heartbeatSeconds, idleTimeoutSeconds: limits.idleTimeoutSeconds)
        context.writeAndFlush(wrapOutboundOut(Frame(.welcome, payload: JSON.encode(welcome))), promise: nil)
    }

    private func scan(_ frame: Frame, context: ChannelHandlerContext) {
        let id = frame.requestId
        // Refusals decided here, before the intake sees the scan, are counted like the intake's.
        func fail(_ id: UInt32, _ code: String, _ message: String, context: ChannelHandlerContext) {
            Counter(label: "vigil_scans_rejected_total", dimensions: [("cause", code)]).increment()
            self.fail(id, code, message, context: context)
        }
        guard id != 0 else { return fail(id, "bad-frame", "a SCAN needs a non-zero request id", context: context) }
        guard requests[id] == nil else { return fail(id, "bad-frame", "request id \(id) is already in flight on this connection", context: context) }
        guard requests.count < limits.maxInFlight else {
            return fail(id, "busy", "\(limits.maxInFlight) scans already in flight on this connection; wait for a result", context: context)
        }
        let payload: ScanPayload
        do { payload = try ScanPayload(splitting: frame.payload) } catch {
            return fail(id, "bad-frame", "the SCAN payload is shorter than its metadata length says", context: context)
        }
        let metadata: ScanMetadata
        do { metadata = try JSONDecoder().decode(ScanMetadata.self, from: Data(payload.metadata)) } catch {
            if Self.path(of: error).first == "raw" {
                return fail(id, "unsupported-format", "the raw layout is incomplete: \(Self.reason(error))", context: context)
            }
            return fail(id, "bad-frame", "the SCAN metadata is not a JSON object with a scanId: \(Self.reason(error))", context: context)
        }
        guard (1...128).contains(metadata.scanId.count) else { return fail(id, "bad-frame", "scanId must have 1 to 128 characters", context: context) }
        if let station = metadata.station, station.isEmpty || station.count > 128 {
            return fail(id, "bad-frame", "station must have 1 to 128 characters", context: context)
        }
        var layout: RawLayout?
        if metadata.format == "raw" {
            guard let pixels = metadata.raw else { return fail(id, "unsupported-format", "format raw needs a raw layout", context: context) }
            do { layout = try pixels.layout() } catch { return fail(id, error.code, error.message, context: context) }
        }
        let raw = layout
        let stationId = metadata.station ?? station ?? certified ?? context.remoteAddress?.ipAddress ?? "unknown"
        var rawJSON: String?
        if let raw { rawJSON = String(decoding: JSON.encode(raw), as: UTF8.self) }
        let info = ScanInfo(station: stationId, stationScanId: metadata.scanId, site: metadata.site, profile: metadata.profile,
                            pairKey: metadata.pairKey, declaration: metadata.declaration, source: metadata.source ?? metadata.scanId,
                            format: metadata.format ?? ImageFormat.detect(payload.image)?.rawValue, rawLayout: rawJSON, via: "native")
        let incoming = NewScan(info, bytes: payload.image)
        nextToken += 1
        let token = nextToken
        requests[id] = Request(token: token)
        let loop = context.eventLoop
        let bound = NIOLoopBound(self, eventLoop: loop)
        let intake = self.intake, gate = self.gate, certified = self.certified
        let submitted = blockingPool.runIfActive(eventLoop: loop) { () -> IntakeOutcome in
            var incoming = incoming
            // The registry is read per scan (a registration applies at once); off the event loop.
            if let gate {
                switch gate.admit(station: incoming.info.station, certified: certified, site: incoming.info.site, profile: incoming.info.profile) {
                case .failure(let refused):
                    Counter(label: "vigil_scans_rejected_total", dimensions: [("cause", "forbidden")]).increment()
                    return .refused(IntakeRefusal(.forbidden, refused.description))
                case .success(let admitted): (incoming.info.site, incoming.info.profile) = admitted
                }
            }
            return intake.submit(incoming, raw: raw) { result in
                loop.execute { bound.value.resultArrived(id, token: token, result) }
            }
        }
        submitted.whenComplete { outcome in
            switch outcome {
            case .success(.accepted(let scanId, let duplicate)): bound.value.accepted(id, token: token, scanId: scanId, duplicate: duplicate)
            case .success(.refused(let refusal)): bound.value.refused(id, token: token, code: refusal.code.rawValue, message: refusal.message)
            case .failure(let error): bound.value.refused(id, token: token, code: "shutting-down", message: "\(error)")
            }
        }
    }

    private func accepted(_ id: UInt32, token: UInt64, scanId: String, duplicate: Bool) {
        guard let context, var request = requests[id], request.token == token else { return }
        context.write(wrapOutboundOut(Frame(.ack, requestId: id, payload: JSON.encode(Acknowledgement(scanId: scanId, duplicate: duplicate)))), promise: nil)
        request.acknowledged = true
        if let early = request.early {
            requests[id] = nil
            context.write(wrapOutboundOut(Frame(.result, requestId: id, payload: JSON.encode(early))), promise: nil)
        } else {
            requests[id] = request
        }
        context.flush()
    }

    private func refused(_ id: UInt32, token: UInt64, code: String, message: String) {
        guard let context, let request = requests[id], request.token == token else { return }
        requests[id] = nil
        fail(id, code, message, context: context)
    }

    private func resultArrived(_ id: UInt32, token: UInt64, _ result: AnalysisResult) {
        guard var request = requests[id], request.token == token else { return }
        guard request.acknowledged else {
            request.early = result
            requests[id] = request
            return
        }
        requests[id] = nil
        context?.writeAndFlush(wrapOutboundOut(Frame(.result, requestId: id, payload: JSON.encode(result))), promise: nil)
    }

    private func fail(_ id: UInt32, _ code: String, _ message: String, context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(Frame(.error, requestId: id, payload: JSON.encode(ErrorMessage(code: code, message: message)))), promise: nil)
    }

    private func closeWithError(_ id: UInt32, _ code: String, _ message: String, context: ChannelHandlerContext) {
        logger.info("closing a station connection", metadata: ["code": "\(code)", "reason": "\(message)"])
        let frame = Frame(.error, requestId: id, payload: JSON.encode(ErrorMessage(code: code, message: message)))
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(frame)).whenComplete { _ in channel.close(promise: nil) }
    }

    private static func path(of error: Error) -> [String] {
        switch error {
        case DecodingError.keyNotFound(let key, let c): return c.codingPath.map(\.stringValue) + [key.stringValue]
        case DecodingError.typeMismatch(_, let c), DecodingError.valueNotFound(_, let c), DecodingError.dataCorrupted(let c):
            return c.codingPath.map(\.stringValue)
        default: return []
        }
    }

    private static func reason(_ error: Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, let c): return "\((c.codingPath.map(\.stringValue) + [key.stringValue]).joined(separator: ".")) is missing"
        case DecodingError.typeMismatch(_, let c), DecodingError.valueNotFound(_, let c):
            return "\(c.codingPath.map(\.stringValue).joined(separator: ".")) has the wrong type"
        case DecodingError.dataCorrupted: return "not valid JSON"
        default: return "\(error)"
        }
    }
}
