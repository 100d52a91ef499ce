import Accounts
import Foundation

/// What a signed-in person sees of their own account: its facts, the second factor and the
/// sessions that are live, any role.
public struct MyAccount: Sendable {
    public let account: Account
    public let signIn: SignInState
    public let sessions: [SessionSummary]
}

extension Operations {
    /// One's own account. Reading oneself needs no reason and is not audited (nothing is
    /// disclosed that the session does not already hold).
    public func myAccount(token: SessionToken) async throws -> MyAccount {
        let (session, sessions) = try await credentials.sessions(of: token)
        let account = try await pool.withConnection { connection in
            guard let account = try await directory.find(session.userID, on: connection) else { throw AccountsError.sessionInvalid }
            return account
        }
        return MyAccount(account: account, signIn: try await credentials.signInState(accountID: account.id), sessions: sessions)
    }

    /// Ends one of one's other sessions (`handle`), or all of them (`nil`); returns how many ended.
    @discardableResult
    public func endOtherSessions(_ handle: String?, token: SessionToken) async throws -> Int {
        try await credentials.endOtherSessions(handle, of: token)
    }
}
