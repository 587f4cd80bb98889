import ArgumentParser
import DICOMNetwork
import Foundation
import Hummingbird
import Ingest
import Logging
import Metrics
import HummingbirdTLS
import NIOCore
import NIOPosix
import NIOSSL
import Pipeline
import Prometheus
import Profiles
import Simulator
import ServiceLifecycle
import Store
import Web

/// `vigil serve`: the service a port runs (native ingest, HTTP API and metrics).
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the service: stations push scans (native protocol, DICOM C-STORE), Vigil answers with findings.",
        discussion: """
            Defaults: data ./vigil-data (or $VIGIL_DATA), native ingest 7300, DICOM 11112, HTTP 8080, loopback only. \
            When every listener is up, one JSON line with the bound ports is printed on stdout; logs go to stderr. \
            SIGTERM or SIGINT stops taking scans, finishes the ones in flight, then exits 0.
            """)

    @Option(help: "JSON configuration file (see docs/operations.md).")
    var config: String?
    @Option(help: "Data folder: the SQLite store and the scans' bytes.")
    var data: String?
    @Option(help: "Native ingest port (0 picks a free one).")
    var ingestPort: Int?
    @Option(help: "DICOM port (0 picks a free one).")
    var dicomPort: Int?
    @Option(help: "HTTP port (0 picks a free one).")
    var httpPort: Int?
    @Option(help: "Address to bind (default 127.0.0.1).")
    var bind: String?
    @Option(help: "Scans that may wait for a worker before stations are told busy.")
    var queueCapacity: Int?
    @Option(help: "Worker threads running the pipeline (default: the cores).")
    var workers: Int?
    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var profileOptions: ProfileOptions

    mutating func run() async throws {
        let file = try config.map(ServeConfiguration.load) ?? ServeConfiguration()
        let host = bind ?? file.bind ?? "127.0.0.1"
        // TLS needs a certificate only when configured; a plaintext listener off loopback is refused.
        let tls = try file.tls.flatMap { settings -> ServeTLS? in
            settings.certificate == nil && settings.key == nil && settings.allowPlaintext == true
                ? nil : try ServeTLS(settings, relativeTo: config.map { ($0 as NSString).deletingLastPathComponent })
        }
        if tls == nil, !ServeTLS.isLoopback(host), file.tls?.allowPlaintext != true {
            throw CommandFailure("bind \(host) is not loopback: configure tls (vigil certs init makes a CA and certificates) "
                                 + "or set tls.allowPlaintext to serve unencrypted")
        }
        let dataFolder = data ?? file.data ?? ProcessInfo.processInfo.environment["VIGIL_DATA"] ?? "./vigil-data"
        var logger = Logger(label: "vigil")
        logger.logLevel = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info

        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000].map { .microseconds(Int64($0 * 1000)) }
        MetricsSystem.bootstrap(factory)

        var models = modelOptions
        if models.models == nil { models.models = file.models }
        var profiles = profileOptions
        if profiles.profiles == nil { profiles.profiles = file.profiles }
        let store = try ScanStore(directory: dataFolder)
        let catalog = try profiles.catalog()
        // Site thresholds: the site files, overlaid by changes made through the API or `vigil thresholds`.
        let analyzer = try models.analyzer(catalog, sites: StoredSiteThresholds(store: store, files: catalog.policy))
        let aeTitle = file.dicom?.aeTitle ?? "VIGIL"
        let stations = (file.dicom?.stations ?? [:]).mapValues { s in
            DICOMStation(station: s.station, site: s.site, profile: s.profile,
                         reportTo: s.reportTo.map { .init(host: $0.host, port: $0.port, aeTitle: $0.aeTitle) })
        }
        var scuConfiguration = DICOMStoreSCU.Configuration()
        scuConfiguration.callingAETitle = aeTitle
        let reports = ReportSender(stations: stations, scu: DICOMStoreSCU(configuration: scuConfiguration), logger: logger)
        let intake = ScanIntake(store: store, analyzer: analyzer, configuration: .init(
            capacity: queueCapacity ?? file.queue?.capacity ?? 32,
            workers: workers ?? file.queue?.workers ?? ProcessInfo.processInfo.activeProcessorCount), logger: logger,
            observer: { reports.resultRecorded($0, $1) },
            pairing: try PairedScans(store: store, retentionDays: file.pairing?.retentionDays ?? 30))
        try intake.start()

        let group = MultiThreadedEventLoopGroup.singleton
        let limits = IngestLimits(
            maxFrameBytes: file.ingest?.maxFrameBytes ?? 256 << 20, maxInFlight: file.ingest?.maxInFlight ?? 16,
            heartbeatSeconds: file.ingest?.heartbeatSeconds ?? 10, idleTimeoutSeconds: file.ingest?.idleTimeoutSeconds ?? 30)
        let gate = StationGate(store: store, registeredOnly: file.stations?.registeredOnly ?? false)
        let native = IngestServer(intake: intake, limits: limits, group: group, logger: logger, tls: tls?.stations, gate: gate)
        let ingestAt = ingestPort ?? file.ingestPort ?? 7300
        let boundIngest: Int
        do { boundIngest = try await native.start(host: host, port: ingestAt) } catch {
            throw CommandFailure("ingest port \(host):\(ingestAt): \(SocketErrorText.describe(error))")
        }
        var scpConfiguration = DICOMStoreSCP.Configuration()
        scpConfiguration.host = host
        scpConfiguration.port = dicomPort ?? file.dicomPort ?? 11112
        scpConfiguration.aeTitle = aeTitle
        // Each association holds up to about twice its object while it arrives: 8 x 512 MiB by default.
        scpConfiguration.maxAssociations = max(1, file.dicom?.maxAssociations ?? 8)
        scpConfiguration.maxObjectSize = max(1 << 20, file.dicom?.maxObjectBytes ?? 512 << 20)
        scpConfiguration.tls = tls?.stations
        scpConfiguration.admit = DICOMIntake.admission(gate)
        let dicom = try await DICOMStoreSCP.start(configuration: scpConfiguration,
                                                  delegate: DICOMIntake(intake: intake, stations: stations, gate: gate, logger: logger),
                                                  group: group, logger: logger)

        let thresholds = SiteThresholdService(store: store, policy: catalog.policy, manifests: analyzer.models.manifests)
        try FirstAdmin.ensure(store: store)
        try recordConfigurationChanges(store: store, models: analyzer.models, profiles: catalog, logger: logger)
        let access = Access(store: store, secureCookies: tls != nil)
        let tokenHours = file.accounts?.tokenHours ?? 12
        guard tokenHours > 0, tokenHours <= 24 * 30 else { throw CommandFailure("accounts.tokenHours must be more than 0 and at most 720") }
        let router = HTTPAPI.router(store: store, registry: registry, queueDepth: { intake.depth }, access: access,
                                    tokenLifetime: tokenHours * 3600, thresholds: thresholds,
                                    profiles: catalog, extensions: [MaterialsRoute.extension(catalog)])
        let ready = ReadyLine(data: dataFolder, ingestPort: boundIngest, dicomPort: dicom.localPort)
        let app = Application(
            router: router,
            server: try tls.map { try .tls(.http1(), tlsConfiguration: $0.http) } ?? .http1(),
            configuration: .init(address: .hostname(host, port: httpPort ?? file.httpPort ?? 8080), serverName: "vigil"),
            onServerRunning: { channel in ready.print(httpPort: channel.localAddress?.port ?? 0) },
            eventLoopGroupProvider: .shared(group),
            logger: logger)
        let drain = DrainService(intake: intake, native: native, dicom: dicom, logger: logger)
        // Shut down in reverse order: first stop taking scans and drain them, then the HTTP API.
        let services = ServiceGroup(configuration: .init(
            services: [.init(service: app), .init(service: drain)],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await services.run()
        } catch let error as IOError {
            // The HTTP listener binds inside the service group: the only socket error it raises.
            throw CommandFailure("http port \(host):\(httpPort ?? file.httpPort ?? 8080): \(SocketErrorText.describe(error))")
        }
    }
}

/// Models and threshold policy are files an operator replaces; what changed since the last start
/// goes to the audit log (`model.add|change|remove`, `policy.add|change|remove`).
func recordConfigurationChanges(store: ScanStore, models: InstalledModels, profiles: ProfileCatalog, logger: Logger) throws {
    var installed: [String: String] = [:]
    for m in models.manifests {
        installed[m.name] = "\(m.version) sha256:\(ScanStore.fileFingerprint(models.modelPath(m)) ?? "unreadable")"
    }
    var policy: [String: String] = [:]
    let sites = (profiles.directory as NSString).appendingPathComponent("sites")
    let siteFiles = ((try? FileManager.default.contentsOfDirectory(atPath: sites)) ?? []).filter { $0.hasSuffix(".json") }.map { "sites/\($0)" }
    for file in ["policy.json"] + siteFiles {
        if let hash = ScanStore.fileFingerprint((profiles.directory as NSString).appendingPathComponent(file)) { policy[file] = "sha256:\(hash)" }
    }
    for change in try store.recordFingerprints(kind: "model", installed, actor: "vigil serve")
        + store.recordFingerprints(kind: "policy", policy, actor: "vigil serve") {
        logger.info("audited: \(change)")
    }
}

/// The one stdout line that says the service is up, with the ports it bound.
struct ReadyLine: Sendable {
    var data: String
    var ingestPort: Int
    var dicomPort: Int

    func print(httpPort: Int) {
        struct Line: Encodable { var event = "listening"; var data: String; var ingestPort: Int; var dicomPort: Int; var httpPort: Int }
        try? printJSON(Line(data: data, ingestPort: ingestPort, dicomPort: dicomPort, httpPort: httpPort))
    }
}

/// Waits for the shutdown signal, then stops the listeners and lets the workers finish every
/// scan already acknowledged, so a graceful stop leaves nothing pending.
struct DrainService: Service {
    let intake: ScanIntake
    let native: IngestServer
    let dicom: DICOMStoreSCP
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()
        logger.info("stopping: no new scans; finishing those in flight", metadata: ["queued": "\(intake.depth)"])
        await native.stopAccepting()
        // Associations still storing get their answer; the rest are released.
        await dicom.stop(gracePeriod: .seconds(10))
        let intake = self.intake
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread {
                intake.shutdown()
                done.resume()
            }
        }
        await native.closeConnections()
        logger.info("stopped")
    }
}

/// `GET /api/profiles/{id}/materials`: the low/high attenuation ratios of organic, inorganic and
/// metal reference matter for a dual-energy profile (the review page's material colouring).
enum MaterialsRoute {
    static func `extension`(_ catalog: ProfileCatalog) -> HTTPAPI.Extension {
        // Computed once per profile at start: a few hundred exponentials each.
        let table = try? MaterialTable(directory: (catalog.directory as NSString).appendingPathComponent("attenuation"))
        var computed: [String: [MaterialReference.Class]] = [:]
        if let table {
            for (id, profile) in catalog.profiles {
                if let classes = try? MaterialReference.classes(profile: profile, table: table) { computed[id] = classes }
            }
        }
        let materials = computed
        return { router, access in
            router.get("/api/profiles/:id/materials") { request, context -> Response in
                _ = try access.account(request)
                let id = try context.parameters.require("id")
                guard let classes = materials[id] else {
                    return HTTPAPI.problem(.notFound, "profile \(id) is not a dual-energy profile Vigil knows")
                }
                struct Body: Encodable { var profile: String; var classes: [MaterialReference.Class]; var minAttenuation: Double }
                // Below this high-energy attenuation the pixel is air or noise: no material is shown.
                return HTTPAPI.json(Body(profile: id, classes: classes, minAttenuation: 0.05))
            }
        }
    }
}
