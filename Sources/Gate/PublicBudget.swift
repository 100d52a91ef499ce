import Foundation
import Postgres

/// What the public may spend at the public door, kept in PostgreSQL so that every instance
/// spends from one budget: each scope allows `limit` attempts per `window` and key. One
/// statement spends and decides, so concurrent attempts cannot overdraw it; a refused attempt
/// is counted too (capped), so a flood does not refill the window.
public struct PublicBudget: Sendable {
    public enum Scope: String, Sendable {
        case filingAddress = "filing_address", filingEmail = "filing_email"
        case trackingRequest = "tracking_request", trackingAddress = "tracking_address"
    }

    public struct Limits: Sendable, Equatable {
        public var filingsPerAddress = 5
        public var filingsPerEmail = 3
        public var filingWindow: TimeInterval = 86_400
        /// Online requests not yet rejected or archived, across the service.
        public var openOnline = 200
        public var trackingPerRequest = 30
        public var trackingPerAddress = 60
        public var trackingWindow: TimeInterval = 3_600
        public init() {}

        func limit(_ scope: Scope) -> (Int, TimeInterval) {
            switch scope {
            case .filingAddress: (filingsPerAddress, filingWindow)
            case .filingEmail: (filingsPerEmail, filingWindow)
            case .trackingRequest: (trackingPerRequest, trackingWindow)
            case .trackingAddress: (trackingPerAddress, trackingWindow)
            }
        }
    }

    let pool: ConnectionPool
    public let limits: Limits

    public init(pool: ConnectionPool, limits: Limits) {
        self.pool = pool
        self.limits = limits
    }

    /// Spends one attempt of each `(scope, key)`; the seconds until the first exhausted one has
    /// room again, or nil when every one had room (all spent).
    public func spend(_ keys: [(Scope, String)], at now: Date) async throws -> Int? {
        try await pool.withConnection { connection in
            var wait: Int?
            for (scope, key) in keys {
                let (limit, window) = limits.limit(scope)
                let row = try await connection.query(
                    """
                    INSERT INTO public_budget AS b (scope, key, window_start, spent) VALUES ($1, $2, $3, 1)
                    ON CONFLICT (scope, key) DO UPDATE SET
                        spent = CASE WHEN b.window_start > $3 - make_interval(secs => $4) THEN least(b.spent + 1, $5 + 1) ELSE 1 END,
                        window_start = CASE WHEN b.window_start > $3 - make_interval(secs => $4) THEN b.window_start ELSE $3 END
                    RETURNING spent, extract(epoch FROM window_start + make_interval(secs => $4) - $3)::float8 AS left
                    """, [scope.rawValue, String(key.prefix(320)), now, window, limit]).first
                if let row, try row.decode(Int.self, column: "spent") > limit {
                    wait = max(wait ?? 0, max(1, Int(try row.decode(Double.self, column: "left").rounded(.up))))
                }
            }
            if Int.random(in: 0..<500) == 0 {
                try await connection.execute("DELETE FROM public_budget WHERE window_start < $1", [now.addingTimeInterval(-2 * 86_400)])
            }
            return wait
        }
    }
}
