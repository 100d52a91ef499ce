import Synchronization

/// Writes a background worker owes the database but could not make: the outcome of a send whose
/// statement failed, or the release of a claim whose commit is in doubt (the connection broke
/// after the statement was sent — in a failover it may have committed on the new primary too).
/// Each is replayed, in order, before the worker's next round, so a failover delays an outcome
/// by seconds instead of leaving it to a claim's lease (a duplicate or a delayed notice). Every
/// write must be safe to run twice. Lost only with the process; the lease covers that.
public final class UnsettledWrites: Sendable {
    public typealias Write = @Sendable (PostgresConnection) async throws -> Void
    private let pending = Mutex<[Write]>([])

    public init() {}

    public var count: Int { pending.withLock { $0.count } }

    public func owe(_ write: @escaping Write) {
        pending.withLock { $0.append(write) }
    }

    /// Makes `write` now, or owes it when that fails. A write of several statements opens its
    /// own transaction on the connection it is given.
    public func write(on pool: ConnectionPool, _ write: @escaping Write) async {
        do {
            try await pool.withConnection { try await write($0) }
        } catch {
            owe(write)
        }
    }

    /// Runs `claim`; when it fails it may have committed all the same, so `release` (which gives
    /// back exactly what this claim took, or nothing) is owed before the error goes on.
    public func claim<T: Sendable>(releasedBy release: @escaping Write, _ claim: () async throws -> T) async throws -> T {
        do {
            return try await claim()
        } catch {
            owe(release)
            throw error
        }
    }

    /// Replays what is owed, in order; throws at the first that meets a
    /// database fault (still unreachable, read-only, busy), keeping it and those after it for the
    /// next call. A write refused for any other reason can never succeed: it is dropped, so it
    /// cannot stop the worker for good, and the claim's lease covers its rows. One worker
    /// settles at a time.
    public func settle(on pool: ConnectionPool) async throws {
        while let write = pending.withLock({ $0.first }) {
            do {
                try await pool.withConnection { try await write($0) }
            } catch let error as PostgresError where error.fault != nil {
                throw error
            } catch {}
            pending.withLock { _ = $0.removeFirst() }
        }
    }
}
