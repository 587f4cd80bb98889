import ScanImage

/// A scan that does not fit the profile it was sent with: the input, the profile, and why.
public struct ProfileMismatch: Error, Sendable, Equatable, CustomStringConvertible {
    public var input: String
    public var profile: String
    public var reason: String

    public var description: String { "\(input): does not fit scanner profile \(profile): \(reason)" }
}

extension ScannerProfile {
    /// Gives a decoded scan the meaning this profile assigns: channels (a dual-energy scan often
    /// arrives as two pages or frames), modality, view, travel axis and, where the file is silent
    /// or only states a nominal print resolution, the pixel pitch.
    /// `source` names the input in errors.
    public func interpret(_ scan: Scan, source: String) throws(ProfileMismatch) -> Scan {
        func refuse(_ why: String) -> ProfileMismatch { ProfileMismatch(input: source, profile: id, reason: why) }
        var out = scan
        let roles = channels.map(\.role)
        if scan.channels.contains(where: { [.red, .green, .blue, .alpha].contains($0) }) {
            throw refuse("colour images are not scanner data (expected \(roles.map(\.rawValue)))")
        }
        switch modality {
        case .dr:
            if scan.channels.count == roles.count && scan.frames == 1 {
                out.channels = roles
            } else if scan.channels.count == 1 && scan.frames == roles.count {
                out.frames = 1
                out.channels = roles  // planar [frame][y][x] equals [channel][y][x]
            } else {
                throw refuse("expected \(roles.count) channel(s) \(roles.map(\.rawValue)) as channels or pages, got \(scan.channels.count) channel(s) x \(scan.frames) frame(s)")
            }
        case .ct:
            guard scan.channels.count == 1 else { throw refuse("expected one channel per CT slice, got \(scan.channels.count)") }
        }
        // Only DICOM states the bits stored; TIFF, PNG and raw containers hold 14 bits in 16.
        if scan.source.format == "dicom", scan.bitsStored > bitsStored {
            throw refuse("\(scan.bitsStored) bits stored, the profile allows \(bitsStored)")
        }
        if scan.source.format != "dicom", scan.pixels.format.size * 8 >= bitsStored {
            out.bitsStored = bitsStored
        }
        out.modality = modality
        out.view = view
        out.travelAxis = travelAxis
        if scan.source.format == "dicom", let stated = scan.pitch {
            // The decoder assumed travel along x; DICOM spacing is per image axis.
            out.pitch = travelAxis == .x ? stated
                : PixelPitch(alongTravelMM: stated.acrossTravelMM, acrossTravelMM: stated.alongTravelMM)
        } else {
            out.pitch = pitch
        }
        return out
    }
}
