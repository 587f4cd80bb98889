import Foundation

/// Side-view scenes of a truck with a 40-foot container, the way a portal scanner sees them:
/// the beam crosses the vehicle's width, so every part adds its thickness along that path.
/// Dimensions follow ISO 668 containers and common tractor units; thicknesses are typical
/// (2 mm corrugated steel walls, 28 mm plywood floor, 25 mm steel pistol slides).
enum CargoScene {
    static let categories = ["empty", "palletised boxes", "bulk", "machinery", "drums of liquid", "textiles"]
    static let threats = ["pistol", "rifle", "blade", "narcotics", "car"]

    static let densities: [String: Double] = [
        "iron": 7.874, "polyethylene": 0.93, "cellulose": 1.42, "water": 1.0, "silicon_dioxide": 2.32,
        "cocaine_hydrochloride": 1.0, "aluminium": 2.699, "copper": 8.96, "lead": 11.35,
        "glass_borosilicate_pyrex": 2.23, "rdx": 1.82,
    ]  // every material of ScannerProfiles/attenuation/materials.csv, same densities

    /// Builds one scene; `hidden` threats are placed inside the cargo. Returns the scene and its declaration.
    /// `hard`: containers at least 85 % full, threats inside the goods, and loose steel clutter
    /// (the harder held-out set); normal scenes draw the same random numbers as before it existed.
    static func make(width: Int, height: Int, pitchCM: Double, pitchYCM: Double? = nil, random: inout SeededRandom, hidden: [String],
                     category: String, yOffsetCM: Double = 0, hard: Bool = false, exactEdges: Bool = false) -> Scene {
        var s = Scene(width: width, height: height, pitchCM: pitchCM, pitchYCM: pitchYCM)
        s.yOffsetCM = yOffsetCM
        s.exactEdges = exactEdges
        let length = Double(width) * pitchCM
        // Tractor: cab panels, engine block, seats, fuel tank, chassis rails, wheels.
        let cabX = 30.0, cabLength = 230.0
        s.add("iron", cabX, 120, cabLength, 260, 0.4)              // two 2 mm side panels
        s.add("iron", cabX + 20, 100, 90, 80, 40)                   // engine block
        s.add("polyethylene", cabX + 120, 160, 60, 60, 120)         // seats
        s.add("iron", cabX + cabLength + 20, 60, 120, 55, 0.6)      // fuel tank shell
        s.add("polyethylene", cabX + cabLength + 20, 60, 120, 45, 45)  // diesel (polyethylene stands in)
        s.add("iron", cabX, 95, length - cabX - 40, 25, 2.0)        // chassis rails
        let containerX = cabX + cabLength + 40, containerLength = min(1219.0, length - containerX - 60)
        for axle in [cabX + 50, cabX + cabLength - 20, containerX + containerLength - 300, containerX + containerLength - 170] {
            s.disc("polyethylene", density: 0.93, centreX: axle, centreY: 52, radius: 52, depthCM: 60)
            s.disc("iron", density: 7.874, centreX: axle, centreY: 52, radius: 28, depthCM: 2)
        }
        // Container: side walls with corrugation, floor, roof, end frames.
        let floorY = 125.0, inner = 239.0
        s.add("iron", containerX, floorY, containerLength, inner + 20, 0.4)
        let period = 28.0
        var x = containerX
        while x < containerX + containerLength {
            s.add("iron", x, floorY, period / 2, inner + 20, 0.2)  // corrugation doubles the steel seen edge-on
            x += period
        }
        s.add("cellulose", containerX, floorY, containerLength, 3, 240 * 0.5)  // plywood floor, 0.7 g/cm3
        s.add("iron", containerX, floorY + inner + 10, containerLength, 3, 240 * 0.2)  // roof sheet seen edge-on
        s.add("iron", containerX, floorY, 15, inner + 20, 12)
        s.add("iron", containerX + containerLength - 15, floorY, 15, inner + 20, 12)

        // Cargo filling part of the container.
        let cargoStart = containerX + 30, cargoEnd = containerX + containerLength - 30
        var fill = category == "empty" ? 0.0 : random.uniform(0.4, 0.95)
        if hard && category != "empty" { fill = 0.85 + (fill - 0.4) / 0.55 * 0.15 }
        let cargoLength = (cargoEnd - cargoStart) * fill
        var cx = cargoStart
        var top = floorY, end = cargoStart
        // Goods go in through here, so the label knows how far and how high they reach.
        func goods(_ material: String, _ x: Double, _ y: Double, _ w: Double, _ h: Double, _ depth: Double) {
            s.add(material, x, y, w, h, depth)
            top = max(top, y + h)
            end = max(end, x + w)
        }
        while cx < cargoStart + cargoLength {
            switch category {
            case "palletised boxes":
                let w = random.uniform(100, 125), h = random.uniform(120, 230)
                goods("cellulose", cx, floorY + 15, w, h, random.uniform(60, 220) * 0.25)  // boxes, ~25 % solid
                goods("cellulose", cx, floorY + 3, w, 12, 100 * 0.3)                       // pallet
                cx += w + random.uniform(2, 10)
            case "bulk":
                let w = cargoLength
                goods("silicon_dioxide", cx, floorY + 3, w, random.uniform(60, 120), 230 * 0.65)  // sand, 1.5 g/cm3
                cx += w
            case "machinery":
                let w = random.uniform(80, 200), h = random.uniform(60, 180)
                goods("iron", cx, floorY + 3, w, h, random.uniform(3, 18))
                cx += w + random.uniform(20, 60)
            case "drums of liquid":
                for row in 0..<2 { goods("water", cx, floorY + 3 + Double(row) * 90, 58, 88, 2 * 58) }
                goods("iron", cx, floorY + 3, 58, 180, 0.5)
                cx += 60
            default:  // textiles
                let w = random.uniform(100, 200)
                goods("cellulose", cx, floorY + 3, w, random.uniform(150, 235), 230 * 0.15)
                cx += w + random.uniform(5, 15)
            }
        }

        if end > cargoStart {
            s.load = SceneObject(label: category, kind: "load", material: "mixed", occlusion: 0,
                                 box: s.pixels(x: cargoStart, y: floorY, width: end - cargoStart, height: top - floorY))
        }

        if hard {
            // Loose steel (tools, fittings, spare parts) scattered through the container.
            for _ in 0..<(4 + Int(random.next() % 6)) {
                s.add("iron", random.uniform(cargoStart, cargoEnd - 60), random.uniform(floorY + 5, floorY + 200),
                      random.uniform(15, 60), random.uniform(5, 30), random.uniform(0.5, 4))
            }
        }

        // Concealed items, each labelled with its box and how much else the beam crosses there.
        for threat in hidden {
            var tx = random.uniform(cargoStart + 20, cargoEnd - 460), ty = random.uniform(floorY + 20, floorY + 150)
            if hard && end > cargoStart + 200 {
                // Inside the goods: the same draw, squeezed into the loaded length.
                let span = max(0, min(cargoEnd - 460, end - (threat == "car" ? 430 : 100)) - (cargoStart + 20))
                tx = cargoStart + 20 + (tx - cargoStart - 20) / max(1, cargoEnd - 480 - cargoStart) * span
            }
            var box: PixelBox
            var material = "iron"
            let before = s.totalDensity(in: s.pixels(x: tx, y: ty, width: threat == "car" ? 430 : 100, height: threat == "car" ? 145 : 45))
            switch threat {
            case "pistol":
                s.pistol(x: tx, y: ty)
                box = s.pixels(x: tx, y: ty, width: 19, height: 13.5)
            case "rifle":
                s.add("iron", tx, ty + 8, 95, 3.5, 2.2)
                s.add("iron", tx + 60, ty, 6, 10, 2.5)
                s.add("cellulose", tx + 75, ty + 2, 25, 10, 4)
                box = s.pixels(x: tx, y: ty, width: 100, height: 12)
            case "blade":
                s.add("iron", tx, ty, 25, 4, 0.4)
                box = s.pixels(x: tx, y: ty, width: 25, height: 4)
            case "narcotics":
                material = "cocaine_hydrochloride"
                let n = 2 + Int(random.next() % 6)
                for i in 0..<n { s.add("cocaine_hydrochloride", tx + Double(i % 3) * 31, ty + Double(i / 3) * 21, 30, 20, 12) }
                box = s.pixels(x: tx, y: ty, width: Double(min(n, 3)) * 31, height: Double((n + 2) / 3) * 21)
            default:  // a car inside the container
                s.add("iron", tx, ty, 430, 145, 0.3)
                s.add("iron", tx + 20, ty + 25, 80, 60, 30)
                for wheel in [tx + 70, tx + 360] {
                    s.disc("polyethylene", density: 0.93, centreX: wheel, centreY: ty + 30, radius: 30, depthCM: 40)
                }
                box = s.pixels(x: tx, y: ty, width: 430, height: 145)
            }
            // Occlusion: the share of the mass the beam crosses in the object's region that is not the object.
            let after = s.totalDensity(in: s.pixels(x: tx, y: ty, width: threat == "car" ? 430 : 100, height: threat == "car" ? 145 : 45))
            let occlusion = after > 0 ? before / after : 0
            s.label(SceneObject(label: threat, kind: threat == "car" ? "concealment" : "threat", material: material,
                                occlusion: (occlusion * 1000).rounded() / 1000, box: box))
        }
        return s
    }
}

extension Scene {
    /// `material` at its standard density (CargoScene.densities), `depth` cm along the beam.
    mutating func add(_ material: String, _ x: Double, _ y: Double, _ w: Double, _ h: Double, _ depth: Double) {
        box(material, density: CargoScene.densities[material]!, x: x, y: y, width: w, height: h, depthCM: depth)
    }

    /// A pistol seen side-on, 19 x 13.5 cm: a steel slide and barrel 2.5 cm thick and a grip frame.
    mutating func pistol(x: Double, y: Double) {
        add("iron", x, y + 10, 19, 3.5, 2.5)
        add("iron", x + 12, y, 4, 12, 2.8)
    }
}
