import Foundation
import Postgres

extension GateService {
    /// The request file for the archiving SOP: a tar holding `manifest.json` (the request, its
    /// steps with actors and times, its documents with SHA-256) and each document.
    public func export(_ requestID: Int64) async throws -> [UInt8] {
        try await pool.withTransaction(isolation: .repeatableRead) { connection in
            let request = try await Self.load(requestID, on: connection)
            let documents = try await Self.documents(of: requestID, on: connection)
            let steps = try await connection.query(
                "SELECT step, started_at, ended_at, actor, outcome FROM request_steps WHERE request_id = $1 ORDER BY id", [requestID])
            let iso = ISO8601DateFormatter()
            var manifest: [String: Any] = [
                "number": request.number, "state": request.state.rawValue, "kinds": request.kinds.names,
                "subject_role": request.subjectRole.rawValue, "subject_user_id": request.subjectUserID as Any,
                "requester_name": request.requesterName, "requester_contact": request.requesterContact,
                "channel": request.channel.rawValue, "priority": request.priority.rawValue, "submitted_by": request.submittedBy,
                "completeness_checked_by": request.completenessCheckedBy as Any, "validated_by": request.validatedBy as Any,
                "executed_by": request.executedBy as Any, "rejection_reason": request.rejectionReason as Any,
                "created_at": iso.string(from: request.createdAt),
            ]
            manifest["steps"] = try steps.map { row -> [String: Any] in
                [
                    "step": try row.decode(Int.self, at: 0), "started_at": iso.string(from: try row.decode(Date.self, at: 1)),
                    "ended_at": try row.decode(Date?.self, at: 2).map(iso.string(from:)) as Any,
                    "actor": try row.decode(String?.self, at: 3) as Any, "outcome": try row.decode(String?.self, at: 4) as Any,
                ]
            }
            var archive = TarWriter()
            var entries: [[String: Any]] = []
            for document in documents {
                let content = try await connection.query("SELECT content FROM request_documents WHERE id = $1", [document.id])
                    .first!.decode([UInt8].self, at: 0)
                let path = "documents/\(document.id)-\(TarWriter.safeName(document.fileName))"
                entries.append([
                    "path": path, "type": document.type.rawValue, "file_name": document.fileName, "media_type": document.mediaType,
                    "size": document.size, "sha256": document.sha256Hex, "uploaded_by": document.uploadedBy,
                    "uploaded_at": iso.string(from: document.uploadedAt),
                ])
                archive.add(path: path, content: content, modified: document.uploadedAt)
            }
            manifest["documents"] = entries
            let json = try JSONSerialization.data(withJSONObject: manifest, options: [.prettyPrinted, .sortedKeys])
            archive.add(path: "manifest.json", content: Array(json), modified: request.updatedAt, first: true)
            return archive.finish()
        }
    }
}

/// A minimal POSIX ustar writer: regular files only, names ≤ 100 bytes.
struct TarWriter {
    private var head: [UInt8] = []
    private var body: [UInt8] = []

    mutating func add(path: String, content: [UInt8], modified: Date, first: Bool = false) {
        var entry = Self.header(path: path, size: content.count, modified: modified)
        entry += content
        entry += [UInt8](repeating: 0, count: (512 - content.count % 512) % 512)
        if first { head += entry } else { body += entry }
    }

    func finish() -> [UInt8] { head + body + [UInt8](repeating: 0, count: 1024) }

    static func safeName(_ name: String) -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-".unicodeScalars)
        return String(String.UnicodeScalarView(name.unicodeScalars.map { allowed.contains($0) ? $0 : "_" }).prefix(70))
    }

    private static func header(path: String, size: Int, modified: Date) -> [UInt8] {
        var header = [UInt8](repeating: 0, count: 512)
        func put(_ text: String, at offset: Int, width: Int) {
            for (i, byte) in text.utf8.prefix(width).enumerated() { header[offset + i] = byte }
        }
        func octal(_ value: Int, width: Int) -> String {
            let digits = String(value, radix: 8)
            return String(repeating: "0", count: max(0, width - 1 - digits.count)) + digits
        }
        put(path, at: 0, width: 100)
        put(octal(0o644, width: 8), at: 100, width: 7)
        put(octal(0, width: 8), at: 108, width: 7)
        put(octal(0, width: 8), at: 116, width: 7)
        put(octal(size, width: 12), at: 124, width: 11)
        put(octal(Int(modified.timeIntervalSince1970), width: 12), at: 136, width: 11)
        put("        ", at: 148, width: 8)
        header[156] = UInt8(ascii: "0")
        put("ustar", at: 257, width: 6)
        put("00", at: 263, width: 2)
        put("spse", at: 265, width: 32)
        put("spse", at: 297, width: 32)
        let checksum = header.reduce(0) { $0 + Int($1) }
        put(octal(checksum, width: 7), at: 148, width: 6)
        header[154] = 0
        header[155] = UInt8(ascii: " ")
        return header
    }
}
