import Crypto
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Seals the secrets the service must read back (TOTP shared secrets, the sealed half of a
/// temporary password) with AES-GCM, and MACs the ones it only compares (recovery codes), under a
/// 256-bit key kept outside the database: a copy of the database alone yields none of them.
public struct SecretBox: Sendable {
    // Raw bytes: SymmetricKey is not Sendable.
    private let keyBytes: [UInt8]
    private let macKeyBytes: [UInt8]
    var key: SymmetricKey { SymmetricKey(data: keyBytes) }
    var macKey: SymmetricKey { SymmetricKey(data: macKeyBytes) }

    public init(key: SymmetricKey) {
        keyBytes = key.withUnsafeBytes { Array($0) }
        // A separate key for MACs, derived, so one use never weakens the other.
        macKeyBytes = Array(HMAC<SHA256>.authenticationCode(for: Data("spse recovery-code mac".utf8), using: key))
    }

    /// A key for this process only (tests, and a CLI that only reads): nothing it seals outlives it.
    public static func ephemeral() -> SecretBox { SecretBox(key: SymmetricKey(size: .bits256)) }

    /// The key in `path`, or nil when there is no such file (a file that exists but is not a key is an error).
    public static func loadExisting(path: String) throws -> SecretBox? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path), data.count == 32 else { throw SecretBoxError.badKeyFile(path) }
        return SecretBox(key: SymmetricKey(data: data))
    }

    /// The key in `path` (32 bytes), made with mode 0600 when the file does not exist yet.
    /// A file that exists but cannot be read is an error, never a reason to make a new key: a new
    /// key would silently void every enrolled authenticator.
    public static func load(path: String) throws -> SecretBox {
        let url = URL(fileURLWithPath: path)
        if FileManager.default.fileExists(atPath: path) {
            guard let data = FileManager.default.contents(atPath: path), data.count == 32 else { throw SecretBoxError.badKeyFile(path) }
            return SecretBox(key: SymmetricKey(data: data))
        }
        let key = SymmetricKey(size: .bits256)
        try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        // Created exclusively: two processes starting at once cannot both write a key.
        let descriptor = Glibc.open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard descriptor >= 0 else {
            if errno == EEXIST { return try load(path: path) }
            throw SecretBoxError.badKeyFile(path)
        }
        defer { close(descriptor) }
        let bytes = key.withUnsafeBytes { Array($0) }
        guard write(descriptor, bytes, bytes.count) == bytes.count else { throw SecretBoxError.badKeyFile(path) }
        return SecretBox(key: key)
    }

    /// Sealed under a key derived for this purpose, with `context` (purpose and row) as
    /// authenticated data: a sealed value copied to another row or table does not open there.
    public func seal(_ plaintext: [UInt8], context: String) throws -> [UInt8] {
        guard let combined = try AES.GCM.seal(plaintext, using: subkey(context), authenticating: Array(context.utf8)).combined else {
            throw SecretBoxError.sealing
        }
        return Array(combined)
    }

    public func open(_ sealed: [UInt8], context: String) throws -> [UInt8] {
        Array(try AES.GCM.open(try AES.GCM.SealedBox(combined: sealed), using: subkey(context), authenticating: Array(context.utf8)))
    }

    /// One key per purpose (the context up to its first colon), derived from the file's key.
    private func subkey(_ context: String) -> SymmetricKey {
        let purpose = context.split(separator: ":").first.map(String.init) ?? context
        return SymmetricKey(data: HMAC<SHA256>.authenticationCode(for: Data("spse seal \(purpose)".utf8), using: key))
    }

    public func mac(_ text: String) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: Data(text.utf8), using: macKey))
    }
}

public enum SecretBoxError: Error, CustomStringConvertible {
    case badKeyFile(String)
    case sealing
    public var description: String {
        switch self {
        case .badKeyFile(let path): return "\(path) must hold exactly 32 bytes (the secrets key) and be readable"
        case .sealing: return "sealing failed"
        }
    }
}
