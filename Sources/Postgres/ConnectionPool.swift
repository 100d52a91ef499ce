import Synchronization

/// A bounded set of connections shared by concurrent tasks. At most `maxConnections` are open;
/// further borrowers wait in FIFO order. A connection that broke (server restarted, terminated,
/// left inside a transaction) is closed and replaced, never handed out again.
public final class ConnectionPool: Sendable {
    public let configuration: ConnectionConfiguration
    public let maxConnections: Int
    /// How long a borrower waits for a free connection before `poolTimeout`; nil waits for ever.
    /// A lock held on a hot table then costs callers a quick 503, not a queue of stalled requests.
    public let acquireTimeout: Duration?
    private let state: Mutex<PoolState>
    /// Told the statements of every round trip the pool's connections make (tests count a step's
    /// statements and round trips with it).
    let observer: (@Sendable ([String]) -> Void)?

    public init(configuration: ConnectionConfiguration, maxConnections: Int = 8, acquireTimeout: Duration? = nil,
                observer: (@Sendable ([String]) -> Void)? = nil) {
        precondition(maxConnections > 0, "a pool needs at least one connection")
        self.observer = observer
        self.configuration = configuration
        self.maxConnections = maxConnections
        self.acquireTimeout = acquireTimeout
        self.state = Mutex(PoolState())
    }

    /// Lends a connection to `body` and takes it back afterwards, whatever `body` does.
    @discardableResult
    public func withConnection<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        let connection = try await acquire()
        do {
            let value = try await body(connection)
            await release(connection)
            return value
        } catch {
            await release(connection)
            throw error
        }
    }

    /// Connections open now (idle and lent), for metrics and tests.
    public var openConnections: Int { state.withLock { $0.open } }
    /// Connections sitting idle in the pool.
    public var idleConnections: Int { state.withLock { $0.idle.count } }
    /// Borrowers waiting for a connection.
    public var waitingBorrowers: Int { state.withLock { $0.waiters.count } }

    /// Closes idle connections and refuses new borrowers; lent connections close on return.
    public func shutdown() async {
        let (idle, waiters) = state.withLock { state -> ([PostgresConnection], [Waiter]) in
            state.closed = true
            let idle = state.idle
            state.open -= idle.count
            state.idle.removeAll()
            let waiters = state.waiters
            state.waiters.removeAll()
            return (idle, waiters)
        }
        for waiter in waiters { waiter.continuation.resume(throwing: PostgresError.poolClosed) }
        for connection in idle { await connection.close() }
    }

    // MARK: Borrowing

    private func acquire() async throws -> PostgresConnection {
        switch try await reserve() {
        case .connection(let connection):
            if await connection.isHealthy() { return connection }
            // The server dropped it while idle: replace it with a new one under the same slot.
            await connection.close()
            return try await openInSlot()
        case .openNew:
            return try await openInSlot()
        }
    }

    /// Opens a connection for a slot already counted in `open`; gives the slot back on failure.
    private func openInSlot() async throws -> PostgresConnection {
        do {
            return try await PostgresConnection.connect(configuration, observer: observer)
        } catch {
            handBackSlot()
            throw error
        }
    }

    private func reserve() async throws -> Grant {
        let id = state.withLock { state -> Int in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Grant, any Error>) in
                let immediate: Result<Grant, any Error>? = state.withLock { state in
                    if state.closed { return .failure(PostgresError.poolClosed) }
                    if Task.isCancelled { return .failure(CancellationError()) }
                    if let connection = state.idle.popLast() { return .success(.connection(connection)) }
                    if state.open < maxConnections {
                        state.open += 1
                        return .success(.openNew)
                    }
                    state.waiters.append(Waiter(id: id, continuation: continuation))
                    return nil
                }
                if let immediate {
                    continuation.resume(with: immediate)
                } else if let acquireTimeout {
                    // Whoever removes the waiter under the lock resumes it: the grant or this timer, never both.
                    Task { [self] in
                        try? await Task.sleep(for: acquireTimeout)
                        let waiter = self.state.withLock { state -> Waiter? in
                            guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                            return state.waiters.remove(at: index)
                        }
                        waiter?.continuation.resume(throwing: PostgresError.poolTimeout)
                    }
                }
            }
        } onCancel: {
            let waiter = state.withLock { state -> Waiter? in
                guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiters.remove(at: index)
            }
            waiter?.continuation.resume(throwing: CancellationError())
        }
    }

    private func release(_ connection: PostgresConnection) async {
        // A connection still inside a transaction or broken must not reach the next borrower; nor
        // one a cancelled task used: a cancel request sent for its statement may still be on its
        // way to the server, and must not land on someone else's.
        guard !Task.isCancelled, await connection.isHealthy() else {
            await connection.close()
            handBackSlot()
            return
        }
        let (waiter, closeIt) = state.withLock { state -> (Waiter?, Bool) in
            if state.closed {
                state.open -= 1
                return (nil, true)
            }
            if !state.waiters.isEmpty { return (state.waiters.removeFirst(), false) }
            state.idle.append(connection)
            return (nil, false)
        }
        if closeIt { await connection.close() }
        waiter?.continuation.resume(returning: .connection(connection))
    }

    /// A slot freed by a closed connection goes to the first waiter (who opens a new one) or back.
    private func handBackSlot() {
        let waiter = state.withLock { state -> Waiter? in
            if !state.closed, !state.waiters.isEmpty { return state.waiters.removeFirst() }
            state.open -= 1
            return nil
        }
        waiter?.continuation.resume(returning: .openNew)
    }
}

private enum Grant: Sendable {
    case connection(PostgresConnection)
    case openNew
}

private struct Waiter: Sendable {
    let id: Int
    let continuation: CheckedContinuation<Grant, any Error>
}

private struct PoolState: ~Copyable {
    var idle: [PostgresConnection] = []
    var waiters: [Waiter] = []
    var open = 0
    var closed = false
    var nextWaiterID = 0
}
