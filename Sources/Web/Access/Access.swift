import Foundation
import Hummingbird
import HTTPTypes
import Store

/// Who a request comes from and what that account may touch; every API route asks it first.
///
/// A request signs in with `Authorization: Bearer <token>` (scripts) or the `vigil_token` cookie
/// that `POST /api/login` sets (the review page). The rules:
/// - every role reads; an account bound to a site sees only that site's scans, results and activity;
/// - a site's thresholds change only by an admin or that site's site-admin;
/// - accounts, stations and policy are the admin's.
public struct Access: Sendable {
    public let store: ScanStore
    /// Sets the cookie's `Secure` flag: on when the HTTP listener speaks TLS.
    public let secureCookies: Bool

    public init(store: ScanStore, secureCookies: Bool = false) {
        self.store = store
        self.secureCookies = secureCookies
    }

    static let cookieName = "vigil_token"

    /// The signed-in account, or 401 naming what was wrong with the credentials.
    public func account(_ request: Request) throws -> Account {
        guard let token = Self.token(request) else {
            throw AccessDenied.unauthorized("sign in first: POST /api/login, then send Authorization: Bearer <token>")
        }
        switch try store.checkToken(token) {
        case .valid(let account, _): return account
        case .unknown: throw AccessDenied.unauthorized("the token is not valid (never issued, signed out, or its account removed)")
        case .expired(let at): throw AccessDenied.unauthorized("the token expired at \(ScanStore.iso(at)); sign in again")
        }
    }

    /// Any signed-in account that may see `site` (nil: a scan with no site, which only unbound
    /// accounts see).
    @discardableResult
    public func requireSee(_ request: Request, site: String?) throws -> Account {
        let account = try account(request)
        guard Self.canSee(account, site: site) else {
            throw AccessDenied.forbidden("\(account.name) works for site \(account.site ?? "-"), not \(site ?? "(no site)")")
        }
        return account
    }

    /// An admin, or the site-admin of `site`.
    @discardableResult
    public func requireAdminister(_ request: Request, site: String) throws -> Account {
        let account = try account(request)
        switch account.role {
        case .admin: return account
        case .siteAdmin where account.site == site: return account
        case .siteAdmin: throw AccessDenied.forbidden("\(account.name) is site-admin of \(account.site ?? "-"), not of \(site)")
        case .analyst: throw AccessDenied.forbidden("\(account.name) is an analyst: thresholds are changed by a site-admin or an admin")
        }
    }

    @discardableResult
    public func requireAdmin(_ request: Request) throws -> Account {
        let account = try account(request)
        guard account.role == .admin else { throw AccessDenied.forbidden("\(account.name) is \(account.role.rawValue); this needs an admin") }
        return account
    }

    public static func canSee(_ account: Account, site: String?) -> Bool {
        account.role == .admin || account.site == nil || account.site == site
    }

    /// The bearer token, from the Authorization header or else the cookie.
    static func token(_ request: Request) -> String? {
        if let header = request.headers[.authorization] {
            let parts = header.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "bearer" { return String(parts[1]).trimmingCharacters(in: .whitespaces) }
            return nil
        }
        for field in request.headers[values: .cookie] {
            for pair in field.split(separator: ";") {
                let kv = pair.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
                if kv.count == 2, kv[0] == cookieName { return String(kv[1]) }
            }
        }
        return nil
    }

    /// The cookie that carries `token` for the review page; HttpOnly so page scripts never hold it,
    /// SameSite=Strict so another site cannot make the browser send it.
    func cookie(_ token: String, maxAge: Int) -> String {
        "\(Self.cookieName)=\(token); Path=/; Max-Age=\(maxAge); HttpOnly; SameSite=Strict\(secureCookies ? "; Secure" : "")"
    }
}
