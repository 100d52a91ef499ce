import ArgumentParser

struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Reports for the LPSE head and the auditor.",
        subcommands: [ReportSLACommand.self]
    )
}
