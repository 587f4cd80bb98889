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
    public var outputName: String
    /// Output decoding; "yolov8" = [1, 4 + classes, anchors] with centre/size boxes in input pixels
    /// and per-class probabilities.
    public var outputFormat: String
    public var classes: [String]
    /// Default confidence threshold per class (site policy may move it within bounds).
    public var thresholds: [String: Double]
    public var nmsIoU: Double
    /// Scanner profiles whose scans this model reads.
    public var profiles: [String]

    public var id: String { "\(name)@\(version)" }

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
        try input.finish()
        var output = try root.object("output")
        let outputName = try output.string("name")
        let format = try output.string("format")
        guard format == "yolov8" else { throw output.error("format", "'\(format)' is not one of yolov8") }
        let classes = try output.strings("classes")
        if classes.isEmpty { throw output.error("classes", "name at least one class") }
        try output.finish()
        var t = try root.object("thresholds")
        var thresholds: [String: Double] = [:]
        for c in classes { thresholds[c] = try t.double(c, in: 0...1) }
        try t.finish()
        let iou = try root.double("nmsIoU", in: 0.05...0.95)
        let profiles = try root.strings("profiles")
        try root.finish()
        return ModelManifest(name: name, version: version, inputName: inputName, inputWidth: width, inputHeight: height,
                             channels: channels, outputName: outputName, outputFormat: format, classes: classes,
                             thresholds: thresholds, nmsIoU: iou, profiles: profiles)
    }
}
