import Foundation

/// Time limits and thresholds of the credential rules, from the environment.
public struct CredentialSettings: Sendable {
    /// How long a temporary password works (`SPSE_TEMP_PASSWORD_TTL`, seconds; default 72 h).
    public var temporaryPasswordLifetime: TimeInterval = 72 * 3600
    /// Consecutive failures of a user ID from one client address before that pair is locked.
    public var failuresBeforeLockout = 5
    /// Consecutive failures of a user ID from all addresses before it is locked everywhere (NIST's 100).
    public var failuresBeforeAccountLock = 100
    /// First lockout; each further lockout doubles it, up to `maximumLockout`.
    public var firstLockout: TimeInterval = 60
    public var maximumLockout: TimeInterval = 3600
    public var sessionIdleTimeout: TimeInterval = 30 * 60
    public var sessionAbsoluteTimeout: TimeInterval = 12 * 3600
    /// Previous passwords a new one may not repeat (the current one included).
    public var historyDepth = 5
    /// Roles that must enrol an authenticator (TOTP) and prove it at login (`SPSE_TOTP_OPERATORS`:
    /// the operators by default); other roles may enrol one.
    public var totpRequiredRoles: Set<Role> = [.adminPPE, .stafAdministrasi]
    /// How recent a second factor SOP step 6 needs (`SPSE_STEP_UP_SECONDS`).
    public var stepUpWindow: TimeInterval = 300
    /// How long the code may take after the password was accepted.
    public var challengeLifetime: TimeInterval = 300
    /// Wrong codes a challenge takes before it is spent.
    public var challengeAttempts = 5

    public init() {}

    /// Lockout length after the `n`th consecutive lockout (n ≥ 1): 1 min, 2, 4, … capped at 1 h.
    public func lockoutDuration(afterLockouts n: Int) -> TimeInterval {
        min(maximumLockout, firstLockout * pow(2, Double(max(0, n - 1))))
    }
}
