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
