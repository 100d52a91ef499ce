import Audit
import Foundation
import Migrations
import Postgres
import Testing
import TestSupport


@Suite("Audit trail")
struct AuditTests {
    func event(_ n: Int) -> AuditEvent {
        AuditEvent(occurredAt: Date(timeIntervalSince1970: 1_795_482_000 + Double(n)), actor: "admin.ppe", action: "account.lookup",
                   subject: n % 2 == 0 ? "helpdesk0\(n)" : nil, requestID: "REQ-2026-00000\(n)",
                   details: ["query": .string("Yonathan | Eko: \(n)"), "returned": .strings(["a", "b"])])
    }

    @Test("rows written in order verify as an intact chain")
    func intact() async throws {
        try await TestDatabase.with { database in
            let connection = try await PostgresConnection.connect(database.configuration)
            try await projectMigrations.migrate(on: connection)
            let audit = AuditTrail()
            for n in 1...5 {
                try await connection.withTransaction { try await audit.record(event(n), on: $0) }
            }
            #expect(try await audit.seal(on: connection) == 5)
            let verification = try await audit.verify(on: connection)
            #expect(verification.isIntact)
            #expect(verification.rowsChecked == 5)
            await connection.close()
        }
    }

    @Test("the database refuses UPDATE, DELETE and TRUNCATE on the audit trail")
    func appendOnly() async throws {
        try await TestDatabase.with { database in
            let connection = try await PostgresConnection.connect(database.configuration)
            try await projectMigrations.migrate(on: connection)
            try await connection.withTransaction { try await AuditTrail().record(event(1), on: $0) }
            for statement in ["UPDATE audit_events SET actor = 'someone.else'", "DELETE FROM audit_events", "TRUNCATE audit_events"] {
                let error = await #expect(throws: PostgresError.self) { try await connection.execute(statement) }
                #expect(error?.sqlState == .insufficientPrivilege, "\(statement)")
            }
            let count = try await connection.query("SELECT count(*) FROM audit_events").first?.decode(Int.self, at: 0)
            #expect(count == 1)
            await connection.close()
        }
    }

    @Test("a row a superuser edited, or removed, is named by verify")
    func tampering() async throws {
        try await TestDatabase.with { database in
            let connection = try await PostgresConnection.connect(database.configuration)
            try await projectMigrations.migrate(on: connection)
            let audit = AuditTrail()
            for n in 1...6 {
                try await connection.withTransaction { try await audit.record(event(n), on: $0) }
            }
            try await audit.seal(on: connection)
            let ids = try await connection.query("SELECT id FROM audit_events ORDER BY id").map { try $0.decode(Int64.self, at: 0) }
            // A superuser can bypass the trigger; the chain still tells.
            try await connection.executeScript("SET session_replication_role = replica")
            try await connection.execute("UPDATE audit_events SET details = '{\"query\": \"nothing to see\"}' WHERE id = $1", [ids[2]])
            var verification = try await audit.verify(on: connection)
            #expect(verification.firstBrokenRow == ids[2])
            #expect(verification.rowsChecked == 2)
            #expect(verification.reason?.contains("edited") == true)

            try await connection.execute("DELETE FROM audit_events WHERE id IN ($1, $2)", [ids[2], ids[3]])
            verification = try await audit.verify(on: connection)
            #expect(verification.firstBrokenRow == ids[4], "the row after the removed ones no longer follows its predecessor")
            await connection.close()
        }
    }

    @Test("32 writers append at once with no lock between them; the sealer chains every committed row and the chain verifies")
    func parallelWriters() async throws {
        try await TestDatabase.with { database in
            let setup = try await PostgresConnection.connect(database.configuration)
            try await projectMigrations.migrate(on: setup)
            let pool = ConnectionPool(configuration: database.configuration, maxConnections: 16)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for writer in 0..<32 {
                    group.addTask {
                        for n in 0..<5 { try await pool.withTransaction { try await AuditTrail().record(event(writer * 100 + n), on: $0) } }
                    }
                }
                // The sealer runs while they write, as serve's does.
                group.addTask { for _ in 0..<20 { try await pool.withConnection { _ = try await AuditTrail().seal(on: $0) } } }
                try await group.waitForAll()
            }
            try await AuditTrail().seal(on: setup)
            let verification = try await AuditTrail().verify(on: setup)
            #expect(verification.isIntact && verification.rowsChecked == 160)
            await pool.shutdown()
            await setup.close()
        }
    }

    @Test("a row that commits after a later one was sealed is chained after it; swapping two sealed rows' places is found")
    func lateCommitAndReorder() async throws {
        try await TestDatabase.with { database in
            let early = try await PostgresConnection.connect(database.configuration)
            try await projectMigrations.migrate(on: early)
            let late = try await PostgresConnection.connect(database.configuration)
            let audit = AuditTrail()
            try await early.executeScript("BEGIN")
            try await audit.record(event(1), on: early)             // the lower id, still uncommitted
            try await late.withTransaction { try await audit.record(event(2), on: $0) }
            #expect(try await audit.seal(on: late) == 1, "only committed rows are sealed")
            try await early.executeScript("COMMIT")
            #expect(try await audit.seal(on: late) == 1)
            let order = try await late.query("SELECT id FROM audit_events ORDER BY seq").map { try $0.decode(Int64.self, at: 0) }
            #expect(order.count == 2 && order[0] > order[1], "chained in commit order, not id order")
            #expect(try await audit.verify(on: late).isIntact)
            try await late.executeScript("SET session_replication_role = replica")
            try await late.executeScript("""
                UPDATE audit_events SET seq = -seq;
                UPDATE audit_events SET seq = CASE WHEN seq = (SELECT max(seq) FROM audit_events) THEN -(SELECT min(seq) FROM audit_events)
                                                   ELSE -(SELECT max(seq) FROM audit_events) END
                """)
            #expect(try await audit.verify(on: late).isIntact == false, "reordered rows no longer follow each other")
            await early.close()
            await late.close()
        }
    }

    @Test("a row left unsealed past the bound is reported, and sealing it mends the report; the database refuses a second sealing or an edit")
    func unsealedReported() async throws {
        try await TestDatabase.with { database in
            let connection = try await PostgresConnection.connect(database.configuration)
            try await projectMigrations.migrate(on: connection)
            let audit = AuditTrail()
            try await connection.execute(
                "INSERT INTO audit_events (occurred_at, actor, action, details, recorded_at) VALUES (now(), 'x', 'test', '{}', now() - interval '2 minutes')")
            let report = try await audit.verify(on: connection)
            #expect(!report.isIntact && report.reason?.contains("unsealed") == true)
            let sealedNow = try await audit.sealAndVerify(on: connection)
            #expect(!sealedNow.isIntact, "the wait is still reported by audit verify")
            #expect(try await audit.verify(on: connection).isIntact, "once sealed, the chain is whole")
            for statement in ["UPDATE audit_events SET seq = seq + 100", "UPDATE audit_events SET hash = NULL, seq = NULL, sealed_at = NULL",
                              "UPDATE audit_events SET actor = 'y'"] {
                let error = await #expect(throws: PostgresError.self) { try await connection.execute(statement) }
                #expect(error?.sqlState == .insufficientPrivilege, "\(statement)")
            }
            await connection.close()
        }
    }
}
