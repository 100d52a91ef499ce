import ArgumentParser
import Foundation
import Migrations
import Postgres

/// Options every command that touches the database shares.
struct DatabaseOptions: ParsableArguments {
    @Option(help: "Directory of NNN_name.sql migrations (default: $SPSE_MIGRATIONS_DIR, ./sql, or the sql/ beside the build).")
    var migrationsDir: String?

    @Option(help: "Most database connections to open at once (default: $SPSE_DB_MAX_CONNECTIONS or 8).")
    var maxConnections: Int?

    var environment: [String: String] { ProcessInfo.processInfo.environment }

    func makePool() throws -> ConnectionPool {
        let size = maxConnections ?? environment["SPSE_DB_MAX_CONNECTIONS"].flatMap { Int($0) } ?? 8
        guard size > 0 else { throw ValidationError("--max-connections must be at least 1") }
        return ConnectionPool(configuration: .fromEnvironment(environment), maxConnections: size)
    }

    func makeMigrator() throws -> Migrator {
        let directory = try locateMigrations()
        return Migrator(migrations: try Migration.load(from: directory))
    }

    /// The flag, the variable, `./sql`, then a `sql/` in a parent of the executable (a checkout
    /// running `.build/release/spse-accounts`).
    private func locateMigrations() throws -> URL {
        if let explicit = migrationsDir ?? environment["SPSE_MIGRATIONS_DIR"] {
            return URL(fileURLWithPath: explicit, isDirectory: true)
        }
        var candidates = [URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("sql")]
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<5 {
            candidates.append(directory.appendingPathComponent("sql"))
            directory.deleteLastPathComponent()
        }
        for candidate in candidates {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDirectory), isDirectory.boolValue {
                return candidate
            }
        }
        throw ValidationError("no migrations directory found; pass --migrations-dir or set SPSE_MIGRATIONS_DIR")
    }
}
