import Foundation
import ScanImage

extension Modality: CaseIterable {
    public static let allCases: [Modality] = [.dr, .ct]
}

extension ScanView: CaseIterable {
    public static let allCases: [ScanView] = [.side, .top, .volume]
}

extension TravelAxis: CaseIterable {
    public static let allCases: [TravelAxis] = [.x, .y]
}

extension ScannerProfile {
    /// Loads and validates a profile file; errors name the file and the field.
    public static func load(path: String) throws(ConfigurationError) -> ScannerProfile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError(file: path, field: "", message: "cannot read the file")
        }
        let name = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        return try parse(data, file: path, expectedID: name)
    }

    /// Parses profile JSON; `expectedID`, when given, must equal the `id` field.
    public static func parse(_ data: Data, file: String, expectedID: String? = nil) throws(ConfigurationError) -> ScannerProfile {
        var root = try StrictObject.parse(data, file: file)
        let id = try root.string("id")
        guard !id.isEmpty, id.allSatisfy({ ($0.isLetter && $0.isLowercase && $0.isASCII) || $0.isNumber || $0 == "-" }) else {
            throw root.error("id", "'\(id)' must be lowercase letters, digits and '-'")
        }
        if let expectedID, expectedID != id {
            throw root.error("id", "'\(id)' does not match the file name '\(expectedID)'")
        }
        let vendor = try root.string("vendor")
        let model = try root.string("model")
        let description = try root.string("description")
        let sources = try root.strings("sources")
        if sources.isEmpty { throw root.error("sources", "name at least one public source") }
        let modality = try root.choice("modality", Modality.self)
        let view = try root.choice("view", ScanView.self)
        switch (modality, view) {
        case (.dr, .side), (.dr, .top), (.ct, .volume): break
        default: throw root.error("view", "'\(view.rawValue)' does not go with modality \(modality.rawValue)")
        }
        let bitsStored = try root.int("bitsStored", in: 8...16)
        let fullScale = Double((1 << bitsStored) - 1)

        var channels: [Channel] = []
        for var c in try root.objects("channels") {
            let role = try c.choice("role", ChannelRole.self)
            var e = try c.object("energy")
            let energy = Energy(peak: try e.double("peak", in: 0.001...100_000), unit: try e.choice("unit", Energy.Unit.self))
            try e.finish()
            var air: Double?
            var dark: Double?
            if modality == .dr {
                let a = try c.double("air", in: 1...fullScale)
                let d = try c.double("dark", in: 0...fullScale)
                guard d < a else { throw c.error("dark", "\(format(d)) must be below air (\(format(a)))") }
                (air, dark) = (a, d)
            }
            try c.finish()
            channels.append(Channel(role: role, energy: energy, air: air, dark: dark))
        }
        let roles = channels.map(\.role)
        let allowed: [[ChannelRole]] = modality == .dr ? [[.single], [.high, .low]] : [[.single]]
        guard allowed.contains(roles) else {
            throw root.error("channels", "roles \(roles.map(\.rawValue)) must be one of \(allowed.map { $0.map(\.rawValue) })")
        }

        var p = try root.object("pixelPitch")
        let pitch = PixelPitch(alongTravelMM: try p.double("alongTravelMM", in: 0.001...100),
                               acrossTravelMM: try p.double("acrossTravelMM", in: 0.001...100))
        let sliceMM = try p.optionalDouble("sliceMM", in: 0.001...100)
        if modality == .ct, sliceMM == nil { throw p.error("sliceMM", "missing (required for CT)") }
        if modality == .dr, sliceMM != nil { throw p.error("sliceMM", "only CT profiles have slices") }
        try p.finish()
        let detectorPixels = try root.int("detectorPixels", in: 1...65_536)
        let travelAxis = try root.choice("travelAxis", TravelAxis.self)
        var f = try root.object("flips")
        let flipH = try f.bool("horizontal")
        let flipV = try f.bool("vertical")
        try f.finish()
        let steps = try parseSteps(root.objects("preprocessing"), modality: modality)
        try root.finish()
        return ScannerProfile(id: id, vendor: vendor, model: model, description: description, sources: sources,
                              modality: modality, view: view, bitsStored: bitsStored, channels: channels, pitch: pitch,
                              sliceMM: sliceMM, detectorPixels: detectorPixels, travelAxis: travelAxis,
                              flipHorizontal: flipH, flipVertical: flipV, preprocessing: steps)
    }

    private static func parseSteps(_ objects: [StrictObject], modality: Modality) throws(ConfigurationError) -> [PreprocessingStep] {
        var steps: [PreprocessingStep] = []
        for (index, var o) in objects.enumerated() {
            let op = try o.string("op")
            let step: PreprocessingStep
            switch op {
            case "airNormalise":
                guard modality == .dr else { throw o.error("op", "airNormalise needs air and dark values (DR only)") }
                guard !steps.contains(.airNormalise) else { throw o.error("op", "airNormalise appears twice") }
                step = .airNormalise
            case "logAttenuation":
                guard steps.contains(.airNormalise) else { throw o.error("op", "logAttenuation needs airNormalise before it") }
                let minT = try o.double("minTransmission", in: 1e-12...0.999_999)
                step = .logAttenuation(minTransmission: Float(minT))
            case "rescale":
                let scale = try o.double("scale", in: -1e9...1e9)
                guard scale != 0 else { throw o.error("scale", "must not be 0") }
                step = .rescale(scale: Float(scale), offset: Float(try o.double("offset", in: -1e9...1e9)))
            case "clamp":
                let lo = try o.double("min")
                let hi = try o.double("max")
                guard lo < hi else { throw o.error("max", "\(format(hi)) must be above min (\(format(lo)))") }
                step = .clamp(min: Float(lo), max: Float(hi))
            case "resample":
                guard !steps.contains(where: { if case .resample = $0 { return true } else { return false } }) else {
                    throw o.error("op", "resample appears twice")
                }
                step = .resample(pitchMM: try o.double("pitchMM", in: 0.001...100))
            case "tile":
                let w = try o.int("width", in: 16...4096)
                let h = try o.int("height", in: 16...4096)
                let overlap = try o.int("overlap", in: 0...4096)
                guard overlap * 2 < min(w, h) else {
                    throw o.error("overlap", "\(overlap) must be less than half the tile's smaller side (\(min(w, h)))")
                }
                guard index == objects.count - 1 else { throw o.error("op", "tile must be the last step") }
                step = .tile(width: w, height: h, overlap: overlap)
            default:
                throw o.error("op", "'\(op)' is not one of airNormalise, logAttenuation, rescale, clamp, resample, tile")
            }
            try o.finish()
            steps.append(step)
        }
        return steps
    }
}
