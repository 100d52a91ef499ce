import Audit
import Foundation
import Postgres

/// Creating, showing, disabling/enabling, unlocking and looking up accounts. Every change and every
/// lookup that returns account data writes its audit row in the same transaction.
public struct AccountDirectory: Sendable {
    let pool: ConnectionPool
    public let audit: AuditTrail
    public let clock: ServiceClock

    public init(pool: ConnectionPool, audit: AuditTrail, clock: ServiceClock) {
        self.pool = pool
        self.audit = audit
        self.clock = clock
    }

    /// `locked_until`: the end of the user ID's latest lock from every address in `LoginThrottle`
    /// (its key is the digest of the lowercased user ID); an unlock or a reset clears it.
    static let columns = """
        id, user_id, role, full_name, nip, email, agency, status, must_change_password,
        (SELECT t.locked_until FROM login_throttle t
         WHERE t.key = 'u:' || encode(sha256(convert_to(lower(accounts.user_id), 'UTF8')), 'hex')) AS locked_until,
        created_at, updated_at
        """

    /// Creates an account with no usable password: the first one comes from a reset (issue it
    /// through the SOP gate) or from provisioning.
    public func create(_ new: NewAccount, by actor: Operator) async throws -> Account {
        try AccessPolicy.require(actor.role, .createAccounts)
        return try await pool.withTransaction { connection in
            try await create(new, by: actor.userID.value, on: connection)
        }
    }

    /// The same inside the caller's transaction (bootstrap, provisioning).
    public func create(_ new: NewAccount, by actor: String, on connection: PostgresConnection) async throws -> Account {
        let now = clock.now
        let rows: PostgresRows
        do {
            rows = try await connection.query(
                """
                INSERT INTO accounts (user_id, role, full_name, nip, email, agency, created_at, updated_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING \(Self.columns)
                """,
                [new.userID.value, new.role.rawValue, new.fullName.value, new.nip?.value, new.email.value, new.agency.value, now])
        } catch let error as PostgresError where error.sqlState == .uniqueViolation {
            throw Self.conflict(error)
        }
        let account = try Self.decode(try Accounts.require(rows.first))
        try await audit.record(
            AuditEvent(occurredAt: now, actor: actor, action: "account.create", subject: new.userID.value,
                       details: ["role": .string(new.role.rawValue), "agency": .string(new.agency.value)]),
            on: connection)
        return account
    }

    /// One account by user ID; audited as a lookup.
    public func show(_ userID: UserID, by actor: Operator, reason: String) async throws -> Account {
        try AccessPolicy.require(actor.role, .showAccounts)
        return try await pool.withTransaction { connection in
            let rows = try await connection.query("SELECT \(Self.columns) FROM accounts WHERE user_id = $1", [userID.value])
            guard let row = rows.first else { throw AccountsError.accountNotFound }
            try await audit.record(
                AuditEvent(occurredAt: clock.now, actor: actor.userID.value, action: "account.show", subject: userID.value,
                           requestID: reason),
                on: connection)
            return try Self.decode(row)
        }
    }

    /// The account with this user ID, read in the caller's transaction and not audited: for a
    /// service that records its own use of it (the gate's validity step).
    public func find(_ userID: UserID, on connection: PostgresConnection) async throws -> Account? {
        try await connection.query("SELECT \(Self.columns) FROM accounts WHERE user_id = $1", [userID.value]).first.map(Self.decode)
    }

    /// Disables or enables an account; disabling revokes its sessions.
    public func setStatus(_ status: AccountStatus, of userID: UserID, by actor: Operator) async throws {
        try AccessPolicy.require(actor.role, .changeAccountStatus)
        try await pool.withTransaction { connection in
            let now = clock.now
            // Serialized with bootstrap and other disables: two admins cannot disable each other at once.
            try await connection.query("SELECT pg_advisory_xact_lock($1)", [Bootstrap.lockKey])
            let rows = try await connection.query(
                "UPDATE accounts SET status = $2, updated_at = $3 WHERE user_id = $1 RETURNING id, role", [userID.value, status.rawValue, now])
            guard let id = try rows.first?.decode(Int64.self, column: "id") else { throw AccountsError.accountNotFound }
            if status == .disabled, try rows.first?.decode(String.self, column: "role") == Role.adminPPE.rawValue {
                let left = try await connection.query("SELECT count(*) AS n FROM accounts WHERE role = 'admin_ppe' AND status = 'active'")
                guard try left.first?.decode(Int.self, column: "n") ?? 0 > 0 else { throw AccountsError.lastAdministrator }
            }
            if status == .disabled {
                try await connection.execute("UPDATE sessions SET revoked_at = $2 WHERE account_id = $1 AND revoked_at IS NULL", [id, now])
            }
            try await audit.record(
                AuditEvent(occurredAt: now, actor: actor.userID.value, action: status == .disabled ? "account.disable" : "account.enable",
                           subject: userID.value),
                on: connection)
        }
    }

    /// Lifts a lockout and clears the failure count.
    public func unlock(_ userID: UserID, by actor: Operator) async throws {
        try AccessPolicy.require(actor.role, .unlockAccounts)
        try await pool.withTransaction { connection in
            let now = clock.now
            let changed = try await connection.execute(
                "UPDATE accounts SET locked_until = NULL, failed_attempts = 0, lockouts = 0, updated_at = $2 WHERE user_id = $1",
                [userID.value, now])
            guard changed == 1 else { throw AccountsError.accountNotFound }
            try await LoginThrottle.clear(userID: userID.value, on: connection)
            try await audit.record(AuditEvent(occurredAt: now, actor: actor.userID.value, action: "account.unlock", subject: userID.value), on: connection)
        }
    }

    static func conflict(_ error: PostgresError) -> AccountsError {
        guard case .server(let server) = error else { return .conflict(.userID) }
        switch server.constraint {
        case "accounts_email": return .conflict(.email)
        case "accounts_nip": return .conflict(.nip)
        default: return .conflict(.userID)
        }
    }

    static func decode(_ row: PostgresRow) throws -> Account {
        Account(
            id: try row.decode(Int64.self, column: "id"),
            userID: try UserID(try row.decode(String.self, column: "user_id")),
            role: try Role(parsing: try row.decode(String.self, column: "role")),
            fullName: try FullName(try row.decode(String.self, column: "full_name")),
            nip: try row.decode(String?.self, column: "nip").map { try NIP($0) },
            email: try EmailAddress(try row.decode(String.self, column: "email")),
            agency: try Agency(try row.decode(String.self, column: "agency")),
            status: AccountStatus(rawValue: try row.decode(String.self, column: "status")) ?? .disabled,
            mustChangePassword: try row.decode(Bool.self, column: "must_change_password"),
            lockedUntil: try row.decode(Date?.self, column: "locked_until"),
            createdAt: try row.decode(Date.self, column: "created_at"),
            updatedAt: try row.decode(Date.self, column: "updated_at"))
    }
}

func require<T>(_ value: T?) throws -> T {
    guard let value else { throw AccountsError.accountNotFound }
    return value
}
