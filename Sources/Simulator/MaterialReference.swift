import Foundation
import Profiles

/// Where organic, inorganic and metal matter falls in a dual-energy scan. For a reference material
/// of each class, the curve of (high-energy attenuation, low/high attenuation ratio) over thickness,
/// through the profile's own spectra (NIST coefficients): beam hardening makes the ratio drift with
/// thickness, so a pixel is classed by the nearest curve at its own high-energy attenuation, as
/// dual-energy scanners do. The review page colours each pixel that way.
public enum MaterialReference {
    public struct Point: Codable, Sendable, Equatable {
        /// -ln(transmission) in the high channel.
        public var attenuation: Double
        /// Low-channel attenuation over high-channel attenuation.
        public var ratio: Double
    }

    public struct Class: Codable, Sendable, Equatable {
        public var name: String
        public var material: String
        /// Increasing attenuation.
        public var curve: [Point]
    }

    /// Reference materials: polyethylene (organic, Z ≈ 5.5), aluminium (inorganic, Z 13), iron (metal, Z 26).
    static let references = [("organic", "polyethylene"), ("inorganic", "aluminium"), ("metal", "iron")]

    /// The curves from 0.05 to 300 g/cm² (48 log-spaced thicknesses), cut where the high channel's
    /// attenuation passes 12 (nothing measurable gets through). Nil without a high and a low channel.
    public static func classes(profile: ScannerProfile, table: MaterialTable) throws(SimulatorError) -> [Class]? {
        guard let hi = profile.channels.firstIndex(where: { $0.role == .high }),
              let lo = profile.channels.firstIndex(where: { $0.role == .low }) else { return nil }
        let spectra = try ScanSimulator(profile: profile, table: table).spectra
        func attenuation(_ spectrum: Spectrum, _ mu: [Double], _ density: Double) -> Double {
            var t = 0.0
            for (w, m) in zip(spectrum.weights, mu) { t += w * Foundation.exp(-m * density) }
            return -Foundation.log(max(t, 1e-300))
        }
        var out: [Class] = []
        for (name, material) in references {
            let mu = try table.coefficients(material)
            var curve: [Point] = []
            for i in 0..<48 {
                let density = 0.05 * Foundation.pow(300 / 0.05, Double(i) / 47)
                let h = attenuation(spectra[hi], mu, density), l = attenuation(spectra[lo], mu, density)
                guard h <= 12 else { break }
                curve.append(Point(attenuation: h, ratio: l / h))
            }
            out.append(Class(name: name, material: material, curve: curve))
        }
        return out
    }
}
