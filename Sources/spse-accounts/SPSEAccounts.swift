import ArgumentParser

@main
struct SPSEAccounts: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spse-accounts",
        abstract: "Account service for an LPSE's SPSE: accounts, password resets behind the SOP gate, audit.",
        discussion: """
            Connects to PostgreSQL with DATABASE_URL, or libpq's PG* variables when it is not set.

            Exit codes: 0 ok, 1 usage, 2 refused by policy or state (e.g. the database is behind \
            or a migration was edited), 3 not found, 4 database unavailable, 5 internal error.
            """,
        subcommands: [ServeCommand.self, MigrateCommand.self]
    )
}
