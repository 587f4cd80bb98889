import ArgumentParser
import Foundation
import Store

/// `--data DIR`: the store a command works on, for the commands that run beside `vigil serve`.
struct DataFolderOptions: ParsableArguments {
    @Option(help: "Data folder of the store (default: $VIGIL_DATA or ./vigil-data).")
    var data: String?

    var folder: String { data ?? ProcessInfo.processInfo.environment["VIGIL_DATA"] ?? "./vigil-data" }

    func store() throws -> ScanStore { try ScanStore(directory: folder) }
}
