import Hummingbird
import HTTPTypes

/// A request refused for who sent it: not signed in (401) or not allowed (403), with one line
/// saying why, rendered like every other API error (`{"error": "..."}`).
public struct AccessDenied: HTTPResponseError, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var description: String

    static func unauthorized(_ why: String) -> AccessDenied { AccessDenied(status: .unauthorized, description: why) }
    static func forbidden(_ why: String) -> AccessDenied { AccessDenied(status: .forbidden, description: why) }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = HTTPAPI.problem(status, description)
        if status == .unauthorized { response.headers[.wwwAuthenticate] = #"Bearer realm="vigil""# }
        return response
    }
}
