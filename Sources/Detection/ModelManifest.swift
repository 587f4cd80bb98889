import Foundation
import Profiles

/// What a detection model expects and produces (`Models/<name>/<version>/manifest.json`).
public struct ModelManifest: Sendable, Equatable {
    public var name: String
    public var version: String
    /// Graph input name and the tile size the model takes.
    public var inputName: String
    public var inputWidth: Int
    public var inputHeight: Int
    /// Scan channels, in the order of the model's input channels.
    public var channels: [String]
    /// Pixel pitch the model was trained at (mm); nil = the profile's own resampling.
    public var pitchMM: Double?
    /// Overlap of neighbouring tiles, in model pixels, so an object cut by one tile is whole in the next.
    public var tileOverlap: Int
    public var outputName: String
    /// Output decoding; "yolov8" = [1, 4 + classes, anchors] with centre/size boxes in input pixels
    /// and per-class probabilities.
    public var outputFormat: String
    public var classes: [String]
    /// What the detections mean: threats (findings as they are) or goods (the load, read by the
    /// declaration checks).
    public var purpose: Purpose
    /// Finding kind per class when it is not "threat" (e.g. a car in a container is "concealment").
    public var kinds: [String: String]
    /// Default confidence threshold per class (site policy may move it within bounds).
    public var thresholds: [String: Double]
    public var nmsIoU: Double
    /// Scanner profiles whose scans this model reads.
    public var profiles: [String]

    public var id: String { "\(name)@\(version)" }

    /// What a model's detections are for.
    public enum Purpose: String, Sendable, CaseIterable {
        case threats, goods
    }

    /// The finding kind a detection of `label` becomes.
    public func kind(of label: String) -> String { kinds[label] ?? "threat" }

    public static func load(path: String) throws(ConfigurationError) -> ModelManifest {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError(file: path, field: "", message: "cannot read the file")
        }
        return try parse(data, file: path)
    }

    public static func parse(_ data: Data, file: String) throws(ConfigurationError) -> ModelManifest {
        var root = try StrictObject.parse(data, file: file)
        let name = try root.string("name"), version = try root.string("version")
        var input = try root.object("input")
        let inputName = try input.string("name")
        let width = try input.int("width", in: 16...4096), height = try input.int("height", in: 16...4096)
        let channels = try input.strings("channels")
        if channels.isEmpty { throw input.error("channels", "name at least one channel") }
        let pitch = try input.optionalDouble("pitchMM", in: 0.01...1000)
        let overlap = input.has("overlap") ? try input.int("overlap", in: 0...(min(width, height) / 2)) : 0
        try input.finish()
        var output = try root.object("output")
        let outputName = try output.string("name")
        let format = try output.string("format")
        guard format == "yolov8" else { throw output.error("format", "'\(format)' is not one of yolov8") }
        let classes = try output.strings("classes")
        if classes.isEmpty { throw output.error("classes", "name at least one class") }
        let purpose = output.has("findings") ? try output.choice("findings", Purpose.self) : .threats
        var kinds: [String: String] = [:]
        if output.has("kinds") {
            var k = try output.object("kinds")
            for c in classes where k.has(c) {
                let kind = try k.string(c)
                guard ["threat", "concealment"].contains(kind) else { throw k.error(c, "'\(kind)' is not one of threat, concealment") }
                kinds[c] = kind
            }
            try k.finish()
        }
        try output.finish()
        var t = try root.object("thresholds")
        var thresholds: [String: Double] = [:]
        for c in classes { thresholds[c] = try t.double(c, in: 0...1) }
        try t.finish()
        let iou = try root.double("nmsIoU", in: 0.05...0.95)
        let profiles = try root.strings("profiles")
        try root.finish()
        return ModelManifest(name: name, version: version, inputName: inputName, inputWidth: width, inputHeight: height,
                             channels: channels, pitchMM: pitch, tileOverlap: overlap, outputName: outputName,
                             outputFormat: format, classes: classes, purpose: purpose, kinds: kinds,
                             thresholds: thresholds, nmsIoU: iou, profiles: profiles)
    }
}
