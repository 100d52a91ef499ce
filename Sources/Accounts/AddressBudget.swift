import Foundation
import Postgres

/// The login attempts one client address may make: a token bucket of `burst` attempts refilled
/// at `perMinute`, kept in PostgreSQL so that every instance behind a balancer spends from the
/// same budget (one process's memory would give an attacker a budget per instance). One
/// statement per attempt decides and counts it, so concurrent attempts cannot overdraw it.
public struct AddressBudget: Sendable {
    let pool: ConnectionPool
    public let burst: Int
    public let perMinute: Int

    public init(pool: ConnectionPool, burst: Int, perMinute: Int) {
        self.pool = pool
        self.burst = burst
        self.perMinute = perMinute
    }

    /// nil when the attempt may go ahead (and is counted), else the seconds until it may.
    public func admit(_ address: String, at now: Date) async throws -> TimeInterval? {
        let address = String(address.prefix(100))
        return try await pool.withConnection { connection in
            // The refill since the last attempt, capped at the burst (a clock that stepped back refills nothing).
            let refilled = "least($2::float8, b.tokens + greatest(0, extract(epoch FROM $4::timestamptz - b.updated_at))::float8 * $3::float8 / 60)"
            let row = try await connection.query(
                """
                INSERT INTO address_budget AS b (address, tokens, admitted, updated_at) VALUES ($1, $2::float8 - 1, true, $4)
                ON CONFLICT (address) DO UPDATE SET
                    tokens = CASE WHEN \(refilled) >= 1 THEN \(refilled) - 1 ELSE \(refilled) END,
                    admitted = \(refilled) >= 1,
                    updated_at = greatest(b.updated_at, $4::timestamptz)
                RETURNING admitted, tokens
                """, [address, burst, perMinute, now]).first
            if Int.random(in: 0..<500) == 0 { try await Self.forgetIdle(before: now.addingTimeInterval(-86_400), on: connection) }
            guard let row, try !row.decode(Bool.self, column: "admitted") else { return nil }
            let tokens = try row.decode(Double.self, column: "tokens")
            return max(1, (1 - tokens) * 60 / Double(perMinute))
        }
    }

    /// Rows nobody has touched for a day carry nothing worth keeping: a full budget, no failures, no lock.
    static func forgetIdle(before cutoff: Date, on connection: PostgresConnection) async throws {
        try await connection.execute("DELETE FROM address_budget WHERE updated_at < $1", [cutoff])
        try await connection.execute(
            """
            DELETE FROM login_throttle WHERE updated_at < $1 AND failures = 0 AND (locked_until IS NULL OR locked_until < $1)
              AND (pending = 0 OR pending_until < $1)
            """, [cutoff])
    }
}
