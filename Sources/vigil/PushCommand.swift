import ArgumentParser
import Foundation
import Ingest
import NIOPosix
import NIOSSL
import Pipeline
import ScanImage
import Synchronization

/// `vigil push`: the reference station client of docs/protocol.md.
struct PushCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Push scan files to vigil serve over the native protocol; print each result JSON.",
        discussion: """
            With --count, a load run: the files are sent round-robin, --concurrency at a time, and one JSON line \
            gives latency from send to RESULT (p50/p95/p99) and scans per second instead of the results. \
            Exit code 1 when any scan was refused or its result is an error.
            """)

    @Argument(help: "Scan files (DICOM/DICOS, TIFF, PNG, JPEG, NPY, or raw with --raw).")
    var files: [String]
    @Option(help: "Where vigil serve listens (HOST:PORT).")
    var to: String = "127.0.0.1:7300"
    @OptionGroup var scan: ScanOptions
    @Option(help: "Pairing key (plate or container number).")
    var pairKey: String?
    @Option(help: "The station's scan id (one file only; default: a new id per scan).")
    var scanId: String?
    @Option(help: "Headerless pixels: WIDTHxHEIGHT[xCHANNELS[xFRAMES]]:FORMAT[le|be], e.g. 2048x1024x2:uint16le.")
    var raw: String?
    @Option(help: "Load run: scans to send in all.")
    var count: Int?
    @Option(help: "Load run: scans in flight at once.")
    var concurrency: Int = 1
    @Option(help: "Connect over TLS, trusting the server certificate this CA (PEM) signed.")
    var ca: String?
    @Option(help: "The station's client certificate (PEM), with --key.")
    var cert: String?
    @Option(help: "The station's private key (PEM), with --cert.")
    var key: String?

    func validate() throws {
        if scanId != nil && files.count > 1 { throw ValidationError("--scan-id names one scan; give one file") }
        if let count, count < 1 { throw ValidationError("--count must be at least 1") }
        if concurrency < 1 { throw ValidationError("--concurrency must be at least 1") }
        if (cert == nil) != (key == nil) { throw ValidationError("--cert and --key go together") }
        if cert != nil && ca == nil { throw ValidationError("a client certificate is for TLS: give --ca too") }
    }

    mutating func run() async throws {
        let parts = to.split(separator: ":")
        guard parts.count == 2, let port = Int(parts[1]) else { throw CommandFailure("--to \(to): expected HOST:PORT") }
        let host = String(parts[0])
        var rawPixels: ScanMetadata.RawPixels?
        if let raw {
            guard let layout = RawLayout(parsing: raw) else { throw CommandFailure("--raw \(raw): expected WIDTHxHEIGHT[xCHANNELS[xFRAMES]]:FORMAT") }
            rawPixels = .init(width: layout.width, height: layout.height, channels: layout.channels, frames: layout.frames,
                              sample: layout.format.rawValue, byteOrder: layout.byteOrder == .big ? "big" : "little", bitsStored: layout.bitsStored)
        }
        var images: [(path: String, bytes: [UInt8])] = []
        for file in files {
            do { images.append((file, try ScanFile.read(file, maxBytes: 1 << 30))) } catch { throw CommandFailure("\(error)") }
        }
        let template = ScanMetadata(scanId: "", station: scan.station, site: scan.site, profile: scan.profile, pairKey: pairKey,
                                    declaration: scan.declaration, format: rawPixels == nil ? nil : "raw", raw: rawPixels)
        let group = MultiThreadedEventLoopGroup.singleton
        let hello = Hello(versions: [1], station: scan.station, client: "vigil-push")
        let tls = try clientTLS()
        if let count {
            try await load(images, template: template, count: count, host: host, port: port, hello: hello, group: group, tls: tls)
        } else {
            try await pushEach(images, template: template, host: host, port: port, hello: hello, group: group, tls: tls)
        }
    }

    /// TLS for the connection when --ca is given: the server verified against that CA, and the
    /// station's certificate presented when --cert/--key are.
    private func clientTLS() throws -> NIOSSLContext? {
        guard let ca else { return nil }
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        do { configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(ca)) } catch {
            throw CommandFailure("--ca \(ca): cannot be read as PEM certificates")
        }
        if let cert, let key {
            do {
                configuration.certificateChain = try NIOSSLCertificate.fromPEMFile(cert).map { .certificate($0) }
            } catch { throw CommandFailure("--cert \(cert): cannot be read as a PEM certificate") }
            do { configuration.privateKey = .privateKey(try NIOSSLPrivateKey(file: key, format: .pem)) } catch {
                throw CommandFailure("--key \(key): cannot be read as a PEM private key")
            }
        }
        do { return try NIOSSLContext(configuration: configuration) } catch {
            throw CommandFailure("TLS: the certificate and key do not make a TLS context (\(error))")
        }
    }

    private func pushEach(_ images: [(path: String, bytes: [UInt8])], template: ScanMetadata, host: String, port: Int,
                          hello: Hello, group: MultiThreadedEventLoopGroup, tls: NIOSSLContext?) async throws {
        let client = try await StationClient.connect(host: host, port: port, hello: hello, group: group, tls: tls)
        defer { Task { await client.close() } }
        var failed = false
        for (path, bytes) in images {
            var metadata = template
            metadata.scanId = scanId ?? UUID().uuidString.lowercased()
            metadata.source = path
            let reply = try await client.send(metadata, image: bytes)
            if let error = reply.error {
                FileHandle.standardError.write(Data("vigil: \(path): \(error.code): \(error.message)\n".utf8))
                failed = true
            } else if let json = reply.resultJSON {
                FileHandle.standardOutput.write(Data(json + [0x0A]))
                if let error = reply.result?.error {
                    FileHandle.standardError.write(Data("vigil: \(error)\n".utf8))
                    failed = true
                }
            }
        }
        await client.close()
        if failed { throw ExitCode(1) }
    }

    /// Sends `count` scans keeping `concurrency` in flight (over as many connections as the
    /// server's per-connection limit needs) and prints the latency summary.
    private func load(_ images: [(path: String, bytes: [UInt8])], template: ScanMetadata, count: Int, host: String, port: Int,
                      hello: Hello, group: MultiThreadedEventLoopGroup, tls: NIOSSLContext?) async throws {
        let first = try await StationClient.connect(host: host, port: port, hello: hello, group: group, tls: tls)
        let perConnection = max(1, first.welcome.maxInFlight)
        var clients = [first]
        while clients.count * perConnection < concurrency {
            clients.append(try await StationClient.connect(host: host, port: port, hello: hello, group: group, tls: tls))
        }
        let run = UUID().uuidString.prefix(8).lowercased()
        let clock = ContinuousClock()
        let start = clock.now
        let next = ScanNumbers()
        let samples = try await withThrowingTaskGroup(of: [LoadSample].self) { tasks in
            for lane in 0..<concurrency {
                let client = clients[lane % clients.count]
                tasks.addTask {
                    var mine: [LoadSample] = []
                    while let n = next.take(below: count) {
                        let image = images[n % images.count]
                        var metadata = template
                        metadata.scanId = "load-\(run)-\(n)"
                        metadata.source = image.path
                        let sent = clock.now
                        let reply = try await client.send(metadata, image: image.bytes)
                        mine.append(LoadSample(ms: (clock.now - sent).milliseconds, verdict: reply.result?.verdict,
                                               error: reply.error?.code, stagesMs: reply.result?.timingsMs ?? [:]))
                    }
                    return mine
                }
            }
            var all: [LoadSample] = []
            for try await part in tasks { all += part }
            return all
        }
        let seconds = (clock.now - start).milliseconds / 1000
        for c in clients { await c.close() }
        let summary = LoadSummary(samples, seconds: seconds, concurrency: concurrency, connections: clients.count)
        try printJSON(summary)
        if summary.errors.values.reduce(0, +) > 0 || (summary.verdicts["error"] ?? 0) > 0 { throw ExitCode(1) }
    }
}

/// Hands out scan numbers 0..<n to the sending tasks.
final class ScanNumbers: Sendable {
    private let value = Mutex(0)
    func take(below n: Int) -> Int? { value.withLock { v in guard v < n else { return nil }; defer { v += 1 }; return v } }
}



struct LoadSample: Sendable {
    var ms: Double
    var verdict: String?
    var error: String?
    var stagesMs: [String: Double]
}

/// What a load run prints: send→RESULT latency percentiles, throughput, and the median of the
/// server's own per-scan stage timings (decode, preprocess, inference, postprocess, pipeline total).
struct LoadSummary: Encodable {
    var scans: Int
    var concurrency: Int
    var connections: Int
    var seconds: Double
    var scansPerSecond: Double
    var p50Ms: Double
    var p95Ms: Double
    var p99Ms: Double
    var maxMs: Double
    var serverP50Ms: [String: Double]
    var verdicts: [String: Int]
    var errors: [String: Int]

    init(_ samples: [LoadSample], seconds: Double, concurrency: Int, connections: Int) {
        let answered = samples.filter { $0.error == nil }
        let latencies = answered.map(\.ms).sorted()
        func pct(_ values: [Double], _ p: Double) -> Double {
            guard !values.isEmpty else { return 0 }
            let v = values[min(values.count - 1, Int((Double(values.count) * p).rounded(.up)) - 1)]
            return (v * 100).rounded() / 100
        }
        scans = samples.count
        self.concurrency = concurrency
        self.connections = connections
        self.seconds = (seconds * 1000).rounded() / 1000
        scansPerSecond = seconds > 0 ? (Double(answered.count) / seconds * 100).rounded() / 100 : 0
        p50Ms = pct(latencies, 0.5)
        p95Ms = pct(latencies, 0.95)
        p99Ms = pct(latencies, 0.99)
        maxMs = latencies.last.map { ($0 * 100).rounded() / 100 } ?? 0
        let stages = Set(answered.flatMap(\.stagesMs.keys))
        serverP50Ms = Dictionary(uniqueKeysWithValues: stages.map { stage in (stage, pct(answered.compactMap { $0.stagesMs[stage] }.sorted(), 0.5)) })
        verdicts = Dictionary(grouping: answered.compactMap(\.verdict), by: { $0 }).mapValues(\.count)
        errors = Dictionary(grouping: samples.compactMap(\.error), by: { $0 }).mapValues(\.count)
    }
}

extension Duration {
    var milliseconds: Double { Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15 }
}
