import CLibPQ

extension PostgresConnection {
    /// Bulk load with `COPY … FROM STDIN` (text format). `body` appends rows to the writer; the
    /// COPY is committed by the server when `body` returns and aborted when it throws.
    /// Returns the number of rows the server loaded.
    @discardableResult
    public func copyIn(_ sql: String, _ body: (CopyWriter) async throws -> Void) async throws -> Int {
        try await onQueue {
            let handle = try self.rawHandle
            if case .pending(let begin) = self.transaction.withLock({ $0 }) { try self.startTransaction(begin, on: handle) }
            guard let result = PQexec(handle, sql) else {
                throw PostgresError.connectionLost(message: Self.errorMessage(handle))
            }
            let status = PQresultStatus(result)
            guard status == PGRES_COPY_IN else {
                // Not a COPY FROM STDIN: report what the server said (syntax error, no table, …).
                _ = try Self.consume(result, connection: handle)
                throw PostgresError.unexpectedResult(status: String(cString: PQresStatus(status)), message: "not COPY FROM STDIN")
            }
            PQclear(result)
        }
        let writer = CopyWriter(connection: self)
        do {
            try await body(writer)
            try await writer.flush()
        } catch {
            _ = try? await onQueue { try self.finishCopy(abortMessage: "aborted by client") }
            throw error
        }
        return try await onQueue { try self.finishCopy(abortMessage: nil) }
    }

    func putCopyData(_ bytes: [UInt8]) async throws {
        try await onQueue {
            let handle = try self.rawHandle
            let sent = bytes.withUnsafeBufferPointer { buffer in
                buffer.withMemoryRebound(to: CChar.self) { PQputCopyData(handle, $0.baseAddress, Int32($0.count)) }
            }
            guard sent == 1 else { throw PostgresError.connectionLost(message: Self.errorMessage(handle)) }
        }
    }

    private func finishCopy(abortMessage: String?) throws -> Int {
        let handle = try rawHandle
        guard PQputCopyEnd(handle, abortMessage) == 1 else {
            throw PostgresError.connectionLost(message: Self.errorMessage(handle))
        }
        var outcome: Result<PostgresRows, any Error> = .failure(PostgresError.connectionLost(message: "no COPY result"))
        var first = true
        while let result = PQgetResult(handle) {
            if first {
                outcome = Result { try Self.consume(result, connection: handle) }
                first = false
            } else {
                PQclear(result)
            }
        }
        return try outcome.get().affectedRows
    }
}

/// Buffers rows in COPY's text format and sends them in large chunks.
public final class CopyWriter {
    private let connection: PostgresConnection
    private var buffer: [UInt8] = []
    private static let chunkSize = 256 * 1024

    init(connection: PostgresConnection) {
        self.connection = connection
        buffer.reserveCapacity(Self.chunkSize + 4096)
    }

    /// Appends one row; values in the order of the COPY's column list.
    public func append(_ row: [any PostgresEncodable]) async throws {
        for (index, value) in row.enumerated() {
            if index > 0 { buffer.append(UInt8(ascii: "\t")) }
            try encode(value.postgresBind)
        }
        buffer.append(UInt8(ascii: "\n"))
        if buffer.count >= Self.chunkSize { try await flush() }
    }

    func flush() async throws {
        guard !buffer.isEmpty else { return }
        let chunk = buffer
        buffer.removeAll(keepingCapacity: true)
        try await connection.putCopyData(chunk)
    }

    private func encode(_ bind: PostgresBind) throws {
        switch bind {
        case .null:
            buffer.append(contentsOf: "\\N".utf8)
        case .text(let text):
            for byte in text.utf8 {
                switch byte {
                case 0: throw PostgresError.invalidText("a COPY value")
                case UInt8(ascii: "\\"): buffer.append(contentsOf: "\\\\".utf8)
                case UInt8(ascii: "\t"): buffer.append(contentsOf: "\\t".utf8)
                case UInt8(ascii: "\n"): buffer.append(contentsOf: "\\n".utf8)
                case UInt8(ascii: "\r"): buffer.append(contentsOf: "\\r".utf8)
                default: buffer.append(byte)
                }
            }
        case .binary(let bytes):
            // bytea input `\x…`, with COPY's own backslash doubled.
            buffer.append(contentsOf: "\\\\x".utf8)
            let digits = Array("0123456789abcdef".utf8)
            for byte in bytes {
                buffer.append(digits[Int(byte >> 4)])
                buffer.append(digits[Int(byte & 0x0f)])
            }
        }
    }
}
