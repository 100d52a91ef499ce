/// The rows a command returned, copied out of libpq's result so it can cross threads.
public struct PostgresRows: Sendable, Sequence {
    /// Column names, in order.
    public let columns: [String]
    public let rows: [PostgresRow]
    /// Rows touched by INSERT/UPDATE/DELETE/COPY (PQcmdTuples), 0 when the command reports none.
    public let affectedRows: Int

    init(columns: [String], values: [[String?]], affectedRows: Int) {
        self.columns = columns
        let index = ColumnIndex(columns)
        self.rows = values.map { PostgresRow(columns: index, values: $0) }
        self.affectedRows = affectedRows
    }

    public var count: Int { rows.count }
    public var first: PostgresRow? { rows.first }
    public func makeIterator() -> IndexingIterator<[PostgresRow]> { rows.makeIterator() }
}

/// Column names shared by all rows of a result.
final class ColumnIndex: Sendable {
    let names: [String]
    let positions: [String: Int]

    init(_ names: [String]) {
        self.names = names
        var positions: [String: Int] = [:]
        for (i, name) in names.enumerated() where positions[name] == nil { positions[name] = i }
        self.positions = positions
    }
}

/// One row; values are PostgreSQL's text format and decode on request.
public struct PostgresRow: Sendable {
    let columns: ColumnIndex
    let values: [String?]

    /// Decodes the value at `index`; NULL is an error unless `T` is optional.
    public func decode<T: PostgresDecodable>(_ type: T.Type, at index: Int) throws -> T {
        guard values.indices.contains(index) else { throw PostgresError.columnNotFound("#\(index)") }
        let name = columns.names[index]
        guard let text = values[index] else { throw PostgresError.unexpectedNull(column: name) }
        do {
            return try T(postgresText: text)
        } catch {
            throw PostgresError.decoding(column: name, type: String(describing: T.self))
        }
    }

    /// Decodes a nullable value at `index`.
    public func decode<T: PostgresDecodable>(_ type: T?.Type, at index: Int) throws -> T? {
        guard values.indices.contains(index) else { throw PostgresError.columnNotFound("#\(index)") }
        guard values[index] != nil else { return nil }
        return try decode(T.self, at: index)
    }

    /// Decodes the value of the column named `column`.
    public func decode<T: PostgresDecodable>(_ type: T.Type, column: String) throws -> T {
        try decode(type, at: position(of: column))
    }

    /// Decodes the nullable value of the column named `column`.
    public func decode<T: PostgresDecodable>(_ type: T?.Type, column: String) throws -> T? {
        try decode(type, at: position(of: column))
    }

    /// Whether the value at `index` is NULL.
    public func isNull(at index: Int) -> Bool { values.indices.contains(index) && values[index] == nil }

    private func position(of column: String) throws -> Int {
        guard let index = columns.positions[column] else { throw PostgresError.columnNotFound(column) }
        return index
    }
}
