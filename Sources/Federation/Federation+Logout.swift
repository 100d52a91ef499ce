import Accounts
import Audit
import Foundation
import Postgres

/// Delivers one logout token to an application's back-channel logout URI.
public protocol LogoutSender: Sendable {
    func post(logoutToken: String, to uri: String) async throws
}

/// Why a logout token did not arrive.
public enum LogoutDeliveryError: Error, Sendable, CustomStringConvertible {
    case answered(status: Int)
    case timeout
    case unusableURI

    public var description: String {
        switch self {
        case .answered(let status): "the application answered HTTP \(status)"
        case .timeout: "the application did not answer in time"
        case .unusableURI: "the back-channel logout URI cannot be used"
        }
    }
}

/// Back-channel logout (OpenID Connect Back-Channel Logout 1.0): the revocation of a session
/// queues a logout per application it reached (a trigger, whichever path revoked it, sql/020);
/// here each is signed and delivered, claimed with a lease so that any number of instances
/// deliver each one once, retried with backoff, given up on (audited) after `logoutAttempts`.
extension Federation {
    static let logoutEvent = "http://schemas.openid.net/event/backchannel-logout"
    /// Seconds after which an undelivered claim may be taken again by another instance.
    static let logoutClaimLease: TimeInterval = 60
    public static let logoutAttempts = 6

    static func logoutBackoff(afterAttempts attempts: Int) -> TimeInterval {
        [5, 30, 120, 600, 3600][min(max(attempts - 1, 0), 4)]
    }

    /// The logout token for `sid` at `clientID` (§2.4): no nonce, a fresh `jti`, typed `logout+jwt`.
    func logoutToken(clientID: String, subject: String, sid: String, key: SigningKey, at now: Date) throws -> String {
        try key.compactJWS([
            "iss": settings.issuer, "aud": clientID, "sub": subject, "sid": sid,
            "iat": Int(now.timeIntervalSince1970), "exp": Int(now.addingTimeInterval(120).timeIntervalSince1970),
            "jti": Base64URL.encode(randomBytes(16)), "events": [Self.logoutEvent: [String: String]()],
        ], type: "logout+jwt")
    }

    /// Delivers the logouts that are due; returns how many arrived and how many did not.
    /// A claim whose answer was lost is released, and an outcome that could not be written is
    /// written, first thing in the next round that reaches a primary (as the notice outbox does).
    @discardableResult
    public func deliverLogouts(with sender: any LogoutSender, limit: Int = 16) async throws -> (delivered: Int, failed: Int) {
        try await unsettledLogouts.settle(on: pool)
        let now = clock.now
        let claim = randomBytes(16)
        // If the claim's answer is lost, what it took is given back, with the attempt it counted.
        let claimed = try await unsettledLogouts.claim(releasedBy: {
            try await $0.execute("UPDATE oidc_logouts SET next_attempt_at = $2, attempts = attempts - 1, claim = NULL WHERE claim = $1 AND delivered_at IS NULL",
                                 [claim, now])
        }) {
            try await pool.withConnection { connection in
                try await connection.query(
                    """
                    WITH due AS (
                        SELECT id FROM oidc_logouts WHERE delivered_at IS NULL AND given_up_at IS NULL AND next_attempt_at <= $1
                        ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED)
                    UPDATE oidc_logouts l SET next_attempt_at = $3, attempts = l.attempts + 1, claim = $4
                    FROM due, oidc_clients c, accounts a
                    WHERE l.id = due.id AND c.client_id = l.client_id AND a.id = l.account_id
                    RETURNING l.id, l.client_id, l.sid, l.attempts, c.backchannel_logout_uri, a.oidc_subject::text AS sub
                    """, [now, limit, now.addingTimeInterval(Self.logoutClaimLease), claim]
                ).map { row in
                    (id: try row.decode(Int64.self, column: "id"), clientID: try row.decode(String.self, column: "client_id"),
                     sid: try row.decode(String.self, column: "sid"), attempts: try row.decode(Int.self, column: "attempts"),
                     uri: try row.decode(String?.self, column: "backchannel_logout_uri"), subject: try row.decode(String.self, column: "sub"),
                     claim: claim)
                }.sorted { $0.id < $1.id } as [ClaimedLogout]
            }
        }
        guard !claimed.isEmpty else { return (0, 0) }
        let key = try await signingKey()
        // Concurrently: an application that does not answer costs its own timeout, not the others'.
        let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
            for logout in claimed {
                group.addTask { try await deliver(logout, key: key, with: sender) }
            }
            return try await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        let delivered = outcomes.filter { $0 }.count
        let failed = outcomes.count - delivered
        return (delivered, failed)
    }

    typealias ClaimedLogout = (id: Int64, clientID: String, sid: String, attempts: Int, uri: String?, subject: String, claim: [UInt8])

    /// Sends one claimed logout and records its outcome; true when it arrived.
    func deliver(_ logout: ClaimedLogout, key: SigningKey, with sender: any LogoutSender) async throws -> Bool {
        var failure: String?
        do {
            guard let uri = logout.uri else { throw LogoutDeliveryError.unusableURI }
            try await sender.post(logoutToken: try logoutToken(clientID: logout.clientID, subject: logout.subject, sid: logout.sid, key: key, at: clock.now),
                                  to: uri)
        } catch {
            failure = String(String(describing: error).prefix(300))
        }
        let at = clock.now
        await unsettledLogouts.write(on: pool) { [self, failure] connection in
            try await connection.withTransaction { try await record(logout, failure: failure, at: at, on: $0) }
        }
        return failure == nil
    }

    /// The outcome of a delivery and its audit row. Guarded by the claim, so a replay after a
    /// failover records it once.
    private func record(_ logout: ClaimedLogout, failure: String?, at: Date, on connection: PostgresConnection) async throws {
        if let failure {
            let givenUp = logout.attempts >= Self.logoutAttempts || logout.uri == nil
            guard try await connection.query(
                "UPDATE oidc_logouts SET last_error = $2, next_attempt_at = $3, given_up_at = $4, claim = NULL WHERE id = $1 AND claim = $5 RETURNING id",
                [logout.id, failure, at.addingTimeInterval(Self.logoutBackoff(afterAttempts: logout.attempts)), givenUp ? at : nil, logout.claim]
            ).first != nil else { return }
            if givenUp {
                try await audit.record(AuditEvent(occurredAt: at, actor: "(system)", action: "oidc.backchannel_logout_failed", subject: logout.clientID,
                                                  details: ["attempts": .int(logout.attempts), "error": .string(failure)]), on: connection)
            }
        } else {
            guard try await connection.query(
                "UPDATE oidc_logouts SET delivered_at = $2, last_error = NULL, claim = NULL WHERE id = $1 AND claim = $3 RETURNING id",
                [logout.id, at, logout.claim]
            ).first != nil else { return }
            try await audit.record(AuditEvent(occurredAt: at, actor: "(system)", action: "oidc.backchannel_logout", subject: logout.clientID,
                                              details: ["attempts": .int(logout.attempts)]), on: connection)
        }
    }
}
