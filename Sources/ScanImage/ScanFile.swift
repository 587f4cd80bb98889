import Foundation

/// File access for scans: bounded reads and whole-file writes.
public enum ScanFile {
    /// Reads a file, refusing one larger than `maxBytes` before reading it.
    public static func read(_ path: String, maxBytes: Int) throws(ScanImageError) -> [UInt8] {
        let attributes: [FileAttributeKey: Any]
        do {
            attributes = try FileManager.default.attributesOfItem(atPath: path)
        } catch {
            throw ScanImageError(input: path, cause: .unreadable(FileManager.default.fileExists(atPath: path)
                ? "permission denied or not a regular file" : "no such file"))
        }
        if let type = attributes[.type] as? FileAttributeType, type == .typeDirectory {
            throw ScanImageError(input: path, cause: .unreadable("is a directory"))
        }
        if let size = (attributes[.size] as? NSNumber)?.intValue, size > maxBytes {
            throw ScanImageError(input: path, cause: .limitExceeded("file of \(size) bytes exceeds the limit of \(maxBytes)"))
        }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw ScanImageError(input: path, cause: .unreadable("permission denied"))
        }
        defer { try? handle.close() }
        do {
            let data = try handle.read(upToCount: maxBytes + 1) ?? Data()
            guard data.count <= maxBytes else {
                throw ScanImageError(input: path, cause: .limitExceeded("file exceeds the limit of \(maxBytes) bytes"))
            }
            return [UInt8](data)
        } catch let error as ScanImageError {
            throw error
        } catch {
            throw ScanImageError(input: path, cause: .unreadable("\(error.localizedDescription)"))
        }
    }

    /// Writes the bytes through a temporary file and a rename, so a reader never sees half a file.
    public static func write(_ bytes: [UInt8], to path: String) throws(ScanImageError) {
        let url = URL(fileURLWithPath: path)
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw ScanImageError(input: path, cause: .cannotEncode("is a directory"))
        }
        let folder = url.deletingLastPathComponent().path
        guard fm.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ScanImageError(input: path, cause: .cannotEncode("no such directory \(folder)"))
        }
        do {
            try Data(bytes).write(to: url, options: .atomic)
        } catch {
            let reason = fm.isWritableFile(atPath: folder) ? "write failed (disk full?)" : "permission denied"
            throw ScanImageError(input: path, cause: .cannotEncode(reason))
        }
    }
}
