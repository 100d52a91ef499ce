import Foundation
import Postgres

extension GateService {
    /// The request file for the archiving SOP: a tar holding `manifest.json` — the request, step
    /// 9's inputs (every notice with its delivery outcome, the step-8 hand-over, the receipt), the
    /// step timeline with each limit, the deviations and their explanations, the documents with
    /// SHA-256 — and each document not yet purged.
    public func export(_ requestID: Int64) async throws -> [UInt8] {
        try await pool.withTransaction(isolation: .repeatableRead) { connection in
            let request = try await Self.load(requestID, on: connection)
            let documents = try await Self.documents(of: requestID, on: connection)
            let record = try await Self.record(of: requestID, on: connection)
            let encoder = JSONEncoder()
            encoder.dateEncodingStrategy = .iso8601
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            var archive = TarWriter()
            var entries: [ArchiveManifest.Document] = []
            for document in documents {
                guard document.purgedAt == nil else {
                    entries.append(ArchiveManifest.Document(path: nil, info: document))
                    continue
                }
                let content = try await connection.query("SELECT content FROM request_documents WHERE id = $1", [document.id])
                guard let row = content.first else { throw GateError.documentNotFound }
                let path = "documents/\(document.id)-\(TarWriter.safeName(document.fileName))"
                entries.append(ArchiveManifest.Document(path: path, info: document))
                archive.add(path: path, content: try row.decode([UInt8].self, at: 0), modified: document.uploadedAt)
            }
            let manifest = ArchiveManifest(request: request, record: record, documents: entries)
            archive.add(path: "manifest.json", content: Array(try encoder.encode(manifest)), modified: request.updatedAt, first: true)
            return archive.finish()
        }
    }
}

/// `manifest.json` of an exported request file.
struct ArchiveManifest: Encodable {
    struct Document: Encodable {
        let path: String?
        let info: DocumentInfo
        func encode(to encoder: any Encoder) throws {
            try info.encode(to: encoder)
            var container = encoder.container(keyedBy: Key.self)
            try container.encode(path, forKey: .path)
        }
        enum Key: String, CodingKey { case path }
    }
    struct Receipt: Encodable {
        let confirmedAt: Date?
        let confirmedBy: String?
        enum CodingKeys: String, CodingKey { case confirmedAt = "confirmed_at", confirmedBy = "confirmed_by" }
    }

    let number: String, state: String, kinds: [String], subjectRole: String, subjectUserID: String?
    let subjectHint: SubjectHint, requesterName: String, requesterContact: String, channel: String, priority: String
    let submittedBy: String, completenessCheckedBy: String?, completenessNote: String?, missingDocuments: [String]
    let validatedBy: String?, hintMismatch: [String], mismatchAcknowledgement: String?, rejectionReason: String?
    let executedBy: String?, disclosedUserID: String?, createdAt: Date
    let steps: [StepRecord], notices: [NoticeRecord], handover: HandoverRecord?, receipt: Receipt, deviations: [Deviation]
    let documents: [Document]

    init(request: Request, record: RequestRecord, documents: [Document]) {
        number = request.number; state = request.state.rawValue; kinds = request.kinds.names
        subjectRole = request.subjectRole.rawValue; subjectUserID = request.subjectUserID; subjectHint = request.subject
        requesterName = request.requesterName; requesterContact = request.requesterContact; channel = request.channel.rawValue
        priority = request.priority.rawValue; submittedBy = request.submittedBy; completenessCheckedBy = request.completenessCheckedBy
        completenessNote = request.completenessNote; missingDocuments = request.missingDocuments.map(\.rawValue)
        validatedBy = request.validatedBy; hintMismatch = request.hintMismatch; mismatchAcknowledgement = request.mismatchAcknowledgement
        rejectionReason = request.rejectionReason; executedBy = request.executedBy; disclosedUserID = request.disclosedUserID
        createdAt = request.createdAt; steps = record.steps; notices = record.notices; handover = record.handover
        receipt = Receipt(confirmedAt: request.receiptConfirmedAt, confirmedBy: request.receiptConfirmedBy); deviations = record.deviations; self.documents = documents
    }

    enum CodingKeys: String, CodingKey {
        case number, state, kinds, subjectRole = "subject_role", subjectUserID = "subject_user_id", subjectHint = "subject_hint"
        case requesterName = "requester_name", requesterContact = "requester_contact", channel, priority, submittedBy = "submitted_by"
        case completenessCheckedBy = "completeness_checked_by", completenessNote = "completeness_note", missingDocuments = "missing_documents"
        case validatedBy = "validated_by", hintMismatch = "hint_mismatch", mismatchAcknowledgement = "mismatch_acknowledgement"
        case rejectionReason = "rejection_reason", executedBy = "executed_by", disclosedUserID = "disclosed_user_id", createdAt = "created_at"
        case steps, notices, handover, receipt, deviations, documents
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
