import Foundation
import NIOCore
import NIOPosix

/// A socket error as one short clause for people ("connection refused", "address already in
/// use") instead of NIO's nested descriptions.
public enum SocketErrorText {
    public static func describe(_ error: Error) -> String {
        if let io = error as? IOError { return String(cString: strerror(io.errnoCode)).lowercased() }
        if let connection = error as? NIOConnectionError {
            if let first = connection.connectionErrors.first { return describe(first.error) }
            if let dns = connection.dnsAError ?? connection.dnsAAAAError { return "cannot resolve \(connection.host): \(dns)" }
            return "no address for \(connection.host)"
        }
        return "\(error)"
    }
}
