import Foundation

/// Everything the account service refuses, with the facts the caller needs. Never carries a
/// password or token.
public enum AccountsError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Field: String, Sendable {
        case userID = "user_id", fullName = "full_name", nip, email, agency, role
    }

    case invalidField(Field, String)
    /// Another account already has this user ID, NIP or e-mail.
    case conflict(Field)
    case accountNotFound
    /// The new password breaks a rule of the policy; `rule` is stable (`min_length`, `blocklist`, …).
    case passwordPolicy(rule: String, detail: String)
    /// The current password given with a change was wrong.
    case invalidCredentials
    /// The session token is unknown, expired or revoked.
    case sessionInvalid
    /// The session may only change the password.
    case sessionScope
    /// The password was changed by someone else between check and write (e.g. a second first-login).
    case passwordChangedConcurrently
    /// An active admin_ppe exists already; bootstrap is for an empty service only.
    case bootstrapRefused
    /// A lookup without search text, reason or a sensible page.
    case invalidLookup(String)
    /// A setting from the environment is out of range.
    case configuration(String)
    /// The operator's role does not allow this operation.
    case notPermitted(role: Role, operation: String)
    /// Too many login attempts from one client address; try again after `retryAfter` seconds.
    case throttled(retryAfter: Int)
    /// The last active admin_ppe cannot be disabled: nobody could administer the service after.
    case lastAdministrator
    /// Operator recovery needs the database owner's credentials, not the service's.
    case notDatabaseOwner
    /// SOP step 6 needs a TOTP code given within the step-up window.
    case stepUpRequired
    /// The account has a confirmed authenticator; a second factor admin must reset it first.
    case totpAlreadyEnrolled
    /// No enrolment to confirm, or no authenticator to step up with.
    case totpNotEnrolled
    /// A session that must enrol its authenticator first.
    case totpEnrolmentRequired
    /// No other live session of the caller's by that handle.
    case sessionNotFound

    public var description: String {
        switch self {
        case .invalidField(let field, let reason): return "\(field.rawValue): \(reason)"
        case .conflict(let field): return "another account already has this \(field.rawValue)"
        case .accountNotFound: return "no such account"
        case .passwordPolicy(let rule, let detail): return "password refused (\(rule)): \(detail)"
        case .invalidCredentials: return "invalid user ID or password"
        case .sessionInvalid: return "the session is unknown, expired or revoked"
        case .sessionScope: return "this session may only change the password"
        case .stepUpRequired: return "step 6 needs a fresh second factor: confirm with a TOTP code (POST /v1/auth/step-up)"
        case .totpAlreadyEnrolled: return "an authenticator is enrolled already; an admin_ppe resets it first"
        case .totpNotEnrolled: return "no authenticator is enrolled for this account"
        case .totpEnrolmentRequired: return "enrol an authenticator (TOTP) first"
        case .sessionNotFound: return "no other live session of yours has this handle"
        case .passwordChangedConcurrently: return "the password was changed meanwhile; log in again"
        case .bootstrapRefused: return "an active admin_ppe exists already; bootstrap-admin is refused"
        case .invalidLookup(let reason): return "lookup refused: \(reason)"
        case .configuration(let reason): return "configuration: \(reason)"
        case .notPermitted(let role, let operation): return "\(role.rawValue) may not \(operation)"
        case .throttled(let seconds): return "too many login attempts from this address; try again in \(seconds) s"
        case .lastAdministrator: return "this is the last active admin_ppe; create or enable another one first"
        case .notDatabaseOwner: return "recovering an admin_ppe needs the database owner's credentials (DATABASE_URL of the migrating role)"
        }
    }
}
