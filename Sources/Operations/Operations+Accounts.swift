import Accounts
import Foundation
import Inputs

/// A lookup as a door received it.
public struct LookupForm: Sendable {
    public var q: String?
    public var role: String?
    public var agency: String?
    public var page: String?
    /// A request number or a short reason; audited.
    public var reason: String?
    public init(q: String?, role: String? = nil, agency: String? = nil, page: String? = nil, reason: String?) {
        self.q = q
        self.role = role
        self.agency = agency
        self.page = page
        self.reason = reason
    }
}

/// A new account as a door received it.
public struct NewAccountForm: Sendable {
    public var userID: String
    public var role: String
    public var fullName: String
    public var nip: String?
    public var email: String
    public var agency: String
    public init(userID: String, role: String, fullName: String, nip: String?, email: String, agency: String) {
        self.userID = userID
        self.role = role
        self.fullName = fullName
        self.nip = nip
        self.email = email
        self.agency = agency
    }
}

/// An account with its first temporary password, shown once.
public struct EnrolledAccount: Sendable {
    public let account: Account
    public let password: TemporaryPassword
    public let expiresAt: Date
}

extension Operations {
    public func lookUpAccounts(_ form: LookupForm, by caller: Caller) async throws -> LookupResult {
        try AccessPolicy.require(caller.role, .lookUpAccounts)
        let role = try form.role.map { text throws(AccountsError) in try Role(parsing: text) }
        let page = try Page(parsing: form.page)
        return try await directory.lookup(
            LookupQuery(text: form.q ?? "", role: role, agency: form.agency, page: page.number, pageSize: page.size),
            by: caller.asOperator, reason: form.reason ?? "")
    }

    public func showAccount(_ userID: String, reason: String?, by caller: Caller) async throws -> Account {
        try AccessPolicy.require(caller.role, .showAccounts)
        let userID = try UserID(userID)
        let reason = try FreeText.optional(reason, field: "reason")?.value ?? "show"
        return try await directory.show(userID, by: caller.asOperator, reason: reason)
    }

    public func createAccount(_ form: NewAccountForm, by caller: Caller) async throws -> EnrolledAccount {
        try await createAccount(by: caller) { form }
    }

    /// `read` reads the door's input only once the caller may create accounts.
    public func createAccount(by caller: Caller, _ read: () async throws -> NewAccountForm) async throws -> EnrolledAccount {
        try AccessPolicy.require(caller.role, .createAccounts)
        try requireStepUp(caller)
        let form = try await read()
        let new = NewAccount(
            userID: try UserID(form.userID), role: try Role(parsing: form.role), fullName: try FullName(form.fullName),
            nip: try form.nip.flatMap { $0.isEmpty ? nil : try NIP($0) }, email: try EmailAddress(form.email), agency: try Agency(form.agency))
        let created = try await credentials.enrol(new, in: directory, by: caller.asOperator)
        return EnrolledAccount(account: created.account, password: created.password, expiresAt: created.expiresAt)
    }

    public func setAccountStatus(_ userID: String, to status: AccountStatus, by caller: Caller) async throws {
        try AccessPolicy.require(caller.role, .changeAccountStatus)
        // Disabling stops harm and needs no code; enabling gives access back, like creating.
        if status == .active { try requireStepUp(caller) }
        try await directory.setStatus(status, of: try UserID(userID), by: caller.asOperator)
    }

    /// A forgotten operator password, reset by another admin_ppe (the SOP gate is for managed accounts).
    public func resetOperatorPassword(_ userID: String, reason: String?, by caller: Caller) async throws -> (password: TemporaryPassword, expiresAt: Date) {
        try await resetOperatorPassword(userID, by: caller) { reason }
    }

    /// `read` reads the reason (a body) only once the caller may reset operators' passwords.
    public func resetOperatorPassword(_ userID: String, by caller: Caller, reason read: () async throws -> String?) async throws
        -> (password: TemporaryPassword, expiresAt: Date)
    {
        try AccessPolicy.require(caller.role, .resetOperatorPasswords)
        try requireStepUp(caller)
        let reason = try FreeText(try await read() ?? "", field: "reason").value
        let userID = try UserID(userID)
        return try await credentials.resetOperatorPassword(userID, reason: reason, by: caller.asOperator, directory: directory)
    }

    /// A lost authenticator: a second admin_ppe removes it (never their own), with a reason; its
    /// owner enrols a new one at the next login.
    public func resetSecondFactor(_ userID: String, reason: String?, by caller: Caller) async throws {
        try await resetSecondFactor(userID, by: caller) { reason }
    }

    /// `read` reads the reason (a body) only once the caller may reset second factors.
    public func resetSecondFactor(_ userID: String, by caller: Caller, reason read: () async throws -> String?) async throws {
        try AccessPolicy.require(caller.role, .resetSecondFactors)
        try requireStepUp(caller)
        let userID = try UserID(userID)
        guard let reason = try FreeText.optional(try await read(), field: "reason", maxLength: 500)?.value else {
            throw InputError(field: "reason", reason: "is required: why the authenticator is reset (audited)")
        }
        guard userID != caller.userID else { throw AccountsError.notPermitted(role: caller.role, operation: "reset their own second factor") }
        try await pool.withTransaction { connection in
            guard let account = try await directory.find(userID, on: connection) else { throw AccountsError.accountNotFound }
            try await credentials.resetSecondFactor(accountID: account.id, userID: userID.value, actor: caller.userID.value, reason: reason,
                                                    on: connection)
        }
    }

    public func unlockAccount(_ userID: String, by caller: Caller) async throws {
        try AccessPolicy.require(caller.role, .unlockAccounts)
        try await directory.unlock(try UserID(userID), by: caller.asOperator)
    }

    /// One account as an operator looks at it (audited with the reason, like `showAccount`), with
    /// its sign-in state: authenticator, recovery codes left, live sessions.
    public func accountWithSignInState(_ userID: String, reason: String?, by caller: Caller) async throws -> (Account, SignInState) {
        let account = try await showAccount(userID, reason: reason, by: caller)
        return (account, try await credentials.signInState(accountID: account.id))
    }
}
