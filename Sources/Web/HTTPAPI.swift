import DICOS
import Foundation
import Hummingbird
import Pipeline
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

    /// Extra routes a caller adds (the DICOS report, later the review page).
    public typealias Extension = @Sendable (Router<BasicRequestContext>) -> Void

    public static func router(store: ScanStore, registry: PrometheusCollectorRegistry, queueDepth: @escaping @Sendable () -> Int,
                              decoder: ScanDecoder = ScanDecoder(), extensions: [Extension] = []) -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/healthz") { _, _ -> Response in
            let counts = try store.counts()
            return json(Health(status: "ok", queueDepth: queueDepth(), scans: counts.scans, pending: counts.pending))
        }
        router.get("/metrics") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                     body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
        }
        router.get("/api/scans") { request, _ -> Response in
            let q = request.uri.queryParameters
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
            let scans = try store.list(site: q.get("site"), verdict: q.get("verdict"), since: since, limit: limit)
            return json(["scans": scans])
        }
        router.get("/api/scans/:id") { _, context -> Response in
            let id = try context.parameters.require("id")
            guard try store.scan(id: id) != nil else { return problem(.notFound, "no scan \(id)") }
            guard let result = try store.result(scanId: id) else { return json(["scanId": id, "status": "pending"], status: .accepted) }
            return json(result)
        }
        router.get("/api/scans/:id/image.png") { request, context -> Response in
            let id = try context.parameters.require("id")
            guard let scan = try store.scan(id: id) else { return problem(.notFound, "no scan \(id)") }
            let q = request.uri.queryParameters
            var window = ScanPreview.Window()
            if let level = q.get("level").flatMap(Double.init), let width = q.get("window").flatMap(Double.init), width > 0 {
                window = .init(level: level, width: width)
            }
            let raw = scan.info.rawLayout.flatMap { try? JSONDecoder().decode(RawLayout.self, from: Data($0.utf8)) }
            let png: [UInt8]
            do {
                let decoded = try decoder.decode(try store.bytes(of: scan), source: scan.info.source, raw: raw)
                png = try ScanPreview.png(decoded, frame: q.get("frame").flatMap(Int.init), channel: q.get("channel").flatMap(Int.init) ?? 0,
                                          window: window)
            } catch {
                return problem(.unprocessableContent, "scan \(id) cannot be shown: \(error)")
            }
            return Response(status: .ok, headers: [.contentType: "image/png"], body: .init(byteBuffer: ByteBuffer(bytes: png)))
        }
        router.get("/api/scans/:id/tdr.dcm") { _, context -> Response in
            let id = try context.parameters.require("id")
            guard let scan = try store.scan(id: id) else { return problem(.notFound, "no scan \(id)") }
            guard let result = try store.result(scanId: id) else { return json(["scanId": id, "status": "pending"], status: .accepted) }
            let origin = scan.info.dicom.flatMap { try? JSONDecoder().decode(DICOMOrigin.self, from: Data($0.utf8)) }
            let report: [UInt8]
            do { report = try ThreatDetectionReport.of(result, origin: origin).encode() } catch {
                return problem(.internalServerError, "\(error)")
            }
            return Response(status: .ok, headers: [.contentType: "application/dicom",
                                                   .contentDisposition: "attachment; filename=\"\(id).tdr.dcm\""],
                            body: .init(byteBuffer: ByteBuffer(bytes: report)))
        }
        for add in extensions { add(router) }
        return router
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
