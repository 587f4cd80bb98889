/// Overlapping tiles covering an image, in the order a detector visits them (row by row).
public struct TileGrid: Sendable, Equatable {
    public var tileWidth: Int
    public var tileHeight: Int
    public var overlap: Int
    /// Top-left corners of the tiles in prepared pixels.
    public var origins: [(x: Int, y: Int)] {
        ys.flatMap { y in xs.map { x in (x: x, y: y) } }
    }
    public let xs: [Int]
    public let ys: [Int]

    public init(imageWidth: Int, imageHeight: Int, tileWidth: Int, tileHeight: Int, overlap: Int) {
        self.tileWidth = tileWidth
        self.tileHeight = tileHeight
        self.overlap = overlap
        xs = TileGrid.positions(length: imageWidth, tile: tileWidth, overlap: overlap)
        ys = TileGrid.positions(length: imageHeight, tile: tileHeight, overlap: overlap)
    }

    public var count: Int { xs.count * ys.count }

    /// Steps of `tile - overlap`; the last tile is pulled back to end at the image edge so no tile
    /// hangs over it unless the image is smaller than one tile.
    static func positions(length: Int, tile: Int, overlap: Int) -> [Int] {
        guard length > tile else { return [0] }
        let stride = tile - overlap
        var out: [Int] = []
        var p = 0
        while p + tile < length {
            out.append(p)
            p += stride
        }
        out.append(length - tile)
        return out
    }

    public static func == (a: TileGrid, b: TileGrid) -> Bool {
        a.tileWidth == b.tileWidth && a.tileHeight == b.tileHeight && a.overlap == b.overlap && a.xs == b.xs && a.ys == b.ys
    }
}
