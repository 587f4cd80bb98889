import Foundation
import NIOSSL

/// The service's TLS from the configuration's `tls` member: one server certificate for every
/// listener; on the station ports (native, DICOM) client certificates signed by `clientCA`,
/// required when `requireClientCertificates`, otherwise verified when offered.
struct ServeTLS {
    /// For the HTTP listener: browsers bring no client certificate.
    let http: TLSConfiguration
    /// For the native and DICOM listeners.
    let stations: NIOSSLContext

    init(_ settings: ServeConfiguration.TLS, relativeTo base: String?) throws {
        func path(_ p: String) -> String {
            guard let base, !p.hasPrefix("/") else { return p }
            return (base as NSString).appendingPathComponent(p)
        }
        guard let certificatePath = settings.certificate, let keyPath = settings.key else {
            throw CommandFailure("tls: give certificate and key (PEM files; `vigil certs init` makes a set)")
        }
        let chain: [NIOSSLCertificate], key: NIOSSLPrivateKey
        do { chain = try NIOSSLCertificate.fromPEMFile(path(certificatePath)) } catch {
            throw CommandFailure("tls.certificate \(path(certificatePath)): cannot be read as PEM certificates (\(error))")
        }
        guard !chain.isEmpty else { throw CommandFailure("tls.certificate \(path(certificatePath)): holds no certificate") }
        do { key = try NIOSSLPrivateKey(file: path(keyPath), format: .pem) } catch {
            // The error names the file only: a key's content never reaches a message or a log.
            throw CommandFailure("tls.key \(path(keyPath)): cannot be read as a PEM private key")
        }
        var http = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        http.minimumTLSVersion = .tlsv12
        self.http = http
        var stations = http
        if let caPath = settings.clientCA {
            let roots: [NIOSSLCertificate]
            do { roots = try NIOSSLCertificate.fromPEMFile(path(caPath)) } catch {
                throw CommandFailure("tls.clientCA \(path(caPath)): cannot be read as PEM certificates (\(error))")
            }
            stations.trustRoots = .certificates(roots)
            stations.certificateVerification = settings.requireClientCertificates == true ? .noHostnameVerification : .optionalVerification
        } else if settings.requireClientCertificates == true {
            throw CommandFailure("tls.requireClientCertificates needs tls.clientCA: the CA that signs the stations' certificates")
        }
        do { self.stations = try NIOSSLContext(configuration: stations) } catch {
            throw CommandFailure("tls: the certificate and key do not make a TLS context (\(error)); do they belong together?")
        }
    }

    /// Whether `host` is a loopback address or name, where plaintext is acceptable.
    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }
}
