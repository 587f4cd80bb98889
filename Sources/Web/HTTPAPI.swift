import DICOS
import Foundation
import HTTPTypes
import Hummingbird
import Pipeline
import Profiles
import Prometheus
import ScanImage
import Store

/// The HTTP API of DESIGN.md over the store: scan list, results, previews, health and metrics.
/// Routing only; every answer comes from `ScanStore` or the metrics registry.
public enum HTTPAPI {
    /// What `/healthz` reports besides the store's counts.
    public struct Health: Codable, Sendable {
        public var status: String
        public var queueDepth: Int
        public var scans: Int
        public var pending: Int

        public init(status: String, queueDepth: Int, scans: Int, pending: Int) {
            (self.status, self.queueDepth, self.scans, self.pending) = (status, queueDepth, scans, pending)
        }
    }

    /// Extra routes a caller adds (the material table of the review page), behind the same access rules.
    public typealias Extension = @Sendable (Router<APIRequestContext>, Access) -> Void

    /// Every route but `/healthz`, `/metrics`, the review page's static files and `/api/login`
    /// needs a signed-in account (see `Access` for who may do what).
    public static func router(store: ScanStore, registry: PrometheusCollectorRegistry, queueDepth: @escaping @Sendable () -> Int,
                              access: Access, throttle: SignInThrottle = SignInThrottle(), tokenLifetime: TimeInterval = 12 * 3600,
                              thresholds: SiteThresholdService? = nil, profiles: ProfileCatalog? = nil,
                              decoder: ScanDecoder = ScanDecoder(), extensions: [Extension] = []) -> Router<APIRequestContext> {
        let router = Router(context: APIRequestContext.self)
        ReviewPage.add(to: router)
        AccountRoutes.add(to: router, access: access, throttle: throttle, tokenLifetime: tokenLifetime)
        StationRoutes.add(to: router, access: access)
        if let thresholds { addThresholdRoutes(router, thresholds, access) }
        addReviewRoutes(router, store, access)
        /// The scan `id` if it exists and the signed-in account may see it: a scan of its site, or
        /// a scan of a vehicle its site also scanned (the other half of a cross-check).
        @Sendable func visibleScan(_ request: Request, _ id: String) throws -> (Account, StoredScan)? {
            let account = try access.account(request)
            guard let scan = try store.scan(id: id) else { return nil }
            if Access.canSee(account, site: scan.info.site) { return (account, scan) }
            if let own = account.site, let key = scan.info.pairKey, try store.siteHasScan(site: own, pairKey: key) { return (account, scan) }
            throw AccessDenied.forbidden("\(account.name) works for site \(account.site ?? "-"), not \(scan.info.site ?? "(no site)")")
        }
        /// Image views are audited: who looked at which scan, and in which form.
        @Sendable func viewed(_ account: Account, _ id: String, _ what: String, _ context: APIRequestContext) throws {
            try store.audit(actor: account.name, action: "scan.view", subject: id, details: ["what": what, "address": context.peer])
        }
        router.get("/api/sites/:site/activity") { request, context -> Response in
            let site = try context.parameters.require("site")
            try access.requireSee(request, site: site)
            var days = 30
            if let text = request.uri.queryParameters.get("days") {
                guard let n = Int(text), (1...3660).contains(n) else { return problem(.badRequest, "days must be 1 to 3660") }
                days = n
            }
            return json(try store.activity(site: site, since: Date().addingTimeInterval(-Double(days) * 86400)))
        }
        router.get("/healthz") { _, _ -> Response in
            let counts = try store.counts()
            return json(Health(status: "ok", queueDepth: queueDepth(), scans: counts.scans, pending: counts.pending))
        }
        router.get("/metrics") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                     body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
        }
        router.get("/api/scans") { request, _ -> Response in
            let account = try access.account(request)
            let q = request.uri.queryParameters
            var site = q.get("site")
            // An account bound to a site lists that site only.
            if account.role != .admin, let own = account.site {
                if let site, site != own { throw AccessDenied.forbidden("\(account.name) works for site \(own), not \(site)") }
                site = own
            }
            var since: Date?
            if let text = q.get("since") {
                guard let date = parseDate(text) else { return problem(.badRequest, "since must be an ISO 8601 time, e.g. 2026-11-22T06:00:00Z") }
                since = date
            }
            var limit = 100
            if let text = q.get("limit") {
                guard let n = Int(text), (1...10_000).contains(n) else { return problem(.badRequest, "limit must be 1 to 10000") }
                limit = n
            }
            if let verdict = q.get("verdict"), !["clear", "alarm", "error", "pending"].contains(verdict) {
                return problem(.badRequest, "verdict must be clear, alarm, error or pending")
            }
            let scans = try store.list(site: site, verdict: q.get("verdict"), since: since, station: q.get("station"),
                                       label: q.get("class"), limit: limit)
            return json(["scans": scans])
        }
        router.get("/api/scans/:id") { request, context -> Response in
            let id = try context.parameters.require("id")
            guard try visibleScan(request, id) != nil else { return problem(.notFound, "no scan \(id)") }
            guard let result = try store.result(scanId: id) else { return json(["scanId": id, "status": "pending"], status: .accepted) }
            return json(result)
        }
        router.get("/api/scans/:id/image.png") { request, context -> Response in
            let id = try context.parameters.require("id")
            guard let (account, scan) = try visibleScan(request, id) else { return problem(.notFound, "no scan \(id)") }
            try viewed(account, id, "image.png", context)
            let q = request.uri.queryParameters
            var window = ScanPreview.Window()
            if let level = q.get("level").flatMap(Double.init), let width = q.get("window").flatMap(Double.init), width > 0 {
                window = .init(level: level, width: width)
            }
            let png: [UInt8]
            do {
                let decoded = try store.decoded(scan, decoder: decoder)
                png = try ScanPreview.png(decoded, frame: q.get("frame").flatMap(Int.init), channel: q.get("channel").flatMap(Int.init) ?? 0,
                                          window: window)
            } catch {
                return problem(.unprocessableContent, "scan \(id) cannot be shown: \(error)")
            }
            return Response(status: .ok, headers: [.contentType: "image/png"], body: .init(byteBuffer: ByteBuffer(bytes: png)))
        }
        router.get("/api/scans/:id/planes") { request, context -> Response in
            let id = try context.parameters.require("id")
            guard let (account, scan) = try visibleScan(request, id) else { return problem(.notFound, "no scan \(id)") }
            try viewed(account, id, "planes", context)
            let profileId = try store.result(scanId: id)?.profile ?? scan.info.profile ?? ""
            guard let profiles, let profile = profiles.profiles[profileId] else {
                return problem(.unprocessableContent, "scan \(id) has no known scanner profile to calibrate it with")
            }
            let planes: ScanPlanes
            do {
                let decoded = try store.decoded(scan, decoder: decoder)
                planes = try ScanPlanes.make(decoded, profile: profile, frame: request.uri.queryParameters.get("frame").flatMap(Int.init),
                                             source: scan.info.source)
            } catch {
                return problem(.unprocessableContent, "scan \(id) cannot be shown: \(error)")
            }
            var headers: HTTPFields = [.contentType: "application/octet-stream"]
            headers[HTTPField.Name("X-Vigil-Width")!] = String(planes.width)
            headers[HTTPField.Name("X-Vigil-Height")!] = String(planes.height)
            headers[HTTPField.Name("X-Vigil-Channels")!] = planes.channels.joined(separator: ",")
            headers[HTTPField.Name("X-Vigil-Frames")!] = String(planes.frames)
            headers[HTTPField.Name("X-Vigil-Frame")!] = String(planes.frame)
            // What turns the scan as received into Vigil's orientation (front left, ground down): the
            // page shows both scans of a pair the same way up.
            headers[HTTPField.Name("X-Vigil-Flips")!] = [profile.flipHorizontal ? "horizontal" : nil, profile.flipVertical ? "vertical" : nil]
                .compactMap { $0 }.joined(separator: ",")
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: planes.bytes)))
        }
        router.get("/api/scans/:id/tdr.dcm") { request, context -> Response in
            let id = try context.parameters.require("id")
            guard let (account, scan) = try visibleScan(request, id) else { return problem(.notFound, "no scan \(id)") }
            try viewed(account, id, "tdr.dcm", context)
            guard let result = try store.result(scanId: id) else { return json(["scanId": id, "status": "pending"], status: .accepted) }
            let origin = DICOMOrigin(json: scan.info.dicom)
            let report: [UInt8]
            do { report = try ThreatDetectionReport.of(result, origin: origin).encode() } catch {
                return problem(.internalServerError, "\(error)")
            }
            return Response(status: .ok, headers: [.contentType: "application/dicom",
                                                   .contentDisposition: "attachment; filename=\"\(id).tdr.dcm\""],
                            body: .init(byteBuffer: ByteBuffer(bytes: report)))
        }
        for add in extensions { add(router, access) }
        return router
    }

    /// `/api/scans/{id}/reviews`: an analyst's decisions on a scan's findings and on the scan.
    static func addReviewRoutes(_ router: Router<APIRequestContext>, _ store: ScanStore, _ access: Access) {
        struct Posted: Decodable {
            struct FindingDecision: Decodable { var index: Int; var decision: String; var note: String? }
            /// Optional: the decision is recorded as the signed-in account's; if given it must be that name.
            var user: String?
            var decision: String?
            var note: String?
            var findings: [FindingDecision]?
        }
        struct Current: Encodable {
            var scan: String?
            var findings: [String: String]

            enum CodingKeys: String, CodingKey { case scan, findings }

            /// `scan` is null until the scan is decided.
            func encode(to encoder: Encoder) throws {
                var c = encoder.container(keyedBy: CodingKeys.self)
                try c.encode(scan, forKey: .scan)
                try c.encode(findings, forKey: .findings)
            }
        }
        struct Reviews: Encodable {
            var reviews: [Review]
            var current: Current
        }
        @Sendable func reviews(_ id: String) throws -> Reviews {
            let all = try store.reviews(scanId: id)
            var current = Current(scan: nil, findings: [:])
            for r in all {
                if let f = r.finding { current.findings[String(f)] = r.decision } else { current.scan = r.decision }
            }
            return Reviews(reviews: all, current: current)
        }
        router.get("/api/scans/:id/reviews") { request, context -> Response in
            let id = try context.parameters.require("id")
            _ = try access.account(request)
            guard let scan = try store.scan(id: id) else { return problem(.notFound, "no scan \(id)") }
            try access.requireSee(request, site: scan.info.site)
            return json(try reviews(id))
        }
        router.post("/api/scans/:id/reviews") { request, context -> Response in
            let id = try context.parameters.require("id")
            let account = try access.account(request)
            guard let scan = try store.scan(id: id) else { return problem(.notFound, "no scan \(id)") }
            try access.requireSee(request, site: scan.info.site)
            guard let result = try store.result(scanId: id) else { return problem(.conflict, "scan \(id) has no result to review yet") }
            let body: Posted
            do { body = try JSONDecoder().decode(Posted.self, from: Data(buffer: try await request.body.collect(upTo: 1 << 20))) } catch {
                return problem(.badRequest, #"expected {"findings": [{"index": 0, "decision": "confirm"|"dismiss", "note": ...}], "decision": "release"|"inspect", "note": ...}"#)
            }
            try sameUser(body.user, account)
            var decisions: [(finding: Int?, decision: String, note: String?)] = []
            for f in body.findings ?? [] {
                guard result.findings.indices.contains(f.index) else {
                    return problem(.unprocessableContent, "scan \(id) has \(result.findings.count) findings; there is no finding \(f.index)")
                }
                guard Review.findingDecisions.contains(f.decision) else {
                    return problem(.unprocessableContent, "a finding is confirmed or dismissed, not \(f.decision)")
                }
                decisions.append((f.index, f.decision, f.note))
            }
            if let d = body.decision {
                guard Review.scanDecisions.contains(d) else { return problem(.unprocessableContent, "a scan is released or inspected, not \(d)") }
                decisions.append((nil, d, body.note))
            }
            guard !decisions.isEmpty else { return problem(.unprocessableContent, "no decision given") }
            try store.addReviews(scanId: id, decisions, user: account.name)
            return json(try reviews(id), status: .created)
        }
    }

    /// `/api/sites/{site}/thresholds`: show, change (PUT), history, restore, what-if.
    static func addThresholdRoutes(_ router: Router<APIRequestContext>, _ service: SiteThresholdService, _ access: Access) {
        struct Change: Decodable {
            var user: String?
            var reason: String
            var thresholds: [String: [String: Double?]]
        }
        struct Restore: Decodable {
            var change: Int64
            var user: String?
            var reason: String
        }
        struct Changed: Encodable {
            var changes: [ThresholdChange]
            var thresholds: SiteThresholdService.View
        }
        router.get("/api/sites/:site/thresholds") { request, context -> Response in
            let site = try context.parameters.require("site")
            try access.requireSee(request, site: site)
            return json(try service.view(site: site))
        }
        router.get("/api/sites/:site/thresholds/what-if") { request, context -> Response in
            let site = try context.parameters.require("site")
            try access.requireSee(request, site: site)
            let q = request.uri.queryParameters
            guard let model = q.get("model") else { return problem(.badRequest, "what-if needs model= (and optionally class= and value=)") }
            var value: Double?
            if let text = q.get("value") {
                guard let v = Double(text) else { return problem(.badRequest, "value must be a number") }
                value = v
            }
            do {
                let result = try service.whatIf(site: site, model: model, label: q.get("class"), value: value)
                if q.get("format") == "svg" {
                    guard result.count == 1 else { return problem(.badRequest, "format=svg draws one class: give class=") }
                    return Response(status: .ok, headers: [.contentType: "image/svg+xml"],
                                    body: .init(byteBuffer: ByteBuffer(string: result[0].svg)))
                }
                return json(["classes": result])
            } catch let refusal as SiteThresholdService.Refusal {
                return problem(.unprocessableContent, refusal.description)
            }
        }
        router.get("/api/sites/:site/thresholds/history") { request, context -> Response in
            let site = try context.parameters.require("site")
            try access.requireSee(request, site: site)
            return json(["changes": try service.history(site: site)])
        }
        router.put("/api/sites/:site/thresholds") { request, context -> Response in
            let site = try context.parameters.require("site")
            let account = try access.requireAdminister(request, site: site)
            let body: Change
            do { body = try JSONDecoder().decode(Change.self, from: Data(buffer: try await request.body.collect(upTo: 1 << 20))) } catch {
                return problem(.badRequest, #"expected {"reason": ..., "thresholds": {model: {class: value or null}}}"#)
            }
            try sameUser(body.user, account)
            do {
                let changes = try service.set(site: site, body.thresholds, user: account.name, reason: body.reason)
                return json(Changed(changes: changes, thresholds: try service.view(site: site)))
            } catch let refusal as SiteThresholdService.Refusal {
                return problem(.unprocessableContent, refusal.description)
            }
        }
        router.post("/api/sites/:site/thresholds/restore") { request, context -> Response in
            let site = try context.parameters.require("site")
            let account = try access.requireAdminister(request, site: site)
            let body: Restore
            do { body = try JSONDecoder().decode(Restore.self, from: Data(buffer: try await request.body.collect(upTo: 1 << 16))) } catch {
                return problem(.badRequest, #"expected {"change": id, "reason": ...}"#)
            }
            try sameUser(body.user, account)
            do {
                let changes = try service.restore(site: site, to: body.change, user: account.name, reason: body.reason)
                return json(Changed(changes: changes, thresholds: try service.view(site: site)))
            } catch let refusal as SiteThresholdService.Refusal {
                return problem(.unprocessableContent, refusal.description)
            } catch let error as StoreError {
                return problem(.notFound, error.description)
            }
        }
    }

    /// A body's `user`, kept for older clients, may only name the signed-in account: nobody records
    /// a decision in someone else's name.
    static func sameUser(_ user: String?, _ account: Account) throws {
        if let user, user != account.name {
            throw AccessDenied.forbidden("signed in as \(account.name); a decision cannot be recorded as \(user)")
        }
    }

    public static func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// One-line JSON error: `{"error": "..."}`.
    public static func problem(_ status: HTTPResponse.Status, _ message: String) -> Response {
        json(["error": message], status: status)
    }

    static func parseDate(_ text: String) -> Date? {
        if let d = try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) { return d }
        if let d = try? Date(text, strategy: Date.ISO8601FormatStyle()) { return d }
        if let d = try? Date(text + "T00:00:00Z", strategy: Date.ISO8601FormatStyle()) { return d }
        return nil
    }
}
