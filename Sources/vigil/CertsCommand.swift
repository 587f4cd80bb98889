import ArgumentParser
import Crypto
import Foundation
import SwiftASN1
import X509

/// `vigil certs init`: a local certificate authority, the server's certificate and one client
/// certificate per station, for a test or a small deployment without a PKI of its own.
struct CertsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "certs",
        abstract: "Create a local CA, a server certificate and station certificates (PEM, ECDSA P-256).",
        subcommands: [Initialise.self])

    struct Initialise: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "init",
            abstract: "Write ca.pem/ca.key, server.pem/server.key and <station>.pem/<station>.key into a folder.",
            discussion: """
                The server certificate names every --host (default: localhost, 127.0.0.1, ::1); each station's \
                certificate carries the station's id as its common name, which is how Vigil knows the station. \
                Keys are written 0600. Existing files are kept unless --force.
                """)

        @Option(help: "Folder to write into (created if missing).")
        var out: String
        @Option(name: .customLong("host"), help: "A DNS name or IP address the server is reached by (repeatable).")
        var hosts: [String] = []
        @Option(name: .customLong("station"), help: "A station id to issue a client certificate for (repeatable).")
        var stations: [String] = []
        @Option(help: "Days the certificates are valid.")
        var days = 365
        @Flag(help: "Overwrite files that exist.")
        var force = false

        func validate() throws {
            guard (1...3650).contains(days) else { throw ValidationError("--days must be 1 to 3650") }
            for s in stations where s.isEmpty || s.count > 128 || s.contains("/") {
                throw ValidationError("station \"\(s)\" must be 1 to 128 characters without /")
            }
        }

        func run() throws {
            let folder = URL(fileURLWithPath: out)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])
            let names = ["ca", "server"] + stations
            if !force {
                for n in names {
                    for ext in ["pem", "key"] where FileManager.default.fileExists(atPath: folder.appendingPathComponent("\(n).\(ext)").path) {
                        throw CommandFailure("\(folder.appendingPathComponent("\(n).\(ext)").path): exists (give --force to replace it)")
                    }
                }
            }
            let now = Date().addingTimeInterval(-300)  // a few minutes of clock skew between hosts
            let until = now.addingTimeInterval(Double(days) * 86400)
            let caKey = P256.Signing.PrivateKey()
            let caName = try DistinguishedName { OrganizationName("Vigil"); CommonName("Vigil local CA") }
            let ca = try Certificate(
                version: .v3, serialNumber: .init(), publicKey: .init(caKey.publicKey), notValidBefore: now, notValidAfter: until,
                issuer: caName, subject: caName, signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                    Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                    SubjectKeyIdentifier(hash: .init(caKey.publicKey))
                },
                issuerPrivateKey: .init(caKey))

            func issue(_ name: String, usage: ExtendedKeyUsage.Usage, alternativeNames: [GeneralName]) throws -> (Certificate, P256.Signing.PrivateKey) {
                let key = P256.Signing.PrivateKey()
                let subject = try DistinguishedName { OrganizationName("Vigil"); CommonName(name) }
                let certificate = try Certificate(
                    version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey), notValidBefore: now, notValidAfter: until,
                    issuer: caName, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
                    extensions: try Certificate.Extensions {
                        Critical(BasicConstraints.notCertificateAuthority)
                        Critical(KeyUsage(digitalSignature: true, keyAgreement: true))
                        try ExtendedKeyUsage([usage])
                        SubjectKeyIdentifier(hash: .init(key.publicKey))
                        AuthorityKeyIdentifier(keyIdentifier: SubjectKeyIdentifier(hash: .init(caKey.publicKey)).keyIdentifier)
                        if !alternativeNames.isEmpty { SubjectAlternativeNames(alternativeNames) }
                    },
                    issuerPrivateKey: .init(caKey))
                return (certificate, key)
            }

            let hosts = self.hosts.isEmpty ? ["localhost", "127.0.0.1", "::1"] : self.hosts
            let server = try issue(hosts[0], usage: .serverAuth, alternativeNames: hosts.map(Self.generalName))
            var written: [String: String] = [:]
            func write(_ name: String, _ certificate: Certificate, _ key: P256.Signing.PrivateKey) throws {
                let pem = folder.appendingPathComponent("\(name).pem"), keyFile = folder.appendingPathComponent("\(name).key")
                try (try certificate.serializeAsPEM().pemString + "\n").write(to: pem, atomically: true, encoding: .utf8)
                FileManager.default.createFile(atPath: keyFile.path, contents: Data((key.pemRepresentation + "\n").utf8),
                                               attributes: [.posixPermissions: 0o600])
                try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: keyFile.path)
                written[name] = pem.path
            }
            try write("ca", ca, caKey)
            try write("server", server.0, server.1)
            for station in stations {
                let (certificate, key) = try issue(station, usage: .clientAuth, alternativeNames: [])
                try write(station, certificate, key)
            }
            struct Summary: Encodable { var folder: String; var ca: String; var server: String; var hosts: [String]; var stations: [String: String]; var notAfter: String }
            try printJSON(Summary(folder: folder.path, ca: written["ca"]!, server: written["server"]!, hosts: hosts,
                                  stations: written.filter { stations.contains($0.key) }, notAfter: until.formatted(.iso8601)))
        }

        /// An IP literal becomes an IP address entry (what clients compare an address against), anything else a DNS name.
        static func generalName(_ host: String) -> GeneralName {
            var v4 = in_addr(), v6 = in6_addr()
            if inet_pton(AF_INET, host, &v4) == 1 {
                return .ipAddress(ASN1OctetString(contentBytes: ArraySlice(withUnsafeBytes(of: &v4) { Array($0) })))
            }
            if inet_pton(AF_INET6, host, &v6) == 1 {
                return .ipAddress(ASN1OctetString(contentBytes: ArraySlice(withUnsafeBytes(of: &v6) { Array($0) })))
            }
            return .dnsName(host)
        }
    }
}
