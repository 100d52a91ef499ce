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
}
