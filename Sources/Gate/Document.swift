import Crypto
import Foundation

/// An uploaded supporting document, checked before it is stored: size limit, and bytes that are
/// really the PDF, JPEG or PNG they claim to be.
public struct DocumentUpload: Sendable {
    public let type: DocumentType
    public let fileName: String
    public let mediaType: String
    public let content: [UInt8]
    public let sha256: [UInt8]

    public init(type: DocumentType, fileName: String, mediaType: String, content: [UInt8], limit: Int) throws(GateError) {
        let name = fileName.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty, name.count <= 255, !name.contains("/"), !name.contains("\\"), !name.unicodeScalars.contains(where: { $0.value < 32 }) else {
            throw .documentRefused("the file name must be 1–255 characters without slashes or control characters", field: type.rawValue)
        }
        guard !content.isEmpty else { throw .documentRefused("the file is empty", field: type.rawValue) }
        guard content.count <= limit else { throw .documentRefused("the file is \(content.count) bytes; the limit is \(limit)", field: type.rawValue) }
        guard let sniffed = Self.sniff(content) else {
            throw .documentRefused("only PDF, JPEG and PNG files are accepted", field: type.rawValue)
        }
        let declared = mediaType.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        guard declared == sniffed else {
            throw .documentRefused("the content is \(sniffed), not \(declared.isEmpty ? "the declared type" : declared)")
        }
        self.type = type
        self.fileName = name
        self.mediaType = sniffed
        self.content = content
        self.sha256 = Array(SHA256.hash(data: content))
    }

    /// The media type the magic bytes say, if one we accept.
    static func sniff(_ bytes: [UInt8]) -> String? {
        if bytes.starts(with: Array("%PDF-".utf8)) { return "application/pdf" }
        if bytes.starts(with: [0xFF, 0xD8, 0xFF]) { return "image/jpeg" }
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return "image/png" }
        return nil
    }
}

/// A stored document's metadata (the content is fetched separately).
public struct DocumentInfo: Sendable, Equatable, Codable {
    public let id: Int64
    public let type: DocumentType
    public let fileName: String
    public let mediaType: String
    public let size: Int
    public let sha256Hex: String
    public let uploadedBy: String
    public let uploadedAt: Date
    /// When the retention purge removed the content (name, size and SHA-256 stay).
    public var purgedAt: Date? = nil

    enum CodingKeys: String, CodingKey {
        case id, type, fileName = "file_name", mediaType = "media_type", size, sha256Hex = "sha256", uploadedBy = "uploaded_by"
        case uploadedAt = "uploaded_at", purgedAt = "purged_at"
    }
}
