import NIOCore
import NIOPosix

/// Sends one object by C-STORE: associate, store, release.
public struct DICOMStoreSCU: Sendable {
    /// How the SCU presents itself and how long it waits.
    public struct Configuration: Sendable {
        public var callingAETitle: String = "VIGIL"
        /// Longest wait for any answer from the peer (connect, A-ASSOCIATE-AC, C-STORE-RSP, A-RELEASE-RP).
        public var timeout: TimeAmount = .seconds(30)
        /// Largest PDU we accept from the peer.
        public var maxPDULength: UInt32 = 1 << 20

        public init() {}
    }

    public var configuration: Configuration
    private let group: any EventLoopGroup

    public init(configuration: Configuration = Configuration(), group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.configuration = configuration
        self.group = group
    }

    /// Sends a DICOM Part 10 file (preamble, "DICM", meta header, data set).
    public func send(part10: [UInt8], to host: String, port: Int, calledAETitle: String,
                     callingAETitle: String? = nil) async throws(DICOMSCUError) -> StoreStatus {
        let meta: Part10.Meta
        let offset: Int
        do {
            (meta, offset) = try Part10.readMeta(part10)
        } catch {
            throw DICOMSCUError(peer: Self.peer(calledAETitle, host, port), object: "object", cause: .invalidObject("\(error)"))
        }
        return try await send(dataSet: Array(part10[offset...]), sopClassUID: meta.sopClassUID, sopInstanceUID: meta.sopInstanceUID,
                              transferSyntaxUID: meta.transferSyntaxUID, to: host, port: port, calledAETitle: calledAETitle,
                              callingAETitle: callingAETitle)
    }

    /// Sends a data set encoded in `transferSyntaxUID`. An explicit VR little endian data set is
    /// proposed as explicit and as implicit VR little endian (re-encoded if only that is accepted);
    /// any other is proposed in its own transfer syntax only.
    public func send(dataSet: [UInt8], sopClassUID: String, sopInstanceUID: String, transferSyntaxUID: String,
                     to host: String, port: Int, calledAETitle: String,
                     callingAETitle: String? = nil) async throws(DICOMSCUError) -> StoreStatus {
        let peer = Self.peer(calledAETitle, host, port)
        var encodings: [(id: UInt8, transferSyntax: String, dataSet: [UInt8])] = [(1, transferSyntaxUID, dataSet)]
        if transferSyntaxUID == DICOMUID.explicitVRLittleEndian {
            do {
                encodings.append((3, DICOMUID.implicitVRLittleEndian, try ImplicitVRTranscoder.transcode(explicitLittleEndian: dataSet)))
            } catch {
                throw DICOMSCUError(peer: peer, object: sopInstanceUID, cause: .invalidObject("\(error)"))
            }
        }
        let request = SCURequest(calledAETitle: calledAETitle, callingAETitle: callingAETitle ?? configuration.callingAETitle,
                                 sopClassUID: sopClassUID, sopInstanceUID: sopInstanceUID,
                                 maxPDULength: configuration.maxPDULength, encodings: encodings,
                                 timeout: configuration.timeout, peer: peer)
        let limits = PDULimits(maxPDULength: configuration.maxPDULength)
        let eventLoop = group.next()
        let promise = eventLoop.makePromise(of: StoreStatus.self)
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(configuration.timeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([
                        ByteToMessageHandler(PDUDecoder(limits: limits)),
                        MessageToByteHandler(PDUEncoder()),
                        SCUAssociationHandler(request: request, promise: promise),
                    ])
                }
            }
        do {
            _ = try await bootstrap.connect(host: host, port: port).get()
        } catch {
            promise.fail(error)  // the handler never ran
            throw DICOMSCUError(peer: peer, object: sopInstanceUID, cause: .connectionFailed("\(error)"))
        }
        do {
            return try await promise.futureResult.get()
        } catch let error as DICOMSCUError {
            throw error
        } catch {
            throw DICOMSCUError(peer: peer, object: sopInstanceUID, cause: .protocolError("\(error)"))
        }
    }

    private static func peer(_ ae: String, _ host: String, _ port: Int) -> String { "\(ae)@\(host):\(port)" }
}
