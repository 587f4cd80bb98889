import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Writes a file so that it survives a crash once `write` returns: the data and the directory
/// entry are both fsync'ed (a file whose name was never flushed can vanish after power loss).
enum DurableFile {
    static func write(_ bytes: [UInt8], to path: String) throws(StoreError) {
        let partial = path + ".partial"
        let fd = open(partial, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw .file(partial, String(cString: strerror(errno))) }
        var written = 0
        let failure: String? = bytes.withUnsafeBytes { buffer -> String? in
            while written < buffer.count {
                let n = Glibc.write(fd, buffer.baseAddress! + written, buffer.count - written)
                if n < 0 {
                    if errno == EINTR { continue }
                    return String(cString: strerror(errno))
                }
                written += n
            }
            return fsync(fd) == 0 ? nil : String(cString: strerror(errno))
        }
        close(fd)
        if let failure {
            unlink(partial)
            throw .file(path, failure)
        }
        // The rename makes the file appear whole or not at all.
        guard rename(partial, path) == 0 else {
            let why = String(cString: strerror(errno))
            unlink(partial)
            throw .file(path, why)
        }
        try syncDirectory(of: path)
    }

    static func syncDirectory(of path: String) throws(StoreError) {
        let directory = (path as NSString).deletingLastPathComponent
        let fd = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw .file(directory, String(cString: strerror(errno))) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw .file(directory, String(cString: strerror(errno))) }
    }

    static func read(_ path: String) throws(StoreError) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else { throw .file(path, "cannot be read") }
        return [UInt8](data)
    }
}
