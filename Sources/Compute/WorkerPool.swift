import Dispatch
import Foundation

/// The one pool of worker threads that every parallel loop in Vigil runs on.
///
/// Invariant: loops split work into at most `threads` chunks, each at least `minimumChunk`
/// items, because a fork/join through Dispatch costs tens of microseconds here and small
/// chunks would spend more time scheduling than computing.
public struct WorkerPool: Sendable {
    /// The number of threads loops are split across.
    public let threads: Int

    /// A pool the size of the machine's active cores, or `VIGIL_THREADS` when set.
    public static let shared = WorkerPool(threads: WorkerPool.defaultThreadCount())

    public init(threads: Int) {
        self.threads = max(1, threads)
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
        if chunks == 1 {
            body(0..<count)
            return
        }
        let base = count / chunks
        let extra = count % chunks
        withoutActuallyEscaping(body) { body in
            let shared = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                let body = shared.value
                let start = chunk * base + min(chunk, extra)
                let end = start + base + (chunk < extra ? 1 : 0)
                body(start..<end)
            }
        }
    }
}

/// Carries a value across a Dispatch boundary whose safety the caller guarantees.
struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
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
