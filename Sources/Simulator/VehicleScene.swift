/// Top-view scenes of a passenger car driving through a lane scanner: the beam goes down
/// through roof, cabin and floor pan, so each part adds its height (along the beam) times density.
/// x runs along the lane (front of the car on the left), y across it.
enum VehicleScene {
    static let threats = ["pistol", "blade", "bottle", "narcotics"]

    static func make(width: Int, height: Int, pitchCM: Double, pitchYCM: Double? = nil, random: inout SeededRandom, hidden: [String]) -> Scene {
        var s = Scene(width: width, height: height, pitchCM: pitchCM, pitchYCM: pitchYCM)
        let lane = Double(height) * s.pitchYCM
        let length = random.uniform(400, 490), carWidth = random.uniform(170, 190)
        let x0 = random.uniform(60, 120), y0 = (lane - carWidth) / 2 + random.uniform(-20, 20)
        s.add("iron", x0, y0, length, carWidth, 0.25)                      // roof and floor pan sheet steel
        s.add("iron", x0 + 15, y0 + 30, 70, carWidth - 60, 25)             // engine block and gearbox
        s.add("aluminium", x0 + 5, y0 + 20, 20, carWidth - 40, 6)          // radiator and bumper beam
        s.add("glass_borosilicate_pyrex", x0 + 100, y0 + 10, 60, carWidth - 20, 0.5)  // windscreen, seen flat
        s.add("polyethylene", x0 + 160, y0 + 20, 60, carWidth - 40, 8)     // front seats (foam and frames)
        s.add("iron", x0 + 160, y0 + 20, 60, carWidth - 40, 0.4)
        s.add("polyethylene", x0 + 250, y0 + 15, 70, carWidth - 30, 8)     // rear bench
        s.add("iron", x0 + length - 120, y0 + 30, 60, 70, 0.3)             // fuel tank shell
        s.add("polyethylene", x0 + length - 120, y0 + 30, 60, 70, 20)      // fuel
        s.add("iron", x0, y0 + carWidth / 2 - 4, length, 8, 1.5)           // exhaust and tunnel
        for (wx, wy) in [(x0 + 60, y0), (x0 + 60, y0 + carWidth - 22), (x0 + length - 90, y0), (x0 + length - 90, y0 + carWidth - 22)] {
            s.add("polyethylene", wx, wy, 64, 22, 45)                      // tyre seen from above
            s.add("iron", wx + 17, wy + 3, 30, 16, 6)                      // rim and brake disc
        }
        for threat in hidden {
            let tx = random.uniform(x0 + 150, x0 + length - 150), ty = random.uniform(y0 + 30, y0 + carWidth - 60)
            let before = s.totalDensity(in: s.pixels(x: tx, y: ty, width: 40, height: 40))
            var material = "iron", box: PixelBox
            switch threat {
            case "pistol":
                s.pistol(x: tx, y: ty)
                box = s.pixels(x: tx, y: ty, width: 19, height: 13.5)
            case "blade":
                s.add("iron", tx, ty, 25, 4, 0.4)
                box = s.pixels(x: tx, y: ty, width: 25, height: 4)
            case "bottle":  // laid flat: glass wall and liquid
                material = "water"
                s.add("glass_borosilicate_pyrex", tx, ty, 30, 8, 0.6)
                s.add("water", tx, ty, 30, 8, 7)
                box = s.pixels(x: tx, y: ty, width: 30, height: 8)
            default:
                material = "cocaine_hydrochloride"
                s.add("cocaine_hydrochloride", tx, ty, 30, 20, 8)
                box = s.pixels(x: tx, y: ty, width: 30, height: 20)
            }
            let after = s.totalDensity(in: s.pixels(x: tx, y: ty, width: 40, height: 40))
            s.label(SceneObject(label: threat, kind: threat == "bottle" ? "concealment" : "threat", material: material,
                                occlusion: after > 0 ? ((before / after) * 1000).rounded() / 1000 : 0, box: box))
        }
        return s
    }
}

/// Parcels on the belt of a dual-energy X-ray scanner (seen from above): a box or bag with
/// everyday clutter, and sometimes something that should not be there.
enum ParcelScene {
    static let threats = ["pistol", "blade", "narcotics"]

    /// `hard`: three times the clutter (the harder held-out set).
    static func make(width: Int, height: Int, pitchCM: Double, pitchYCM: Double? = nil, random: inout SeededRandom, hidden: [String],
                     hard: Bool = false) -> Scene {
        var s = Scene(width: width, height: height, pitchCM: pitchCM, pitchYCM: pitchYCM)
        let beltWidth = Double(height) * s.pitchYCM
        let length = random.uniform(30, 70), parcelWidth = random.uniform(25, min(60, beltWidth - 10))
        let x0 = random.uniform(10, 20), y0 = random.uniform(5, beltWidth - parcelWidth - 5)
        s.add("cellulose", x0, y0, length, parcelWidth, 0.6)  // cardboard top and bottom
        // Clutter: clothes, shoes, books, a bottle; with a laptop or phone sometimes.
        for _ in 0..<((2 + Int(random.next() % 5)) * (hard ? 3 : 1)) {
            s.group += 1
            let w = random.uniform(8, length * 0.6), h = random.uniform(6, parcelWidth * 0.6)
            let x = random.uniform(x0, x0 + length - w), y = random.uniform(y0, y0 + parcelWidth - h)
            switch random.next() % 4 {
            case 0: s.add("cellulose", x, y, w, h, random.uniform(2, 8))        // clothes, books
            case 1: s.add("polyethylene", x, y, w, h, random.uniform(2, 10))    // shoes, plastic
            case 2: s.add("water", x, y, min(w, 25), min(h, 8), 7)              // bottle of liquid
            default: s.add("aluminium", x, y, min(w, 15), min(h, 10), 0.3)      // cans, foil
            }
        }
        /// Adds an object with `build` and labels it, with the share of other mass in its box.
        func place(_ label: String, _ kind: String, _ material: String, _ x: Double, _ y: Double, _ w: Double, _ h: Double,
                   _ build: () -> Void) {
            let box = s.pixels(x: x, y: y, width: w, height: h)
            let before = s.totalDensity(in: box)
            s.group += 1
            build()
            let after = s.totalDensity(in: box)
            s.label(SceneObject(label: label, kind: kind, material: material,
                                occlusion: after > 0 ? ((before / after) * 1000).rounded() / 1000 : 0, box: box))
        }
        if random.uniform(0, 1) < 0.3 {
            let x = random.uniform(x0, max(x0, x0 + length - 32)), y = random.uniform(y0, max(y0, y0 + parcelWidth - 22))
            place("laptop", "electronics", "aluminium", x, y, 32, 22) {
                s.add("aluminium", x, y, 32, 22, 0.3)
                s.add("copper", x + 2, y + 2, 28, 18, 0.05)
                s.add("iron", x + 4, y + 12, 20, 8, 0.8)  // battery cells
            }
        }
        if random.uniform(0, 1) < 0.3 {
            let x = random.uniform(x0, max(x0, x0 + length - 15)), y = random.uniform(y0, max(y0, y0 + parcelWidth - 8))
            place("phone", "electronics", "aluminium", x, y, 15, 7.5) {
                s.add("aluminium", x, y, 15, 7.5, 0.2)
                s.add("iron", x + 2, y + 1, 8, 5, 0.5)
            }
        }
        for threat in hidden {
            let x = random.uniform(x0, max(x0, x0 + length - 26)), y = random.uniform(y0, max(y0, y0 + parcelWidth - 21))
            switch threat {
            case "pistol":
                place("pistol", "threat", "iron", x, y, 19, 13.5) {
                    s.pistol(x: x, y: y)
                }
            case "blade":
                place("blade", "threat", "iron", x, y, 25, 4) { s.add("iron", x, y, 25, 4, 0.4) }
            default:
                place("narcotics", "threat", "cocaine_hydrochloride", x, y, 25, 20) { s.add("cocaine_hydrochloride", x, y, 25, 20, 6) }
            }
        }
        return s
    }
}
