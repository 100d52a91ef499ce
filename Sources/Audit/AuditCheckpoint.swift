import Crypto
import Foundation
import Postgres

/// A signed statement of the audit chain's head: "row N has hash H", Ed25519-signed with a key
/// held outside the database. The chain alone cannot show that its newest rows were removed (what
/// is left still links up); a checkpoint kept elsewhere can: `verify` fails once a checkpointed
/// row is gone or changed.
public struct AuditCheckpoint: Codable, Sendable, Equatable {
    public let row: Int64
    /// The row's chain hash, hex.
    public let hash: String
    public let at: Date
    /// The signer's Ed25519 public key, base64 (which key signed; trust comes from `verify`'s key).
    public let publicKey: String
    public let signature: String

    enum CodingKeys: String, CodingKey { case row, hash, at, publicKey = "public_key", signature }

    /// What is signed: a fixed text, so the signature cannot be replayed for anything else.
    static func message(row: Int64, hash: String, at: Date) -> Data {
        Data("spse-accounts audit checkpoint v1\nrow \(row)\nhash \(hash)\nat \(Int64(at.timeIntervalSince1970))\n".utf8)
    }

    /// The head of the chain now, signed; nil when the trail is empty.
    public static func make(signingWith key: Curve25519.Signing.PrivateKey, at now: Date, on connection: PostgresConnection) async throws -> AuditCheckpoint? {
        guard let head = try await connection.query("SELECT seq AS id, encode(hash, 'hex') AS hash FROM audit_events WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1").first
        else { return nil }
        let row = try head.decode(Int64.self, column: "id")
        let hash = try head.decode(String.self, column: "hash")
        let at = Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down))
        let signature = try key.signature(for: message(row: row, hash: hash, at: at))
        return AuditCheckpoint(row: row, hash: hash, at: at, publicKey: key.publicKey.rawRepresentation.base64EncodedString(),
                               signature: signature.base64EncodedString())
    }

    public enum Problem: Error, Equatable, CustomStringConvertible {
        case badSignature(row: Int64)
        case rowGone(row: Int64)
        case rowChanged(row: Int64)

        public var description: String {
            switch self {
            case .badSignature(let row): return "the checkpoint of row \(row) is not signed by the given key"
            case .rowGone(let row): return "checkpointed row \(row) is gone (the trail was truncated)"
            case .rowChanged(let row): return "checkpointed row \(row) no longer has the checkpointed hash"
            }
        }
    }

    /// Checks the signature with `publicKey`, then that the row still exists with the same hash.
    public func verify(publicKey: Curve25519.Signing.PublicKey, on connection: PostgresConnection) async throws -> Problem? {
        guard let signatureBytes = Data(base64Encoded: signature),
              publicKey.isValidSignature(signatureBytes, for: Self.message(row: row, hash: hash, at: at))
        else { return .badSignature(row: row) }
        guard let stored = try await connection.query("SELECT encode(hash, 'hex') AS hash FROM audit_events WHERE seq = $1", [row]).first
        else { return .rowGone(row: row) }
        return try stored.decode(String.self, column: "hash") == hash ? nil : .rowChanged(row: row)
    }
}

/// The Ed25519 key that signs checkpoints, in a file of its own (mode 0600): the raw 32-byte
/// private key, base64, on one line.
public enum AuditSigningKey {
    public static func generate(to path: String) throws -> Curve25519.Signing.PrivateKey {
        let key = Curve25519.Signing.PrivateKey()
        guard FileManager.default.createFile(atPath: path, contents: Data((key.rawRepresentation.base64EncodedString() + "\n").utf8),
                                             attributes: [.posixPermissions: 0o600])
        else { throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path]) }
        return key
    }

    public static func load(_ path: String) throws -> Curve25519.Signing.PrivateKey {
        guard let text = FileManager.default.contents(atPath: path).map({ String(decoding: $0, as: UTF8.self) }),
              let raw = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines))
        else { throw CocoaError(.fileReadCorruptFile, userInfo: [NSFilePathErrorKey: path]) }
        return try Curve25519.Signing.PrivateKey(rawRepresentation: raw)
    }

    /// Appends one checkpoint as a JSON line to `path` (created 0600).
    public static func append(_ checkpoint: AuditCheckpoint, to path: String) throws {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        var line = try encoder.encode(checkpoint)
        line.append(0x0A)
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
                throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path])
            }
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: line)
        try handle.synchronize()
    }

    /// Every checkpoint in a file of JSON lines.
    public static func read(_ path: String) throws -> [AuditCheckpoint] {
        guard let data = FileManager.default.contents(atPath: path) else { throw CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: path]) }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try String(decoding: data, as: UTF8.self).split(separator: "\n").map { try decoder.decode(AuditCheckpoint.self, from: Data($0.utf8)) }
    }
}
