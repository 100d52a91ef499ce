import Foundation
import Migrations
import Postgres

/// A database of its own on the server in DATABASE_URL, migrated, dropped when the scenario ends.
struct ScratchDatabase {
    let name: String
    let server: ConnectionConfiguration
    let environment: [String: String]

    var configuration: ConnectionConfiguration { server.database(name) }

    /// The URL the spawned server connects with: the same server, this database.
    var url: String {
        let base = environment["DATABASE_URL"] ?? "postgresql:///postgres"
        return base + (base.contains("?") ? "&" : "?") + "dbname=\(name)"
    }

    /// `keep`: leave the database for profiling (its name is printed) instead of dropping it.
    static func with<T>(migrationsDir: String, keep: Bool = false, _ body: (ScratchDatabase) async throws -> T) async throws -> T {
        let environment = ProcessInfo.processInfo.environment
        let server = ConnectionConfiguration.fromEnvironment(environment)
        let name = "spse_bench_\(UInt32.random(in: 0...UInt32.max))"
        let admin = try await PostgresConnection.connect(server)
        // Figures mean what an LPSE gets only against the server's default durability: say which it was.
        if let row = try await admin.query(
            "SELECT current_setting('fsync') AS fsync, current_setting('synchronous_commit') AS sync").first {
            let (fsync, sync) = (try row.decode(String.self, column: "fsync"), try row.decode(String.self, column: "sync"))
            print("PostgreSQL fsync=\(fsync) synchronous_commit=\(sync)"
                  + (fsync == "on" && sync == "on" ? " (durable, as deployed)" : " — NOT DURABLE: an upper bound, not what an LPSE gets"))
        }
        try await admin.executeScript("CREATE DATABASE \(name)")
        let scratch = ScratchDatabase(name: name, server: server, environment: environment)
        do {
            let connection = try await PostgresConnection.connect(scratch.configuration)
            try await Migrator(migrations: try Migration.load(from: URL(fileURLWithPath: migrationsDir))).migrate(on: connection)
            await connection.close()
            let result = try await body(scratch)
            if keep {
                print("kept database \(name)")
            } else {
                try await admin.executeScript("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
            }
            await admin.close()
            return result
        } catch {
            try? await admin.executeScript("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
            await admin.close()
            throw error
        }
    }
}
