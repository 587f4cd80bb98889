/// A rectangle in pixel coordinates (origin top-left, x to the right, y down).
public struct PixelRect: Sendable, Equatable, Codable {
    public var x: Double
    public var y: Double
    public var width: Double
    public var height: Double

    public init(x: Double, y: Double, width: Double, height: Double) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }
}

/// How prepared (model-space) pixels relate to the pixels of the scan as received.
///
/// Received → canonical: flips in received coordinates, then a transpose when the object
/// travelled along y. Canonical → prepared: scale by `scaleX`, `scaleY` (resampling).
public struct ScanGeometry: Sendable, Equatable {
    public var receivedWidth: Int
    public var receivedHeight: Int
    public var flipHorizontal: Bool
    public var flipVertical: Bool
    public var transposed: Bool
    /// Prepared pixels per canonical pixel along x and y.
    public var scaleX: Double
    public var scaleY: Double

    public init(receivedWidth: Int, receivedHeight: Int, flipHorizontal: Bool, flipVertical: Bool, transposed: Bool,
                scaleX: Double, scaleY: Double) {
        self.receivedWidth = receivedWidth
        self.receivedHeight = receivedHeight
        self.flipHorizontal = flipHorizontal
        self.flipVertical = flipVertical
        self.transposed = transposed
        self.scaleX = scaleX
        self.scaleY = scaleY
    }

    public var canonicalWidth: Int { transposed ? receivedHeight : receivedWidth }
    public var canonicalHeight: Int { transposed ? receivedWidth : receivedHeight }

    /// Maps a rectangle in prepared pixels back to the scan as received.
    public func toReceived(_ r: PixelRect) -> PixelRect {
        // Prepared → canonical.
        var x = r.x / scaleX, y = r.y / scaleY, w = r.width / scaleX, h = r.height / scaleY
        // Canonical → flipped received (undo the transpose).
        if transposed { (x, y, w, h) = (y, x, h, w) }
        // Undo the flips: a flip mirrors the rectangle's far edge.
        if flipHorizontal { x = Double(receivedWidth) - x - w }
        if flipVertical { y = Double(receivedHeight) - y - h }
        return PixelRect(x: x, y: y, width: w, height: h)
    }

    /// Maps a point in prepared pixels (continuous: pixel i spans [i, i + 1)) to the scan as received.
    public func toReceived(x: Double, y: Double) -> (x: Double, y: Double) {
        var (cx, cy) = (x / scaleX, y / scaleY)
        if transposed { (cx, cy) = (cy, cx) }
        return (flipHorizontal ? Double(receivedWidth) - cx : cx, flipVertical ? Double(receivedHeight) - cy : cy)
    }

    /// Maps a point of the scan as received (continuous) to prepared pixels.
    public func toPrepared(x: Double, y: Double) -> (x: Double, y: Double) {
        var (cx, cy) = (flipHorizontal ? Double(receivedWidth) - x : x, flipVertical ? Double(receivedHeight) - y : y)
        if transposed { (cx, cy) = (cy, cx) }
        return (cx * scaleX, cy * scaleY)
    }
}
