import DoorKit
import Foundation
import Logging
import Postgres
import ServiceLifecycle
import Synchronization

/// What the probes and metrics need to know about the process itself: whether it is draining
/// before shutdown, and whether the database answered the last time the monitor asked.
public final class ServerState: Sendable {
    private let draining = Atomic<Bool>(false)
    private let databaseUp = Atomic<Bool>(true)
    private let lastCheckpoint = Atomic<Int64>(0)

    public init() {}

    public var isDraining: Bool { draining.load(ordering: .relaxed) }
    func startDraining() { draining.store(true, ordering: .relaxed) }

    /// When `serve` last signed an audit checkpoint; nil before the first.
    public var lastCheckpointAt: Date? {
        let seconds = lastCheckpoint.load(ordering: .relaxed)
        return seconds == 0 ? nil : Date(timeIntervalSince1970: Double(seconds))
    }
    public func checkpointWritten(at date: Date) { lastCheckpoint.store(Int64(date.timeIntervalSince1970), ordering: .relaxed) }

    public var isDatabaseUp: Bool { databaseUp.load(ordering: .relaxed) }
    /// Records the database's state; true when it changed.
    func setDatabaseUp(_ up: Bool) -> Bool { databaseUp.exchange(up, ordering: .relaxed) != up }
}

/// The first service to hear SIGTERM: `/readyz` turns 503 at once, so a balancer stops sending
/// new requests, and only after `period` does the server stop accepting and finish what is in
/// flight (bounded by the group's maximum graceful shutdown duration).
public struct DrainService: Service, CustomStringConvertible {
    let state: ServerState
    let period: Duration
    let logger: Logger

    public init(state: ServerState, period: Duration, logger: Logger) {
        self.state = state
        self.period = period
        self.logger = logger
    }

    public func run() async throws {
        try? await gracefulShutdown()
        state.startDraining()
        logger.notice("draining: /readyz answers 503; the server stops accepting after the drain period",
                      metadata: ["seconds": "\(period.components.seconds)"])
        try? await Task.sleep(for: period)
    }

    public var description: String { "drain" }
}

/// Asks the database every `interval` and logs when it becomes unreachable (a warning) and when it
/// is back (a notice) — once per change, not once per failing request.
public struct DatabaseMonitor: Service, CustomStringConvertible {
    let pool: ConnectionPool
    let state: ServerState
    let interval: Duration
    let logger: Logger

    public init(pool: ConnectionPool, state: ServerState, interval: Duration = .seconds(5), logger: Logger) {
        self.pool = pool
        self.state = state
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await check()
                try await Task.sleep(for: interval)
            }
        }
    }

    public func check() async {
        let up: Bool
        do {
            _ = try await pool.withConnection { try await $0.query("SELECT 1") }
            up = true
        } catch {
            up = false
            if state.setDatabaseUp(false) {
                logger.warning("database unreachable", metadata: ["error": "\(error)"])
            }
        }
        if up, state.setDatabaseUp(true) { logger.notice("database reachable again") }
    }

    public var description: String { "database monitor" }
}
