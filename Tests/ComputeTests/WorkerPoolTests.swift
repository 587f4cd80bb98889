import Dispatch
import Synchronization
import XCTest

@testable import Compute

/// The pool runs every index exactly once, from any number of callers at once, nested or not.
final class WorkerPoolTests: XCTestCase {
    func testEveryIndexRunsExactlyOnce() {
        let pool = WorkerPool(threads: 3)
        for count in [1, 2, 3, 7, 64, 1000, 4097] {
            let hits = Mutex([Int](repeating: 0, count: count))
            pool.forEachRange(count) { range in hits.withLock { h in for i in range { h[i] += 1 } } }
            XCTAssertEqual(hits.withLock { $0 }, Array(repeating: 1, count: count), "count \(count)")
        }
    }

    func testConcurrentAndNestedLoopsComplete() {
        let pool = WorkerPool(threads: 2)
        let total = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 8) { caller in
            for round in 0..<200 {
                let n = 1 + (caller * 31 + round * 7) % 97
                pool.forEachRange(n) { outer in
                    for _ in outer {
                        // A loop inside a loop finds the pool busy and runs on its own thread.
                        pool.forEachRange(3) { inner in total.add(inner.count, ordering: .relaxed) }
                    }
                }
            }
        }
        var expected = 0
        for caller in 0..<8 { for round in 0..<200 { expected += 3 * (1 + (caller * 31 + round * 7) % 97) } }
        XCTAssertEqual(total.load(ordering: .relaxed), expected)
    }

    func testMinimumChunkKeepsSmallLoopsOnOneThread() {
        let pool = WorkerPool(threads: 4)
        var calls = 0
        pool.forEachRange(100, minimumChunk: 1000) { range in
            calls += 1
            XCTAssertEqual(range, 0..<100)
        }
        XCTAssertEqual(calls, 1)
    }
}
