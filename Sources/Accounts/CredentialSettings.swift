import Foundation

/// Time limits and thresholds of the credential rules, from the environment.
public struct CredentialSettings: Sendable {
    /// How long a temporary password works (`SPSE_TEMP_PASSWORD_TTL`, seconds; default 72 h).
    public var temporaryPasswordLifetime: TimeInterval = 72 * 3600
    /// Consecutive failures before a lockout.
    public var failuresBeforeLockout = 5
    /// First lockout; each further lockout doubles it, up to `maximumLockout`.
    public var firstLockout: TimeInterval = 60
    public var maximumLockout: TimeInterval = 3600
    public var sessionIdleTimeout: TimeInterval = 30 * 60
    public var sessionAbsoluteTimeout: TimeInterval = 12 * 3600
    /// Previous passwords a new one may not repeat (the current one included).
    public var historyDepth = 5

    public init() {}

    public init(environment: [String: String]) throws(AccountsError) {
        if let text = environment["SPSE_TEMP_PASSWORD_TTL"] {
            guard let seconds = Self.duration(text), seconds > 0 else {
                throw .configuration("SPSE_TEMP_PASSWORD_TTL must be seconds or a duration like 72h, not \(text)")
            }
            temporaryPasswordLifetime = seconds
        }
    }

    /// `3600`, `90m`, `72h` or `3d`.
    static func duration(_ text: String) -> TimeInterval? {
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        if let unit = text.last, let factor = units[unit], let value = Double(text.dropLast()) { return value * factor }
        return Double(text)
    }

    /// Lockout length after the `n`th consecutive lockout (n ≥ 1): 1 min, 2, 4, … capped at 1 h.
    public func lockoutDuration(afterLockouts n: Int) -> TimeInterval {
        min(maximumLockout, firstLockout * pow(2, Double(max(0, n - 1))))
    }
}
