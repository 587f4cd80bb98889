import Hummingbird
import NIOCore

/// The request context of Vigil's HTTP API: Hummingbird's core plus the peer's address, which
/// sign-in throttling and the audit log need.
public struct APIRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The client's IP address as the socket saw it (a proxy in front shows as itself).
    public let peer: String

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        peer = source.channel.remoteAddress?.ipAddress ?? "unknown"
    }
}
