import ArgumentParser

@main
struct SPSEBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spse-bench",
        abstract: "Benchmarks of spse-accounts, each measured against the Argon2 bound in the same run.",
        discussion: "Build with -c release; debug figures mean nothing.",
        subcommands: [HashScenario.self, ProvisionScenario.self, LoginScenario.self, LoginFloodScenario.self, LookupScenario.self, GateScenario.self, AuditScenario.self]
    )
}
