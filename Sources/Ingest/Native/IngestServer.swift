import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// The native protocol's listener: one `IngestHandler` per station connection.
public final class IngestServer: Sendable {
    private let intake: ScanIntake
    private let limits: IngestLimits
    private let group: MultiThreadedEventLoopGroup
    private let blockingPool: NIOThreadPool
    private let logger: Logger
    private let tls: NIOSSLContext?
    private let gate: StationGate?
    private let state = Mutex<Connections>(Connections())

    struct Connections {
        var server: Channel?
        var connections: [ObjectIdentifier: Channel] = [:]
    }

    /// `tls`: stations connect over TLS only (the context says whether a client certificate is
    /// required). `gate`: who may push what (the station registry, certificate names).
    public init(intake: ScanIntake, limits: IngestLimits = .init(), group: MultiThreadedEventLoopGroup,
                logger: Logger = Logger(label: "vigil.ingest"), tls: NIOSSLContext? = nil, gate: StationGate? = nil) {
        self.intake = intake
        self.limits = limits
        self.tls = tls
        self.gate = gate
        self.group = group
        // Disk writes (fsync) block; they run here, never on an event loop.
        self.blockingPool = NIOThreadPool(numberOfThreads: 4)
        self.logger = logger
    }

    /// Binds and starts accepting stations; returns the port (useful when asked for port 0).
    public func start(host: String, port: Int) async throws -> Int {
        blockingPool.start()
        let intake = self.intake, limits = self.limits, blockingPool = self.blockingPool, logger = self.logger
        let tls = self.tls, gate = self.gate
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                let id = ObjectIdentifier(channel)
                self.state.withLock { $0.connections[id] = channel }
                channel.closeFuture.whenComplete { _ in _ = self.state.withLock { $0.connections.removeValue(forKey: id) } }
                return channel.eventLoop.makeCompletedFuture {
                    if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls)) }
                    try channel.pipeline.syncOperations.addHandlers([
                        IdleStateHandler(readTimeout: .seconds(Int64(limits.idleTimeoutSeconds))),
                        ByteToMessageHandler(FrameDecoder(maxFrameBytes: limits.maxFrameBytes)),
                        MessageToByteHandler(FrameEncoder()),
                        IngestHandler(intake: intake, limits: limits, blockingPool: blockingPool, logger: logger, gate: gate),
                    ])
                }
            }
            .bind(host: host, port: port).get()
        state.withLock { $0.server = channel }
        let bound = channel.localAddress?.port ?? port
        logger.info("native ingest listening", metadata: ["address": "\(host):\(bound)", "tls": "\(tls != nil)"])
        return bound
    }

    /// Stops accepting connections; the intake's drain answers what is in flight, then
    /// `closeConnections` hangs up on the stations.
    public func stopAccepting() async {
        let server = state.withLock { $0.server }
        try? await server?.close()
    }

    /// Closes every station connection after what was already written to it.
    public func closeConnections() async {
        let connections = state.withLock { Array($0.connections.values) }
        for c in connections {
            // Queued on the channel's loop after any RESULT the drain scheduled, so those go out first.
            try? await c.eventLoop.flatSubmit { c.close(mode: CloseMode.all) }.get()
        }
        try? await blockingPool.shutdownGracefully()
    }
}
