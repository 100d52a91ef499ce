/// One statement built from the writes of several modules: each adds a data-modifying CTE with
/// its own parameters, and the whole runs as one round trip. PostgreSQL runs every such CTE to
/// completion on one snapshot, so the parts must not touch the same row twice; a part that needs
/// another's result reads its `RETURNING` by name.
///
/// The texts are fixed fragments chosen by what a step does, so the prepared-statement cache
/// stays bounded.
public struct CompositeStatement: Sendable {
    private var parts: [String] = []
    public private(set) var parameters: [any PostgresEncodable] = []
    /// Placeholders of values several parts share, bound when first used: a parameter no part
    /// names would leave PostgreSQL unable to type it.
    private var shared: [String: String] = [:]

    public init() {}

    /// The placeholder for `value` (`$n`), typed so that PostgreSQL needs no inference across parts.
    public mutating func bind(_ value: any PostgresEncodable, as type: String) -> String {
        parameters.append(value)
        return "$\(parameters.count)::\(type)"
    }

    /// The placeholder of a value parts share under `key`, bound the first time it is asked for.
    public mutating func shared(_ key: String, _ value: @autoclosure () -> any PostgresEncodable, as type: String) -> String {
        if let placeholder = shared[key] { return placeholder }
        let placeholder = bind(value(), as: type)
        shared[key] = placeholder
        return placeholder
    }

    /// Adds `WITH name AS (sql)`; `sql` is a data-modifying statement (or a read of an earlier part).
    public mutating func add(_ name: String, _ sql: String) {
        parts.append("\(name) AS (\(sql))")
    }

    /// The same, the text built with the statement at hand (to bind as it goes).
    public mutating func add(_ name: String, _ build: (inout CompositeStatement) -> String) {
        let sql = build(&self)
        parts.append("\(name) AS (\(sql))")
    }

    public var isEmpty: Bool { parts.isEmpty }

    /// The statement, ending with `result` (a SELECT over the parts, or `SELECT 1`).
    public func text(returning result: String = "SELECT 1") -> String {
        parts.isEmpty ? result : "WITH " + parts.joined(separator: ",\n") + "\n" + result
    }
}

extension PostgresConnection {
    /// Runs a composite statement and returns the rows of its final SELECT.
    @discardableResult
    public func query(_ statement: CompositeStatement, returning result: String = "SELECT 1") async throws -> PostgresRows {
        try await query(statement.text(returning: result), statement.parameters)
    }

    /// The same as the last statement of a transaction, sent with its COMMIT (`queryCommitting`).
    @discardableResult
    public func queryCommitting(_ statement: CompositeStatement, returning result: String = "SELECT 1") async throws -> PostgresRows {
        try await queryCommitting(statement.text(returning: result), statement.parameters)
    }
}
