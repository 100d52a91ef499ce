import ArgumentParser
import Foundation
import Migrations
import Operations
import Postgres

/// Options every command that touches the database shares; they override the settings read once
/// from the environment.
struct DatabaseOptions: ParsableArguments {
    @Option(help: "Directory of NNN_name.sql migrations (default: $SPSE_MIGRATIONS_DIR, ./sql, or the sql/ beside the build).")
    var migrationsDir: String?

    @Option(help: "Most database connections to open at once (default: $SPSE_DB_MAX_CONNECTIONS or 8).")
    var maxConnections: Int?

    /// The operator's own variables (`SPSE_OPERATOR*`, `SPSE_NEW_PASSWORD`): inputs of a command, not settings.
    var environment: [String: String] { ProcessInfo.processInfo.environment }

    /// The settings, with this command's flags applied; a bad variable stops the command.
    func settings() throws -> Settings {
        var settings = try Settings(environment: environment)
        if let maxConnections {
            guard (1...1000).contains(maxConnections) else { throw ValidationError("--max-connections must be 1 to 1000") }
            settings.maxConnections = maxConnections
        }
        if let migrationsDir { settings.migrationsDirectory = migrationsDir }
        return settings
    }

    /// The pool for migrations and audit verification: no statement timeout (they may run long).
    func makePool(_ settings: Settings) -> ConnectionPool {
        ConnectionPool(configuration: settings.database, maxConnections: settings.maxConnections)
    }

    func makeMigrator(_ settings: Settings) throws -> Migrator {
        Migrator(migrations: try Migration.load(from: try locateMigrations(settings.migrationsDirectory)))
    }

    /// The setting, `./sql`, then a `sql/` in a parent of the executable (a checkout running
    /// `.build/release/spse-accounts`).
    private func locateMigrations(_ explicit: String?) throws -> URL {
        if let explicit { return URL(fileURLWithPath: explicit, isDirectory: true) }
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

    /// The service graph on a migrated database, for `body`; the pools close afterwards, whatever happens.
    func withGraph<T>(_ body: (ServiceGraph) async throws -> T) async throws -> T {
        let settings = try self.settings()
        let pool = settings.servicePool()
        do {
            try await pool.withConnection { try await makeMigrator(settings).requireCurrent(on: $0) }
            let graph = try await ServiceGraph.make(settings, pool: pool)
            do {
                let result = try await body(graph)
                await graph.shutdown()
                return result
            } catch {
                await graph.shutdown()
                throw error
            }
        } catch {
            await pool.shutdown()
            throw error
        }
    }
}
