/// What Vigil knows about a DICOM device, by its AE title: the station it is, its site and
/// scanner profile, and where its Threat Detection Reports go.
public struct DICOMStation: Sendable, Equatable {
    public var station: String?
    public var site: String?
    public var profile: String?
    public var reportTo: Destination?

    /// A C-STORE SCP that receives reports.
    public struct Destination: Sendable, Equatable {
        public var host: String
        public var port: Int
        public var aeTitle: String

        public init(host: String, port: Int, aeTitle: String) { (self.host, self.port, self.aeTitle) = (host, port, aeTitle) }
    }

    public init(station: String? = nil, site: String? = nil, profile: String? = nil, reportTo: Destination? = nil) {
        (self.station, self.site, self.profile, self.reportTo) = (station, site, profile, reportTo)
    }
}
