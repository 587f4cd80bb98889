import Foundation

/// What one detector channel measures, per energy bin of the material table's grid: the relative
/// number of photons times the energy each deposits (energy-integrating detectors), normalised
/// to sum to one. Transmission through a stack of materials is Σ w(E) exp(−Σ μ(E) ρt).
///
/// The source is Kramers' thick-target bremsstrahlung law, N(E) ∝ (E₀ − E)/E below the endpoint
/// E₀, hardened by a filter. That is the textbook shape of both X-ray tube and linac spectra; it
/// ignores characteristic lines and the detector's own energy response beyond the filter.
public struct Spectrum: Sendable, Equatable {
    public let weights: [Double]

    public init(weights: [Double]) {
        let total = weights.reduce(0, +)
        self.weights = weights.map { total > 0 ? $0 / total : 0 }
    }

    /// A bremsstrahlung spectrum with endpoint `endpointMeV`, through `filter` (material and
    /// areal density in g/cm²), measured by an energy-integrating detector.
    public init(endpointMeV: Double, filter: [(material: String, arealDensity: Double)], table: MaterialTable) throws(SimulatorError) {
        let e = table.energies
        var w = [Double](repeating: 0, count: e.count)
        for i in e.indices where e[i] < endpointMeV {
            // Bin width: half the distance to each neighbour on the grid (trapezoid rule).
            let lower = i > 0 ? e[i - 1] : e[i]
            let upper = i + 1 < e.count ? min(e[i + 1], endpointMeV) : e[i]
            let width = (upper - lower) / 2
            w[i] = (endpointMeV - e[i]) / e[i] * width * e[i]  // photons x energy deposited
        }
        for f in filter {
            let mu = try table.coefficients(f.material)
            for i in e.indices { w[i] *= Foundation.exp(-mu[i] * f.arealDensity) }
        }
        self.init(weights: w)
    }

    /// The spectrum for one channel of a scanner profile's energy: linacs (MeV) behind about
    /// 2 cm of steel (target, flattening filter and housing), tubes (kV) behind 1.5 mm of
    /// aluminium. A dual-layer low channel sees the unfiltered beam; a high channel of the same
    /// peak energy sees it behind 0.6 mm of copper (the rear layer of a sandwich detector).
    public static func channel(peak: Double, unitIsMeV: Bool, rearLayer: Bool, table: MaterialTable) throws(SimulatorError) -> Spectrum {
        let endpoint = unitIsMeV ? peak : peak / 1000
        var filter: [(material: String, arealDensity: Double)] = unitIsMeV
            ? [("iron", 2.0 * 7.874)] : [("aluminium", 0.15 * 2.699)]
        if rearLayer { filter.append(("copper", 0.06 * 8.96)) }
        return try Spectrum(endpointMeV: endpoint, filter: filter, table: table)
    }
}
