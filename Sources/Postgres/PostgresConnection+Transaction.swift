/// Isolation levels a transaction can ask for.
public enum IsolationLevel: String, Sendable {
    case readCommitted = "READ COMMITTED"
    case repeatableRead = "REPEATABLE READ"
    case serializable = "SERIALIZABLE"
}

/// When a transaction's COMMIT returns.
public enum Durability: Sendable {
    /// Once the commit is on disk (the server's `synchronous_commit`).
    case flushed
    /// At once; the disk write follows within the WAL writer's delay, or with the next flushed
    /// commit of any session (the log is written in order). Only for a transaction whose loss in a
    /// crash is harmless because nobody learns of it before a flushed commit that follows it.
    case flushedByNext
}

/// Where a session's transaction stands. BEGIN is deferred: it is sent in one pipeline with the
/// transaction's first statement, and `queryCommitting` sends the last one with COMMIT, so a
/// transaction of n statements costs n round trips instead of n + 2.
enum TransactionState: Sendable {
    case none
    /// Begun, but its BEGIN (and the settings that go with it) not sent yet.
    case pending(begin: [String])
    case open
    /// Ended by a `queryCommitting` (committed, or failed at its COMMIT).
    case committed
}

extension PostgresConnection {
    /// Runs `body` inside BEGIN … COMMIT; any error thrown rolls the transaction back and is rethrown.
    /// `durability: .flushedByNext` commits without waiting for the disk (see `Durability`).
    @discardableResult
    public func withTransaction<T: Sendable>(
        isolation: IsolationLevel = .readCommitted,
        durability: Durability = .flushed,
        _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        try Task.checkCancellation()
        var begin = ["BEGIN ISOLATION LEVEL \(isolation.rawValue)"]
        if durability == .flushedByNext { begin.append("SET LOCAL synchronous_commit TO off") }
        transaction.withLock { $0 = .pending(begin: begin) }
        let value: T
        do {
            value = try await body(self)
        } catch {
            // If the connection itself is gone, ROLLBACK fails too; the body's error is the news.
            if endTransaction() { try? await executeScript("ROLLBACK") }
            throw error
        }
        guard endTransaction() else { return value }
        do {
            try await executeScript("COMMIT")
        } catch {
            try? await executeScript("ROLLBACK")
            throw error
        }
        return value
    }

    /// Leaves the transaction state for the next borrower; true when a transaction is open on the
    /// server (a BEGIN never sent, or a COMMIT already sent, needs no round trip to end).
    private func endTransaction() -> Bool {
        transaction.withLock { state in
            defer { state = .none }
            if case .open = state { return true }
            return false
        }
    }
}

extension ConnectionPool {
    /// Borrows a connection and runs `body` in one transaction on it.
    @discardableResult
    public func withTransaction<T: Sendable>(
        isolation: IsolationLevel = .readCommitted,
        durability: Durability = .flushed,
        _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        try await withConnection { connection in
            try await connection.withTransaction(isolation: isolation, durability: durability, body)
        }
    }

    /// Runs `body` in a transaction and runs it again, on a fresh transaction, when PostgreSQL
    /// reports a serialization failure or a deadlock — the errors the server asks clients to retry.
    /// `body` must therefore be safe to repeat: all its effects go through the transaction.
    @discardableResult
    public func withRetryingTransaction<T: Sendable>(
        isolation: IsolationLevel = .serializable,
        durability: Durability = .flushed,
        maxAttempts: Int = 8,
        _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        var attempt = 1
        while true {
            do {
                return try await withTransaction(isolation: isolation, durability: durability, body)
            } catch let error as PostgresError where error.sqlState?.isTransactionRetryable == true && attempt < maxAttempts {
                // Jittered backoff so colliding transactions do not collide again in lockstep.
                let ceiling = min(200, 5 << attempt)
                try await Task.sleep(for: .milliseconds(Int.random(in: 1...ceiling)))
                attempt += 1
            }
        }
    }

    /// Runs `body` — one statement, atomic on its own, outside a transaction block — and runs it
    /// again when PostgreSQL reports a serialization failure or a deadlock.
    @discardableResult
    public func withRetryingStatement<T: Sendable>(maxAttempts: Int = 8, _ body: (PostgresConnection) async throws -> T) async throws -> T {
        var attempt = 1
        while true {
            do {
                return try await withConnection(body)
            } catch let error as PostgresError where error.sqlState?.isTransactionRetryable == true && attempt < maxAttempts {
                try await Task.sleep(for: .milliseconds(Int.random(in: 1...min(200, 5 << attempt))))
                attempt += 1
            }
        }
    }
}
