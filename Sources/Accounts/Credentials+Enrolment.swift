import Foundation
import Postgres

extension Credentials {
    /// A new account with its first temporary password, which must be changed at first login: the
    /// Admin PPE gives a new user an ID and a password together (HTTP `POST /v1/accounts`, the
    /// CLI's `account create`). Argon2 runs before the transaction.
    public func enrol(_ new: NewAccount, in directory: AccountDirectory, by actor: Operator) async throws
        -> (account: Account, password: TemporaryPassword, expiresAt: Date)
    {
        try AccessPolicy.require(actor.role, .createAccounts)
        let prepared = try await prepareTemporaryPassword()
        let (account, expiresAt) = try await pool.withTransaction { connection in
            let account = try await directory.create(new, by: actor.userID.value, on: connection)
            let expiresAt = try await installTemporaryPassword(prepared, accountID: account.id, userID: account.userID.value, actor: actor.userID.value, requestID: nil, on: connection)
            return (account, expiresAt)
        }
        return (account, prepared.password, expiresAt)
    }
}
