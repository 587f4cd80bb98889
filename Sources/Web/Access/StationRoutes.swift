import Foundation
import Hummingbird
import Store

/// The station registry over HTTP, for admins: `GET|POST /api/stations`, `DELETE /api/stations/{name}`
/// (the same as `vigil stations`, audited under the admin's name).
enum StationRoutes {
    static func add(to router: Router<APIRequestContext>, access: Access) {
        let store = access.store
        struct NewStation: Decodable { var name: String; var site: String; var profiles: [String]; var aeTitle: String? }
        router.get("/api/stations") { request, _ -> Response in
            try access.requireAdmin(request)
            return HTTPAPI.json(["stations": try store.stations()])
        }
        router.post("/api/stations") { request, _ -> Response in
            let admin = try access.requireAdmin(request)
            let body: NewStation
            do { body = try JSONDecoder().decode(NewStation.self, from: Data(buffer: try await request.body.collect(upTo: 1 << 14))) } catch {
                return HTTPAPI.problem(.badRequest, #"expected {"name": ..., "site": ..., "profiles": [...], "aeTitle": ...}"#)
            }
            do {
                let station = try store.registerStation(name: body.name, site: body.site, profiles: body.profiles, aeTitle: body.aeTitle, by: admin.name)
                return HTTPAPI.json(station, status: .created)
            } catch let refusal as StationRefusal {
                return HTTPAPI.problem(.unprocessableContent, refusal.description)
            }
        }
        router.delete("/api/stations/:name") { request, context -> Response in
            let admin = try access.requireAdmin(request)
            let name = try context.parameters.require("name")
            do { try store.removeStation(name: name, by: admin.name) } catch let refusal as StationRefusal {
                return HTTPAPI.problem(.notFound, refusal.description)
            }
            return HTTPAPI.json(["removed": name])
        }
    }
}
