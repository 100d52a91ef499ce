import Audit
import Foundation
import PasswordHashing
import Postgres

/// Passwords and sessions: temporary-password resets, login with forced first-login change,
/// password change under the policy, lockout after repeated failures, and session tokens.
public struct Credentials: Sendable {
    let pool: ConnectionPool
    let hasher: PasswordHasher
    let policy: PasswordPolicy
    let settings: CredentialSettings
    let clock: ServiceClock
    let randomBytes: RandomBytes
    let audit: AuditTrail
    /// Verified against when the user ID is unknown, so that case costs one Argon2 like any other.
    let dummyHash: PasswordHash
    let throttle: LoginThrottle
    /// Seals TOTP secrets and MACs recovery codes (the key lives outside the database).
    let secrets: SecretBox

    public init(
        pool: ConnectionPool, hasher: PasswordHasher, policy: PasswordPolicy, settings: CredentialSettings,
        clock: ServiceClock, randomBytes: RandomBytes = .system, audit: AuditTrail, secrets: SecretBox = .ephemeral()
    ) async throws {
        self.secrets = secrets
        self.pool = pool
        self.hasher = hasher
        self.policy = policy
        self.settings = settings
        self.clock = clock
        self.randomBytes = randomBytes
        self.audit = audit
        self.throttle = LoginThrottle(pool: pool, settings: settings)
        self.dummyHash = try await hasher.hash(TemporaryPassword(randomBytes: randomBytes).reveal)
    }

    /// Password hashes waiting for a worker now (for metrics).
    public var hashQueueDepth: Int { hasher.pool.queueDepth }

    /// Under a flood, a login is refused before anything else — the address budget's write, the
    /// database, Argon2 — with the same answer for every user ID, so the cores stay with the
    /// hashes already queued and a refusal costs almost nothing.
    public func refuseIfOverloaded() throws {
        guard !hasher.pool.isSaturated else { throw PasswordHashingError.overloaded(queued: hasher.pool.queueDepth) }
    }

    // MARK: Temporary passwords

    /// A temporary password and its hash, made before the transaction that installs it so that
    /// Argon2 never runs while a database transaction is open.
    public struct PreparedTemporaryPassword: Sendable {
        public let password: TemporaryPassword
        let hash: PasswordHash
    }

    public func prepareTemporaryPassword() async throws -> PreparedTemporaryPassword {
        let password = TemporaryPassword(randomBytes: randomBytes)
        return PreparedTemporaryPassword(password: password, hash: try await hasher.hash(password.reveal))
    }

    /// Installs a prepared temporary password inside the caller's transaction (bootstrap,
    /// enrolment, operator recovery): replaces any earlier one, marks the account must-change,
    /// revokes its sessions and audits the reset, in one statement. Returns when it expires.
    @discardableResult
    public func installTemporaryPassword(
        _ prepared: PreparedTemporaryPassword, accountID: Int64, userID: String, actor: String, requestID: String?,
        on connection: PostgresConnection
    ) async throws -> Date {
        var statement = CompositeStatement()
        let (expiresAt, event) = addTemporaryPassword(prepared, accountID: accountID, userID: userID, actor: actor, requestID: requestID,
                                                      at: clock.now, to: &statement)
        statement.add("reset_audit", AuditTrail.insert([event], into: &statement))
        let rows = try await connection.query(statement, returning: "SELECT count(*) AS reset FROM \(Self.resetAccount)")
        guard try rows.first?.decode(Int.self, column: "reset") == 1 else { throw AccountsError.accountNotFound }
        return expiresAt
    }

    /// The part of a statement whose `RETURNING` holds the reset account's `user_id` and `email`.
    public static let resetAccount = "reset_account"

    /// Adds a temporary password's writes to the caller's statement (SOP step 6 puts them in its
    /// one transaction): the hash, must-change and expiry; the replaced password into the history
    /// (unless it was itself temporary, never chosen), so the user cannot pick the pre-reset one
    /// again; every throttle count and lock of the user ID lifted; every session revoked; a login
    /// half-done before the reset (password given, code due) dropped. Returns the expiry and the
    /// audit row the caller appends with its own.
    public func addTemporaryPassword(
        _ prepared: PreparedTemporaryPassword, accountID: Int64, userID: String, actor: String, requestID: String?,
        at now: Date, to statement: inout CompositeStatement
    ) -> (expiresAt: Date, audit: AuditEvent) {
        let expiresAt = now.addingTimeInterval(settings.temporaryPasswordLifetime)
        let account = statement.bind(accountID, as: "bigint")
        let at = statement.bind(now, as: "timestamptz")
        // The old values come from a locked read of the same row in the UPDATE's FROM: the newest
        // committed version, even when a change raced this reset.
        statement.add(Self.resetAccount, """
            UPDATE accounts x SET password_hash = \(statement.bind(prepared.hash.encoded, as: "text")), must_change_password = true,
                   temp_password_expires_at = \(statement.bind(expiresAt, as: "timestamptz")), failed_attempts = 0, locked_until = NULL, updated_at = \(at)
            FROM (SELECT id, password_hash, must_change_password FROM accounts WHERE id = \(account) FOR UPDATE) old
            WHERE x.id = old.id RETURNING x.id, x.user_id, x.email, old.password_hash AS replaced, old.must_change_password AS was_temporary
            """)
        statement.add("reset_history", """
            INSERT INTO password_history (account_id, password_hash, replaced_at)
            SELECT id, replaced, \(at) FROM \(Self.resetAccount) WHERE replaced IS NOT NULL AND NOT was_temporary
            """)
        LoginThrottle.addClear(userID: userID, to: &statement)
        statement.add("reset_sessions", "UPDATE sessions SET revoked_at = \(at) WHERE account_id = \(account) AND revoked_at IS NULL")
        statement.add("reset_challenges", "DELETE FROM login_challenges WHERE account_id = \(account)")
        let event = AuditEvent(occurredAt: now, actor: actor, action: "password.reset", subject: userID, requestID: requestID,
                               details: ["expires_at": .string(ISO8601DateFormatter().string(from: expiresAt))])
        return (expiresAt, event)
    }

    // MARK: Login

    struct StoredCredentials {
        let id: Int64
        let userID: UserID
        let role: Role
        let status: AccountStatus
        let hash: PasswordHash?
        let mustChange: Bool
        let temporaryExpiresAt: Date?
        /// A confirmed authenticator: the login needs its code.
        let hasTOTP: Bool
    }

    private func load(_ userID: UserID, on connection: PostgresConnection) async throws -> StoredCredentials? {
        var statement = CompositeStatement()
        return try await load(userID, with: &statement, on: connection)
    }

    /// Reads the account as the last part of `statement` (a login's reservation is counted in the
    /// same one); `committing`: as the last statement of the transaction, with its COMMIT.
    private func load(_ userID: UserID, with statement: inout CompositeStatement, committing: Bool = false,
                      on connection: PostgresConnection) async throws -> StoredCredentials? {
        let wanted = statement.bind(userID.value, as: "text")
        let read = """
            SELECT id, user_id, role, status, password_hash, must_change_password, temp_password_expires_at,
                   EXISTS (SELECT 1 FROM account_totp t WHERE t.account_id = accounts.id AND t.confirmed_at IS NOT NULL) AS has_totp
            FROM accounts WHERE user_id = \(wanted)
            """
        let rows = try await committing ? connection.queryCommitting(statement, returning: read) : connection.query(statement, returning: read)
        guard let row = rows.first else { return nil }
        return StoredCredentials(
            id: try row.decode(Int64.self, at: 0), userID: try UserID(try row.decode(String.self, at: 1)),
            role: try Role(parsing: try row.decode(String.self, at: 2)),
            status: AccountStatus(rawValue: try row.decode(String.self, at: 3)) ?? .disabled,
            hash: try row.decode(String?.self, at: 4).map { try PasswordHash(encoded: $0) },
            mustChange: try row.decode(Bool.self, at: 5), temporaryExpiresAt: try row.decode(Date?.self, at: 6),
            hasTOTP: try row.decode(Bool.self, at: 7))
    }

    /// Checks a user ID and password from `address` (nil: the local CLI). Unknown user IDs and
    /// wrong passwords get the same answers in the same order — the lockout included — after the
    /// same work: the attempt is reserved in `LoginThrottle` before any Argon2, then settled.
    public func login(userID text: String, password: String, from address: String? = nil) async throws -> LoginOutcome {
        // Under a flood, refuse before the database read: the same answer for every user ID, and
        // the CPU stays with the hashes already queued (see `spse-bench login --clients 512`).
        try refuseIfOverloaded()
        // Admission to the hashing pool comes first: a login that has to wait for room waits here,
        // holding no pooled connection and no throttle row, and a flood is paced before it
        // reaches the database. The place is released on every path (`release`, or when dropped).
        // A login refused here has cost no digest and no normalization either.
        let admission = try await hasher.pool.admit()
        defer { admission.release() }
        let now = clock.now
        let normalized = policy.normalize(password)
        let keys = LoginThrottle.Keys(userID: text, address: address)
        // One transaction reserves the attempt and reads the account: a user ID that does not
        // exist costs the same statements as one that does. Two round trips: BEGIN rides with
        // the reservation, COMMIT with the count and the read. The COMMIT does not wait for the
        // disk: no answer is given before the verdict's own commit, which is flushed and flushes
        // the log before it; a reservation lost in a crash was never answered, and counted for
        // nobody (as when its lease ends).
        let (reservation, stored) = try await pool.withRetryingTransaction(isolation: .readCommitted, durability: .flushedByNext) { connection in
            var counted = CompositeStatement()
            if let wait = try await throttle.reserve(keys, at: now, thenCounting: &counted, on: connection) {
                return (LoginThrottle.Reservation.locked(retryAfter: wait), StoredCredentials?.none)
            }
            guard let userID = try? UserID(text) else {
                try await connection.queryCommitting(counted)
                return (.reserved, nil)
            }
            return (.reserved, try await load(userID, with: &counted, committing: true, on: connection))
        }
        if case .locked(let wait) = reservation { return .locked(retryAfter: wait) }
        do {
            return try await judge(password, normalized: normalized, of: stored, keys: keys, at: now, admission: admission)
        } catch {
            // No verdict reached (overload, a database fault, a cancelled request): the attempt
            // is given back; if even that fails, its lease ends it. It never counts as a guess.
            try? await throttle.release(keys, at: now)
            throw error
        }
    }

    /// The verdict on a reserved attempt, settled with its session or its failure.
    private func judge(_ password: String, normalized: String, of stored: StoredCredentials?, keys: LoginThrottle.Keys,
                       at now: Date, admission: HashingPool.Admission) async throws -> LoginOutcome {
        // A temporary password is compared as it was dictated: separators and case do not count.
        let presented = stored?.mustChange == true ? TemporaryPassword.canonical(password) ?? normalized : normalized
        let verified = try await hasher.verify(presented, against: stored?.hash ?? dummyHash, in: admission)
        let matches = verified && stored?.hash != nil
        guard let stored, matches else {
            try await pool.withRetryingTransaction(isolation: .readCommitted) { connection in
                let failure = try await throttle.settle(keys, succeeded: false, at: now, on: connection)
                if let stored { try await auditFailure(stored, failure, at: now, on: connection) }
            }
            return .invalidCredentials
        }
        // The right password of an account that may not log in: the guess is settled as right (it
        // was), and the refusal audited, in one transaction.
        let refusal: LoginOutcome? = stored.status == .disabled ? .disabled
            : stored.mustChange && (stored.temporaryExpiresAt.map { $0 <= now } ?? false) ? .temporaryPasswordExpired : nil
        if let refusal {
            try await pool.withRetryingTransaction(isolation: .readCommitted) { connection in
                _ = try await throttle.settle(keys, succeeded: true, at: now, on: connection)
                try await audit.record(AuditEvent(occurredAt: now, actor: stored.userID.value, action: "login.refused",
                                                  subject: stored.userID.value, details: ["reason": .string(refusal.code)]), on: connection)
            }
            return refusal
        }
        // Stronger parameters configured since this hash was made: replace it while we hold the password.
        let rehash = stored.hash.map(hasher.needsRehash) == true ? try await hasher.hash(presented) : nil
        if stored.hasTOTP && !stored.mustChange {
            // The password was right; the session waits for the code (`completeLogin`).
            let challenge = try await pool.withRetryingTransaction(isolation: .readCommitted) { connection in
                try await throttle.release(keys, at: now, on: connection)
                try await replaceHash(of: stored, with: rehash, on: connection)
                return try await issueChallenge(accountID: stored.id, at: now, on: connection)
            }
            return .totpRequired(challenge)
        }
        let scope: SessionScope = stored.mustChange ? .changePasswordOnly
            : requiresSecondFactor(stored.role) ? .totpEnrolment : .full
        let token = SessionToken(randomBytes: randomBytes)
        // The success settles with its session and audit row in one statement: one round trip and
        // one commit, atomic without a transaction block around it.
        var statement = CompositeStatement()
        LoginThrottle.addSettledSuccess(keys, at: now, to: &statement)
        if let rehash, let old = stored.hash {
            statement.add("rehashed", """
                UPDATE accounts SET password_hash = \(statement.bind(rehash.encoded, as: "text"))
                WHERE id = \(statement.bind(stored.id, as: "bigint")) AND password_hash = \(statement.bind(old.encoded, as: "text"))
                """)
        }
        let session = addSession(token, for: stored, scope: scope, at: now, to: &statement)
        statement.add("login_audit", AuditTrail.insert([
            AuditEvent(occurredAt: now, actor: stored.userID.value, action: "login.success", subject: stored.userID.value,
                       details: ["scope": .string(scope.rawValue), "rehashed": .bool(rehash != nil)]),
        ], into: &statement))
        try await pool.withRetryingStatement { try await $0.query(statement) }
        switch scope {
        case .full: return .ok(token, session)
        case .changePasswordOnly: return .passwordChangeRequired(token, session)
        case .totpEnrolment: return .totpEnrolmentRequired(token, session)
        }
    }

    /// Stronger parameters configured since the stored hash was made: the new hash, unless the
    /// password changed meanwhile.
    private func replaceHash(of stored: StoredCredentials, with rehash: PasswordHash?, on connection: PostgresConnection) async throws {
        guard let rehash, let old = stored.hash else { return }
        try await connection.execute(
            "UPDATE accounts SET password_hash = $2 WHERE id = $1 AND password_hash = $3", [stored.id, rehash.encoded, old.encoded])
    }

    /// Verifies a password someone presents again (the current one, to change it) under the same
    /// throttle as logins: a stolen session gets no more guesses than a login would.
    func verifyThrottled(_ password: String, against stored: PasswordHash, userID: UserID, address: String?) async throws -> Bool {
        let keys = LoginThrottle.Keys(userID: userID.value, address: address)
        let now = clock.now
        if case .locked(let wait) = try await throttle.reserve(keys, at: now) { throw AccountsError.throttled(retryAfter: Int(wait.rounded(.up))) }
        do {
            let matches = try await hasher.verify(password, against: stored)
            _ = try await throttle.settle(keys, succeeded: matches, at: now)
            return matches
        } catch {
            try? await throttle.release(keys, at: now)
            throw error
        }
    }

    /// The audit rows of a failed login of an existing account, and of the lock it caused: the
    /// transaction's last statement, sent with its COMMIT.
    private func auditFailure(_ stored: StoredCredentials, _ failure: LoginThrottle.Failure?, at now: Date,
                              on connection: PostgresConnection) async throws {
        var events: [AuditEvent] = []
        if let seconds = failure?.lockedFor {
            events.append(AuditEvent(occurredAt: now, actor: stored.userID.value, action: "account.locked", subject: stored.userID.value,
                                     details: ["failures": .int(failure?.consecutive ?? 0), "seconds": .int(Int(seconds))]))
        }
        events.append(AuditEvent(occurredAt: now, actor: stored.userID.value, action: "login.failure", subject: stored.userID.value,
                                 details: ["consecutive": .int(failure?.consecutive ?? 0)]))
        try await audit.record(events, on: connection, committing: true)
    }

    // MARK: Sessions

    private func createSession(_ token: SessionToken, for stored: StoredCredentials, scope: SessionScope, at now: Date,
                               on connection: PostgresConnection) async throws -> Session {
        var statement = CompositeStatement()
        let session = addSession(token, for: stored, scope: scope, at: now, to: &statement)
        try await connection.query(statement)
        return session
    }

    /// A new session's row, as a part of the caller's statement.
    private func addSession(_ token: SessionToken, for stored: StoredCredentials, scope: SessionScope, at now: Date,
                            to statement: inout CompositeStatement) -> Session {
        let expiresAt = now.addingTimeInterval(settings.sessionAbsoluteTimeout)
        let at = statement.bind(now, as: "timestamptz")
        statement.add("new_session", """
            INSERT INTO sessions (token_hash, account_id, scope, created_at, last_seen_at, expires_at)
            VALUES (\(statement.bind(token.digest, as: "bytea")), \(statement.bind(stored.id, as: "bigint")), \(statement.bind(scope.rawValue, as: "text")),
                    \(at), \(at), \(statement.bind(expiresAt, as: "timestamptz")))
            """)
        return Session(accountID: stored.id, userID: stored.userID, role: stored.role, scope: scope, expiresAt: expiresAt)
    }

    /// The session behind a bearer token, refreshed; throws when it is unknown, idle too long,
    /// past its absolute expiry, revoked, or limited to a password change when `full` is needed.
    public func session(for token: SessionToken, requireFull: Bool = true) async throws -> Session {
        let now = clock.now
        return try await pool.withConnection { connection in
            // The idle clock is touched at most every `Self.touchGranularity`: a request within it
            // writes nothing, so a step costs one commit (its own), not two.
            let rows = try await connection.query(
                """
                WITH s AS (
                    SELECT s.token_hash, s.account_id, a.user_id, a.role, s.scope, s.expires_at, s.stepped_up_at, s.created_at
                    FROM sessions s JOIN accounts a ON a.id = s.account_id
                    WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND a.status = 'active' AND s.expires_at > $2 AND s.last_seen_at > $3),
                touched AS (
                    UPDATE sessions t SET last_seen_at = $2 FROM s WHERE t.token_hash = s.token_hash AND t.last_seen_at < $4)
                SELECT account_id, user_id, role, scope, expires_at, stepped_up_at, created_at FROM s
                """, [token.digest, now, now.addingTimeInterval(-settings.sessionIdleTimeout), now.addingTimeInterval(-Self.touchGranularity)])
            guard let row = rows.first else { throw AccountsError.sessionInvalid }
            let session = Session(
                accountID: try row.decode(Int64.self, at: 0), userID: try UserID(try row.decode(String.self, at: 1)),
                role: try Role(parsing: try row.decode(String.self, at: 2)),
                scope: SessionScope(rawValue: try row.decode(String.self, at: 3)) ?? .changePasswordOnly,
                expiresAt: try row.decode(Date.self, at: 4), steppedUpAt: try row.decode(Date?.self, at: 5), createdAt: try row.decode(Date.self, at: 6))
            if requireFull, session.scope != .full {
                throw session.scope == .totpEnrolment ? AccountsError.totpEnrolmentRequired : AccountsError.sessionScope
            }
            return session
        }
    }

    /// How stale a session's `last_seen_at` may get before a request writes it again: the idle
    /// timeout is then exact to within this.
    static let touchGranularity: TimeInterval = 30

    /// Ends the session; unknown tokens are answered the same way.
    public func logout(_ token: SessionToken) async throws {
        let now = clock.now
        try await pool.withTransaction { connection in
            let rows = try await connection.query(
                """
                UPDATE sessions s SET revoked_at = $2 FROM accounts a
                WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND a.id = s.account_id RETURNING a.user_id
                """, [token.digest, now])
            if let userID = try rows.first?.decode(String.self, at: 0) {
                try await audit.record(AuditEvent(occurredAt: now, actor: userID, action: "logout", subject: userID), on: connection)
            }
        }
    }
}
