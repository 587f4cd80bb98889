import Compute
import Detection
import Foundation
import Profiles
import ScanImage

/// The pipeline of DESIGN.md, composed once: decode, profile, per-model preprocessing and
/// inference, decoding and merging, thresholds, declaration checks, verdict.
public final class Analyzer: Sendable {
    public let profiles: ProfileCatalog
    public let models: InstalledModels
    public let runners: [String: ModelRunner]
    public let decoder: ScanDecoder
    /// Each site's chosen thresholds, read for every scan (a change applies to the next one).
    public let sites: any SiteThresholds
    let pool: WorkerPool

    /// Loads every installed model's session now, so a bad model fails at start-up, not on a scan.
    public init(profiles: ProfileCatalog, models: InstalledModels, decoder: ScanDecoder = ScanDecoder(),
                sites: (any SiteThresholds)? = nil, pool: WorkerPool = .shared) throws(PipelineError) {
        self.profiles = profiles
        self.models = models
        self.decoder = decoder
        self.sites = sites ?? SiteThresholdFiles(policy: profiles.policy)
        self.pool = pool
        var runners: [String: ModelRunner] = [:]
        for m in models.manifests { runners[m.name] = try ModelRunner(manifest: m, path: models.modelPath(m), pool: pool) }
        self.runners = runners
    }

    /// What to analyse and what the station said about it.
    public struct Request: Sendable {
        public var source: String
        public var profile: String?
        public var site: String?
        public var station: String?
        public var declaration: Declaration?
        public var scanId: String?

        public init(source: String, profile: String? = nil, site: String? = nil, station: String? = nil,
                    declaration: Declaration? = nil, scanId: String? = nil) {
            (self.source, self.profile, self.site, self.station, self.declaration, self.scanId) =
                (source, profile, site, station, declaration, scanId)
        }
    }

    /// Everything the models saw above `floor`, before thresholds (for evaluation and replay).
    public struct Candidates: Sendable {
        public var scan: Scan
        public var profile: ScannerProfile
        public var perModel: [(manifest: ModelManifest, candidates: [ModelRunner.Candidate], ms: Double)]
        public var timingsMs: [String: Double]
    }

    /// Reads and analyses a file; failures a user can cause come back as a result with verdict "error".
    public func analyze(file path: String, _ request: Request) -> AnalysisResult {
        let clock = ContinuousClock()
        let start = clock.now
        do {
            let bytes: [UInt8]
            do { bytes = try ScanFile.read(path, maxBytes: decoder.limits.maxFileBytes) } catch { throw PipelineError.unreadable(error) }
            return analyze(bytes: bytes, request, started: start)
        } catch {
            return failed(request, error)
        }
    }

    /// Analyses encoded bytes as a station sent them (`raw` gives the layout of headerless pixels).
    public func analyze(bytes: [UInt8], _ request: Request, raw: RawLayout? = nil,
                        started: ContinuousClock.Instant? = nil) -> AnalysisResult {
        analyzeKeepingScan(bytes: bytes, request, raw: raw, started: started).result
    }

    /// `analyze(bytes:)`, also handing back the interpreted scan and its profile (nil when the
    /// analysis failed), for work that follows on the same pixels without decoding them again.
    public func analyzeKeepingScan(bytes: [UInt8], _ request: Request, raw: RawLayout? = nil, started: ContinuousClock.Instant? = nil)
        -> (result: AnalysisResult, scan: Scan?, profile: ScannerProfile?) {
        let clock = ContinuousClock()
        let start = started ?? clock.now
        do {
            let scan: Scan
            do { scan = try decoder.decode(bytes, source: request.source, raw: raw) } catch { throw PipelineError.unreadable(error) }
            let decodeMs = ms(clock.now - start)
            var found = try candidates(scan, request, floor: nil)
            found.timingsMs["decode"] = decodeMs
            var result = decide(found, request)
            result.timingsMs["total"] = ms(clock.now - start)
            return (result, found.scan, found.profile)
        } catch {
            return (failed(request, error), nil, nil)
        }
    }

    /// Runs the models serving the scan's profile; `floor` nil means each class's threshold.
    public func candidates(_ decoded: Scan, _ request: Request, floor: Double?) throws(PipelineError) -> Candidates {
        let profile = try resolveProfile(decoded, request)
        let scan: Scan
        do { scan = try profile.interpret(decoded, source: request.source) } catch { throw .input(request.source, error.reason) }
        let serving = models.serving(profile.id)
        guard !serving.isEmpty else { throw .input(request.source, "no installed model reads scans of profile \(profile.id)") }
        var timings = ["preprocess": 0.0, "inference": 0.0, "postprocess": 0.0]
        var perModel: [(ModelManifest, [ModelRunner.Candidate], Double)] = []
        // Models of one radiograph share the full-resolution passes (orientation, log attenuation).
        var shared: PreparedScan?
        if scan.modality != .ct, serving.filter({ $0.pitchMM != nil }).count > 1 {
            let clock = ContinuousClock()
            let t0 = clock.now
            shared = Preprocessor(profile: profile, pool: pool).prepareShared(scan)
            timings["preprocess"]! += ms(clock.now - t0)
        }
        for manifest in serving {
            // Low enough for any value a site may choose within the central bounds.
            let lowest = min(manifest.thresholds.values.min() ?? 0.5, profiles.policy.floor(model: manifest.name) ?? 1)
            let r = try runners[manifest.name]!.detect(scan, profile: profile, floor: floor ?? lowest, pool: pool, source: request.source,
                                                       shared: shared)
            timings["preprocess"]! += r.preprocessMs
            timings["inference"]! += r.inferenceMs
            timings["postprocess"]! += r.postMs
            perModel.append((manifest, r.candidates, r.inferenceMs))
        }
        return Candidates(scan: scan, profile: profile, perModel: perModel, timingsMs: timings)
    }

    /// Thresholds, declaration checks and the verdict.
    public func decide(_ c: Candidates, _ request: Request) -> AnalysisResult {
        let scan = c.scan
        var findings: [AnalysisResult.Finding] = []
        func box(_ r: PixelRect) -> AnalysisResult.Box { AnalysisResult.Box(r, imageWidth: scan.width, imageHeight: scan.height) }
        let chosen = request.site.map(sites.values(site:)) ?? [:]
        for (calibrated, candidates, _) in c.perModel {
            // The site's value where it set one, the model's calibrated threshold elsewhere.
            var manifest = calibrated
            for (label, value) in chosen[manifest.name] ?? [:] where manifest.thresholds[label] != nil { manifest.thresholds[label] = value }
            let above = candidates.filter(manifest.accepts)
            switch manifest.purpose {
            case .threats:
                for d in above.sorted(by: { $0.confidence > $1.confidence }) {
                    findings.append(.init(kind: manifest.kind(of: d.label), label: d.label, confidence: thousandths(d.confidence),
                                          threshold: manifest.thresholds[d.label]!, box: box(d.box), model: manifest.id, slices: d.slices))
                }
            case .goods:
                findings += DeclarationCheck.findings(goods: above, declaration: request.declaration, manifest: manifest).map {
                    .init(kind: $0.kind, label: $0.label, confidence: thousandths($0.confidence), threshold: $0.threshold, box: box($0.box), model: manifest.id)
                }
            }
        }
        let timings = c.timingsMs.mapValues(thousandths)
        return AnalysisResult(
            scanId: request.scanId ?? scan.source.sopInstanceUID ?? UUID().uuidString.lowercased(), source: request.source,
            site: request.site, station: request.station ?? scan.source.station, profile: c.profile.id,
            image: .init(width: scan.width, height: scan.height, channels: scan.channels.map(\.rawValue), bitsStored: scan.bitsStored,
                         frames: scan.frames > 1 ? scan.frames : nil),
            verdict: findings.isEmpty ? "clear" : "alarm", findings: findings,
            models: c.perModel.map { .init(name: $0.manifest.name, version: $0.manifest.version, ms: thousandths($0.ms)) },
            timingsMs: timings, error: nil)
    }

    /// The request's profile, else the one whose scanner model the file names (DICOM), else an error.
    func resolveProfile(_ scan: Scan, _ request: Request) throws(PipelineError) -> ScannerProfile {
        if let id = request.profile {
            guard let p = profiles.profiles[id] else {
                throw .input(request.source, "unknown scanner profile \(id) (installed: \(profiles.profiles.keys.sorted().joined(separator: ", ")))")
            }
            return p
        }
        if let model = scan.source.model, let p = profiles.profiles.values.first(where: { $0.model == model }) { return p }
        throw .input(request.source, "the file does not name its scanner; give the profile (--profile ID)")
    }

    /// The result of a scan that could not be analysed: verdict "error" and the cause.
    public func failure(_ request: Request, _ error: Error) -> AnalysisResult { failed(request, error) }

    private func failed(_ request: Request, _ error: Error) -> AnalysisResult {
        AnalysisResult(scanId: request.scanId ?? UUID().uuidString.lowercased(), source: request.source, site: request.site,
                       station: request.station, profile: request.profile ?? "", image: .init(width: 0, height: 0, channels: [], bitsStored: 0),
                       verdict: "error", findings: [], models: [], timingsMs: [:], error: "\(error)")
    }
}
