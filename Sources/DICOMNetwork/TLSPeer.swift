import NIOCore
import NIOSSL
import X509

/// The name a TLS peer proved: its verified client certificate's subject common name.
public enum TLSPeer {
    /// nil when the connection is not TLS or the peer presented no certificate.
    public static func commonName(_ pipeline: ChannelPipeline) -> String? {
        guard let handler = try? pipeline.syncOperations.handler(type: NIOSSLServerHandler.self),
              let der = try? handler.peerCertificate?.toDERBytes(),
              let certificate = try? Certificate(derEncoded: der)
        else { return nil }
        for rdn in certificate.subject {
            for attribute in rdn where attribute.type == .RDNAttributeType.commonName { return attribute.value.description }
        }
        return nil
    }
}
