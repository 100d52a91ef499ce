import Audit
import Crypto
import Foundation
import Postgres

/// Writes a checkpoint: an `audit.checkpoint` row, then — once the chain is sealed up to it — the
/// signed head, appended to `path` (or returned only) — for the CLI and for `serve`'s timer.
public enum AuditCheckpointWriter {
    public struct Empty: Error, CustomStringConvertible {
        public init() {}
        public var description: String { "the audit trail is empty" }
    }

    public static func write(signingWith key: Curve25519.Signing.PrivateKey, to path: String?, pool: ConnectionPool,
                             now: Date = Date()) async throws -> AuditCheckpoint? {
        try await pool.withTransaction { connection in
            try await AuditTrail().record(
                AuditEvent(occurredAt: now, actor: "system", action: "audit.checkpoint",
                           details: ["public_key": .string(key.publicKey.rawRepresentation.base64EncodedString())]),
                on: connection)
        }
        let checkpoint = try await pool.withConnection { connection in
            try await AuditTrail().seal(on: connection)
            return try await AuditCheckpoint.make(signingWith: key, at: now, on: connection)
        }
        if let checkpoint, let path { try AuditSigningKey.append(checkpoint, to: path) }
        return checkpoint
    }
}
