import Foundation
import Postgres
import Testing
import TestSupport

@Suite("Connection pool")
struct ConnectionPoolTests {
    @Test("more tasks than connections all finish, never with more than the bound open")
    func boundedUnderConcurrency() async throws {
        try await TestDatabase.with { database in
            let pool = ConnectionPool(configuration: database.configuration, maxConnections: 3)
            let pids = try await withThrowingTaskGroup(of: Int32.self) { group in
                for _ in 0..<60 {
                    group.addTask {
                        try await pool.withConnection { connection in
                            #expect(pool.openConnections <= 3)
                            let row = try await connection.query("SELECT pg_backend_pid(), pg_sleep(0.005)").first
                            return try #require(row).decode(Int32.self, at: 0)
                        }
                    }
                }
                return try await group.reduce(into: Set<Int32>()) { $0.insert($1) }
            }
            #expect(pids.count <= 3)
            #expect(pool.openConnections <= 3)
            // The server agrees: no more than three sessions on this database at any time.
            let sessions = try await pool.withConnection { connection in
                try await connection.query("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
                    .first?.decode(Int.self, at: 0)
            }
            #expect(sessions ?? 99 <= 3)
            await pool.shutdown()
        }
    }

    @Test("a connection returned inside a transaction is discarded, and its work rolled back")
    func discardsConnectionsLeftInTransaction() async throws {
        try await TestDatabase.with { database in
            let pool = ConnectionPool(configuration: database.configuration, maxConnections: 1)
            try await pool.withConnection { try await $0.executeScript("CREATE TABLE resets (user_id text)") }
            try await pool.withConnection { connection in
                try await connection.executeScript("BEGIN")
                try await connection.execute("INSERT INTO resets VALUES ($1)", ["helpdesk01"])
            }
            let count = try await pool.withConnection { connection in
                try await connection.query("SELECT count(*) FROM resets").first?.decode(Int.self, at: 0)
            }
            #expect(count == 0)
            await pool.shutdown()
        }
    }

    @Test("a backend the server terminated is replaced, not handed out again")
    func replacesTerminatedBackends() async throws {
        try await TestDatabase.with { database in
            let pool = ConnectionPool(configuration: database.configuration, maxConnections: 2)
            let before = try await pool.withConnection { await $0.backendPID }
            let admin = try await PostgresConnection.connect(database.configuration)
            try await admin.query("SELECT pg_terminate_backend($1)", [before])
            // The backend may still be closing its socket when the next borrower comes: then that
            // borrower sees the connection fail once, and the pool drops it. Never a second time.
            var after: Int32?
            for attempt in 0..<2 {
                do {
                    after = try await pool.withConnection { connection in
                        try await connection.query("SELECT pg_backend_pid()").first?.decode(Int32.self, at: 0)
                    }
                    break
                } catch let error as PostgresError where error.isConnectionProblem && attempt == 0 {
                    continue
                }
            }
            #expect(after != nil)
            #expect(after != before)
            await admin.close()
            await pool.shutdown()
        }
    }

    @Test("after the server restarts mid-test, the pool reconnects", .enabled(if: PrivateCluster.isAvailable))
    func reconnectsAfterServerRestart() async throws {
        let cluster = try PrivateCluster()
        defer { cluster.destroy() }
        let pool = ConnectionPool(configuration: cluster.configuration, maxConnections: 2)
        // Fill the pool with two open connections.
        let firstPIDs = try await withThrowingTaskGroup(of: Int32.self) { group in
            for _ in 0..<2 {
                group.addTask {
                    try await pool.withConnection { connection in
                        try await connection.query("SELECT pg_backend_pid(), pg_sleep(0.05)").first!.decode(Int32.self, at: 0)
                    }
                }
            }
            return try await group.reduce(into: Set<Int32>()) { $0.insert($1) }
        }
        #expect(pool.idleConnections == 2)

        try cluster.restart()

        for _ in 0..<4 {
            let pid = try await pool.withConnection { connection in
                try await connection.query("SELECT pg_backend_pid()").first!.decode(Int32.self, at: 0)
            }
            #expect(!firstPIDs.contains(pid))
        }
        #expect(pool.openConnections <= 2)
        await pool.shutdown()
    }

    @Test("while the server is down borrowers get a connection error; when it is back they get connections", .enabled(if: PrivateCluster.isAvailable))
    func serverDownThenUp() async throws {
        let cluster = try PrivateCluster()
        defer { cluster.destroy() }
        let pool = ConnectionPool(configuration: cluster.configuration, maxConnections: 2)
        try await pool.withConnection { try await $0.query("SELECT 1") }
        try cluster.stop()
        let error = await #expect(throws: PostgresError.self) {
            try await pool.withConnection { try await $0.query("SELECT 1") }
        }
        #expect(error?.isConnectionProblem == true)
        #expect(pool.openConnections == 0)
        try cluster.start()
        let one = try await pool.withConnection { try await $0.query("SELECT 1").first?.decode(Int.self, at: 0) }
        #expect(one == 1)
        await pool.shutdown()
    }

    @Test("a shut-down pool refuses borrowers")
    func shutdownRefuses() async throws {
        try await TestDatabase.with { database in
            let pool = ConnectionPool(configuration: database.configuration, maxConnections: 1)
            try await pool.withConnection { try await $0.query("SELECT 1") }
            await pool.shutdown()
            #expect(pool.openConnections == 0)
            await #expect(throws: PostgresError.self) {
                try await pool.withConnection { try await $0.query("SELECT 1") }
            }
        }
    }

    @Test("a waiting borrower that is cancelled leaves the queue without taking a connection")
    func cancelledWaiter() async throws {
        try await TestDatabase.with { database in
            let pool = ConnectionPool(configuration: database.configuration, maxConnections: 1)
            let holding = Task {
                try await pool.withConnection { try await $0.query("SELECT pg_sleep(0.3)") }
            }
            // Wait on the pool's own state, not on the clock: held, then one borrower queued.
            while pool.openConnections == 0 || pool.idleConnections > 0 { try await Task.sleep(for: .milliseconds(1)) }
            let waiting = Task {
                try await pool.withConnection { try await $0.query("SELECT 1") }
            }
            while pool.waitingBorrowers == 0 { try await Task.sleep(for: .milliseconds(1)) }
            waiting.cancel()
            await #expect(throws: CancellationError.self) { try await waiting.value }
            _ = try await holding.value
            let one = try await pool.withConnection { try await $0.query("SELECT 1").first?.decode(Int.self, at: 0) }
            #expect(one == 1)
            await pool.shutdown()
        }
    }

    @Test("owed writes are replayed in order once the database takes writes; one that can never succeed is dropped instead of stopping the worker")
    func unsettledWrites() async throws {
        try await TestDatabase.with { database in
            let pool = ConnectionPool(configuration: database.configuration, maxConnections: 2)
            try await pool.withConnection { try await $0.executeScript("CREATE TABLE marks (id int PRIMARY KEY, at int NOT NULL)") }
            let owed = UnsettledWrites()
            owed.owe { try await $0.execute("INSERT INTO marks VALUES (1, 1)") }
            owed.owe { try await $0.execute("INSERT INTO marks VALUES (2, NULL)") }   // a bug: never succeeds
            owed.owe { try await $0.execute("INSERT INTO marks VALUES (3, 3)") }
            try await database.setReadOnly(true)
            await #expect(throws: PostgresError.self) { try await owed.settle(on: pool) }
            #expect(owed.count == 3, "nothing is dropped while the database is only unavailable")
            try await database.setReadOnly(false)
            try await owed.settle(on: pool)
            #expect(owed.count == 0)
            let ids = try await pool.withConnection { try await $0.query("SELECT id FROM marks ORDER BY id").map { try $0.decode(Int.self, at: 0) } }
            #expect(ids == [1, 3])
            await pool.shutdown()
        }
    }
}
