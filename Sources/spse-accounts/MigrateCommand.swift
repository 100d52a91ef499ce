import ArgumentParser
import Migrations
import Postgres

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply pending sql/NNN_name.sql migrations, each in a transaction.",
        discussion: """
            Safe to run from several instances at once: a PostgreSQL advisory lock makes them take \
            turns. Refuses (exit 2) when an already applied file was edited.

            Examples:
              DATABASE_URL=postgresql:///spse spse-accounts migrate
              spse-accounts migrate --check      # exit 2 when migrations are pending
            """
    )

    @OptionGroup var database: DatabaseOptions

    @Flag(help: "Only report whether the database is current; apply nothing.")
    var check = false

    func run() async throws {
        let settings = try database.settings()
        let migrator = try database.makeMigrator(settings)
        let pool = database.makePool(settings)
        do {
            try await pool.withConnection { connection in
                if check {
                    try await migrator.requireCurrent(on: connection)
                    print("database is current (\(migrator.migrations.count) migrations)")
                } else {
                    let applied = try await migrator.migrate(on: connection)
                    for migration in applied { print("applied \(migration.fileName)") }
                    print(applied.isEmpty ? "database is current" : "applied \(applied.count) migration(s)")
                }
            }
            await pool.shutdown()
        } catch {
            await pool.shutdown()
            throw ExitStatus.fail(error)
        }
    }
}
