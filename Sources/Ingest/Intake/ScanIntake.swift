import Foundation
import Logging
import Metrics
import Pipeline
import Profiles
import ScanImage
import Store

/// The durable queue between the listeners and the pipeline: checks a scan, stores it (fsync),
/// queues it for a worker, and hands each result to whoever waits for it.
///
/// Invariants (all under `lock`): `queue.count + reserved <= capacity` for scans arriving now,
/// so memory stays bounded whatever the stations send; a scan id is in `queue` or being run by
/// at most one worker; results are recorded in the store before anyone is told, and the store
/// keeps only the first result of a scan, so nothing is analysed into two results; the bytes held
/// for queued scans (`retained`) never add up to more than `retainedLimit`. Scans found
/// without a result at start-up (acknowledged before a crash) are queued before new ones. After
/// `shutdown` starts no scan is accepted, and the workers stop only once every accepted scan
/// (stored or still being stored) has its result.
public final class ScanIntake: @unchecked Sendable {
    public struct Configuration: Sendable {
        /// Scans waiting for a worker, beyond which stations are told busy.
        public var capacity: Int
        /// Worker threads running the pipeline (each analysis also splits its loops across the pool).
        public var workers: Int

        public init(capacity: Int = 32, workers: Int = ProcessInfo.processInfo.activeProcessorCount) {
            self.capacity = max(1, capacity)
            self.workers = max(1, workers)
        }
    }

    public typealias ResultHandler = @Sendable (AnalysisResult) -> Void
    /// Told of every recorded result, recovered scans included (the DICOM reports go out here).
    public typealias ResultObserver = @Sendable (StoredScan, AnalysisResult) -> Void

    public let store: ScanStore
    public let analyzer: Analyzer
    public let configuration: Configuration
    let logger: Logger
    let observer: ResultObserver?
    /// Cross-checks scans carrying a pairing key (nil: none are).
    let pairing: PairedScans?

    private let lock = NSCondition()
    private var queue: [StoredScan] = []
    private var head = 0
    private var reserved = 0
    private var running = 0
    private var accepting = true
    private var stopping = false
    private var listeners: [String: [ResultHandler]] = [:]
    /// Bytes of queued scans kept from their arrival, so a worker need not read back what was
    /// just written; within `retainedLimit` bytes, beyond which workers read from the store.
    private var retained: [String: [UInt8]] = [:]
    private var retainedBytes = 0
    static let retainedLimit = 256 << 20
    private var threads: [Thread] = []
    private var finishedWorkers = 0

    public init(store: ScanStore, analyzer: Analyzer, configuration: Configuration = .init(),
                logger: Logger = Logger(label: "vigil.intake"), observer: ResultObserver? = nil, pairing: PairedScans? = nil) {
        self.pairing = pairing
        self.store = store
        self.analyzer = analyzer
        self.configuration = configuration
        self.logger = logger
        self.observer = observer
    }

    /// Queues the scans left without a result by the last run, then starts the workers.
    public func start() throws(StoreError) {
        let left = try store.pending()
        lock.lock()
        queue.append(contentsOf: left)
        Gauge(label: "vigil_queue_depth").record(queue.count - head)
        lock.unlock()
        if !left.isEmpty { logger.info("resuming scans acknowledged before the last stop", metadata: ["count": "\(left.count)"]) }
        for i in 0..<configuration.workers {
            let thread = Thread { [self] in work() }
            thread.name = "vigil-worker-\(i)"
            thread.stackSize = 8 << 20
            threads.append(thread)
            thread.start()
        }
    }

    /// Scans waiting for a worker.
    public var depth: Int {
        lock.lock()
        defer { lock.unlock() }
        return queue.count - head
    }

    /// Checks and durably stores a scan, then queues it. Blocks for the disk writes: call it off
    /// event loops. `onResult` gets the result once (possibly before this returns, for a
    /// duplicate whose result is already stored).
    public func submit(_ scan: NewScan, raw: RawLayout?, onResult: @escaping ResultHandler) -> IntakeOutcome {
        let clock = ContinuousClock()
        let start = clock.now
        if let refusal = check(scan, raw: raw) { return refuse(refusal) }
        lock.lock()
        guard accepting else {
            lock.unlock()
            return refuse(.init(.shuttingDown, "Vigil is shutting down; send the scan again after it restarts"))
        }
        // Duplicates do not take a slot; they are answered from the store or by the worker running them.
        lock.unlock()
        let existing: StoredScan?
        do { existing = try store.find(station: scan.info.station, stationScanId: scan.info.stationScanId) } catch {
            return refuse(.init(.internal, "\(error)"))
        }
        if let existing { return duplicate(existing, onResult) }
        lock.lock()
        guard accepting else {
            lock.unlock()
            return refuse(.init(.shuttingDown, "Vigil is shutting down; send the scan again after it restarts"))
        }
        guard queue.count - head + reserved < configuration.capacity else {
            lock.unlock()
            return refuse(.init(.busy, "the queue is full (\(configuration.capacity) scans); send again later"))
        }
        reserved += 1
        lock.unlock()
        let admission: Admission
        do { admission = try store.admit(scan) } catch {
            lock.lock()
            reserved -= 1
            lock.broadcast()
            lock.unlock()
            logger.error("could not store a scan", metadata: ["scan": "\(scan.info.stationScanId)", "error": "\(error)"])
            return refuse(.init(.internal, "could not store the scan: \(error)"))
        }
        switch admission {
        case .duplicate(let existing):
            lock.lock()
            reserved -= 1
            lock.broadcast()
            lock.unlock()
            return duplicate(existing, onResult)
        case .stored(let stored):
            Counter(label: "vigil_scans_received_total", dimensions: [("via", scan.info.via)]).increment()
            let persisted = clock.now - start
            Timer(label: "vigil_stage_seconds", dimensions: [("stage", "persist")])
                .recordNanoseconds(persisted.components.seconds * 1_000_000_000 + persisted.components.attoseconds / 1_000_000_000)
            lock.lock()
            reserved -= 1
            listeners[stored.id, default: []].append(onResult)
            if retainedBytes + scan.bytes.count <= Self.retainedLimit {
                retained[stored.id] = scan.bytes
                retainedBytes += scan.bytes.count
            }
            queue.append(stored)
            // Recorded under the lock, so the gauge's last value is the queue's.
            Gauge(label: "vigil_queue_depth").record(queue.count - head)
            lock.broadcast()
            lock.unlock()
            return .accepted(scanId: stored.id, duplicate: false)
        }
    }

    /// Stops taking scans, lets the workers finish every queued scan, and waits for them.
    public func shutdown() {
        lock.lock()
        accepting = false
        stopping = true
        lock.broadcast()
        while finishedWorkers < threads.count { lock.wait() }
        lock.unlock()
    }

    private func duplicate(_ existing: StoredScan, _ onResult: @escaping ResultHandler) -> IntakeOutcome {
        lock.lock()
        listeners[existing.id, default: []].append(onResult)
        lock.unlock()
        // The result may have been recorded before the listener was added: answer from the store.
        if let result = try? store.result(scanId: existing.id) {
            let waiting = takeListeners(existing.id)
            for handler in waiting { handler(result) }
        }
        return .accepted(scanId: existing.id, duplicate: true)
    }

    private func check(_ scan: NewScan, raw: RawLayout?) -> IntakeRefusal? {
        let format = scan.info.format.flatMap(ImageFormat.init(rawValue:)) ?? ImageFormat.detect(scan.bytes)
        if let declared = scan.info.format, ImageFormat(rawValue: declared) == nil {
            return .init(.unsupportedFormat, "format \(declared) is not one Vigil reads (\(ImageFormat.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        switch format {
        case nil:
            return .init(.unsupportedFormat, "the bytes are not an image format Vigil reads; declare raw pixels with format raw and their layout")
        case .raw?:
            guard let raw else { return .init(.unsupportedFormat, "format raw needs a layout (raw: width, height, channels, sample)") }
            let expected = raw.headerBytes + raw.width * raw.height * raw.channels * raw.frames * raw.format.size
            guard expected == scan.bytes.count else {
                return .init(.unsupportedFormat, "raw layout \(raw.width)x\(raw.height)x\(raw.channels)x\(raw.frames) \(raw.format.rawValue) needs \(expected) bytes, got \(scan.bytes.count)")
            }
        default:
            break
        }
        if let profile = scan.info.profile, analyzer.profiles.profiles[profile] == nil {
            return .init(.unknownProfile, "unknown scanner profile \(profile) (installed: \(analyzer.profiles.profiles.keys.sorted().joined(separator: ", ")))")
        }
        return nil
    }

    private func refuse(_ refusal: IntakeRefusal) -> IntakeOutcome {
        Counter(label: "vigil_scans_rejected_total", dimensions: [("cause", refusal.code.rawValue)]).increment()
        return .refused(refusal)
    }

    private func takeListeners(_ id: String) -> [ResultHandler] {
        lock.lock()
        defer { lock.unlock() }
        return listeners.removeValue(forKey: id) ?? []
    }

    private func work() {
        while true {
            lock.lock()
            // When stopping, a scan still being stored (`reserved`) will be queued: wait for it.
            while head == queue.count && !(stopping && reserved == 0) { lock.wait() }
            if head == queue.count {
                finishedWorkers += 1
                lock.broadcast()
                lock.unlock()
                return
            }
            let scan = queue[head]
            head += 1
            let bytes = retained.removeValue(forKey: scan.id)
            retainedBytes -= bytes?.count ?? 0
            if head > 1024 && head * 2 > queue.count {
                queue.removeFirst(head)
                head = 0
            }
            running += 1
            Gauge(label: "vigil_queue_depth").record(queue.count - head)
            lock.unlock()
            let result = process(scan, bytes: bytes)
            lock.lock()
            running -= 1
            lock.unlock()
            for handler in takeListeners(scan.id) { handler(result) }
        }
    }

    /// Runs the pipeline on a stored scan (its bytes as received, or read back from the store)
    /// and records the result (once).
    func process(_ scan: StoredScan, bytes: [UInt8]? = nil) -> AnalysisResult {
        let clock = ContinuousClock()
        let start = clock.now
        Timer(label: "vigil_stage_seconds", dimensions: [("stage", "queue")]).recordSeconds(-scan.receivedAt.timeIntervalSinceNow)
        let info = scan.info
        let request = Analyzer.Request(source: info.source, profile: info.profile, site: info.site, station: info.station,
                                       declaration: info.declaration, scanId: scan.id)
        var result: AnalysisResult
        do {
            let analysed = analyzer.analyzeKeepingScan(bytes: try bytes ?? store.bytes(of: scan), request, raw: info.raw, started: start)
            result = analysed.result
            if let pairing, let interpreted = analysed.scan, let profile = analysed.profile {
                pairing.check(scan, decoded: interpreted, profile: profile, result: &result, logger: logger)
            }
        } catch {
            result = analyzer.failure(request, error)
        }
        do {
            if try !store.record(result, for: scan.id), let first = try store.result(scanId: scan.id) {
                result = first  // another worker got there first (cannot happen while ids are queued once)
            } else {
                observer?(scan, result)
            }
        } catch {
            logger.error("could not record a result; the scan stays pending and runs again after a restart",
                         metadata: ["scan": "\(scan.id)", "error": "\(error)"])
        }
        Counter(label: "vigil_scans_processed_total", dimensions: [("verdict", result.verdict)]).increment()
        for (stage, ms) in result.timingsMs {
            Timer(label: "vigil_stage_seconds", dimensions: [("stage", stage)]).recordNanoseconds(Int64(ms * 1e6))
        }
        for model in result.models {
            Timer(label: "vigil_model_inference_seconds", dimensions: [("model", "\(model.name)@\(model.version)")])
                .recordNanoseconds(Int64(model.ms * 1e6))
        }
        if let error = result.error { logger.notice("scan could not be analysed", metadata: ["scan": "\(scan.id)", "error": "\(error)"]) }
        return result
    }
}
