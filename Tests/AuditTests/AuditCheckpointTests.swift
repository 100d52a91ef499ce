import Accounts
import Audit
import Crypto
import Foundation
import Operations
import Postgres
import Testing
import TestSupport

@Suite("Audit checkpoints: a signed head kept outside the database")
struct AuditCheckpointTests {
    @Test("removing the newest rows leaves a chain that verifies, but not its checkpoint; a foreign key's checkpoint is refused")
    func tailTruncation() async throws {
        try await AccountsFixture.with { f in
            for n in 1...3 { _ = try await f.helpdesk("helpdesk0\(n)", nip: nil) }
            let directory = NSTemporaryDirectory() + "spse-audit-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let key = try AuditSigningKey.generate(to: directory + "/audit.key")
            #expect(try FileManager.default.attributesOfItem(atPath: directory + "/audit.key")[.posixPermissions] as? Int == 0o600)
            let file = directory + "/checkpoints.jsonl"
            let checkpoint = try #require(try await AuditCheckpointWriter.write(signingWith: key, to: file, pool: f.pool))
            #expect(try AuditSigningKey.read(file) == [checkpoint])
            try await f.pool.withConnection { (connection: PostgresConnection) async throws -> Void in
                #expect(try await checkpoint.verify(publicKey: key.publicKey, on: connection) == nil)
                #expect(try await checkpoint.verify(publicKey: Curve25519.Signing.PrivateKey().publicKey, on: connection) == .badSignature(row: checkpoint.row))
            }

            // A superuser removes the newest rows past the append-only triggers.
            try await f.pool.withConnection { (connection: PostgresConnection) async throws -> Void in
                try await connection.executeScript("""
                    BEGIN; SET LOCAL session_replication_role = replica;
                    DELETE FROM audit_events WHERE id > (SELECT max(id) - 3 FROM audit_events);
                    COMMIT;
                    """)
                #expect(try await AuditTrail().verify(on: connection).isIntact, "the chain alone cannot see a cut tail")
                #expect(try await checkpoint.verify(publicKey: key.publicKey, on: connection) == .rowGone(row: checkpoint.row))
            }
        }
    }
}
