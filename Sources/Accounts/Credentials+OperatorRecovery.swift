import Audit
import Foundation
import Postgres

extension Credentials {
    /// A forgotten operator password (admin_ppe or staf_administrasi), reset by another admin_ppe:
    /// a temporary password shown once, a forced change at the next login, audited with the
    /// reason. The managed roles' passwords are reset only through the SOP gate, and nobody resets
    /// their own.
    public func resetOperatorPassword(_ userID: UserID, reason: String, by actor: Operator, directory: AccountDirectory) async throws
        -> (password: TemporaryPassword, expiresAt: Date)
    {
        try AccessPolicy.require(actor.role, .resetOperatorPasswords)
        guard userID != actor.userID else { throw AccountsError.notPermitted(role: actor.role, operation: "reset their own password this way") }
        let target = try await pool.withConnection { try await directory.find(userID, on: $0) }
        guard let target else { throw AccountsError.accountNotFound }
        guard !AccessPolicy.managedRoles.contains(target.role) else {
            throw AccountsError.notPermitted(role: actor.role, operation: "reset a \(target.role.rawValue)'s password outside the SOP gate")
        }
        let prepared = try await prepareTemporaryPassword()
        let expiresAt = try await pool.withTransaction { connection in
            let expiresAt = try await installTemporaryPassword(prepared, accountID: target.id, userID: target.userID.value, actor: actor.userID.value, requestID: nil, on: connection)
            try await audit.record(
                AuditEvent(occurredAt: clock.now, actor: actor.userID.value, action: "operator.password_reset", subject: userID.value,
                           details: ["reason": .string(reason), "role": .string(target.role.rawValue)]),
                on: connection)
            return expiresAt
        }
        return (prepared.password, expiresAt)
    }
}

extension Bootstrap {
    /// The recovery of a single-admin site whose admin_ppe forgot the password (or was disabled):
    /// only with the database owner's credentials, at the CLI. The account is enabled, gets a
    /// temporary password (forced change) and its locks are lifted; audited as `bootstrap.recover`.
    public func recoverAdmin(_ userID: UserID, reason: String) async throws -> (TemporaryPassword, Date) {
        let prepared = try await credentials.prepareTemporaryPassword()
        return try await pool.withTransaction { connection in
            let owner = try await connection.query(
                "SELECT pg_has_role(current_user, (SELECT tableowner FROM pg_tables WHERE schemaname = 'public' AND tablename = 'accounts'), 'MEMBER') AS owner")
            guard try owner.first?.decode(Bool.self, column: "owner") == true else { throw AccountsError.notDatabaseOwner }
            guard let account = try await directory.find(userID, on: connection), account.role == .adminPPE else { throw AccountsError.accountNotFound }
            try await connection.execute("UPDATE accounts SET status = 'active' WHERE id = $1", [account.id])
            let expiresAt = try await credentials.installTemporaryPassword(prepared, accountID: account.id, userID: account.userID.value, actor: "database-owner", requestID: nil,
                                                                          on: connection)
            try await directory.audit.record(
                AuditEvent(occurredAt: directory.clock.now, actor: "database-owner", action: "bootstrap.recover", subject: userID.value,
                           details: ["reason": .string(reason)]),
                on: connection)
            return (prepared.password, expiresAt)
        }
    }
}
