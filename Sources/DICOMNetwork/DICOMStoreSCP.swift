import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL

/// A Storage and Verification SCP: accepts associations, answers C-ECHO, hands each C-STORE to a delegate.
public final class DICOMStoreSCP: Sendable {
    /// What the SCP accepts and how far it trusts its peers.
    public struct Configuration: Sendable {
        /// Address to bind; loopback unless a configuration opens it up.
        public var host: String = "127.0.0.1"
        /// 0 picks a free port (see `localPort`).
        public var port: Int = 11112
        /// Our AE title; an A-ASSOCIATE-RQ calling another is rejected.
        public var aeTitle: String = "VIGIL"
        public var abstractSyntaxes: [String] = DICOMUID.defaultAbstractSyntaxes
        /// Accepted transfer syntaxes (the ones Vigil's dcmtk decoder reads).
        public var transferSyntaxes: [String] = DICOMUID.defaultTransferSyntaxes
        /// The largest PDU accepted, advertised as our maximum length.
        public var maxPDULength: UInt32 = 1 << 20
        /// Largest data set accepted in one C-STORE; a larger one aborts the association.
        public var maxObjectSize: Int = 512 << 20
        /// An association with no PDU for this long is aborted (ARTIM-like).
        public var idleTimeout: TimeAmount = .seconds(30)
        /// Associations open at once; beyond, A-ASSOCIATE-RJ (transient, local limit exceeded).
        public var maxAssociations: Int = 32
        public var implementationClassUID: String = DICOMUID.implementationClassUID
        public var implementationVersionName: String = DICOMUID.implementationVersionName
        /// TLS on the port (dcmtk's `+tls`): every association is encrypted; the context decides
        /// whether a client certificate is required.
        public var tls: NIOSSLContext?
        /// Asked for every A-ASSOCIATE-RQ with the calling AE title and, over TLS, the client
        /// certificate's common name; a returned reason rejects the association (calling AE title
        /// not recognized).
        public var admit: (@Sendable (_ callingAETitle: String, _ certifiedName: String?) -> String?)?

        public init() {}
    }

    public let configuration: Configuration
    /// The port bound, useful when `configuration.port` was 0.
    public let localPort: Int
    private let serverChannel: any Channel
    private let registry: AssociationRegistry
    private let logger: Logger

    private init(configuration: Configuration, localPort: Int, serverChannel: any Channel, registry: AssociationRegistry, logger: Logger) {
        self.configuration = configuration
        self.localPort = localPort
        self.serverChannel = serverChannel
        self.registry = registry
        self.logger = logger
    }

    /// Binds and starts accepting associations.
    public static func start(configuration: Configuration, delegate: any DICOMStoreDelegate,
                             group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
                             logger: Logger = Logger(label: "vigil.dicom.scp")) async throws(DICOMSCPError) -> DICOMStoreSCP {
        let registry = AssociationRegistry()
        let limits = PDULimits(maxPDULength: configuration.maxPDULength)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 64)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                registry.add(channel)
                return channel.eventLoop.makeCompletedFuture {
                    if let tls = configuration.tls { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls)) }
                    try channel.pipeline.syncOperations.addHandlers([
                        ByteToMessageHandler(PDUDecoder(limits: limits)),
                        MessageToByteHandler(PDUEncoder()),
                        SCPAssociationHandler(configuration: configuration, delegate: delegate, registry: registry, logger: logger),
                    ])
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.bind(host: configuration.host, port: configuration.port).get()
        } catch {
            let cause = (error as? IOError).map { String(cString: strerror($0.errnoCode)).lowercased() } ?? "\(error)"
            throw DICOMSCPError(host: configuration.host, port: configuration.port, cause: cause)
        }
        let port = channel.localAddress?.port ?? configuration.port
        logger.info("DICOM SCP \(configuration.aeTitle) listening on \(configuration.host):\(port)\(configuration.tls == nil ? "" : " (TLS)")")
        return DICOMStoreSCP(configuration: configuration, localPort: port, serverChannel: channel, registry: registry, logger: logger)
    }

    /// Stops accepting, then ends each open association: at once when idle (A-ABORT), after the
    /// response when a C-STORE is with the delegate; whatever is still open after `gracePeriod` is closed.
    public func stop(gracePeriod: TimeAmount = .seconds(10)) async {
        try? await serverChannel.close()
        let open = registry.all
        for channel in open {
            channel.pipeline.fireUserInboundEventTriggered(SCPShutdownEvent())
            channel.eventLoop.scheduleTask(in: gracePeriod) { channel.close(promise: nil) }
        }
        for channel in open { try? await channel.closeFuture.get() }
        logger.info("DICOM SCP \(configuration.aeTitle) on port \(localPort) stopped")
    }
}

/// The SCP could not start listening.
public struct DICOMSCPError: Error, Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var cause: String

    public var description: String { "cannot listen for DICOM on \(host):\(port): \(cause)" }
}
