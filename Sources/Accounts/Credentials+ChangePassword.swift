import Audit
import Foundation
import PasswordHashing
import Postgres

extension Credentials {
    /// Changes the password of the session's account (the first-login change included). Requires
    /// the current or temporary password; the new one must pass the policy, differ from the
    /// temporary password and from the last `historyDepth` passwords. Clears must-change, revokes
    /// every other session, lifts this one to `full`, and is audited.
    public func changePassword(token: SessionToken, current: String, new: String, from address: String? = nil) async throws {
        let session = try await session(for: token, requireFull: false)
        // An enrolment session enrols; it does not also choose passwords.
        guard session.scope != .totpEnrolment else { throw AccountsError.totpEnrolmentRequired }
        let row = try require(try await pool.withConnection { connection in
            try await connection.query(
                "SELECT password_hash, must_change_password, full_name, agency, email, "
                    + "EXISTS (SELECT 1 FROM account_totp t WHERE t.account_id = accounts.id AND t.confirmed_at IS NOT NULL) "
                    + "FROM accounts WHERE id = $1", [session.accountID]).first
        })
        // An operator without an authenticator comes out of the change into enrolment, not a full session.
        let hasTOTP = try row.decode(Bool.self, at: 5)
        let nextScope: SessionScope = requiresSecondFactor(session.role) && !hasTOTP ? .totpEnrolment : .full
        guard let stored = try row.decode(String?.self, at: 0).map({ try PasswordHash(encoded: $0) }) else {
            throw AccountsError.invalidCredentials
        }
        let mustChange = try row.decode(Bool.self, at: 1)
        // A temporary password is compared as it was dictated: separators and case do not count.
        let currentNormalized = mustChange ? TemporaryPassword.canonical(current) ?? policy.normalize(current) : policy.normalize(current)
        guard try await verifyThrottled(currentNormalized, against: stored, userID: session.userID, address: address) else {
            throw AccountsError.invalidCredentials
        }
        let newNormalized = policy.normalize(new)
        try policy.check(newNormalized, userID: session.userID, fullName: try FullName(try row.decode(String.self, at: 2)),
                         agency: try Agency(try row.decode(String.self, at: 3)), email: try EmailAddress(try row.decode(String.self, at: 4)))
        if newNormalized == currentNormalized {
            throw mustChange
                ? AccountsError.passwordPolicy(rule: "same_as_temporary", detail: "choose a password of your own, not the temporary one")
                : AccountsError.passwordPolicy(rule: "history", detail: "must differ from your last \(settings.historyDepth) passwords")
        }
        let history = try await pool.withConnection { connection in
            try await connection.query(
                "SELECT password_hash FROM password_history WHERE account_id = $1 ORDER BY id DESC LIMIT $2",
                [session.accountID, settings.historyDepth - 1])
        }
        for previous in history {
            let hash = try PasswordHash(encoded: try previous.decode(String.self, at: 0))
            if try await hasher.verify(newNormalized, against: hash) {
                throw AccountsError.passwordPolicy(rule: "history", detail: "must differ from your last \(settings.historyDepth) passwords")
            }
        }
        let newHash = try await hasher.hash(newNormalized)
        let now = clock.now
        try await pool.withTransaction { connection in
            // Only if nobody changed it since we verified: a temporary password works for one change.
            let changed = try await connection.execute(
                """
                UPDATE accounts SET password_hash = $2, must_change_password = false, temp_password_expires_at = NULL, updated_at = $4
                WHERE id = $1 AND password_hash = $3
                """, [session.accountID, newHash.encoded, stored.encoded, now])
            guard changed == 1 else { throw AccountsError.passwordChangedConcurrently }
            // Temporary passwords are not history: they were never the user's choice.
            if !mustChange {
                try await connection.execute(
                    "INSERT INTO password_history (account_id, password_hash, replaced_at) VALUES ($1, $2, $3)",
                    [session.accountID, stored.encoded, now])
            }
            try await connection.execute(
                "UPDATE sessions SET revoked_at = $3 WHERE account_id = $1 AND token_hash <> $2 AND revoked_at IS NULL",
                [session.accountID, token.digest, now])
            try await connection.execute("DELETE FROM login_challenges WHERE account_id = $1", [session.accountID])
            if hasTOTP {
                // A temporary password is one factor: with an authenticator, the next login asks for its code.
                try await connection.execute("UPDATE sessions SET revoked_at = $2 WHERE token_hash = $1", [token.digest, now])
            } else {
                try await connection.execute("UPDATE sessions SET scope = $2 WHERE token_hash = $1", [token.digest, nextScope.rawValue])
            }
            try await audit.record(
                AuditEvent(occurredAt: now, actor: session.userID.value, action: "password.change", subject: session.userID.value,
                           details: ["first_login": .bool(mustChange)]),
                on: connection)
        }
    }
}
