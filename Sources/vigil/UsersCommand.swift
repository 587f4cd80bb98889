import ArgumentParser
import Foundation
import Store

/// `vigil users`: accounts that sign in to the HTTP API and the review page.
struct UsersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "users",
        abstract: "Add, list and remove accounts (analyst, site-admin, admin) and set passwords.",
        subcommands: [Add.self, List.self, Remove.self, Password.self])

    /// Who runs the command, for the audit log: whoever can write the data folder.
    static var actor: String {
        let env = ProcessInfo.processInfo.environment
        return "cli:" + (env["USER"] ?? env["LOGNAME"] ?? getpwuid(getuid()).flatMap { String(cString: $0.pointee.pw_name) } ?? "uid \(getuid())")
    }

    /// The first line of stdin: a password never goes on the command line, where `ps` shows it.
    static func passwordFromStdin() throws -> String {
        guard let line = readLine(strippingNewline: true), !line.isEmpty else { throw CommandFailure("no password on stdin") }
        return line
    }

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add an account; the password is read from stdin.")
        @Argument(help: "Account name.")
        var name: String
        @Option(help: "analyst, site-admin or admin.")
        var role: String
        @Option(help: "The site a site-admin administers, or an analyst is limited to.")
        var site: String?
        @Flag(help: "Read the password from the first line of stdin (required).")
        var passwordStdin = false
        @OptionGroup var options: DataFolderOptions

        func run() throws {
            guard passwordStdin else { throw CommandFailure("give --password-stdin and the password on stdin") }
            guard let role = AccountRole(rawValue: role) else { throw CommandFailure("role must be analyst, site-admin or admin, not \(role)") }
            do {
                try printJSON(try options.store().addAccount(name: name, role: role, site: site, password: try UsersCommand.passwordFromStdin(),
                                                             by: UsersCommand.actor))
            } catch let refusal as AccountRefusal {
                throw CommandFailure(refusal.description)
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every account: name, role, site, created.")
        @OptionGroup var options: DataFolderOptions
        func run() throws { try printJSON(["accounts": try options.store().accounts()]) }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove an account and sign it out everywhere.")
        @Argument var name: String
        @OptionGroup var options: DataFolderOptions
        func run() throws {
            do { try options.store().removeAccount(name: name, by: UsersCommand.actor) } catch let refusal as AccountRefusal {
                throw CommandFailure(refusal.description)
            }
            try printJSON(["removed": name])
        }
    }

    struct Password: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set an account's password (from stdin) and sign it out everywhere.")
        @Argument var name: String
        @Flag(help: "Read the password from the first line of stdin (required).")
        var passwordStdin = false
        @OptionGroup var options: DataFolderOptions
        func run() throws {
            guard passwordStdin else { throw CommandFailure("give --password-stdin and the password on stdin") }
            do { try options.store().setPassword(name: name, password: try UsersCommand.passwordFromStdin(), by: UsersCommand.actor) }
            catch let refusal as AccountRefusal { throw CommandFailure(refusal.description) }
            try printJSON(["changed": name])
        }
    }
}
