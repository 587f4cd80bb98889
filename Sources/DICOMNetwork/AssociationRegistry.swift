import Foundation
import NIOCore

/// The open associations of one SCP: counted for the association limit, closed on stop.
final class AssociationRegistry: @unchecked Sendable {
    // Guarded by `lock`: touched from every event loop of the group.
    private let lock = NSLock()
    private var channels: [ObjectIdentifier: any Channel] = [:]

    func add(_ channel: any Channel) {
        lock.withLock { channels[ObjectIdentifier(channel)] = channel }
        channel.closeFuture.whenComplete { [self] _ in
            _ = lock.withLock { channels.removeValue(forKey: ObjectIdentifier(channel)) }
        }
    }

    var count: Int { lock.withLock { channels.count } }
    var all: [any Channel] { lock.withLock { Array(channels.values) } }
}
