import Audit
import Crypto
import Foundation
import Postgres

/// The login's second step: the opaque token that stands for "password accepted, code due".
public struct LoginChallenge: Sendable, Equatable {
    public let token: String
    public let expiresAt: Date
}

/// What enrolment shows: the key as authenticator apps take it typed in (RFC 4648 base32 of the
/// shared secret) and as an `otpauth://` URI (for a QR code).
public struct TOTPEnrolment: Sendable {
    public let secret: String
    public let uri: String
}

/// RFC 4648 base32 without padding, the form authenticator apps read.
enum Base32 {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    static func encode(_ bytes: [UInt8]) -> String {
        var output = "", buffer = 0, bits = 0
        for byte in bytes {
            buffer = (buffer << 8) | Int(byte)
            bits += 8
            while bits >= 5 {
                output.append(alphabet[(buffer >> (bits - 5)) & 31])
                bits -= 5
            }
        }
        if bits > 0 { output.append(alphabet[(buffer << (5 - bits)) & 31]) }
        return output
    }
}

/// TOTP (RFC 6238: HMAC-SHA1, 6 digits, 30 s steps, ±1 step; `TOTP`) with the secret sealed in
/// the database, a code accepted
/// once (the last accepted step is stored under a row lock, so a replay or a race is refused),
/// ten one-time recovery codes stored as MACs, and the login throttle on every code.
extension Credentials {
    static let secretAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
    static let recoveryCodeCount = 10

    /// Whether `role` must have an authenticator (and so step up for SOP step 6).
    public func requiresSecondFactor(_ role: Role) -> Bool { settings.totpRequiredRoles.contains(role) }

    public var stepUpWindow: TimeInterval { settings.stepUpWindow }

    // MARK: Login, second step

    /// Completes a login whose password was accepted: a TOTP code, or one of the recovery codes.
    /// Wrong codes count in the login throttle like wrong passwords, and spend the challenge after
    /// `challengeAttempts`. Success gives a full session whose step-up is now.
    public func completeLogin(challenge: String, code: String, from address: String? = nil) async throws -> LoginOutcome {
        let now = clock.now
        let digest = Array(SHA256.hash(data: Data(challenge.utf8)))
        // Everything, the reservation included, in one transaction: a code that reaches no verdict
        // rolls its reservation back; a deadlock is run again.
        return try await pool.withRetryingTransaction(isolation: .readCommitted) { connection -> LoginOutcome in
            guard let row = try await connection.query(
                """
                SELECT c.account_id, a.user_id, a.role, a.status, c.attempts FROM login_challenges c JOIN accounts a ON a.id = c.account_id
                WHERE c.token_hash = $1 AND c.used_at IS NULL AND c.expires_at > $2 AND NOT a.must_change_password FOR UPDATE OF c
                """, [digest, now]).first
            else { return .invalidCredentials }
            let accountID = try row.decode(Int64.self, column: "account_id")
            let userID = try UserID(try row.decode(String.self, column: "user_id"))
            let role = try Role(parsing: try row.decode(String.self, column: "role"))
            guard try row.decode(String.self, column: "status") == AccountStatus.active.rawValue,
                  try row.decode(Int.self, column: "attempts") < settings.challengeAttempts else { return .invalidCredentials }
            let keys = LoginThrottle.Keys(userID: userID.value, address: address)
            if case .locked(let wait) = try await throttle.reserve(keys, at: now, on: connection) { return .locked(retryAfter: wait) }
            let factor: String?
            if try await acceptTOTP(code, accountID: accountID, at: now, on: connection) {
                factor = "totp"
            } else if try await useRecoveryCode(code, accountID: accountID, at: now, on: connection) {
                factor = "recovery_code"
                try await audit.record(AuditEvent(occurredAt: now, actor: userID.value, action: "totp.recovery_used", subject: userID.value,
                                                  details: ["left": .int(try await recoveryCodesLeft(accountID, on: connection))]), on: connection)
            } else {
                factor = nil
            }
            _ = try await throttle.settle(keys, succeeded: factor != nil, at: now, on: connection)
            guard let factor else {
                try await connection.execute("UPDATE login_challenges SET attempts = attempts + 1 WHERE token_hash = $1", [digest])
                try await audit.record(AuditEvent(occurredAt: now, actor: userID.value, action: "login.failure", subject: userID.value,
                                                  details: ["factor": .string("totp")]), on: connection)
                return .invalidCredentials
            }
            try await connection.execute("UPDATE login_challenges SET used_at = $2 WHERE token_hash = $1", [digest, now])
            let token = SessionToken(randomBytes: randomBytes)
            let expiresAt = now.addingTimeInterval(settings.sessionAbsoluteTimeout)
            try await connection.execute(
                """
                INSERT INTO sessions (token_hash, account_id, scope, created_at, last_seen_at, expires_at, stepped_up_at)
                VALUES ($1, $2, 'full', $3, $3, $4, $3)
                """, [token.digest, accountID, now, expiresAt])
            try await audit.record(AuditEvent(occurredAt: now, actor: userID.value, action: "login.success", subject: userID.value,
                                              details: ["scope": .string("full"), "factor": .string(factor)]), on: connection)
            return .ok(token, Session(accountID: accountID, userID: userID, role: role, scope: .full, expiresAt: expiresAt, steppedUpAt: now))
        }
    }

    /// The challenge a login with a confirmed authenticator gets instead of a session.
    func issueChallenge(accountID: Int64, at now: Date, on connection: PostgresConnection) async throws -> LoginChallenge {
        let token = SessionToken(randomBytes: randomBytes)
        let expiresAt = now.addingTimeInterval(settings.challengeLifetime)
        try await connection.execute("DELETE FROM login_challenges WHERE expires_at < $1", [now])
        try await connection.execute(
            "INSERT INTO login_challenges (token_hash, account_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
            [token.digest, accountID, now, expiresAt])
        return LoginChallenge(token: token.value, expiresAt: expiresAt)
    }

    // MARK: Enrolment

    /// Starts (or shows again, until confirmed) the enrolment of an authenticator for the
    /// session's account. Refused while one is confirmed: a lost one is reset by an admin_ppe.
    public func beginTOTPEnrolment(token: SessionToken) async throws -> TOTPEnrolment {
        let session = try await session(for: token, requireFull: false)
        guard session.scope != .changePasswordOnly else { throw AccountsError.sessionScope }
        let now = clock.now
        return try await pool.withTransaction { connection in
            let existing = try await connection.query(
                "SELECT secret_sealed, confirmed_at, enrolling_session FROM account_totp WHERE account_id = $1 FOR UPDATE", [session.accountID]).first
            let secret: String
            if let existing, try existing.decode([UInt8]?.self, column: "enrolling_session") == token.digest {
                guard try existing.decode(Date?.self, column: "confirmed_at") == nil else { throw AccountsError.totpAlreadyEnrolled }
                // The same session asks again (a reload): the same key.
                secret = String(decoding: try secrets.open(try existing.decode([UInt8].self, column: "secret_sealed"), context: Self.context(session.accountID)),
                                as: UTF8.self)
            } else {
                if let existing, try existing.decode(Date?.self, column: "confirmed_at") != nil { throw AccountsError.totpAlreadyEnrolled }
                // A new session: a new key, and any pending one from another session is void.
                secret = newSecret()
                try await connection.execute(
                    """
                    INSERT INTO account_totp (account_id, secret_sealed, created_at, enrolling_session) VALUES ($1, $2, $3, $4)
                    ON CONFLICT (account_id) DO UPDATE SET secret_sealed = $2, created_at = $3, enrolling_session = $4, last_step = 0
                    """,
                    [session.accountID, try secrets.seal(Array(secret.utf8), context: Self.context(session.accountID)), now, token.digest])
                try await audit.record(AuditEvent(occurredAt: now, actor: session.userID.value, action: "totp.enrolment_started",
                                                  subject: session.userID.value), on: connection)
            }
            return TOTPEnrolment(secret: Base32.encode(Array(secret.utf8)),
                                 uri: TOTP(secret: Array(secret.utf8)).authenticatorURI(label: "SPSE:\(session.userID.value)", issuer: "SPSE LPSE"))
        }
    }

    /// Confirms the enrolment with a first code: the authenticator is on from now on, the session
    /// becomes full (and stepped up), and ten recovery codes are returned, to be shown once.
    public func confirmTOTPEnrolment(token: SessionToken, code: String, from address: String? = nil) async throws -> [String] {
        let session = try await session(for: token, requireFull: false)
        guard session.scope != .changePasswordOnly else { throw AccountsError.sessionScope }
        let now = clock.now
        // A wrong code is counted and committed before it is refused.
        let codes = try await pool.withTransaction { connection -> [String]? in
            guard let row = try await connection.query(
                "SELECT confirmed_at, enrolling_session FROM account_totp WHERE account_id = $1 FOR UPDATE", [session.accountID]).first
            else { throw AccountsError.totpNotEnrolled }
            guard try row.decode(Date?.self, column: "confirmed_at") == nil else { throw AccountsError.totpAlreadyEnrolled }
            // Only the session that was shown the key confirms it.
            guard try row.decode([UInt8]?.self, column: "enrolling_session") == token.digest else { throw AccountsError.totpNotEnrolled }
            let accepted = try await judgeCode(code, of: session, from: address, at: now, on: connection, requireConfirmed: false)
            guard accepted else { return nil }
            try await connection.execute(
                "UPDATE account_totp SET confirmed_at = $2, enrolling_session = NULL WHERE account_id = $1", [session.accountID, now])
            let codes = try await replaceRecoveryCodes(session.accountID, at: now, on: connection)
            try await connection.execute(
                "UPDATE sessions SET scope = 'full', stepped_up_at = $2 WHERE token_hash = $1", [token.digest, now])
            try await audit.record(AuditEvent(occurredAt: now, actor: session.userID.value, action: "totp.enrolled", subject: session.userID.value,
                                              details: ["recovery_codes": .int(codes.count)]), on: connection)
            return codes
        }
        guard let codes else { throw AccountsError.invalidCredentials }
        return codes
    }

    // MARK: Step-up

    /// Proves the second factor again within a session, for SOP step 6: throttled like a login,
    /// each code accepted once, audited.
    public func stepUp(token: SessionToken, code: String, from address: String? = nil) async throws -> Date {
        let session = try await session(for: token)
        let now = clock.now
        // The refusal's count and audit row are committed before it is answered.
        let accepted = try await pool.withTransaction { connection -> Bool in
            let accepted = try await judgeCode(code, of: session, from: address, at: now, on: connection)
            try await audit.record(AuditEvent(occurredAt: now, actor: session.userID.value, action: "totp.step_up", subject: session.userID.value,
                                              details: ["accepted": .bool(accepted)]), on: connection)
            if accepted {
                try await connection.execute("UPDATE sessions SET stepped_up_at = $2 WHERE token_hash = $1", [token.digest, now])
            }
            return accepted
        }
        guard accepted else { throw AccountsError.invalidCredentials }
        return now
    }

    // MARK: Reset

    /// Removes the authenticator and recovery codes of `accountID` and ends its sessions: its owner
    /// enrols a new one at the next login. Audited with the reason by the caller's transaction.
    public func resetSecondFactor(accountID: Int64, userID: String, actor: String, reason: String, on connection: PostgresConnection) async throws {
        let now = clock.now
        let removed = try await connection.execute("DELETE FROM account_totp WHERE account_id = $1", [accountID])
        try await connection.execute("DELETE FROM recovery_codes WHERE account_id = $1", [accountID])
        try await connection.execute("UPDATE sessions SET revoked_at = $2 WHERE account_id = $1 AND revoked_at IS NULL", [accountID, now])
        try await audit.record(AuditEvent(occurredAt: now, actor: actor, action: "totp.reset", subject: userID,
                                          details: ["reason": .string(reason), "had_authenticator": .bool(removed > 0)]), on: connection)
    }

    // MARK: Codes

    /// A code given within a session (confirming an enrolment, a step-up), under the login
    /// throttle: reserved before it is judged, settled after, in the caller's transaction.
    func judgeCode(_ code: String, of session: Session, from address: String?, at now: Date, on connection: PostgresConnection,
                   requireConfirmed: Bool = true) async throws -> Bool {
        let keys = LoginThrottle.Keys(userID: session.userID.value, address: address)
        if case .locked(let wait) = try await throttle.reserve(keys, at: now, on: connection) {
            throw AccountsError.throttled(retryAfter: Int(wait.rounded(.up)))
        }
        let accepted = try await acceptTOTP(code, accountID: session.accountID, at: now, on: connection, requireConfirmed: requireConfirmed)
        _ = try await throttle.settle(keys, succeeded: accepted, at: now, on: connection)
        return accepted
    }

    /// Accepts `code` for the account's authenticator at `now` (±1 step) unless that step or a
    /// later one was accepted before; records the step under the row lock.
    func acceptTOTP(_ code: String, accountID: Int64, at now: Date, on connection: PostgresConnection,
                    requireConfirmed: Bool = true) async throws -> Bool {
        let digits = code.filter { !$0.isWhitespace }
        guard digits.count == 6, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber), let number = Int(digits) else { return false }
        guard let row = try await connection.query(
            "SELECT secret_sealed, confirmed_at, last_step FROM account_totp WHERE account_id = $1 FOR UPDATE", [accountID]).first
        else { return false }
        if requireConfirmed, try row.decode(Date?.self, column: "confirmed_at") == nil { return false }
        let secret = String(decoding: try secrets.open(try row.decode([UInt8].self, column: "secret_sealed"), context: Self.context(accountID)),
                            as: UTF8.self)
        let lastStep = try row.decode(Int64.self, column: "last_step")
        let current = TOTP.step(at: now)
        let totp = TOTP(secret: Array(secret.utf8))
        // Compared over every candidate step, so the time taken does not say which one matched.
        var matched: Int64?
        for step in (current - 1)...(current + 1) where step > lastStep {
            let expected = totp.code(step: step)
            if Self.constantTimeEqual(expected, number) && matched == nil { matched = step }
        }
        guard let matched else { return false }
        try await connection.execute("UPDATE account_totp SET last_step = $2 WHERE account_id = $1", [accountID, matched])
        return true
    }

    static func constantTimeEqual(_ a: Int, _ b: Int) -> Bool {
        let x = withUnsafeBytes(of: a.littleEndian, Array.init), y = withUnsafeBytes(of: b.littleEndian, Array.init)
        return zip(x, y).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    func useRecoveryCode(_ code: String, accountID: Int64, at now: Date, on connection: PostgresConnection) async throws -> Bool {
        let normalized = code.lowercased().filter { $0.isLetter || $0.isNumber }
        guard normalized.count == 10 else { return false }
        let used = try await connection.execute(
            "UPDATE recovery_codes SET used_at = $3 WHERE account_id = $1 AND code_mac = $2 AND used_at IS NULL",
            [accountID, secrets.mac(normalized), now])
        return used == 1
    }

    func recoveryCodesLeft(_ accountID: Int64, on connection: PostgresConnection) async throws -> Int {
        try await connection.query("SELECT count(*)::int FROM recovery_codes WHERE account_id = $1 AND used_at IS NULL", [accountID])
            .first?.decode(Int.self, at: 0) ?? 0
    }

    /// Ten new recovery codes (`xxxxx-xxxxx`, ≈ 50 bits each); the earlier ones stop working.
    func replaceRecoveryCodes(_ accountID: Int64, at now: Date, on connection: PostgresConnection) async throws -> [String] {
        try await connection.execute("DELETE FROM recovery_codes WHERE account_id = $1", [accountID])
        var codes: [String] = []
        for _ in 0..<Self.recoveryCodeCount {
            let letters = Array(TemporaryPassword(randomBytes: randomBytes).reveal.filter { $0 != "-" }.prefix(10))
            let code = String(letters[0..<5]) + "-" + String(letters[5..<10])
            try await connection.execute(
                "INSERT INTO recovery_codes (account_id, code_mac, created_at) VALUES ($1, $2, $3)",
                [accountID, secrets.mac(String(letters)), now])
            codes.append(code)
        }
        return codes
    }

    /// What a sealed TOTP secret is bound to: its purpose and its account, so a copy moved to
    /// another row or table does not open.
    static func context(_ accountID: Int64) -> String { "totp-secret:\(accountID)" }

    /// 32 letters and digits (≈ 190 bits); the HMAC is keyed with the secret's UTF-8 bytes (as
    /// secrets enrolled before are), and the app gets those bytes in base32.
    func newSecret() -> String {
        var letters: [Character] = []
        while letters.count < 32 {
            for byte in randomBytes(64) where letters.count < 32 && byte < 248 {
                letters.append(Self.secretAlphabet[Int(byte) % Self.secretAlphabet.count])
            }
        }
        return String(letters)
    }
}

/// What an operator sees of an account's sign-in state: its authenticator, recovery codes left,
/// and its sessions that are still live (never a token).
public struct SignInState: Sendable, Equatable {
    public let authenticatorConfirmedAt: Date?
    public let recoveryCodesLeft: Int
    public let liveSessions: Int
    public let lastSeenAt: Date?
}

extension Credentials {
    /// The sign-in state of `accountID` now, in one read.
    public func signInState(accountID: Int64) async throws -> SignInState {
        let now = clock.now
        return try await pool.withConnection { connection in
            let row = try await connection.query(
                """
                SELECT (SELECT confirmed_at FROM account_totp WHERE account_id = $1) AS confirmed_at,
                       (SELECT count(*)::int FROM recovery_codes WHERE account_id = $1 AND used_at IS NULL) AS codes_left,
                       (SELECT count(*)::int FROM sessions WHERE account_id = $1 AND revoked_at IS NULL AND expires_at > $2
                           AND last_seen_at > $3) AS live,
                       (SELECT max(last_seen_at) FROM sessions WHERE account_id = $1) AS last_seen
                """, [accountID, now, now.addingTimeInterval(-settings.sessionIdleTimeout)]).first
            return SignInState(
                authenticatorConfirmedAt: try row?.decode(Date?.self, column: "confirmed_at") ?? nil,
                recoveryCodesLeft: try row?.decode(Int.self, column: "codes_left") ?? 0,
                liveSessions: try row?.decode(Int.self, column: "live") ?? 0,
                lastSeenAt: try row?.decode(Date?.self, column: "last_seen") ?? nil)
        }
    }
}
