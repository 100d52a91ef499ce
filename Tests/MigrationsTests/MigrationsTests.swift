import Foundation
import Migrations
import Postgres
import Testing
import TestSupport

/// A migrations directory of the test's own, removed afterwards.
struct MigrationFiles {
    let directory: URL

    init(_ files: [String: String]) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("spse-migrations-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for (name, sql) in files { try write(name, sql) }
    }

    func write(_ name: String, _ sql: String) throws {
        try sql.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
    }

    func migrator() throws -> Migrator { Migrator(migrations: try Migration.load(from: directory)) }
    func remove() { try? FileManager.default.removeItem(at: directory) }
}

let sampleFiles = [
    "001_accounts.sql": "CREATE TABLE accounts (user_id text PRIMARY KEY);",
    "002_requests.sql": "CREATE TABLE requests (id bigserial PRIMARY KEY, user_id text REFERENCES accounts);",
    "README.md": "not a migration",
]

@Suite("Migrations")
struct MigrationsTests {
    @Test("applies files in order, records each with its checksum, and a second run applies nothing")
    func idempotent() async throws {
        let files = try MigrationFiles(sampleFiles)
        defer { files.remove() }
        try await TestDatabase.with { database in
            let connection = try await PostgresConnection.connect(database.configuration)
            let migrator = try files.migrator()
            #expect(try await migrator.status(on: connection).pending.map(\.version) == [1, 2])
            let applied = try await migrator.migrate(on: connection)
            #expect(applied.map(\.fileName) == ["001_accounts.sql", "002_requests.sql"])
            #expect(try await migrator.migrate(on: connection).isEmpty)
            let rows = try await connection.query("SELECT version, name, checksum FROM schema_migrations ORDER BY version")
            #expect(try rows.map { try $0.decode(String.self, at: 1) } == ["accounts", "requests"])
            #expect(try rows.map { try $0.decode(String.self, at: 2) } == migrator.migrations.map(\.checksum))
            try await connection.execute("INSERT INTO accounts VALUES ($1)", ["helpdesk01"])
            try await migrator.requireCurrent(on: connection)
            await connection.close()
        }
    }

    @Test("an applied file that was edited afterwards is refused with a clear error, and nothing runs")
    func editedMigrationRefused() async throws {
        let files = try MigrationFiles(sampleFiles)
        defer { files.remove() }
        try await TestDatabase.with { database in
            let connection = try await PostgresConnection.connect(database.configuration)
            try await files.migrator().migrate(on: connection)
            try files.write("001_accounts.sql", "CREATE TABLE accounts (user_id text PRIMARY KEY, email text);")
            try files.write("003_audit.sql", "CREATE TABLE audit (id bigserial);")
            let edited = try files.migrator()
            let error = await #expect(throws: MigrationError.self) { try await edited.migrate(on: connection) }
            guard case .checksumMismatch(let version, let name, _, _) = error else {
                Issue.record("expected checksumMismatch, got \(String(describing: error))")
                return
            }
            #expect(version == 1 && name == "accounts")
            #expect(error?.description.contains("edited after it was applied") == true)
            let audit = try await connection.query("SELECT to_regclass('audit') IS NULL").first?.decode(Bool.self, at: 0)
            #expect(audit == true, "later migrations are not applied past a mismatch")
            await #expect(throws: MigrationError.self) { try await edited.requireCurrent(on: connection) }
            await connection.close()
        }
    }

    @Test("two migrators starting at once apply each file exactly once")
    func concurrentMigrators() async throws {
        let files = try MigrationFiles([
            "001_accounts.sql": "CREATE TABLE accounts (user_id text PRIMARY KEY); SELECT pg_sleep(0.3);",
            "002_counter.sql": "CREATE TABLE applied_count (n int); INSERT INTO applied_count VALUES (1);",
        ])
        defer { files.remove() }
        try await TestDatabase.with { database in
            let migrator = try files.migrator()
            let first = try await PostgresConnection.connect(database.configuration)
            let second = try await PostgresConnection.connect(database.configuration)
            async let a = migrator.migrate(on: first)
            async let b = migrator.migrate(on: second)
            let (appliedByA, appliedByB) = try await (a, b)
            #expect(appliedByA.count + appliedByB.count == 2)
            #expect(Set((appliedByA + appliedByB).map(\.version)) == [1, 2])
            let count = try await first.query("SELECT count(*) FROM applied_count").first?.decode(Int.self, at: 0)
            #expect(count == 1)
            await first.close()
            await second.close()
        }
    }

    @Test("a failing migration is rolled back whole and not recorded; earlier ones stay")
    func failingMigrationRollsBack() async throws {
        let files = try MigrationFiles([
            "001_accounts.sql": "CREATE TABLE accounts (user_id text PRIMARY KEY);",
            "002_broken.sql": "CREATE TABLE half_done (n int); ALTER TABLE nowhere ADD COLUMN x int;",
        ])
        defer { files.remove() }
        try await TestDatabase.with { database in
            let connection = try await PostgresConnection.connect(database.configuration)
            let error = await #expect(throws: MigrationError.self) { try await files.migrator().migrate(on: connection) }
            guard case .failed(let version, _, let underlying) = error else {
                Issue.record("expected .failed, got \(String(describing: error))")
                return
            }
            #expect(version == 2)
            #expect(underlying.sqlState == .undefinedTable)
            let state = try #require(try await connection.query(
                "SELECT to_regclass('accounts') IS NOT NULL, to_regclass('half_done') IS NULL, (SELECT array_agg(version)::text FROM schema_migrations)").first)
            #expect(try state.decode(Bool.self, at: 0))
            #expect(try state.decode(Bool.self, at: 1))
            #expect(try state.decode(String.self, at: 2) == "{1}")
            await connection.close()
        }
    }

    @Test("a database behind its files is reported with the pending file names")
    func behind() async throws {
        let files = try MigrationFiles(sampleFiles)
        defer { files.remove() }
        try await TestDatabase.with { database in
            let connection = try await PostgresConnection.connect(database.configuration)
            let error = await #expect(throws: MigrationError.self) { try await files.migrator().requireCurrent(on: connection) }
            guard case .behind(let pending) = error else {
                Issue.record("expected .behind, got \(String(describing: error))")
                return
            }
            #expect(pending == ["001_accounts.sql", "002_requests.sql"])
            await connection.close()
        }
    }

    @Test("badly named and duplicate-version files are refused before anything runs")
    func badFiles() throws {
        let badName = try MigrationFiles(["1_short.sql": "SELECT 1;"])
        defer { badName.remove() }
        #expect(throws: MigrationError.self) { try badName.migrator() }
        let duplicate = try MigrationFiles(["001_a.sql": "SELECT 1;", "0001_b.sql": "SELECT 1;"])
        defer { duplicate.remove() }
        #expect(throws: MigrationError.self) { try duplicate.migrator() }
    }

    @Test("the project's own sql/ migrations apply to an empty database")
    func projectMigrations() async throws {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../sql").standardized
        let migrator = Migrator(migrations: try Migration.load(from: directory))
        #expect(!migrator.migrations.isEmpty)
        try await TestDatabase.with { database in
            let connection = try await PostgresConnection.connect(database.configuration)
            try await migrator.migrate(on: connection)
            try await migrator.requireCurrent(on: connection)
            await connection.close()
        }
    }
}
