import Accounts
import Foundation
import Gate

extension Operations {
    /// Logs in. A service already hashing at capacity refuses at once (no write, no read); an
    /// attempt from a network client then spends a token of its address's budget (before any
    /// database read or Argon2 work), so a flood is refused cheaply. A login with a
    /// temporary password confirms receipt of the step-8 notices of the user's requests (SOP 004:
    /// the helpdesk has the password), whichever door it came through.
    public func login(userID: String, password: String, from clientAddress: String? = nil) async throws -> LoginOutcome {
        try credentials.refuseIfOverloaded()
        try await spendLoginBudget(clientAddress)
        let outcome = try await credentials.login(userID: userID, password: password, from: clientAddress)
        if case .passwordChangeRequired(_, let session) = outcome {
            // A receipt that cannot be confirmed now is confirmed by hand later; the login stands.
            _ = try? await gate.confirmReceiptOnFirstLogin(userID: session.userID.value)
        }
        return outcome
    }

    /// An attempt from a network client spends a token of its address's budget first.
    func spendLoginBudget(_ clientAddress: String?) async throws {
        if let clientAddress, let wait = try await loginBudget.admit(clientAddress, at: clock.now) {
            throw AccountsError.throttled(retryAfter: Int(wait.rounded(.up)))
        }
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

    /// The login's second step: a TOTP code or a recovery code for the challenge the password
    /// step returned. An address spends its budget here too.
    public func completeLogin(challenge: String, code: String, from clientAddress: String? = nil) async throws -> LoginOutcome {
        try await spendLoginBudget(clientAddress)
        return try await credentials.completeLogin(challenge: challenge, code: code, from: clientAddress)
    }

    public func beginTOTPEnrolment(token: SessionToken) async throws -> TOTPEnrolment {
        try await credentials.beginTOTPEnrolment(token: token)
    }

    /// Confirms the authenticator with a first code; returns the ten recovery codes, shown once.
    public func confirmTOTPEnrolment(token: SessionToken, code: String, from clientAddress: String? = nil) async throws -> [String] {
        try await credentials.confirmTOTPEnrolment(token: token, code: code, from: clientAddress)
    }

    /// A fresh TOTP code within the session, for SOP step 6.
    public func stepUp(token: SessionToken, code: String, from clientAddress: String? = nil) async throws -> Date {
        try await credentials.stepUp(token: token, code: code, from: clientAddress)
    }

    /// Whether this caller's role needs a recent second factor for SOP step 6 (a door asks for the code).
    public func requiresStepUp(_ caller: Caller) -> Bool { credentials.requiresSecondFactor(caller.role) }

    /// Whether the caller must give an authenticator code now to take step 6 (or another lasting
    /// change): their role needs a second factor and their last one is older than the window.
    public func stepUpDue(_ caller: Caller) -> Bool { (try? requireStepUp(caller)) == nil }

    /// Whether this caller must have stepped up within the window to take SOP step 6 now — or
    /// any other change an operator's session could turn into lasting power (new or re-enabled
    /// accounts, operator password and authenticator resets, a real provisioning run, the purge,
    /// an early export, the standards): a hijacked session alone can do none of them.
    func requireStepUp(_ caller: Caller) throws {
        guard credentials.requiresSecondFactor(caller.role) else { return }
        guard let at = caller.steppedUpAt, clock.now.timeIntervalSince(at) <= credentials.stepUpWindow else {
            throw AccountsError.stepUpRequired
        }
    }
}
