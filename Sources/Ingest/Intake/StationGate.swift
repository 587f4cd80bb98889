import Store

/// Who may push what: with `registeredOnly`, a scan is taken only from a registered station, for
/// that station's site and one of its profiles; a station that proved its name with a client
/// certificate may not push under another name. Without `registeredOnly`, only the certificate
/// rule applies.
///
/// Read from the store on every check, so a registration or removal applies to the next scan.
public struct StationGate: Sendable {
    let store: ScanStore
    let registeredOnly: Bool

    public init(store: ScanStore, registeredOnly: Bool) {
        self.store = store
        self.registeredOnly = registeredOnly
    }

    /// The site and profile a scan is stored with (a registered station's filled in where the
    /// scan named none), or why it is refused.
    public func admit(station: String, certified: String?, site: String?, profile: String?) -> Result<(site: String?, profile: String?), StationRefused> {
        if let certified, certified != station {
            return .failure(StationRefused("the client certificate is station \(certified)'s; it cannot push as \(station)"))
        }
        guard registeredOnly else { return .success((site, profile)) }
        let registered: RegisteredStation?
        do { registered = try store.station(named: station) } catch {
            return .failure(StationRefused("the station registry cannot be read: \(error)"))
        }
        guard let registered else { return .failure(StationRefused("station \(station) is not registered (vigil stations add)")) }
        if let site, site != registered.site {
            return .failure(StationRefused("station \(station) is registered for site \(registered.site), not \(site)"))
        }
        var chosen = profile
        if let profile {
            guard registered.profiles.contains(profile) else {
                return .failure(StationRefused("station \(station) may push for \(registered.profiles.joined(separator: ", ")), not \(profile)"))
            }
        } else if registered.profiles.count == 1 {
            chosen = registered.profiles[0]
        }
        return .success((registered.site, chosen))
    }

    /// The registered station whose DICOM AE title this is, if registration is required.
    public func station(aeTitle: String) -> Result<RegisteredStation?, StationRefused> {
        guard registeredOnly else { return .success(nil) }
        do {
            guard let s = try store.station(aeTitle: aeTitle) else {
                return .failure(StationRefused("calling AE title \(aeTitle) belongs to no registered station"))
            }
            return .success(s)
        } catch {
            return .failure(StationRefused("the station registry cannot be read: \(error)"))
        }
    }
}

/// A scan or association refused for the station it came from: one line naming station, site or
/// profile and what is registered.
public struct StationRefused: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
