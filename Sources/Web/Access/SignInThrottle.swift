import Foundation
import Synchronization

/// Limits failed sign-ins per account name and per client address over a sliding window, so a
/// password cannot be guessed at the speed of the network. In memory: a restart forgets it.
public final class SignInThrottle: Sendable {
    public struct Limits: Sendable {
        /// Failures of one account name within `window` before it is refused.
        public var perName = 5
        /// Failures from one address within `window` (many names tried from one place).
        public var perAddress = 20
        public var window: TimeInterval = 15 * 60

        public init() {}
    }

    let limits: Limits
    private let failures = Mutex<[String: [Date]]>([:])

    public init(limits: Limits = Limits()) { self.limits = limits }

    /// Seconds until this name and address may try again, or nil when they may now.
    public func retryAfter(name: String, address: String, now: Date = Date()) -> TimeInterval? {
        failures.withLock { table in
            var wait: TimeInterval = 0
            for (key, limit) in [("n:" + name, limits.perName), ("a:" + address, limits.perAddress)] {
                let recent = (table[key] ?? []).filter { now.timeIntervalSince($0) < limits.window }
                table[key] = recent.isEmpty ? nil : recent
                if recent.count >= limit { wait = max(wait, limits.window - now.timeIntervalSince(recent[recent.count - limit])) }
            }
            return wait > 0 ? wait : nil
        }
    }

    public func failed(name: String, address: String, now: Date = Date()) {
        failures.withLock { table in
            // Bounded: a flood of made-up names cannot grow the table without limit.
            if table.count > 50_000 { table = table.filter { $0.value.contains { now.timeIntervalSince($0) < limits.window } } }
            table["n:" + name, default: []].append(now)
            table["a:" + address, default: []].append(now)
        }
    }

    /// A successful sign-in clears the name's failures (not the address's).
    public func succeeded(name: String) {
        _ = failures.withLock { $0.removeValue(forKey: "n:" + name) }
    }
}
