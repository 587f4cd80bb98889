import ArgumentParser
import Foundation
import Store

/// `vigil stations`: the registry of stations allowed to push (with `stations.registeredOnly`).
struct StationsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stations",
        abstract: "Register, list and remove the stations allowed to push scans, with their site and profiles.",
        subcommands: [Add.self, List.self, Remove.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Register a station (or replace its registration): the site it serves and the profiles it may push for.")
        @Argument(help: "Station id: its HELLO / metadata station and its client certificate's common name.")
        var name: String
        @Option(help: "The site the station's scans belong to.")
        var site: String
        @Option(name: .customLong("profile"), help: "A scanner profile the station may push for (repeatable).")
        var profiles: [String] = []
        @Option(help: "The station's DICOM calling AE title, when it sends over DICOM.")
        var aeTitle: String?
        @OptionGroup var options: DataFolderOptions

        func run() throws {
            do {
                try printJSON(try options.store().registerStation(name: name, site: site, profiles: profiles, aeTitle: aeTitle,
                                                                  by: UsersCommand.actor))
            } catch let refusal as StationRefusal {
                throw CommandFailure(refusal.description)
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every registered station.")
        @OptionGroup var options: DataFolderOptions
        func run() throws { try printJSON(["stations": try options.store().stations()]) }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a station's registration: its next scan is refused.")
        @Argument var name: String
        @OptionGroup var options: DataFolderOptions
        func run() throws {
            do { try options.store().removeStation(name: name, by: UsersCommand.actor) } catch let refusal as StationRefusal {
                throw CommandFailure(refusal.description)
            }
            try printJSON(["removed": name])
        }
    }
}
