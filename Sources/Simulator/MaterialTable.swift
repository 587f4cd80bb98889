import Foundation

/// Mass attenuation coefficients of real materials on NIST SRD 126's energy grid
/// (`ScannerProfiles/attenuation/`, with sources), read once.
public struct MaterialTable: Sendable {
    /// Photon energies in MeV, ascending (NIST's grid, 0.02–10 MeV).
    public let energies: [Double]
    /// μ/ρ in cm²/g per material, on `energies`.
    public let massAttenuation: [String: [Double]]
    /// Density in g/cm³ per material.
    public let density: [String: Double]

    public init(directory: String) throws(SimulatorError) {
        let csv = (directory as NSString).appendingPathComponent("mass_attenuation.csv")
        guard let text = try? String(contentsOfFile: csv, encoding: .utf8) else {
            throw SimulatorError("\(csv): cannot read the attenuation table")
        }
        var energies: [Double] = []
        var mu: [String: [Double]] = [:]
        var density: [String: Double] = [:]
        for line in text.split(whereSeparator: \.isNewline).dropFirst() {  // the file has CRLF endings
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            guard fields.count >= 5, let rho = Double(fields[2]), let e = Double(fields[3]), let m = Double(fields[4]) else { continue }
            let name = String(fields[0])
            mu[name, default: []].append(m)
            density[name] = rho
            if mu[name]!.count > energies.count { energies.append(e) }
        }
        guard !energies.isEmpty, mu.values.allSatisfy({ $0.count == energies.count }) else {
            throw SimulatorError("\(csv): every material must cover the same energy grid (\(energies.count) energies; \(mu.mapValues(\.count)))")
        }
        self.energies = energies
        massAttenuation = mu
        self.density = density
    }

    /// μ/ρ of `material` on the grid, or an error naming the unknown material.
    public func coefficients(_ material: String) throws(SimulatorError) -> [Double] {
        guard let c = massAttenuation[material] else {
            throw SimulatorError("unknown material '\(material)' (known: \(massAttenuation.keys.sorted().joined(separator: ", ")))")
        }
        return c
    }
}

/// A simulator failure: one line saying what and why.
public struct SimulatorError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
