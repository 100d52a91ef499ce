import Postgres

/// Applies migrations in order, each in its own transaction, under a PostgreSQL advisory lock so
/// that two instances starting at once apply each file exactly once, and records each in
/// `schema_migrations` with its checksum.
public struct Migrator: Sendable {
    public let migrations: [Migration]

    /// Arbitrary but fixed: every spse-accounts process contends for the same lock.
    static let advisoryLockKey: Int64 = 0x5350_5345_4D49_4752  // "SPSEMIGR"

    public init(migrations: [Migration]) {
        self.migrations = migrations
    }

    /// What is applied and what is pending; throws when an applied file was edited.
    public struct Status: Sendable {
        public let applied: [Int]
        public let pending: [Migration]
        public var isCurrent: Bool { pending.isEmpty }
    }

    /// Applies every pending migration and returns the ones applied by this call.
    @discardableResult
    public func migrate(on connection: PostgresConnection) async throws -> [Migration] {
        try await connection.execute("SELECT pg_advisory_lock($1)", [Self.advisoryLockKey])
        do {
            try await connection.executeScript(
                """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version integer PRIMARY KEY,
                    name text NOT NULL,
                    checksum text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """)
            let pending = try await status(on: connection).pending
            for migration in pending {
                do {
                    try await connection.withTransaction { connection in
                        try await connection.executeScript(migration.sql)
                        try await connection.execute(
                            "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                            [migration.version, migration.name, migration.checksum])
                    }
                } catch let error as PostgresError {
                    throw MigrationError.failed(version: migration.version, name: migration.name, error)
                }
            }
            try await connection.execute("SELECT pg_advisory_unlock($1)", [Self.advisoryLockKey])
            return pending
        } catch {
            _ = try? await connection.execute("SELECT pg_advisory_unlock($1)", [Self.advisoryLockKey])
            throw error
        }
    }

    /// Compares the database with the files: applied versions must match their files' checksums.
    public func status(on connection: PostgresConnection) async throws -> Status {
        let exists = try await connection.query("SELECT to_regclass('schema_migrations') IS NOT NULL")
        guard try exists.first?.decode(Bool.self, at: 0) == true else {
            return Status(applied: [], pending: migrations)
        }
        let rows = try await connection.query("SELECT version, name, checksum FROM schema_migrations ORDER BY version")
        let files = Dictionary(uniqueKeysWithValues: migrations.map { ($0.version, $0) })
        var applied: [Int] = []
        for row in rows {
            let version = try row.decode(Int.self, at: 0)
            let name = try row.decode(String.self, at: 1)
            let checksum = try row.decode(String.self, at: 2)
            guard let file = files[version] else {
                throw MigrationError.unknownAppliedMigration(version: version, name: name)
            }
            guard file.checksum == checksum else {
                throw MigrationError.checksumMismatch(version: version, name: name, applied: checksum, file: file.checksum)
            }
            applied.append(version)
        }
        let appliedSet = Set(applied)
        return Status(applied: applied, pending: migrations.filter { !appliedSet.contains($0.version) })
    }

    /// Throws `.behind` unless every migration is applied (and none was edited).
    public func requireCurrent(on connection: PostgresConnection) async throws {
        let status = try await status(on: connection)
        guard status.isCurrent else { throw MigrationError.behind(pending: status.pending.map(\.fileName)) }
    }
}
