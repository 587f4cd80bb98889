import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import Pipeline
import Synchronization

/// A station's side of the native protocol: connect, HELLO, then any number of scans in flight.
/// `vigil push` is built on it; it is also what tests use as the Swift peer.
public final class StationClient: Sendable {
    /// How one scan ended: its ACK (if any) and then its RESULT, or the ERROR that refused it.
    public struct Reply: Sendable {
        public var ack: Acknowledgement?
        public var result: AnalysisResult?
        public var error: ErrorMessage?
        /// The RESULT's bytes as received.
        public var resultJSON: [UInt8]?
    }

    public enum Failure: Error, Sendable, CustomStringConvertible {
        case connect(String, String)
        case refused(String, ErrorMessage)
        case closed(String)
        /// The connection failed under the protocol: a TLS handshake refused, a reset.
        case broken(String, String)

        public var description: String {
            switch self {
            case .broken(let to, let why): return "\(to): \(why)"
            case .connect(let to, let why): return "\(to): cannot connect: \(why)"
            case .refused(let to, let e): return "\(to): \(e.code): \(e.message)"
            case .closed(let to): return "\(to): the connection closed before the answer"
            }
        }
    }

    public let welcome: Welcome
    let channel: Channel
    let handler: NIOLoopBound<ClientHandler>
    let address: String
    let nextId = RequestIdCounter()

    private init(channel: Channel, handler: NIOLoopBound<ClientHandler>, welcome: Welcome, address: String) {
        self.channel = channel
        self.handler = handler
        self.welcome = welcome
        self.address = address
    }

    /// `tls`: speak TLS (the server verified against the context's trust roots; the context's
    /// certificate, if any, is the station's client certificate).
    public static func connect(host: String, port: Int, hello: Hello, group: EventLoopGroup, tls: NIOSSLContext? = nil) async throws -> StationClient {
        let address = "\(host):\(port)"
        let channel: Channel
        // SNI carries names only; an address is checked against the certificate's IP entries.
        let isAddress = host.contains(":") || host.split(separator: ".").allSatisfy { Int($0) != nil }
        do {
            channel = try await ClientBootstrap(group: group)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let tls {
                            try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: tls, serverHostname: isAddress ? nil : host))
                        }
                        try channel.pipeline.syncOperations.addHandlers([
                            ByteToMessageHandler(FrameDecoder(maxFrameBytes: 1 << 30)),
                            MessageToByteHandler(FrameEncoder()),
                            ClientHandler(),
                        ])
                    }
                }
                .connect(host: host, port: port).get()
        } catch {
            throw Failure.connect(address, SocketErrorText.describe(error))
        }
        let loop = channel.eventLoop
        let handler = try await loop.submit {
            NIOLoopBound(try channel.pipeline.syncOperations.handler(type: ClientHandler.self), eventLoop: loop)
        }.get()
        let welcomeFrame = try await loop.flatSubmit { () -> EventLoopFuture<Frame> in
            let promise = loop.makePromise(of: Frame.self)
            handler.value.connectionPromise = promise
            channel.writeAndFlush(Frame(.hello, payload: JSON.encode(hello)), promise: nil)
            return promise.futureResult
        }.get()
        guard welcomeFrame.type == .welcome, let welcome = try? JSONDecoder().decode(Welcome.self, from: Data(welcomeFrame.payload)) else {
            let e = (try? JSONDecoder().decode(ErrorMessage.self, from: Data(welcomeFrame.payload))) ?? ErrorMessage(code: "bad-frame", message: "no WELCOME")
            try? await channel.close()
            throw Failure.refused(address, e)
        }
        return StationClient(channel: channel, handler: handler, welcome: welcome, address: address)
    }

    /// Sends one scan; `onAck` is called when the ACK arrives, the reply once the RESULT (or ERROR) does.
    public func send(_ metadata: ScanMetadata, image: [UInt8], onAck: (@Sendable (Acknowledgement) -> Void)? = nil) async throws -> Reply {
        let id = nextId.next()
        let payload = ScanPayload(metadata: JSON.encode(metadata), image: image).encoded
        let loop = channel.eventLoop, handler = self.handler, channel = self.channel
        return try await loop.flatSubmit { () -> EventLoopFuture<Reply> in
            let promise = loop.makePromise(of: Reply.self)
            handler.value.pending[id] = .init(promise: promise, onAck: onAck)
            channel.writeAndFlush(Frame(.scan, requestId: id, payload: payload), promise: nil)
            return promise.futureResult
        }.get()
    }

    /// Sends a PING and waits for its PONG.
    public func ping() async throws {
        let loop = channel.eventLoop, handler = self.handler, channel = self.channel
        _ = try await loop.flatSubmit { () -> EventLoopFuture<Frame> in
            let promise = loop.makePromise(of: Frame.self)
            handler.value.pongs.append(promise)
            channel.writeAndFlush(Frame(.ping, payload: Array("hb".utf8)), promise: nil)
            return promise.futureResult
        }.get()
    }

    public func close() async {
        try? await channel.close()
    }
}

/// A request-id source shared by the tasks that send on one connection.
final class RequestIdCounter: Sendable {
    private let value = Mutex(UInt32(0))
    func next() -> UInt32 { value.withLock { $0 = $0 == UInt32.max ? 1 : $0 + 1; return $0 } }
}


/// The client's pipeline end: matches ACK / RESULT / ERROR to the request waiting for it.
final class ClientHandler: ChannelInboundHandler {
    typealias InboundIn = Frame

    struct Waiting {
        var promise: EventLoopPromise<StationClient.Reply>
        var onAck: (@Sendable (Acknowledgement) -> Void)?
        var reply = StationClient.Reply()
    }

    var connectionPromise: EventLoopPromise<Frame>?
    var pending: [UInt32: Waiting] = [:]
    var pongs: [EventLoopPromise<Frame>] = []

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.type {
        case .welcome:
            connectionPromise?.succeed(frame)
            connectionPromise = nil
        case .ack:
            guard var w = pending[frame.requestId], let ack = try? JSONDecoder().decode(Acknowledgement.self, from: Data(frame.payload)) else { return }
            w.reply.ack = ack
            w.onAck?(ack)
            pending[frame.requestId] = w
        case .result:
            guard var w = pending.removeValue(forKey: frame.requestId) else { return }
            w.reply.resultJSON = frame.payload
            w.reply.result = try? JSONDecoder().decode(AnalysisResult.self, from: Data(frame.payload))
            w.promise.succeed(w.reply)
        case .error:
            let e = (try? JSONDecoder().decode(ErrorMessage.self, from: Data(frame.payload))) ?? ErrorMessage(code: "bad-frame", message: "unreadable ERROR")
            if let p = connectionPromise {
                connectionPromise = nil
                p.succeed(frame)
            } else if frame.requestId != 0, var w = pending.removeValue(forKey: frame.requestId) {
                w.reply.error = e
                w.promise.succeed(w.reply)
            } else {
                // About the connection: every waiting scan ends with this error.
                for (_, var w) in pending { w.reply.error = e; w.promise.succeed(w.reply) }
                pending = [:]
            }
        case .pong:
            if !pongs.isEmpty { pongs.removeFirst().succeed(frame) }
        case .ping:
            context.writeAndFlush(NIOAny(Frame(.pong, requestId: frame.requestId, payload: frame.payload)), promise: nil)
        case .hello, .scan:
            break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        let peer = "\(context.remoteAddress.map { "\($0)" } ?? "peer")"
        connectionPromise?.fail(cause.map { StationClient.Failure.broken(peer, Self.describe($0)) } ?? StationClient.Failure.closed(peer))
        connectionPromise = nil
        for (_, w) in pending { w.promise.fail(StationClient.Failure.closed("server")) }
        pending = [:]
        for p in pongs { p.fail(StationClient.Failure.closed("server")) }
        pongs = []
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if cause == nil { cause = error }
        context.close(promise: nil)
    }

    /// The first error under the protocol, kept so a refused handshake is reported as such.
    private var cause: Error?

    static func describe(_ error: Error) -> String {
        if let ssl = error as? NIOSSLError { return "TLS: \(ssl)" }
        if let ssl = error as? BoringSSLError { return "TLS: \(ssl)" }
        return "\(error)"
    }
}
