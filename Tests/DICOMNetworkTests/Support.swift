import DICOMNetwork
import Foundation
import NIOCore
import NIOPosix
import XCTest

/// Runs a tool to completion off the cooperative pool and captures its output; the tool is killed
/// (by its own process id) if it outlives `timeout`, so a hung peer fails a test instead of hanging it.
enum Subprocess {
    struct Run: Sendable {
        var status: Int32
        var stdout: String
        var stderr: String
        var output: String { stdout + stderr }
    }

    static func run(_ tool: String, _ arguments: [String], timeout: TimeInterval = 60) async throws -> Run {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                do {
                    let process = Process()
                    process.executableURL = URL(fileURLWithPath: tool.hasPrefix("/") ? tool : "/usr/bin/\(tool)")
                    process.arguments = arguments
                    // Output goes to files, so a chatty tool can never block on a full pipe.
                    let base = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-run-\(UUID().uuidString)")
                    let outURL = base.appendingPathExtension("out"), errURL = base.appendingPathExtension("err")
                    _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
                    _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
                    defer {
                        try? FileManager.default.removeItem(at: outURL)
                        try? FileManager.default.removeItem(at: errURL)
                    }
                    process.standardOutput = try FileHandle(forWritingTo: outURL)
                    process.standardError = try FileHandle(forWritingTo: errURL)
                    try process.run()
                    let pid = process.processIdentifier
                    let killer = DispatchWorkItem { kill(pid, SIGKILL) }
                    DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: killer)
                    process.waitUntilExit()
                    killer.cancel()
                    continuation.resume(returning: Run(status: process.terminationStatus,
                                                       stdout: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
                                                       stderr: (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""))
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }
}

/// A real delegate: writes every object it receives to a folder (one file per object, in order of
/// arrival) and answers with a set status.
final class FolderDelegate: DICOMStoreDelegate, @unchecked Sendable {
    let folder: URL
    // Guarded by `lock`.
    private let lock = NSLock()
    private var _received: [(object: ReceivedObject, file: URL)] = []
    private var _status = StoreStatus.success

    init(folder: URL) { self.folder = folder }

    var received: [(object: ReceivedObject, file: URL)] { lock.withLock { _received } }
    var status: StoreStatus {
        get { lock.withLock { _status } }
        set { lock.withLock { _status = newValue } }
    }

    func store(_ object: ReceivedObject) async -> StoreStatus {
        let url = lock.withLock { folder.appendingPathComponent("\(_received.count)-\(object.sopInstanceUID).dcm") }
        do {
            try Data(object.part10).write(to: url)
        } catch {
            return .outOfResources("cannot write \(url.path): \(error)")
        }
        return lock.withLock {
            _received.append((object, url))
            return _status
        }
    }
}

/// A scratch folder removed after the test.
func makeTemporaryFolder(_ name: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-\(name)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// The repository's sample scans.
let samplesFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("ScannerProfiles/samples")

/// The data set bytes of a Part 10 file (after its meta header).
func dataSetBytes(of url: URL) throws -> [UInt8] {
    let bytes = [UInt8](try Data(contentsOf: url))
    let (_, offset) = try Part10.readMeta(bytes)
    return Array(bytes[offset...])
}

/// A free TCP port on the loopback interface, found by binding port 0 and closing it again.
func freePort() throws -> Int {
    let channel = try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).wait()
    defer { try? channel.close().wait() }
    return channel.localAddress!.port!
}

/// Bytes sent on a raw TCP connection, and what came back until the server closed it.
final class RawConnection: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    // Only touched on the channel's event loop until `closed` completes.
    private var bytes: [UInt8] = []
    private let done: EventLoopPromise<[UInt8]>

    private init(done: EventLoopPromise<[UInt8]>) { self.done = done }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        bytes += buffer.readBytes(length: buffer.readableBytes) ?? []
    }

    func channelInactive(context: ChannelHandlerContext) { done.succeed(bytes) }

    /// Sends `payload` (then half-closes when `endOutput`), and returns everything received
    /// before the server closed the connection. Fails if the server keeps it open for `timeout`.
    static func exchange(port: Int, payload: [UInt8], endOutput: Bool, timeout: TimeAmount = .seconds(20)) async throws -> [UInt8] {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let done = loop.makePromise(of: [UInt8].self)
        let channel = try await ClientBootstrap(group: loop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(RawConnection(done: done)) }
            }
            .connect(host: "127.0.0.1", port: port).get()
        try await channel.writeAndFlush(ByteBuffer(bytes: payload))
        if endOutput { try? await channel.close(mode: .output) }
        let deadline = loop.scheduleTask(in: timeout) {
            done.fail(ChannelError.connectTimeout(timeout))
            channel.close(promise: nil)
        }
        defer { deadline.cancel() }
        return try await done.futureResult.get()
    }
}

/// dcmtk's storescp on a free port, receiving into a folder; stopped by its own process id.
final class Storescp: @unchecked Sendable {
    let port: Int
    let folder: URL
    private let process = Process()

    /// Starts storescp and waits until it answers a C-ECHO.
    init(aeTitle: String, extraArguments: [String] = []) async throws {
        folder = try makeTemporaryFolder("storescp")
        port = try freePort()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/storescp")
        process.arguments = ["-aet", aeTitle, "-od", folder.path] + extraArguments + ["\(port)"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        for _ in 0..<100 {
            let echo = try await Subprocess.run("echoscu", ["-aec", aeTitle, "127.0.0.1", "\(port)"], timeout: 10)
            if echo.status == 0 { return }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        stop()
        throw ChannelError.connectTimeout(.seconds(10))
    }

    var receivedFiles: [URL] {
        ((try? FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)) ?? []).sorted { $0.path < $1.path }
    }

    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)  // storescp ignores SIGTERM while waiting for associations
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: folder)
    }
}

/// A delegate that holds every store until `open()` is called, and tells when a store has arrived.
final class GatedDelegate: DICOMStoreDelegate, @unchecked Sendable {
    // Guarded by `lock`.
    private let lock = NSLock()
    private var arrived = 0
    private var arrivalWaiters: [CheckedContinuation<Void, Never>] = []
    private var isOpen = false
    private var held: [CheckedContinuation<Void, Never>] = []

    func store(_ object: ReceivedObject) async -> StoreStatus {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let (waiters, pass) = lock.withLock { () -> ([CheckedContinuation<Void, Never>], Bool) in
                arrived += 1
                defer { arrivalWaiters = [] }
                if !isOpen { held.append(continuation) }
                return (arrivalWaiters, isOpen)
            }
            waiters.forEach { $0.resume() }
            if pass { continuation.resume() }
        }
        return .success
    }

    func waitForArrival() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let already = lock.withLock { () -> Bool in
                if arrived > 0 { return true }
                arrivalWaiters.append(continuation)
                return false
            }
            if already { continuation.resume() }
        }
    }

    func open() {
        let waiting = lock.withLock { () -> [CheckedContinuation<Void, Never>] in
            isOpen = true
            defer { held = [] }
            return held
        }
        waiting.forEach { $0.resume() }
    }
}

/// An association held open: the A-ASSOCIATE-RQ is sent and its answer received.
final class HeldAssociation: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    private let answered: EventLoopPromise<[UInt8]>
    let channel: any Channel

    private init(answered: EventLoopPromise<[UInt8]>, channel: any Channel) { (self.answered, self.channel) = (answered, channel) }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        answered.succeed(buffer.readBytes(length: buffer.readableBytes) ?? [])
    }

    func channelInactive(context: ChannelHandlerContext) { answered.succeed([]) }

    /// Connects, associates as `callingAETitle` for Verification, and returns the first bytes of the answer.
    static func open(port: Int) async throws -> (connection: any Channel, answer: [UInt8]) {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let answered = loop.makePromise(of: [UInt8].self)
        let channel = try await ClientBootstrap(group: loop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(HeldAssociation(answered: answered, channel: channel))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        let rq = AssociateRequest(calledAETitle: "VIGIL", callingAETitle: "HOLDER", presentationContexts: [
            ProposedPresentationContext(id: 1, abstractSyntax: DICOMUID.verification, transferSyntaxes: [DICOMUID.implicitVRLittleEndian]),
        ], userInformation: UserInformation(maxPDULength: 16384, implementationClassUID: "1.2.3", implementationVersionName: nil))
        try await channel.writeAndFlush(ByteBuffer(bytes: PDUSerializer.serialize(.associateRQ(rq))))
        return (channel, try await answered.futureResult.get())
    }
}
