import Foundation
import Profiles
import ScanImage

/// A scan as the review page draws it: each channel of one frame after the profile's element-wise
/// steps (air normalisation, log attenuation: 0 is air, larger is denser), in the pixels and
/// orientation the scan was received in (so the findings' boxes fall on them), as float32.
public struct ScanPlanes: Sendable {
    public var width: Int
    public var height: Int
    public var channels: [String]
    public var frames: Int
    public var frame: Int
    /// Little-endian float32, channel after channel.
    public var bytes: [UInt8]

    public static func make(_ decoded: Scan, profile: ScannerProfile, frame: Int?, source: String) throws -> ScanPlanes {
        var received = profile
        // Boxes are in received pixels: keep that orientation, and do not resample.
        (received.flipHorizontal, received.flipVertical, received.travelAxis) = (false, false, .x)
        let scan = try received.interpret(decoded, source: source)
        let f = min(max(0, frame ?? scan.frames / 2), scan.frames - 1)
        let one = scan.frames == 1 ? scan : Self.frame(f, of: scan)
        let prepared = Preprocessor(profile: received).prepareShared(one)
        let bytes = prepared.values.withUnsafeBytes { Array($0) }
        return ScanPlanes(width: prepared.width, height: prepared.height, channels: scan.channels.map(\.rawValue), frames: scan.frames,
                          frame: f, bytes: bytes)
    }

    /// One frame of a multi-frame scan (CT slice), every channel.
    static func frame(_ f: Int, of scan: Scan) -> Scan {
        let planeBytes = scan.pixelsPerPlane * scan.pixels.format.size * scan.channels.count
        let start = f * planeBytes
        var one = scan
        one.frames = 1
        one.pixels = PixelData(format: scan.pixels.format, bytes: Array(scan.pixels.bytes[start..<(start + planeBytes)]))
        return one
    }
}
