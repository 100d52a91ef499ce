import Foundation
import Postgres

/// The first admin_ppe of an empty service: the one account created outside the SOP gate, and
/// only while no active admin_ppe exists.
public struct Bootstrap: Sendable {
    let pool: ConnectionPool
    let directory: AccountDirectory
    let credentials: Credentials

    static let lockKey: Int64 = 0x5350_5345_424F_4F54  // "SPSEBOOT"

    public init(pool: ConnectionPool, directory: AccountDirectory, credentials: Credentials) {
        self.pool = pool
        self.directory = directory
        self.credentials = credentials
    }

    /// Creates the admin with a temporary password, returned once, and its expiry.
    public func createFirstAdmin(userID: UserID, fullName: FullName, email: EmailAddress, agency: Agency, nip: NIP?)
        async throws -> (Account, TemporaryPassword, Date)
    {
        let prepared = try await credentials.prepareTemporaryPassword()
        return try await pool.withTransaction { connection in
            // Two bootstraps at once must not both see "no admin yet".
            try await connection.query("SELECT pg_advisory_xact_lock($1)", [Self.lockKey])
            let admins = try await connection.query("SELECT count(*) FROM accounts WHERE role = 'admin_ppe' AND status = 'active'")
            guard try admins.first?.decode(Int.self, at: 0) == 0 else { throw AccountsError.bootstrapRefused }
            let account = try await directory.create(
                NewAccount(userID: userID, role: .adminPPE, fullName: fullName, nip: nip, email: email, agency: agency),
                by: "bootstrap", on: connection)
            let expiresAt = try await credentials.installTemporaryPassword(
                prepared, accountID: account.id, userID: account.userID.value, actor: "bootstrap", requestID: nil, on: connection)
            return (account, prepared.password, expiresAt)
        }
    }
}
