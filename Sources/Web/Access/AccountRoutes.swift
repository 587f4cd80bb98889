import Foundation
import Hummingbird
import HTTPTypes
import Store

/// Sign-in, sign-out and accounts: `POST /api/login`, `POST /api/logout`, `GET /api/me`,
/// `GET|POST /api/users`, `DELETE /api/users/{name}`, `PUT /api/users/{name}/password`.
enum AccountRoutes {
    static func add(to router: Router<APIRequestContext>, access: Access, throttle: SignInThrottle, tokenLifetime: TimeInterval) {
        let store = access.store
        struct Credentials: Decodable { var username: String; var password: String }
        struct SignedIn: Encodable { var token: String; var expiresAt: String; var account: Account }

        router.post("/api/login") { request, context -> Response in
            let body: Credentials
            do { body = try JSONDecoder().decode(Credentials.self, from: Data(buffer: try await request.body.collect(upTo: 1 << 14))) } catch {
                return HTTPAPI.problem(.badRequest, #"expected {"username": ..., "password": ...}"#)
            }
            let name = String(body.username.prefix(64))
            if let wait = throttle.retryAfter(name: name, address: context.peer) {
                var response = HTTPAPI.problem(.tooManyRequests, "too many failed sign-ins; try again in \(Int(wait.rounded(.up))) s")
                response.headers[.retryAfter] = String(Int(wait.rounded(.up)))
                return response
            }
            // scrypt takes a tenth of a second: off the event loop.
            let account = try await Task.detached { try store.checkPassword(name: name, password: body.password) }.value
            guard let account else {
                throttle.failed(name: name, address: context.peer)
                try store.audit(actor: "anonymous", action: "auth.signin-refused", subject: name, details: ["address": context.peer, "why": "wrong password"])
                return HTTPAPI.problem(.unauthorized, "wrong username or password")
            }
            throttle.succeeded(name: name)
            let issued = try store.issueToken(for: account, lifetime: tokenLifetime)
            try store.audit(actor: account.name, action: "auth.signin", subject: account.name,
                            details: ["address": context.peer, "expiresAt": ScanStore.iso(issued.expiresAt)])
            var response = HTTPAPI.json(SignedIn(token: issued.token, expiresAt: ScanStore.iso(issued.expiresAt), account: account))
            response.headers[.setCookie] = access.cookie(issued.token, maxAge: Int(tokenLifetime))
            return response
        }
        router.post("/api/logout") { request, context -> Response in
            let account = try access.account(request)
            if let token = Access.token(request) { try store.revokeToken(token) }
            try store.audit(actor: account.name, action: "auth.signout", subject: account.name, details: ["address": context.peer])
            var response = HTTPAPI.json(["signedOut": account.name])
            response.headers[.setCookie] = access.cookie("", maxAge: 0)
            return response
        }
        router.get("/api/me") { request, _ -> Response in
            HTTPAPI.json(try access.account(request))
        }

        struct NewAccount: Decodable { var name: String; var role: String; var site: String?; var password: String }
        struct NewPassword: Decodable { var password: String }
        router.get("/api/users") { request, _ -> Response in
            try access.requireAdmin(request)
            return HTTPAPI.json(["accounts": try store.accounts()])
        }
        router.post("/api/users") { request, _ -> Response in
            let admin = try access.requireAdmin(request)
            let body: NewAccount
            do { body = try JSONDecoder().decode(NewAccount.self, from: Data(buffer: try await request.body.collect(upTo: 1 << 14))) } catch {
                return HTTPAPI.problem(.badRequest, #"expected {"name": ..., "role": "analyst"|"site-admin"|"admin", "site": ..., "password": ...}"#)
            }
            guard let role = AccountRole(rawValue: body.role) else {
                return HTTPAPI.problem(.unprocessableContent, "role must be analyst, site-admin or admin, not \(body.role)")
            }
            do {
                let account = try await Task.detached {
                    try store.addAccount(name: body.name, role: role, site: body.site, password: body.password, by: admin.name)
                }.value
                return HTTPAPI.json(account, status: .created)
            } catch let refusal as AccountRefusal {
                return HTTPAPI.problem(.unprocessableContent, refusal.description)
            }
        }
        router.delete("/api/users/:name") { request, context -> Response in
            let admin = try access.requireAdmin(request)
            let name = try context.parameters.require("name")
            guard name != admin.name else { return HTTPAPI.problem(.unprocessableContent, "an admin cannot remove its own account") }
            do { try store.removeAccount(name: name, by: admin.name) } catch let refusal as AccountRefusal {
                return HTTPAPI.problem(.notFound, refusal.description)
            }
            return HTTPAPI.json(["removed": name])
        }
        router.put("/api/users/:name/password") { request, context -> Response in
            let account = try access.account(request)
            let name = try context.parameters.require("name")
            guard account.name == name || account.role == .admin else {
                throw AccessDenied.forbidden("\(account.name) may change only its own password")
            }
            let body: NewPassword
            do { body = try JSONDecoder().decode(NewPassword.self, from: Data(buffer: try await request.body.collect(upTo: 1 << 14))) } catch {
                return HTTPAPI.problem(.badRequest, #"expected {"password": ...}"#)
            }
            do {
                try await Task.detached { try store.setPassword(name: name, password: body.password, by: account.name) }.value
            } catch let refusal as AccountRefusal {
                return HTTPAPI.problem(.unprocessableContent, refusal.description)
            }
            return HTTPAPI.json(["changed": name])
        }
    }
}
