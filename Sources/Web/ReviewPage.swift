import Foundation
import Hummingbird

/// The analysts' page: `/review` (the queue), `/review/{scanId}` (one scan), `/dashboard` (a
/// site's activity) and `/thresholds` (a site's thresholds with what-if), plain HTML, CSS
/// and JavaScript shipped with Vigil (Sources/Web/Resources) and fed by the HTTP API.
enum ReviewPage {
    static let files: [String: (type: String, body: ByteBuffer)] = {
        var out: [String: (String, ByteBuffer)] = [:]
        for (name, type) in [("review.html", "text/html; charset=utf-8"), ("review.js", "text/javascript; charset=utf-8"),
                             ("review.css", "text/css; charset=utf-8")] {
            let base = (name as NSString).deletingPathExtension, ext = (name as NSString).pathExtension
            if let url = Bundle.module.url(forResource: base, withExtension: ext, subdirectory: "Resources"),
               let data = try? Data(contentsOf: url) {
                out[name] = (type, ByteBuffer(bytes: data))
            }
        }
        return out
    }()

    static func add(to router: Router<APIRequestContext>) {
        @Sendable func serve(_ name: String) -> Response {
            guard let file = files[name] else { return HTTPAPI.problem(.notFound, "no page \(name) in this build") }
            return Response(status: .ok, headers: [.contentType: file.type, .cacheControl: "no-cache"], body: .init(byteBuffer: file.body))
        }
        router.get("/review") { _, _ in serve("review.html") }
        router.get("/review/:id") { _, _ in serve("review.html") }
        router.get("/review/assets/:file") { _, context in serve(try context.parameters.require("file")) }
        router.get("/dashboard") { _, _ in serve("review.html") }
        router.get("/thresholds") { _, _ in serve("review.html") }
    }
}
