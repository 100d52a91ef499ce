import Crypto
import Foundation
import PasswordHashing

/// What a session may do: everything its role allows, or only change the password.
public enum SessionScope: String, Sendable, Codable {
    case full
    case changePasswordOnly = "change_password_only"
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

    var digest: [UInt8] { Array(SHA256.hash(data: Data(value.utf8))) }
    public var description: String { "SessionToken(redacted)" }
}

/// A session that was validated just now.
public struct Session: Sendable, Equatable {
    public let accountID: Int64
    public let userID: UserID
    public let role: Role
    public let scope: SessionScope
    public let expiresAt: Date
}

/// The answer to a login attempt.
public enum LoginOutcome: Sendable, CustomStringConvertible {
    case ok(SessionToken, Session)
    /// Logged in with the temporary password: the session can only change the password.
    case passwordChangeRequired(SessionToken, Session)
    case temporaryPasswordExpired
    case locked(retryAfter: TimeInterval)
    case disabled
    case invalidCredentials

    /// The stable code clients and logs use.
    public var code: String {
        switch self {
        case .ok: return "ok"
        case .passwordChangeRequired: return "password_change_required"
        case .temporaryPasswordExpired: return "temporary_password_expired"
        case .locked: return "locked"
        case .disabled: return "disabled"
        case .invalidCredentials: return "invalid_credentials"
        }
    }

    public var description: String { code }
}
