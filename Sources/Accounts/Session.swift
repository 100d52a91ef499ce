import Crypto
import Foundation
import PasswordHashing

/// What a session may do: everything its role allows, or only change the password.
public enum SessionScope: String, Sendable, Codable {
    case full
    case changePasswordOnly = "change_password_only"
    /// An operator who must enrol an authenticator (TOTP) before anything else.
    case totpEnrolment = "totp_enrolment"
}

/// An opaque 256-bit bearer token. The server keeps only its SHA-256, so a copy of the database
/// cannot be replayed as sessions. Redacted in descriptions.
public struct SessionToken: Sendable, Hashable, CustomStringConvertible {
    public let value: String

    public init(randomBytes: RandomBytes) {
        value = Data(randomBytes(32)).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    public init(presented: String) { value = presented }

    /// What the server keeps of it (and what another module may bind to the session).
    public var digest: [UInt8] { Array(SHA256.hash(data: Data(value.utf8))) }
    public var description: String { "SessionToken(redacted)" }
}

/// A session that was validated just now.
public struct Session: Sendable, Equatable {
    public let accountID: Int64
    public let userID: UserID
    public let role: Role
    public let scope: SessionScope
    public let expiresAt: Date
    /// When its owner last proved the second factor (at login or by a step-up).
    public var steppedUpAt: Date? = nil
    /// When its owner signed in (OpenID Connect's `auth_time`); nil only where it was not read.
    public var createdAt: Date? = nil
}

/// The answer to a login attempt.
public enum LoginOutcome: Sendable, CustomStringConvertible {
    case ok(SessionToken, Session)
    /// Logged in with the temporary password: the session can only change the password.
    case passwordChangeRequired(SessionToken, Session)
    /// The password was right and the account has an authenticator: the code is due, for this challenge.
    case totpRequired(LoginChallenge)
    /// An operator without an authenticator: the session can only enrol one.
    case totpEnrolmentRequired(SessionToken, Session)
    case temporaryPasswordExpired
    case locked(retryAfter: TimeInterval)
    case disabled
    case invalidCredentials

    /// The stable code clients and logs use.
    public var code: String {
        switch self {
        case .ok: return "ok"
        case .passwordChangeRequired: return "password_change_required"
        case .totpRequired: return "totp_required"
        case .totpEnrolmentRequired: return "totp_enrolment_required"
        case .temporaryPasswordExpired: return "temporary_password_expired"
        case .locked: return "locked"
        case .disabled: return "disabled"
        case .invalidCredentials: return "invalid_credentials"
        }
    }

    public var description: String { code }
}
