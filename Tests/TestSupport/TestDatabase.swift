import Foundation
import Migrations
import Postgres

/// A throwaway database on the PostgreSQL that `scripts/test` started (its address in
/// `DATABASE_URL`), so tests running in parallel never see each other's rows.
public struct TestDatabase: Sendable {
    public let name: String
    public let configuration: ConnectionConfiguration

    /// The server the scripts started; tests fail with a clear message without it.
    public static var server: ConnectionConfiguration {
        get throws {
            guard let url = ProcessInfo.processInfo.environment["DATABASE_URL"], !url.isEmpty else {
                throw TestSetupError("DATABASE_URL is not set: run the tests with scripts/test, which starts PostgreSQL")
            }
            return ConnectionConfiguration(conninfo: url)
        }
    }

    /// Creates an empty database with a random name, or a copy of `template`.
    public static func create(prefix: String = "t", template: String? = nil) async throws -> TestDatabase {
        let server = try server
        // Identifiers cannot be parameters; this one is built only from a prefix and hex digits.
        let name = "spse_\(prefix)_\(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16))"
        precondition(name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" })
        let admin = try await PostgresConnection.connect(server)
        defer { Task { await admin.close() } }
        if let template {
            precondition(template.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" })
            // A clone waits while another clone of the same template is being made (the template is "in use").
            for attempt in 1...50 {
                do {
                    try await admin.executeScript("CREATE DATABASE \(name) TEMPLATE \(template)")
                    break
                } catch let error as PostgresError where error.sqlState == SQLState("55006") && attempt < 50 {
                    try await Task.sleep(for: .milliseconds(20 * attempt))
                }
            }
        } else {
            try await admin.executeScript("CREATE DATABASE \(name)")
        }
        return TestDatabase(name: name, configuration: server.database(name))
    }

    /// Drops the database, closing whatever connections are still open to it.
    public func drop() async {
        guard let admin = try? await PostgresConnection.connect(try Self.server) else { return }
        try? await admin.executeScript("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
        await admin.close()
    }

    /// Makes every new session read-only (or writable again) and, unless told not to, ends the
    /// open ones, as a demoted primary or a maintenance switch does to the service's pooled
    /// connections.
    public func setReadOnly(_ readOnly: Bool, endingSessions: Bool = true) async throws {
        let admin = try await PostgresConnection.connect(try Self.server)
        defer { Task { await admin.close() } }
        try await admin.executeScript("ALTER DATABASE \(name) SET default_transaction_read_only = \(readOnly ? "on" : "off")")
        if endingSessions {
            try await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", [name])
        }
    }

    /// Runs `body` with a fresh database and drops it afterwards, pass or fail.
    public static func with<T: Sendable>(
        prefix: String = "t", migratedBy migrator: Migrator? = nil, _ body: (TestDatabase) async throws -> T
    ) async throws -> T {
        let database: TestDatabase
        if let migrator { database = try await migrated(migrator, prefix: prefix) } else { database = try await create(prefix: prefix) }
        do {
            let value = try await body(database)
            await database.drop()
            return value
        } catch {
            await database.drop()
            throw error
        }
    }
}

public struct TestSetupError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
