import CLibPQ
import Dispatch
import Foundation
import Synchronization

/// One libpq connection. Every blocking libpq call runs on the connection's own serial dispatch
/// queue, never on an event loop or on Swift's cooperative pool. A connection serves one task at a
/// time; the pool (or a test) is what guarantees that.
public final class PostgresConnection: @unchecked Sendable {
    private let handle: OpaquePointer
    private let queue: DispatchQueue
    private var closed = false
    /// Statements prepared on this session, by SQL text (touched on `queue` only). Every query the
    /// service runs is a fixed text, so the cache stays small, and PostgreSQL parses each text once
    /// per connection instead of once per call (parsing was a third of its CPU under load).
    private var prepared: [String: String] = [:]
    /// Set (on `queue`) when the server answered in a way that makes this session useless to the
    /// next borrower — read-only, or gone: the pool closes it instead of lending it again.
    private var poisoned = false
    /// Where this session's transaction stands (see `withTransaction`). A Mutex, not the queue:
    /// setting it must not cost a thread hop, which is what deferring BEGIN saves.
    let transaction = Mutex(TransactionState.none)

    /// libpq's cancel request for this session: safe to send from any thread while a statement
    /// runs on `queue` (PQcancel is thread-safe), so a cancelled task stops its statement at once.
    private let cancelRequest: OpaquePointer?
    /// Told the statements of every round trip this session makes, those sent together in one
    /// (the pool's observer, for tests that count a step's statements and round trips); nil in
    /// service. A statement's PREPARE, once per session, is not told.
    private let observer: (@Sendable ([String]) -> Void)?

    private init(handle: OpaquePointer, queue: DispatchQueue, observer: (@Sendable ([String]) -> Void)?) {
        self.handle = handle
        self.queue = queue
        self.observer = observer
        self.cancelRequest = PQgetCancel(handle)
    }

    deinit {
        if !closed { PQfinish(handle) }
        if let cancelRequest { PQfreeCancel(cancelRequest) }
    }

    /// Settings every connection starts with, so that decoding never depends on server defaults.
    private static let sessionSetup = """
        SET DateStyle TO 'ISO, YMD'; SET TimeZone TO 'UTC'; SET IntervalStyle TO 'iso_8601';
        SET bytea_output TO 'hex'; SET client_encoding TO 'UTF8'
        """

    /// Opens a connection; libpq reads `PG*` variables, service files and `.pgpass` itself.
    public static func connect(_ configuration: ConnectionConfiguration,
                               observer: (@Sendable ([String]) -> Void)? = nil) async throws -> PostgresConnection {
        let queue = DispatchQueue(label: "spse.postgres.connection")
        let connection = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<PostgresConnection, any Error>) in
            queue.async {
                continuation.resume(with: Result { try openBlocking(configuration, queue: queue, observer: observer) })
            }
        }
        return connection
    }

    private static func openBlocking(_ configuration: ConnectionConfiguration, queue: DispatchQueue,
                                     observer: (@Sendable ([String]) -> Void)?) throws -> PostgresConnection {
        // The first `dbname` is expanded as a conninfo string; later keywords override it.
        let pairs = [("dbname", configuration.conninfo), ("fallback_application_name", "spse-accounts")]
            + configuration.overrides.map { ($0.keyword, $0.value) }
        let keys = pairs.map { strdup($0.0) }
        let values = pairs.map { strdup($0.1) }
        defer {
            keys.forEach { free($0) }
            values.forEach { free($0) }
        }
        var keyPointers = keys.map { UnsafePointer<CChar>($0) } + [nil]
        var valuePointers = values.map { UnsafePointer<CChar>($0) } + [nil]
        guard let handle = PQconnectdbParams(&keyPointers, &valuePointers, 1) else {
            throw PostgresError.connectionFailed(message: "out of memory")
        }
        guard PQstatus(handle) == CONNECTION_OK else {
            let message = errorMessage(handle)
            PQfinish(handle)
            throw PostgresError.connectionFailed(message: message)
        }
        // Server notices ("relation already exists, skipping") are not errors; keep them off stderr.
        PQsetNoticeProcessor(handle, { _, _ in }, nil)
        let connection = PostgresConnection(handle: handle, queue: queue, observer: observer)
        _ = try connection.executeBlocking(sessionSetup, binds: nil)
        return connection
    }

    // MARK: Commands

    /// Runs one parameterized statement (`$1`, `$2`, …) and returns its rows.
    @discardableResult
    public func query(_ sql: String, _ parameters: [any PostgresEncodable] = []) async throws -> PostgresRows {
        try await query(sql, parameters, committing: false)
    }

    /// Runs the last statement of a `withTransaction` body together with the transaction's
    /// COMMIT, in one round trip: its rows come back only once they are durable. Nothing may run
    /// in the transaction after it.
    @discardableResult
    public func queryCommitting(_ sql: String, _ parameters: [any PostgresEncodable] = []) async throws -> PostgresRows {
        try await query(sql, parameters, committing: true)
    }

    private func query(_ sql: String, _ parameters: [any PostgresEncodable], committing: Bool) async throws -> PostgresRows {
        // A cancelled task (a shutdown past its deadline) starts nothing new: its transaction
        // cannot reach COMMIT, so a step cut off leaves nothing behind.
        try Task.checkCancellation()
        if let observer { observer(pendingBegin + [sql] + (committing ? ["COMMIT"] : [])) }
        let binds = parameters.map(\.postgresBind)
        return try await onQueue { try self.executeBlocking(sql, binds: binds, committing: committing) }
    }

    /// Runs one parameterized statement and returns the number of rows it touched.
    @discardableResult
    public func execute(_ sql: String, _ parameters: [any PostgresEncodable] = []) async throws -> Int {
        try await query(sql, parameters).affectedRows
    }

    /// Runs trusted SQL text that may hold several statements and no parameters: migration files
    /// and transaction control only, never text that carries a value.
    public func executeScript(_ sql: String) async throws {
        if sql != "ROLLBACK" { try Task.checkCancellation() }
        if let observer {
            if !pendingBegin.isEmpty { observer(pendingBegin) }
            observer([sql])
        }
        _ = try await onQueue { try self.executeBlocking(sql, binds: nil) }
    }

    /// True when the connection is usable and idle. Reads whatever the server sent while it sat in
    /// the pool, so a connection the server closed (restart, terminate) shows up as broken here.
    public func isHealthy() async -> Bool {
        (try? await onQueue {
            // First read collects the server's farewell message, the second sees the EOF.
            for _ in 0..<2 where PQconsumeInput(self.handle) == 0 { break }
            return !self.poisoned && PQstatus(self.handle) == CONNECTION_OK && PQtransactionStatus(self.handle) == PQTRANS_IDLE
        }) ?? false
    }

    /// Keeps this session from the next borrower (it reported itself read-only): the pool closes
    /// it on return, and a new session may find a primary that takes writes.
    public func discardOnRelease() async {
        _ = try? await onQueue { self.poisoned = true }
    }

    /// The server's process id for this session (for `pg_terminate_backend` in tests and admin).
    public var backendPID: Int32 {
        get async { (try? await onQueue { PQbackendPID(self.handle) }) ?? 0 }
    }

    /// Closes the connection; further use throws `connectionLost`.
    public func close() async {
        _ = try? await onQueue {
            if !self.closed {
                PQfinish(self.handle)
                self.closed = true
            }
        }
    }

    /// The deferred BEGIN the next statement will carry (read by the one task using the session).
    private var pendingBegin: [String] {
        transaction.withLock { if case .pending(let begin) = $0 { begin } else { [] } }
    }

    // MARK: Blocking core (runs on `queue` only)

    /// Runs `work` on the connection's queue. When the calling task is cancelled meanwhile, the
    /// server is asked to cancel the statement in flight (it then fails with 57014), so no task
    /// waits on the database past its cancellation.
    func onQueue<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                queue.async { continuation.resume(with: Result { try work() }) }
            }
        } onCancel: {
            self.cancelInFlight()
        }
    }

    /// Asks the server to cancel what this session runs now; harmless when it runs nothing.
    private func cancelInFlight() {
        guard let cancelRequest else { return }
        var buffer = [CChar](repeating: 0, count: 256)
        _ = PQcancel(cancelRequest, &buffer, Int32(buffer.count))
    }

    var rawHandle: OpaquePointer {
        get throws {
            guard !closed else { throw PostgresError.connectionLost(message: "connection closed") }
            return handle
        }
    }

    /// `binds == nil` runs `PQexec` (several statements allowed); otherwise the prepared
    /// statement — in one pipeline with a deferred BEGIN before it and, when `committing`, the
    /// COMMIT after it.
    func executeBlocking(_ sql: String, binds: [PostgresBind]?, committing: Bool = false) throws -> PostgresRows {
        let handle = try rawHandle
        guard !sql.utf8.contains(0) else { throw PostgresError.invalidText("SQL text") }
        do {
            let begin = try transaction.withLock { state -> [String] in
                switch state {
                case .none, .open: return []
                case .pending(let begin): return begin
                case .committed: throw PostgresError.unexpectedResult(status: "COMMITTED", message: "a statement after the transaction's last")
                }
            }
            guard let binds else {
                if !begin.isEmpty { try startTransaction(begin, on: handle) }
                return try Self.consume(PQexec(handle, sql), connection: handle)
            }
            let name = try preparedStatement(for: sql, parameterCount: binds.count, on: handle)
            guard !begin.isEmpty || committing else {
                return try Self.consume(try ParameterBuffers(binds).withPointers { values, lengths, formats in
                    PQexecPrepared(handle, name, Int32(binds.count), values, lengths, formats, 0)
                }, connection: handle)
            }
            return try pipeline(begin: begin, name: name, binds: binds, committing: committing, on: handle)
        } catch let error as PostgresError where error.poisonsConnection {
            poisoned = true
            throw error
        }
    }

    /// Sends a deferred BEGIN on its own (before a script or a COPY, which cannot join a pipeline).
    func startTransaction(_ begin: [String], on handle: OpaquePointer) throws {
        _ = try Self.consume(PQexec(handle, begin.joined(separator: "; ")), connection: handle)
        transaction.withLock { $0 = .open }
    }

    /// BEGIN (if deferred), the statement and COMMIT (if asked) as one pipeline: sent together,
    /// answered together. The first failure is thrown (the server skips what follows it); the
    /// transaction's state is then read from the session, so the caller rolls back only what is open.
    private func pipeline(begin: [String], name: String, binds: [PostgresBind], committing: Bool,
                          on handle: OpaquePointer) throws -> PostgresRows {
        // A parameter refused (a NUL) is refused before anything is queued: a half-sent pipeline
        // would leave the session in pipeline mode for its next borrower.
        let buffers = try ParameterBuffers(binds)
        guard PQenterPipelineMode(handle) == 1 else { throw PostgresError.connectionLost(message: Self.errorMessage(handle)) }
        defer {
            _ = PQexitPipelineMode(handle)
            let status = PQtransactionStatus(handle)
            transaction.withLock { $0 = status == PQTRANS_IDLE ? (committing ? .committed : .none) : .open }
        }
        var sent = begin.allSatisfy { PQsendQueryParams(handle, $0, 0, nil, nil, nil, nil, 0) == 1 }
        sent = sent && buffers.withPointers { values, lengths, formats in
            PQsendQueryPrepared(handle, name, Int32(binds.count), values, lengths, formats, 0) == 1
        }
        if committing { sent = sent && PQsendQueryParams(handle, "COMMIT", 0, nil, nil, nil, nil, 0) == 1 }
        guard sent && PQpipelineSync(handle) == 1 else { throw PostgresError.connectionLost(message: Self.errorMessage(handle)) }
        // Each query's results end with a NULL; the sync's own result ends the pipeline.
        var outcomes: [Result<PostgresRows, any Error>] = []
        for _ in 0..<(begin.count + 1 + (committing ? 1 : 0)) {
            var outcome: Result<PostgresRows, any Error>?
            while let result = PQgetResult(handle) {
                if PQresultStatus(result) == PGRES_PIPELINE_ABORTED {
                    PQclear(result)
                    outcome = outcome ?? .failure(PostgresError.unexpectedResult(status: "PIPELINE_ABORTED", message: "skipped after an earlier failure"))
                } else {
                    let consumed = Result { try Self.consume(result, connection: handle) }
                    outcome = outcome ?? consumed
                }
            }
            outcomes.append(outcome ?? .failure(PostgresError.connectionLost(message: Self.errorMessage(handle))))
            guard PQstatus(handle) == CONNECTION_OK else { break }
        }
        if PQstatus(handle) == CONNECTION_OK, let sync = PQgetResult(handle) { PQclear(sync) }
        for case .failure(let error) in outcomes { throw error }
        return try outcomes[begin.count].get()
    }

    /// The name `sql` is prepared under on this session, preparing it the first time. A failed
    /// prepare (a syntax error, an aborted transaction) throws like the statement would, and is
    /// not remembered.
    private func preparedStatement(for sql: String, parameterCount: Int, on handle: OpaquePointer) throws -> String {
        if let name = prepared[sql] { return name }
        let name = "spse_\(prepared.count)"
        _ = try Self.consume(PQprepare(handle, name, sql, Int32(parameterCount), nil), connection: handle)
        prepared[sql] = name
        return name
    }

    /// Turns a PGresult into rows or a typed error, and frees it.
    static func consume(_ result: OpaquePointer?, connection: OpaquePointer) throws -> PostgresRows {
        guard let result else { throw PostgresError.connectionLost(message: errorMessage(connection)) }
        defer { PQclear(result) }
        let status = PQresultStatus(result)
        switch status {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
            return rows(of: result)
        case PGRES_FATAL_ERROR, PGRES_NONFATAL_ERROR:
            throw error(of: result, connection: connection)
        case PGRES_COPY_IN:
            // A COPY started through query(): leave COPY mode so the connection stays usable.
            PQputCopyEnd(connection, "COPY FROM STDIN needs copyIn()")
            while let pending = PQgetResult(connection) { PQclear(pending) }
            throw PostgresError.unexpectedResult(status: "COPY_IN", message: "use copyIn() for COPY FROM STDIN")
        default:
            throw PostgresError.unexpectedResult(
                status: String(cString: PQresStatus(status)), message: errorMessage(connection))
        }
    }

    private static func rows(of result: OpaquePointer) -> PostgresRows {
        let rowCount = Int(PQntuples(result))
        let columnCount = Int(PQnfields(result))
        let columns = (0..<columnCount).map { String(cString: PQfname(result, Int32($0))) }
        var values: [[String?]] = []
        values.reserveCapacity(rowCount)
        for row in 0..<Int32(rowCount) {
            var fields: [String?] = []
            fields.reserveCapacity(columnCount)
            for column in 0..<Int32(columnCount) {
                if PQgetisnull(result, row, column) == 1 {
                    fields.append(nil)
                } else {
                    let length = Int(PQgetlength(result, row, column))
                    let bytes = UnsafeRawPointer(PQgetvalue(result, row, column)!).assumingMemoryBound(to: UInt8.self)
                    fields.append(String(decoding: UnsafeBufferPointer(start: bytes, count: length), as: UTF8.self))
                }
            }
            values.append(fields)
        }
        let affected = Int(String(cString: PQcmdTuples(result))) ?? 0
        return PostgresRows(columns: columns, values: values, affectedRows: affected)
    }

    private static func error(of result: OpaquePointer, connection: OpaquePointer) -> PostgresError {
        func field(_ code: Character) -> String? {
            guard let value = PQresultErrorField(result, Int32(code.asciiValue!)) else { return nil }
            return String(cString: value)
        }
        guard let sqlState = field("C") else {
            // No SQLSTATE: libpq made this error up itself, i.e. the connection failed.
            return .connectionLost(message: errorMessage(connection))
        }
        return .server(
            ServerError(
                sqlState: SQLState(sqlState), severity: field("V") ?? field("S") ?? "ERROR",
                message: field("M") ?? "", detail: field("D"), hint: field("H"), schema: field("s"),
                table: field("t"), column: field("c"), constraint: field("n")))
    }

    static func errorMessage(_ connection: OpaquePointer) -> String {
        guard let message = PQerrorMessage(connection) else { return "unknown error" }
        return String(cString: message).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
