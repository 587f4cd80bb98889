import Dispatch
import Foundation
import Synchronization

/// The one pool of worker threads that every parallel loop in Vigil runs on.
///
/// Invariant: loops split work into at most `threads` chunks, each at least `minimumChunk`
/// items. The workers are persistent threads that spin briefly between loops and then sleep:
/// an inference runs a hundred short parallel loops back to back, and waking threads through
/// Dispatch for each costs tens of microseconds. A loop that finds the pool busy with another
/// request's loop runs on the calling thread alone, so concurrent requests never wait for each
/// other and never oversubscribe the cores.
public struct WorkerPool: Sendable {
    /// The number of threads loops are split across (the caller counts as one).
    public let threads: Int
    private let core: PoolCore?

    /// A pool the size of the machine's active cores, or `VIGIL_THREADS` when set.
    public static let shared = WorkerPool(threads: WorkerPool.defaultThreadCount())

    /// Pools with the same thread count share their worker threads.
    public init(threads: Int) {
        self.threads = max(1, threads)
        core = self.threads > 1 ? PoolCore.shared(workers: self.threads - 1) : nil
    }

    static func defaultThreadCount() -> Int {
        if let text = ProcessInfo.processInfo.environment["VIGIL_THREADS"], let n = Int(text), n > 0 {
            return n
        }
        return ProcessInfo.processInfo.activeProcessorCount
    }

    /// Calls `body` with disjoint, contiguous ranges covering `0..<count`, in parallel.
    public func forEachRange(_ count: Int, minimumChunk: Int = 1, _ body: (Range<Int>) -> Void) {
        // `body` runs on several threads at once; callers write disjoint ranges only.
        guard count > 0 else { return }
        let chunks = min(threads, max(1, count / max(1, minimumChunk)))
        let base = count / chunks, extra = count % chunks
        func range(_ chunk: Int) -> Range<Int> {
            let start = chunk * base + min(chunk, extra)
            return start..<(start + base + (chunk < extra ? 1 : 0))
        }
        guard chunks > 1, let core, core.tryAcquire() else {
            for chunk in 0..<chunks { body(range(chunk)) }
            return
        }
        withoutActuallyEscaping(body) { body in
            core.run(chunks: chunks) { chunk in body(range(chunk)) }
        }
    }
}

/// Persistent worker threads and the one job they share at a time.
///
/// Invariants: `job` and `chunks` change only under `lock`, while no worker holds them (a worker
/// registers in `active` under the lock, and only while the job is not `finished`); the caller
/// returns only after every chunk has run and every registered worker has let go of the job, so
/// the non-escaping closure is never called after its loop returns.
final class PoolCore: @unchecked Sendable {
    private static let registry = Mutex<[Int: PoolCore]>([:])

    static func shared(workers: Int) -> PoolCore {
        registry.withLock { pools in
            if let p = pools[workers] { return p }
            let p = PoolCore(workers: workers)
            pools[workers] = p
            return p
        }
    }

    // Padding keeps the counter workers spin on off the cache lines the caller writes.
    private let busy = Atomic<Bool>(false)
    private let padding0 = (0, 0, 0, 0, 0, 0, 0, 0)
    private let generation = Atomic<Int>(0)
    private let padding1 = (0, 0, 0, 0, 0, 0, 0, 0)
    private let next = Atomic<Int>(0)
    private let padding2 = (0, 0, 0, 0, 0, 0, 0, 0)
    private let remaining = Atomic<Int>(0)
    private let padding3 = (0, 0, 0, 0, 0, 0, 0, 0)
    private let active = Atomic<Int>(0)
    private let sleepers = Atomic<Int>(0)
    private let lock = NSLock()
    private var job: ((Int) -> Void)?
    private var chunks = 0
    private var finished = true
    private let condition = NSCondition()

    private init(workers: Int) {
        for _ in 0..<workers {
            let thread = Thread { [unowned self] in self.workerLoop() }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    /// Claims the pool for one loop; false when another loop holds it.
    func tryAcquire() -> Bool {
        busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
    }

    /// Runs `job(0..<chunks)` on the workers and the calling thread, then releases the pool.
    func run(chunks: Int, _ job: @escaping (Int) -> Void) {
        lock.lock()
        self.job = job
        self.chunks = chunks
        next.store(0, ordering: .relaxed)
        remaining.store(chunks, ordering: .relaxed)
        finished = false
        lock.unlock()
        generation.add(1, ordering: .releasing)
        if sleepers.load(ordering: .acquiring) > 0 {
            condition.lock()
            condition.broadcast()
            condition.unlock()
        }
        work(job, chunks)
        while remaining.load(ordering: .acquiring) > 0 { spinPause() }
        lock.lock()
        finished = true
        self.job = nil
        lock.unlock()
        while active.load(ordering: .acquiring) > 0 { spinPause() }
        busy.store(false, ordering: .releasing)
    }

    /// Takes chunks until none is left.
    private func work(_ job: (Int) -> Void, _ chunks: Int) {
        while true {
            let chunk = next.add(1, ordering: .relaxed).oldValue
            if chunk >= chunks { return }
            job(chunk)
            remaining.subtract(1, ordering: .releasing)
        }
    }

    private func workerLoop() {
        var seen = generation.load(ordering: .acquiring)
        while true {
            // Poll, yielding the core, for about 100 microseconds before sleeping: the next loop
            // of an inference usually starts within that.
            var spins = 0
            while generation.load(ordering: .acquiring) == seen {
                spins += 1
                if spins < 200 {
                    sched_yield()
                    continue
                }
                condition.lock()
                sleepers.add(1, ordering: .releasing)
                while generation.load(ordering: .acquiring) == seen { condition.wait() }
                sleepers.subtract(1, ordering: .releasing)
                condition.unlock()
            }
            seen = generation.load(ordering: .acquiring)
            if joinCurrentJob() { active.subtract(1, ordering: .releasing) }
        }
    }

    /// Registers in `active` and works on the current job, if it is still open. The worker's
    /// reference to the job is released when this returns, before `active` is decremented, so
    /// the caller's closure has not escaped when its loop ends.
    private func joinCurrentJob() -> Bool {
        lock.lock()
        guard !finished, let job else {
            lock.unlock()
            return false
        }
        let count = chunks
        active.add(1, ordering: .relaxed)
        lock.unlock()
        work(job, count)
        return true
    }
}

/// Waiting for other threads' chunks: they run on the other cores, so yielding costs nothing.
@inline(__always)
private func spinPause() {
    sched_yield()
}

/// A mutable buffer that parallel loops write through; each task writes a disjoint range.
public struct UnsafeSendableBuffer<Element>: @unchecked Sendable {
    public let base: UnsafeMutablePointer<Element>
    public let count: Int

    public init(_ buffer: UnsafeMutableBufferPointer<Element>) {
        base = buffer.baseAddress!
        count = buffer.count
    }
}
