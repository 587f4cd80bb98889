import ArgumentParser
import Foundation
import Pipeline
import Profiles

/// Where the installed models are read from.
struct ModelOptions: ParsableArguments {
    @Option(help: "Folder of <name>/<version>/ models (default: $VIGIL_MODELS, ./Models, or the checkout's).")
    var models: String?

    func analyzer(_ profiles: ProfileOptions) throws -> Analyzer {
        try analyzer(try profiles.catalog())
    }

    /// `sites` nil: the site files under the profiles folder.
    func analyzer(_ catalog: ProfileCatalog, sites: (any SiteThresholds)? = nil) throws -> Analyzer {
        try Analyzer(profiles: catalog, models: InstalledModels(directory: models ?? InstalledModels.defaultDirectory()), sites: sites)
    }
}

/// What a station says about its scans (the same for `analyze` and `push`).
struct ScanOptions: ParsableArguments {
    @Option(help: "Scanner profile id (needed unless the file names its scanner model).")
    var profile: String?

    @Option(help: "Site id, recorded in the result.")
    var site: String?

    @Option(help: "Station id, recorded in the result.")
    var station: String?

    @Flag(help: "The container was declared empty.")
    var declaredEmpty = false

    @Option(help: "Declared goods category, e.g. textiles, bulk, machinery.")
    var declaredCategory: String?

    var declaration: Declaration? {
        declaredEmpty || declaredCategory != nil ? Declaration(category: declaredCategory, declaredEmpty: declaredEmpty) : nil
    }
}

/// `vigil analyze`: the full pipeline, offline, one result JSON per file.
struct AnalyzeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analyze",
        abstract: "Run the full pipeline on scan files; print one result JSON per file.",
        discussion: "Exit code 1 when any file could not be analysed (its result has verdict \"error\" and the cause is also printed on stderr).")

    @Argument(help: "Scan files (DICOM/DICOS, TIFF, PNG, JPEG, NPY).")
    var files: [String]

    @OptionGroup var scan: ScanOptions

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var profiles: ProfileOptions

    func run() throws {
        let analyzer = try modelOptions.analyzer(profiles)
        var failed = false
        for file in files {
            let result = analyzer.analyze(file: file, .init(source: file, profile: scan.profile, site: scan.site, station: scan.station,
                                                             declaration: scan.declaration))
            try printJSON(result)
            if let error = result.error {
                FileHandle.standardError.write(Data("vigil: \(error)\n".utf8))
                failed = true
            }
        }
        if failed { throw ExitCode(1) }
    }
}
