import Accounts
import Gate

extension Operations {
    /// Logs in. An attempt from a network client first spends a token of its address's budget
    /// (before any database read or Argon2 work), so a flood is refused cheaply. A login with a
    /// temporary password confirms receipt of the step-8 notices of the user's requests (SOP 004:
    /// the helpdesk has the password), whichever door it came through.
    public func login(userID: String, password: String, from clientAddress: String? = nil) async throws -> LoginOutcome {
        if let clientAddress, let wait = try await loginBudget.admit(clientAddress, at: clock.now) {
            throw AccountsError.throttled(retryAfter: Int(wait.rounded(.up)))
        }
        let outcome = try await credentials.login(userID: userID, password: password, from: clientAddress)
        if case .passwordChangeRequired(_, let session) = outcome {
            // A receipt that cannot be confirmed now is confirmed by hand later; the login stands.
            _ = try? await gate.confirmReceiptOnFirstLogin(userID: session.userID.value)
        }
        return outcome
    }

    /// The session a bearer token stands for (any scope), or `sessionInvalid`.
    public func session(for token: SessionToken) async throws -> Session {
        try await credentials.session(for: token, requireFull: false)
    }

    /// The caller a token stands for: a session with full scope.
    public func caller(for token: SessionToken) async throws -> Caller {
        try Caller(session: try await credentials.session(for: token, requireFull: true))
    }

    public func changePassword(token: SessionToken, current: String, new: String, from clientAddress: String? = nil) async throws {
        try await credentials.changePassword(token: token, current: current, new: new, from: clientAddress)
    }

    public func logout(_ token: SessionToken) async throws {
        try await credentials.logout(token)
    }
}
