import ArgumentParser
import Foundation
import Store

/// `vigil audit`: the store's hash-chained record of reviews and threshold changes.
struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Verify or export the audit log (reviews, threshold changes), a hash chain.",
        subcommands: [Verify.self, Export.self])

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recompute the chain; exit 1 naming the first entry edited, removed or out of order.")
        @OptionGroup var options: DataFolderOptions

        func run() throws {
            let result = try options.store().verifyAudit()
            try printJSON(result)
            if let problem = result.problem { throw CommandFailure("audit log: \(problem)") }
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every entry, oldest first, one JSON line each (with its hashes).")
        @OptionGroup var options: DataFolderOptions

        func run() throws { for e in try options.store().auditLog() { try printJSON(e) } }
    }
}
