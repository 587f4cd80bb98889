import ArgumentParser
import Foundation
import Pipeline
import Profiles
import Store
import Web

/// `vigil thresholds`: a site's class thresholds within the central bounds, with their history.
/// Works on the data folder's store, so a running `vigil serve` applies a change to its next scan.
struct ThresholdsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "thresholds",
        abstract: "Show, set, audit and restore a site's thresholds (within ScannerProfiles/policy.json).",
        subcommands: [Show.self, Set.self, History.self, Restore.self, WhatIf.self])

    struct Options: ParsableArguments {
        @Option(help: "Site id.")
        var site: String
        @OptionGroup var dataFolder: DataFolderOptions
        @OptionGroup var modelOptions: ModelOptions
        @OptionGroup var profiles: ProfileOptions

        func service() throws -> SiteThresholdService {
            let catalog = try profiles.catalog()
            let store = try dataFolder.store()
            let models = try InstalledModels(directory: modelOptions.models ?? InstalledModels.defaultDirectory())
            return SiteThresholdService(store: store, policy: catalog.policy, manifests: models.manifests)
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Each model class's threshold at the site: value, calibrated default, bounds, source.")
        @OptionGroup var options: Options
        func run() throws { try printJSON(try options.service().view(site: options.site)) }
    }

    struct Set: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set one class's threshold (or --default to go back to the calibrated value).")
        @OptionGroup var options: Options
        @Option(help: "Model name, e.g. cargo-threat.")
        var model: String
        @Option(name: .customLong("class"), help: "Class, e.g. pistol.")
        var label: String
        @Option(help: "New threshold, within the central bounds.")
        var value: Double?
        @Flag(help: "Go back to the model's calibrated threshold.")
        var `default` = false
        @Option(help: "Why (recorded with the change).")
        var reason: String
        @Option(help: "Who makes the change (default: $USER).")
        var user: String?

        func validate() throws {
            guard (value != nil) != `default` else { throw ValidationError("give either --value or --default") }
        }

        func run() throws {
            let who = user ?? ProcessInfo.processInfo.environment["USER"] ?? "unknown"
            do {
                let changes = try options.service().set(site: options.site, [model: [label: value]], user: who, reason: reason)
                for c in changes { try printJSON(c) }
            } catch let refusal as SiteThresholdService.Refusal {
                throw CommandFailure("site \(options.site): \(refusal)")
            }
        }
    }

    struct History: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every change at the site, oldest first, one JSON line each.")
        @OptionGroup var options: Options
        func run() throws { for c in try options.service().history(site: options.site) { try printJSON(c) } }
    }

    struct Restore: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Put the site's thresholds back to what they were right after a change.")
        @OptionGroup var options: Options
        @Option(help: "Change id (from history).")
        var change: Int64
        @Option(help: "Why (recorded with the restore).")
        var reason: String
        @Option(help: "Who restores (default: $USER).")
        var user: String?

        func run() throws {
            let who = user ?? ProcessInfo.processInfo.environment["USER"] ?? "unknown"
            do {
                for c in try options.service().restore(site: options.site, to: change, user: who, reason: reason) { try printJSON(c) }
            } catch let refusal as SiteThresholdService.Refusal {
                throw CommandFailure("site \(options.site): \(refusal)")
            }
        }
    }

    struct WhatIf: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "what-if",
            abstract: "Replay the site's reviewed findings at a candidate threshold: confirmed still found, dismissed still alarming.")
        @OptionGroup var options: Options
        @Option(help: "Model name.")
        var model: String
        @Option(name: .customLong("class"), help: "Class (default: every class of the model at its current value).")
        var label: String?
        @Option(help: "Candidate threshold (default: the current value).")
        var value: Double?
        @Option(help: "Also write the detection / false-alarm curve of the class as SVG here.")
        var svg: String?

        func run() throws {
            let results: [ThresholdWhatIf]
            do { results = try options.service().whatIf(site: options.site, model: model, label: label, value: value) } catch let refusal as SiteThresholdService.Refusal {
                throw CommandFailure("site \(options.site): \(refusal)")
            }
            for r in results { try printJSON(r) }
            if let svg {
                guard results.count == 1 else { throw CommandFailure("--svg draws one class: give --class") }
                try Data(results[0].svg.utf8).write(to: URL(fileURLWithPath: svg))
            }
        }
    }
}
