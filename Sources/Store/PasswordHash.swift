import CryptoExtras
import Crypto
import Foundation

/// A password kept as an scrypt hash with its own salt and cost, never the password itself.
///
/// Encoded as `scrypt$N$r$p$<salt base64>$<hash base64>`, so the cost can be raised later
/// without invalidating the hashes already stored.
public struct PasswordHash: Sendable, Equatable, CustomStringConvertible {
    public var rounds: Int
    public var blockSize: Int
    public var parallelism: Int
    public var salt: [UInt8]
    public var hash: [UInt8]

    /// scrypt N = 2^15, r = 8, p = 1: 32 MiB and about a tenth of a second per check here, which
    /// makes guessing expensive while a sign-in stays quick.
    public static let defaultRounds = 1 << 15

    public init(password: String, rounds: Int = defaultRounds) throws {
        var salt = [UInt8](repeating: 0, count: 16)
        var generator = SystemRandomNumberGenerator()
        for i in salt.indices { salt[i] = UInt8.random(in: 0...255, using: &generator) }
        self.init(rounds: rounds, blockSize: 8, parallelism: 1, salt: salt, hash: [])
        hash = try derive(password)
    }

    init(rounds: Int, blockSize: Int, parallelism: Int, salt: [UInt8], hash: [UInt8]) {
        (self.rounds, self.blockSize, self.parallelism, self.salt, self.hash) = (rounds, blockSize, parallelism, salt, hash)
    }

    /// Parses the stored form; nil when it is not one this version wrote.
    public init?(encoded: String) {
        let parts = encoded.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "scrypt", let n = Int(parts[1]), let r = Int(parts[2]), let p = Int(parts[3]),
              let salt = Data(base64Encoded: String(parts[4])), let hash = Data(base64Encoded: String(parts[5])),
              n > 1, n <= 1 << 20, (1...32).contains(r), (1...16).contains(p), !hash.isEmpty
        else { return nil }
        self.init(rounds: n, blockSize: r, parallelism: p, salt: [UInt8](salt), hash: [UInt8](hash))
    }

    public var description: String {
        "scrypt$\(rounds)$\(blockSize)$\(parallelism)$\(Data(salt).base64EncodedString())$\(Data(hash).base64EncodedString())"
    }

    /// Whether `password` is the one hashed, compared in constant time.
    public func matches(_ password: String) -> Bool {
        guard let candidate = try? derive(password), candidate.count == hash.count else { return false }
        var difference: UInt8 = 0
        for (a, b) in zip(candidate, hash) { difference |= a ^ b }
        return difference == 0
    }

    private func derive(_ password: String) throws -> [UInt8] {
        let key = try KDF.Scrypt.deriveKey(from: Array(password.utf8), salt: salt, outputByteCount: 32, rounds: rounds,
                                           blockSize: blockSize, parallelism: parallelism)
        return key.withUnsafeBytes { [UInt8]($0) }
    }
}
