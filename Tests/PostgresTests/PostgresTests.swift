import Foundation
import Postgres
import Testing
import TestSupport

@Suite("Postgres layer over libpq")
struct PostgresTests {
    @Test("typed decoding of text, int, bool, timestamptz, uuid, bytea, jsonb and NULL")
    func typedDecoding() async throws {
        try await TestDatabase.with { database in
            let connection = try await PostgresConnection.connect(database.configuration)
            let id = UUID()
            let instant = Date(timeIntervalSince1970: 1_764_007_297.123456)
            let bytes: [UInt8] = [0, 1, 0x7f, 0x80, 0xff, 0x5c, 0x09]
            struct Payload: Codable, Equatable { let nip: String; let roles: [String] }
            let payload = Payload(nip: "196102251986031010", roles: ["helpdesk", "auditor"])
            let rows = try await connection.query(
                "SELECT $1::text, $2::int, $3::bool, $4::timestamptz, $5::uuid, $6::bytea, $7::jsonb, $8::text, $9::bigint",
                ["Yonathan Eko Nugroho — ÄÖ 漢字", 42, true, instant, id, bytes, JSONB(payload), String?.none, Int64.max])
            let row = try #require(rows.first)
            #expect(try row.decode(String.self, at: 0) == "Yonathan Eko Nugroho — ÄÖ 漢字")
            #expect(try row.decode(Int.self, at: 1) == 42)
            #expect(try row.decode(Bool.self, at: 2) == true)
            let decodedInstant = try row.decode(Date.self, at: 3)
            #expect(abs(decodedInstant.timeIntervalSince(instant)) < 0.000_001)
            #expect(try row.decode(UUID.self, at: 4) == id)
            #expect(try row.decode([UInt8].self, at: 5) == bytes)
            #expect(try row.decode(JSONB<Payload>.self, at: 6).value == payload)
            #expect(try row.decode(String?.self, at: 7) == nil)
            #expect(try row.decode(Int64.self, at: 8) == Int64.max)
            #expect(throws: PostgresError.self) { try row.decode(String.self, at: 7) }
            #expect(throws: PostgresError.self) { try row.decode(Int.self, at: 0) }
            await connection.close()
        }
    }

    @Test("timestamptz reads the same instant whatever the session's time zone")
    func timestampOffsets() async throws {
        try await TestDatabase.with { database in
            let connection = try await PostgresConnection.connect(database.configuration)
            try await connection.executeScript("SET TimeZone TO 'Asia/Kolkata'")
            let row = try #require(try await connection.query("SELECT '2026-11-24 08:00:00.5+07'::timestamptz, '2026-11-24 08:00:00.5+07'::timestamptz::text").first)
            #expect(try row.decode(String.self, at: 1) == "2026-11-24 06:30:00.5+05:30")
            #expect(try row.decode(Date.self, at: 0) == Date(timeIntervalSince1970: 1_795_482_000.5))
            await connection.close()
        }
    }

    @Test("a parameter is data, never SQL")
    func parametersAreNotInterpolated() async throws {
        try await TestDatabase.with { database in
            let connection = try await PostgresConnection.connect(database.configuration)
            try await connection.executeScript("CREATE TABLE accounts (user_id text)")
            let hostile = "x'); DROP TABLE accounts; --"
            try await connection.execute("INSERT INTO accounts (user_id) VALUES ($1)", [hostile])
            let rows = try await connection.query("SELECT user_id FROM accounts")
            #expect(try rows.first?.decode(String.self, at: 0) == hostile)
            await #expect(throws: PostgresError.invalidText("a text parameter")) {
                try await connection.query("SELECT $1::text", ["nul\u{0}byte"])
            }
            await connection.close()
        }
    }

    @Test("server errors carry SQLSTATE: unique, check and serialization failures are told apart")
    func sqlStateMapping() async throws {
        try await TestDatabase.with { database in
            let first = try await PostgresConnection.connect(database.configuration)
            let second = try await PostgresConnection.connect(database.configuration)
            try await first.executeScript("""
                CREATE TABLE accounts (user_id text PRIMARY KEY, failures int NOT NULL CHECK (failures >= 0));
                INSERT INTO accounts VALUES ('helpdesk01', 0);
                """)

            let unique = await #expect(throws: PostgresError.self) {
                try await first.execute("INSERT INTO accounts VALUES ($1, 0)", ["helpdesk01"])
            }
            #expect(unique?.sqlState == .uniqueViolation)
            if case .server(let error) = unique {
                #expect(error.constraint == "accounts_pkey")
                #expect(error.table == "accounts")
            }

            let check = await #expect(throws: PostgresError.self) {
                try await first.execute("UPDATE accounts SET failures = $1", [-1])
            }
            #expect(check?.sqlState == .checkViolation)

            // Two serializable transactions updating one row: the later one must fail with 40001.
            try await first.executeScript("BEGIN ISOLATION LEVEL SERIALIZABLE")
            try await second.executeScript("BEGIN ISOLATION LEVEL SERIALIZABLE")
            try await first.query("SELECT failures FROM accounts")
            try await second.query("SELECT failures FROM accounts")
            try await first.execute("UPDATE accounts SET failures = failures + 1")
            try await first.executeScript("COMMIT")
            let serialization = await #expect(throws: PostgresError.self) {
                try await second.execute("UPDATE accounts SET failures = failures + 1")
            }
            #expect(serialization?.sqlState == .serializationFailure)
            #expect(serialization?.sqlState?.isTransactionRetryable == true)
            try await second.executeScript("ROLLBACK")

            let syntax = await #expect(throws: PostgresError.self) { try await first.query("SELEC 1") }
            #expect(syntax?.sqlState == .syntaxError)
            #expect(syntax?.isConnectionProblem == false)
            await first.close()
            await second.close()
        }
    }

    @Test("withTransaction commits on return and rolls back on throw")
    func transactionRollback() async throws {
        try await TestDatabase.with { database in
            let pool = ConnectionPool(configuration: database.configuration, maxConnections: 2)
            try await pool.withConnection { try await $0.executeScript("CREATE TABLE resets (user_id text)") }
            struct Refused: Error {}
            await #expect(throws: Refused.self) {
                try await pool.withTransaction { connection in
                    try await connection.execute("INSERT INTO resets VALUES ($1)", ["helpdesk01"])
                    throw Refused()
                }
            }
            try await pool.withTransaction { connection in
                try await connection.execute("INSERT INTO resets VALUES ($1)", ["helpdesk02"])
            }
            let rows = try await pool.withConnection { try await $0.query("SELECT user_id FROM resets") }
            #expect(try rows.map { try $0.decode(String.self, at: 0) } == ["helpdesk02"])
            await pool.shutdown()
        }
    }

    @Test("BEGIN rides with a transaction's first statement and COMMIT with its last: failures at either end are reported as themselves and leave nothing behind")
    func pipelinedTransactionEnds() async throws {
        try await TestDatabase.with { database in
            let pool = ConnectionPool(configuration: database.configuration, maxConnections: 1)
            let other = try await PostgresConnection.connect(database.configuration)
            try await other.executeScript("""
                CREATE TABLE resets (user_id text PRIMARY KEY);
                CREATE TABLE notices (user_id text, CONSTRAINT one_notice UNIQUE (user_id) DEFERRABLE INITIALLY DEFERRED);
                INSERT INTO resets VALUES ('helpdesk01')
                """)
            func count(_ table: String) async throws -> Int { try await other.query("SELECT count(*) FROM \(table)").first!.decode(Int.self, at: 0) }

            // The first statement fails: its own error (not "pipeline aborted"), and the session is clean after.
            await #expect(throws: PostgresError.self) {
                try await pool.withTransaction { try await $0.execute("INSERT INTO resets VALUES ($1)", ["helpdesk01"]) }
            }
            do {
                try await pool.withTransaction { try await $0.execute("INSERT INTO resets VALUES ($1)", ["helpdesk01"]) }
            } catch let error as PostgresError {
                #expect(error.sqlState == .uniqueViolation, "\(error)")
            }

            // A parameter refused before it is sent (a NUL) leaves the transaction as it was, and the session usable.
            try await pool.withTransaction { connection in
                await #expect(throws: PostgresError.self) { try await connection.execute("INSERT INTO resets VALUES ($1)", ["help\u{0}desk"]) }
                try await connection.execute("INSERT INTO resets VALUES ($1)", ["helpdesk07"])
                #expect(try await connection.query("SELECT current_setting('transaction_isolation')").count == 1)
            }
            #expect(try await count("resets WHERE user_id = 'helpdesk07'") == 1)
            try await other.execute("DELETE FROM resets WHERE user_id = 'helpdesk07'")

            // The last statement with its COMMIT: its rows come back committed; nothing may follow it.
            let returned = try await pool.withTransaction { connection in
                try await connection.execute("INSERT INTO resets VALUES ($1)", ["helpdesk02"])
                return try await connection.queryCommitting("INSERT INTO resets VALUES ($1) RETURNING user_id", ["helpdesk03"]).first!.decode(String.self, at: 0)
            }
            #expect(returned == "helpdesk03")
            #expect(try await count("resets") == 3)
            await #expect(throws: PostgresError.self) {
                try await pool.withTransaction { connection in
                    try await connection.queryCommitting("INSERT INTO resets VALUES ($1)", ["helpdesk04"])
                    try await connection.execute("INSERT INTO resets VALUES ($1)", ["helpdesk05"])
                }
            }
            #expect(try await count("resets WHERE user_id = 'helpdesk05'") == 0, "nothing ran outside the transaction")

            // The COMMIT itself fails (a deferred unique check): that error, and no row of the transaction stays.
            do {
                try await pool.withTransaction { connection in
                    try await connection.execute("INSERT INTO notices VALUES ($1)", ["helpdesk01"])
                    try await connection.queryCommitting("INSERT INTO notices VALUES ($1)", ["helpdesk01"])
                }
                Issue.record("the COMMIT should have failed")
            } catch let error as PostgresError {
                #expect(error.sqlState == .uniqueViolation, "\(error)")
            }
            #expect(try await count("notices") == 0)

            // A transaction that need not wait for the disk says so to the server for itself only
            // (on a session whose default is to wait, whatever the test cluster's own setting).
            var waiting = database.configuration
            waiting.overrides.append((keyword: "options", value: "-c synchronous_commit=on"))
            let durable = ConnectionPool(configuration: waiting, maxConnections: 1)
            let deferred = try await durable.withTransaction(durability: .flushedByNext) { connection in
                try await connection.execute("INSERT INTO resets VALUES ($1)", ["helpdesk06"])
                return try await connection.queryCommitting("SHOW synchronous_commit").first!.decode(String.self, at: 0)
            }
            #expect(deferred == "off")
            #expect(try await durable.withTransaction { try await $0.query("SHOW synchronous_commit").first!.decode(String.self, at: 0) } == "on")
            #expect(try await count("resets WHERE user_id = 'helpdesk06'") == 1)
            await durable.shutdown()

            // A transaction that runs nothing sends nothing; afterwards the one session is idle and usable.
            try await pool.withTransaction { _ in }
            #expect(try await pool.withConnection { try await $0.query("SELECT 1").count } == 1)
            #expect(try await pool.withConnection { await $0.isHealthy() })
            await other.close()
            await pool.shutdown()
        }
    }

    @Test("the retry helper reruns a transaction after a serialization failure, and only then")
    func retryOnSerializationFailure() async throws {
        try await TestDatabase.with { database in
            let pool = ConnectionPool(configuration: database.configuration, maxConnections: 2)
            let intruder = try await PostgresConnection.connect(database.configuration)
            try await intruder.executeScript("CREATE TABLE counters (id int PRIMARY KEY, n int); INSERT INTO counters VALUES (1, 0)")
            let attempts = Counter()
            try await pool.withRetryingTransaction { connection in
                attempts.increment()
                try await connection.query("SELECT n FROM counters WHERE id = 1")
                if attempts.value == 1 {
                    // Another session commits a change to the row after our snapshot was taken.
                    try await intruder.execute("UPDATE counters SET n = n + 10 WHERE id = 1")
                }
                try await connection.execute("UPDATE counters SET n = n + 1 WHERE id = 1")
            }
            #expect(attempts.value == 2)
            let n = try await intruder.query("SELECT n FROM counters").first?.decode(Int.self, at: 0)
            #expect(n == 11)

            let uniqueAttempts = Counter()
            await #expect(throws: PostgresError.self) {
                try await pool.withRetryingTransaction { connection in
                    uniqueAttempts.increment()
                    try await connection.execute("INSERT INTO counters VALUES (1, 0)")
                }
            }
            #expect(uniqueAttempts.value == 1)
            await intruder.close()
            await pool.shutdown()
        }
    }

    @Test("COPY FROM STDIN loads rows with tabs, newlines, backslashes, NULL and bytea intact")
    func copyIn() async throws {
        try await TestDatabase.with { database in
            let connection = try await PostgresConnection.connect(database.configuration)
            try await connection.executeScript("CREATE TABLE staging (n int, name text, note text, blob bytea)")
            let tricky = "tab\there\nnew line \\ backslash \\N not null, Sekar Ayu Wulandari"
            let loaded = try await connection.copyIn("COPY staging (n, name, note, blob) FROM STDIN") { writer in
                for n in 0..<20_000 {
                    try await writer.append([n, "user\(n)", n == 7 ? tricky : String?.none, n == 7 ? [UInt8]([0, 9, 10, 92, 255]) : [UInt8]()])
                }
            }
            #expect(loaded == 20_000)
            let row = try #require(try await connection.query("SELECT note, blob, (SELECT count(*) FROM staging WHERE note IS NULL) FROM staging WHERE n = 7").first)
            #expect(try row.decode(String.self, at: 0) == tricky)
            #expect(try row.decode([UInt8].self, at: 1) == [0, 9, 10, 92, 255])
            #expect(try row.decode(Int.self, at: 2) == 19_999)
            await connection.close()
        }
    }

    @Test("a failed or abandoned COPY loads nothing and leaves the connection usable")
    func copyFailure() async throws {
        try await TestDatabase.with { database in
            let connection = try await PostgresConnection.connect(database.configuration)
            try await connection.executeScript("CREATE TABLE staging (n int NOT NULL)")
            let bad = await #expect(throws: PostgresError.self) {
                try await connection.copyIn("COPY staging (n) FROM STDIN") { writer in
                    try await writer.append([1])
                    try await writer.append(["not a number"])
                }
            }
            #expect(bad?.sqlState == SQLState("22P02"))
            struct Abandoned: Error {}
            await #expect(throws: Abandoned.self) {
                try await connection.copyIn("COPY staging (n) FROM STDIN") { writer in
                    try await writer.append([2])
                    throw Abandoned()
                }
            }
            let missing = await #expect(throws: PostgresError.self) {
                try await connection.copyIn("COPY nowhere (n) FROM STDIN") { _ in }
            }
            #expect(missing?.sqlState == .undefinedTable)
            let count = try await connection.query("SELECT count(*) FROM staging").first?.decode(Int.self, at: 0)
            #expect(count == 0)
            await connection.close()
        }
    }

    @Test("a connection that cannot be made says why")
    func connectionFailure() async throws {
        let error = await #expect(throws: PostgresError.self) {
            try await PostgresConnection.connect(ConnectionConfiguration(conninfo: "host=/nonexistent/socket port=1 connect_timeout=2"))
        }
        #expect(error?.isConnectionProblem == true)
        #expect(error?.description.contains("/nonexistent/socket") == true)
    }
}

/// A counter shared by a test and the closures it hands to the pool.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    var value: Int { lock.withLock { count } }
    func increment() { lock.withLock { count += 1 } }
}
