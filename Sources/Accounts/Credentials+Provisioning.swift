import Foundation
import Postgres

extension Credentials {
    /// How many hashes run at once on the pool: a batch keeps that many (and a few queued) in flight.
    public var hashingWidth: Int { hasher.pool.width }

    /// When a temporary password issued now expires (resets and provisioning share the lifetime).
    public func temporaryPasswordExpiry(from now: Date) -> Date {
        now.addingTimeInterval(settings.temporaryPasswordLifetime)
    }

    /// Inserts new accounts, each with its prepared temporary password (must change at first
    /// login), with one COPY inside the caller's transaction. The hashes were made beforehand so
    /// that Argon2 never runs while the transaction is open. Returns the rows loaded.
    @discardableResult
    public func insertProvisioned(
        _ entries: [(account: NewAccount, password: PreparedTemporaryPassword)], expiresAt: Date, at now: Date,
        on connection: PostgresConnection
    ) async throws -> Int {
        guard !entries.isEmpty else { return 0 }
        do {
            return try await connection.copyIn(
                """
                COPY accounts (user_id, role, full_name, nip, email, agency, password_hash, must_change_password,
                               temp_password_expires_at, created_at, updated_at) FROM STDIN
                """
            ) { writer in
                for (account, password) in entries {
                    try await writer.append([
                        account.userID.value, account.role.rawValue, account.fullName.value, account.nip?.value,
                        account.email.value, account.agency.value, password.hash.encoded, true, expiresAt, now, now,
                    ])
                }
            }
        } catch let error as PostgresError where error.sqlState == .uniqueViolation {
            throw AccountDirectory.conflict(error)
        }
    }
}
