import ArgumentParser
import CKernels
import DICOMNetwork
import Foundation
import Engine
import Ingest
import Pipeline
import Profiles
import ScanImage
import Simulator
import Store

// Commands that run models re-execute once so OpenBLAS starts single-threaded with its fastest
// kernels (see BLASLauncher).
if let command = CommandLine.arguments.dropFirst().first, ["model", "analyze", "serve", "evaluate"].contains(command) {
    BLASLauncher.configure(arguments: CommandLine.arguments)
    // Scans' planes are reused from the heap, not page-faulted in again for every scan.
    vigil_keep_freed_memory()
}

// Errors a user can cause are printed as one line naming the input and the cause, exit code 1.
do {
    var command = try await Vigil.asyncParseAsRoot()
    if var asynchronous = command as? AsyncParsableCommand {
        try await runAsynchronously(&asynchronous)
    } else {
        try command.run()
    }
} catch let error as EngineError {
    FileHandle.standardError.write(Data("vigil: \(error)\n".utf8))
    exit(1)
} catch {
    switch error {
    case is ScanImageError, is ConfigurationError, is ProfileMismatch, is CommandFailure, is ModelFailure, is SimulatorError,
         is PipelineError, is StoreError, is StationClient.Failure, is DICOMSCPError:
        FileHandle.standardError.write(Data("vigil: \(error)\n".utf8))
        exit(1)
    default:
        Vigil.exit(withError: error)
    }
}

/// Top-level code resolves `run()` on the existential to ParsableCommand's synchronous one (which
/// prints help); inside a function the async requirement is chosen.
func runAsynchronously(_ command: inout any AsyncParsableCommand) async throws {
    try await command.run()
}
