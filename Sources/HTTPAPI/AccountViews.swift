import DoorKit
import Accounts
import Foundation
import Operations

// The JSON shapes of accounts, shared by the HTTP API and the CLI's --json so scripts see one format.

public struct AccountView: Encodable, Sendable {
    let userID: String
    let role: String
    let fullName: String
    let nip: String?
    let email: String
    let agency: String
    let status: String
    let mustChangePassword: Bool
    let lockedUntil: Date?
    let createdAt: Date
    let updatedAt: Date

    public init(_ account: Account) {
        userID = account.userID.value
        role = account.role.rawValue
        fullName = account.fullName.value
        nip = account.nip?.value
        email = account.email.value
        agency = account.agency.value
        status = account.status.rawValue
        mustChangePassword = account.mustChangePassword
        lockedUntil = account.lockedUntil
        createdAt = account.createdAt
        updatedAt = account.updatedAt
    }

    enum CodingKeys: String, CodingKey {
        case userID = "user_id", role, fullName = "full_name", nip, email, agency, status
        case mustChangePassword = "must_change_password", lockedUntil = "locked_until", createdAt = "created_at", updatedAt = "updated_at"
    }
}

/// A new account and its first temporary password, shown this once.
public struct CreatedAccountView: Encodable, Sendable {
    let account: AccountView
    let temporaryPassword: String
    let temporaryPasswordExpiresAt: Date
    enum CodingKeys: String, CodingKey {
        case account, temporaryPassword = "temporary_password", temporaryPasswordExpiresAt = "temporary_password_expires_at"
    }
}

public struct LookupView: Encodable, Sendable {
    let matchedBy: String
    let page: Int
    let hasMore: Bool
    let accounts: [AccountView]
    enum CodingKeys: String, CodingKey { case matchedBy = "matched_by", page, hasMore = "has_more", accounts }
}

extension CreatedAccountView {
    public init(account: Account, password: TemporaryPassword, expiresAt: Date) {
        self.init(account: AccountView(account), temporaryPassword: password.reveal, temporaryPasswordExpiresAt: expiresAt)
    }
}

extension LookupView {
    public init(_ result: LookupResult) {
        self.init(matchedBy: result.matchedBy, page: result.page, hasMore: result.hasMore, accounts: result.accounts.map(AccountView.init))
    }
}

/// A temporary password handed over once (an operator's reset).
public struct TemporaryPasswordView: Encodable, Sendable {
    let temporaryPassword: String
    let expiresAt: Date
    public init(temporaryPassword: String, expiresAt: Date) {
        self.temporaryPassword = temporaryPassword
        self.expiresAt = expiresAt
    }
    enum CodingKeys: String, CodingKey { case temporaryPassword = "temporary_password", expiresAt = "expires_at" }
}

/// `GET /v1/me`: one's own account, second factor and live sessions.
public struct MyAccountView: Encodable, Sendable {
    struct SessionView: Encodable, Sendable {
        let handle: String
        let scope: String
        let createdAt: Date
        let lastSeenAt: Date
        let expiresAt: Date
        let current: Bool
        enum CodingKeys: String, CodingKey {
            case handle, scope, createdAt = "created_at", lastSeenAt = "last_seen_at", expiresAt = "expires_at", current
        }
    }
    let account: AccountView
    let authenticatorConfirmedAt: Date?
    let recoveryCodesLeft: Int
    let sessions: [SessionView]
    enum CodingKeys: String, CodingKey {
        case account, authenticatorConfirmedAt = "authenticator_confirmed_at", recoveryCodesLeft = "recovery_codes_left", sessions
    }

    public init(_ mine: MyAccount) {
        account = AccountView(mine.account)
        authenticatorConfirmedAt = mine.signIn.authenticatorConfirmedAt
        recoveryCodesLeft = mine.signIn.recoveryCodesLeft
        sessions = mine.sessions.map {
            SessionView(handle: $0.handle, scope: $0.scope.rawValue, createdAt: $0.createdAt, lastSeenAt: $0.lastSeenAt,
                        expiresAt: $0.expiresAt, current: $0.isCurrent)
        }
    }
}

/// How many sessions an end-sessions call ended.
public struct EndedSessionsView: Encodable, Sendable {
    let ended: Int
    public init(ended: Int) { self.ended = ended }
}
