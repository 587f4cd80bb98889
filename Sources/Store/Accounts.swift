import Crypto
import Foundation
import GRDB

/// What an account may do on the HTTP API and the review page.
public enum AccountRole: String, Codable, Sendable, CaseIterable {
    /// Reviews scans (of its site, when it has one).
    case analyst
    /// An analyst who also sets its own site's thresholds.
    case siteAdmin = "site-admin"
    /// Everything: every site, policy, stations, accounts.
    case admin
}

/// A person who signs in: name, role and, for site-bound roles, the site.
public struct Account: Codable, Sendable, Equatable {
    public var name: String
    public var role: AccountRole
    /// Required for `site-admin`; optional for `analyst` (nil: every site); nil for `admin`.
    public var site: String?
    /// ISO 8601, UTC.
    public var createdAt: String

    public init(name: String, role: AccountRole, site: String?, createdAt: String) {
        (self.name, self.role, self.site, self.createdAt) = (name, role, site, createdAt)
    }
}

/// Why an account could not be added or changed: the name, the role, the site or the password.
public struct AccountRefusal: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A bearer token issued at sign-in; only its SHA-256 is stored, so the database alone signs nobody in.
public struct IssuedToken: Sendable, Equatable {
    public var token: String
    public var account: Account
    public var expiresAt: Date
}

/// What a presented token turned out to be.
public enum TokenCheck: Sendable, Equatable {
    case valid(Account, expiresAt: Date)
    /// Never issued, signed out, or its account removed.
    case unknown
    case expired(at: Date)
}

extension ScanStore {
    /// Shortest password accepted.
    public static let minimumPasswordLength = 10

    /// Checks a new account's fields; the same rules for the CLI and the API.
    static func validate(name: String, role: AccountRole, site: String?, password: String) throws(AccountRefusal) {
        guard (1...64).contains(name.count), name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.@".contains($0) }) else {
            throw AccountRefusal("account name \"\(name)\" must be 1 to 64 letters, digits or - _ . @")
        }
        switch role {
        case .siteAdmin where site == nil: throw AccountRefusal("a site-admin needs --site: the site whose thresholds it sets")
        case .admin where site != nil: throw AccountRefusal("an admin is not bound to a site; leave out --site")
        default: break
        }
        if let site, !(1...128).contains(site.count) { throw AccountRefusal("site must have 1 to 128 characters") }
        guard password.count >= minimumPasswordLength else {
            throw AccountRefusal("the password for \(name) is too short: at least \(minimumPasswordLength) characters")
        }
    }

    /// Adds an account (its password hashed with scrypt); refuses a name already taken.
    @discardableResult
    public func addAccount(name: String, role: AccountRole, site: String?, password: String, by actor: String) throws -> Account {
        try Self.validate(name: name, role: role, site: site, password: password)
        let hash = try PasswordHash(password: password)
        let now = Date()
        return try write("account \(name)", refusing: AccountRefusal.self) { db in
            if try Int.fetchOne(db, sql: "SELECT 1 FROM accounts WHERE name = ?", arguments: [name]) != nil {
                throw AccountRefusal("account \(name) already exists")
            }
            try db.execute(sql: "INSERT INTO accounts (name, role, site, passwordHash, createdAt) VALUES (?, ?, ?, ?, ?)",
                           arguments: [name, role.rawValue, site, hash.description, now.timeIntervalSince1970])
            try Self.appendAudit(db, actor: actor, action: "account.add", subject: name, details: ["role": role.rawValue, "site": site], at: now)
            return Account(name: name, role: role, site: site, createdAt: Self.iso(now))
        }
    }

    /// Sets a new password and signs the account out everywhere.
    public func setPassword(name: String, password: String, by actor: String) throws {
        guard password.count >= Self.minimumPasswordLength else {
            throw AccountRefusal("the password for \(name) is too short: at least \(Self.minimumPasswordLength) characters")
        }
        let hash = try PasswordHash(password: password)
        try changeAccount(name, action: "account.password", by: actor) { db in
            try db.execute(sql: "UPDATE accounts SET passwordHash = ? WHERE name = ?", arguments: [hash.description, name])
        }
    }

    /// Removes an account and every token it holds.
    public func removeAccount(name: String, by actor: String) throws {
        try changeAccount(name, action: "account.remove", by: actor) { db in
            try db.execute(sql: "DELETE FROM accounts WHERE name = ?", arguments: [name])
        }
    }

    private func changeAccount(_ name: String, action: String, by actor: String, _ body: @escaping (Database) throws -> Void) throws {
        try write("account \(name)", refusing: AccountRefusal.self) { db in
            guard try Int.fetchOne(db, sql: "SELECT 1 FROM accounts WHERE name = ?", arguments: [name]) != nil else {
                throw AccountRefusal("no account \(name)")
            }
            try body(db)
            try db.execute(sql: "DELETE FROM tokens WHERE account = ?", arguments: [name])
            try Self.appendAudit(db, actor: actor, action: action, subject: name, details: [:], at: Date())
        }
    }

    public func accounts() throws(StoreError) -> [Account] {
        try read("accounts") { db in try Row.fetchAll(db, sql: "SELECT * FROM accounts ORDER BY name").map(Self.account) }
    }

    public func account(named name: String) throws(StoreError) -> Account? {
        try read("account \(name)") { db in try Row.fetchOne(db, sql: "SELECT * FROM accounts WHERE name = ?", arguments: [name]).map(Self.account) }
    }

    /// The account if `password` is its password. A missing account costs the same scrypt work,
    /// so the time taken does not tell which names exist.
    public func checkPassword(name: String, password: String) throws(StoreError) -> Account? {
        let row = try read("account \(name)") { db in try Row.fetchOne(db, sql: "SELECT * FROM accounts WHERE name = ?", arguments: [name]) }
        guard let row, let hash = PasswordHash(encoded: row["passwordHash"]) else {
            _ = Self.decoyHash.matches(password)
            return nil
        }
        return hash.matches(password) ? Self.account(row) : nil
    }

    private static let decoyHash = try! PasswordHash(password: "decoy password, never an account's")

    /// Issues a bearer token valid for `lifetime` seconds.
    public func issueToken(for account: Account, lifetime: TimeInterval) throws(StoreError) -> IssuedToken {
        var bytes = [UInt8](repeating: 0, count: 32)
        var generator = SystemRandomNumberGenerator()
        for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255, using: &generator) }
        let token = "vgl_" + Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        let now = Date(), expires = now.addingTimeInterval(lifetime)
        do {
            try db.write { db in
                // Expired tokens are of no use to anyone: cleared as new ones are issued.
                try db.execute(sql: "DELETE FROM tokens WHERE expiresAt < ?", arguments: [now.timeIntervalSince1970 - 86400])
                try db.execute(sql: "INSERT INTO tokens (tokenHash, account, issuedAt, expiresAt) VALUES (?, ?, ?, ?)",
                               arguments: [Self.tokenHash(token), account.name, now.timeIntervalSince1970, expires.timeIntervalSince1970])
            }
        } catch {
            throw .database("token for \(account.name)", "\(error)")
        }
        return IssuedToken(token: token, account: account, expiresAt: expires)
    }

    /// Whom a presented token signs in, if anyone.
    public func checkToken(_ token: String, now: Date = Date()) throws(StoreError) -> TokenCheck {
        guard token.hasPrefix("vgl_"), token.count < 100 else { return .unknown }
        let row = try read("token") { db in
            try Row.fetchOne(db, sql: """
                SELECT accounts.*, tokens.expiresAt AS tokenExpiresAt FROM tokens JOIN accounts ON accounts.name = tokens.account
                WHERE tokens.tokenHash = ?
                """, arguments: [Self.tokenHash(token)])
        }
        guard let row else { return .unknown }
        let expires = Date(timeIntervalSince1970: row["tokenExpiresAt"])
        return expires <= now ? .expired(at: expires) : .valid(Self.account(row), expiresAt: expires)
    }

    /// Signs a token out.
    public func revokeToken(_ token: String) throws(StoreError) {
        do { try db.write { db in try db.execute(sql: "DELETE FROM tokens WHERE tokenHash = ?", arguments: [Self.tokenHash(token)]) } } catch {
            throw .database("token", "\(error)")
        }
    }

    /// Appends an audit entry on its own (sign-ins, image views): the event happened whether or not
    /// anything else was written.
    public func audit(actor: String, action: String, subject: String, details: [String: String?] = [:]) throws(StoreError) {
        do { try db.write { db in try Self.appendAudit(db, actor: actor, action: action, subject: subject, details: details, at: Date()) } } catch {
            throw .database("audit log", "\(error)")
        }
    }

    static func tokenHash(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    static func account(_ row: Row) -> Account {
        Account(name: row["name"], role: AccountRole(rawValue: row["role"]) ?? .analyst, site: row["site"],
                createdAt: iso(Date(timeIntervalSince1970: row["createdAt"])))
    }
}
