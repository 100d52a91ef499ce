/// Everything the Postgres layer can report. Server errors keep the SQLSTATE so callers can tell a
/// unique violation from a serialization failure without reading the message.
public enum PostgresError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The connection could not be opened (libpq's own message: host, auth, …).
    case connectionFailed(message: String)
    /// The connection broke while a command was in flight.
    case connectionLost(message: String)
    /// The server refused the command.
    case server(ServerError)
    /// libpq returned a result status the call did not expect (e.g. COPY outside a COPY call).
    case unexpectedResult(status: String, message: String)
    /// A column was NULL where the caller asked for a non-optional value.
    case unexpectedNull(column: String)
    /// A column's text could not be read as the requested Swift type.
    case decoding(column: String, type: String)
    /// The row has no column of that name or index.
    case columnNotFound(String)
    /// A parameter or SQL text contained a NUL byte, which libpq cannot carry.
    case invalidText(String)
    /// The pool was shut down.
    case poolClosed
    /// No connection became free within the pool's acquire timeout.
    case poolTimeout

    /// The server's SQLSTATE, when the server reported the error.
    public var sqlState: SQLState? {
        if case .server(let error) = self { return error.sqlState }
        return nil
    }

    /// The constraint the server named (a unique index, a check), when it named one.
    public var constraint: String? {
        if case .server(let error) = self { return error.constraint }
        return nil
    }

    /// True when a retry on a new connection may succeed: the server went away or is starting up.
    public var isConnectionProblem: Bool {
        switch self {
        case .connectionFailed, .connectionLost: return true
        case .server(let error): return error.sqlState.isConnectionException
        default: return false
        }
    }

    /// What a failure says of the database, for the one mapping to 503: nil when it is about the
    /// request (a constraint, bad text) or a bug.
    public var fault: DatabaseFault? {
        switch self {
        case .connectionFailed, .connectionLost, .poolClosed: return .unavailable
        case .poolTimeout: return .busy
        case .server(let error): return error.sqlState.fault
        default: return nil
        }
    }

    /// True when the connection that reported this must not serve another borrower: it lost its
    /// server, or its session is read-only (a demoted primary, a standby, a maintenance switch) —
    /// a new connection may reach a primary that takes writes, so the pool heals by itself.
    public var poisonsConnection: Bool {
        switch self {
        case .connectionFailed, .connectionLost: return true
        case .server(let error): return error.sqlState == .readOnlyTransaction || error.sqlState.isConnectionException
        default: return false
        }
    }

    public var description: String {
        switch self {
        case .connectionFailed(let message): return "cannot connect to PostgreSQL: \(message)"
        case .connectionLost(let message): return "connection to PostgreSQL lost: \(message)"
        case .server(let error): return error.description
        case .unexpectedResult(let status, let message): return "unexpected PostgreSQL result \(status): \(message)"
        case .unexpectedNull(let column): return "column \(column) is NULL"
        case .decoding(let column, let type): return "column \(column) cannot be read as \(type)"
        case .columnNotFound(let column): return "no column \(column) in the result"
        case .invalidText(let what): return "\(what) contains a NUL byte"
        case .poolClosed: return "the connection pool is closed"
        case .poolTimeout: return "no database connection became free in time"
        }
    }
}

/// An error reported by the server, with the fields of its ErrorResponse.
public struct ServerError: Sendable, Equatable, CustomStringConvertible {
    public var sqlState: SQLState
    public var severity: String
    public var message: String
    public var detail: String?
    public var hint: String?
    public var schema: String?
    public var table: String?
    public var column: String?
    public var constraint: String?

    public init(
        sqlState: SQLState, severity: String, message: String, detail: String? = nil, hint: String? = nil,
        schema: String? = nil, table: String? = nil, column: String? = nil, constraint: String? = nil
    ) {
        self.sqlState = sqlState
        self.severity = severity
        self.message = message
        self.detail = detail
        self.hint = hint
        self.schema = schema
        self.table = table
        self.column = column
        self.constraint = constraint
    }

    public var description: String {
        var text = "\(severity) \(sqlState.code): \(message)"
        if let detail { text += " (\(detail))" }
        return text
    }
}

/// A five-character SQLSTATE code, with names for the ones this service reacts to.
public struct SQLState: Hashable, Sendable, CustomStringConvertible {
    public let code: String
    public init(_ code: String) { self.code = code }

    public static let uniqueViolation = SQLState("23505")
    public static let checkViolation = SQLState("23514")
    public static let foreignKeyViolation = SQLState("23503")
    public static let notNullViolation = SQLState("23502")
    public static let exclusionViolation = SQLState("23P01")
    public static let serializationFailure = SQLState("40001")
    public static let deadlockDetected = SQLState("40P01")
    public static let undefinedTable = SQLState("42P01")
    public static let syntaxError = SQLState("42601")
    public static let insufficientPrivilege = SQLState("42501")
    public static let raiseException = SQLState("P0001")
    public static let queryCanceled = SQLState("57014")
    public static let readOnlyTransaction = SQLState("25006")
    public static let lockNotAvailable = SQLState("55P03")
    public static let tooManyConnections = SQLState("53300")

    /// The two-character class ("23" integrity constraint violation, "40" transaction rollback, …).
    public var errorClass: Substring { code.prefix(2) }

    /// Class 08 and the shutdown codes of class 57: the connection is gone.
    public var isConnectionException: Bool {
        errorClass == "08" || code == "57P01" || code == "57P02" || code == "57P03"
    }

    /// Failures a serializable transaction should simply run again.
    public var isTransactionRetryable: Bool {
        self == .serializationFailure || self == .deadlockDetected
    }

    /// Every failure class that says the database, not the request, is the problem: busy (a
    /// statement or lock timeout, a deadlock or serialization failure that outlived its retries,
    /// no free server slot) or unavailable (read-only, out of disk or memory, shutting down, gone).
    public var fault: DatabaseFault? {
        if self == .queryCanceled || self == .lockNotAvailable || self == .tooManyConnections || isTransactionRetryable { return .busy }
        if self == .readOnlyTransaction || errorClass == "53" || errorClass == "57" || errorClass == "58" || isConnectionException {
            return .unavailable
        }
        return nil
    }

    public var description: String { code }
}

/// The two things a database failure can mean to a caller: retry shortly, or retry later.
public enum DatabaseFault: Sendable, Equatable {
    /// Overloaded or contended: seconds.
    case busy
    /// Not taking writes or not there: until an operator or a failover mends it.
    case unavailable
}
