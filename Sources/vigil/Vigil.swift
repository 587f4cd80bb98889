import ArgumentParser

/// The `vigil` command: one executable, one subcommand per job.
struct Vigil: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vigil",
        abstract: "Image-inspection inference for customs scanners.",
        subcommands: [AnalyzeCommand.self, AuditCommand.self, EvaluateCommand.self, ImageCommand.self, ModelCommand.self, PairCommand.self, ProfileCommand.self, PushCommand.self, ServeCommand.self, SynthCommand.self, ThresholdsCommand.self, UsersCommand.self, CertsCommand.self, StationsCommand.self])
}
