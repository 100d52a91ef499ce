import Crypto
import Foundation
import Migrations
import Postgres
import Synchronization

/// One migrated database per migration set, cloned for every fixture (`CREATE DATABASE … TEMPLATE`):
/// a fixture costs a file copy instead of fourteen migrations, so parallel suites start fast
/// and timing tests are not starved by a hundred migrations at once. Named by the migrations'
/// checksums, so an edited or added file makes a new template and a stale one is never used.
enum MigratedTemplate {
    private static let made = Mutex<Task<String, any Error>?>(nil)

    static func name(_ migrator: Migrator) -> String {
        let digest = SHA256.hash(data: Data(migrator.migrations.map(\.checksum).joined(separator: ",").utf8))
        return "spse_template_" + digest.prefix(8).map { String(format: "%02x", $0) }.joined()
    }

    /// The template's name, made once per test process (and reused by later runs of the same migrations).
    static func ensure(_ migrator: Migrator) async throws -> String {
        let task = made.withLock { task -> Task<String, any Error> in
            if let task { return task }
            let made = Task { try await build(migrator) }
            task = made
            return made
        }
        return try await task.value
    }

    private static func build(_ migrator: Migrator) async throws -> String {
        let name = Self.name(migrator)
        let server = try TestDatabase.server
        let admin = try await PostgresConnection.connect(server)
        defer { Task { await admin.close() } }
        if try await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]).first != nil { return name }
        // Built under another name and renamed when whole: a template is never half-migrated.
        let building = name + "_" + UUID().uuidString.prefix(8).lowercased()
        try await admin.executeScript("CREATE DATABASE \(building)")
        let connection = try await PostgresConnection.connect(server.database(building))
        try await migrator.migrate(on: connection)
        await connection.close()
        do {
            try await admin.executeScript("ALTER DATABASE \(building) RENAME TO \(name)")
        } catch {
            // Another test process published it first.
            try? await admin.executeScript("DROP DATABASE IF EXISTS \(building) WITH (FORCE)")
        }
        return name
    }
}

extension TestDatabase {
    /// A database with every migration of `migrator` applied, cloned from the template.
    public static func migrated(_ migrator: Migrator, prefix: String = "t") async throws -> TestDatabase {
        let template = try await MigratedTemplate.ensure(migrator)
        return try await create(prefix: prefix, template: template)
    }
}
