import ArgumentParser

/// The `vigil` command: one executable, one subcommand per job.
struct Vigil: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vigil",
        abstract: "Image-inspection inference for customs scanners.",
        subcommands: [AnalyzeCommand.self, EvaluateCommand.self, ImageCommand.self, ModelCommand.self, ProfileCommand.self, SynthCommand.self])
}
