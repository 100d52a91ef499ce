import Crypto
import Foundation

/// RFC 6238 time-based one-time passwords as every authenticator app computes them: HMAC-SHA1
/// over the 30-second step counter, dynamic truncation (RFC 4226 §5.3), 6 digits. About twenty
/// lines, so the domain needs no web framework for them.
struct TOTP: Sendable {
    /// The shared secret's bytes (the key of the HMAC).
    let secret: [UInt8]
    static let period: TimeInterval = 30
    static let digits = 6

    /// The code for step `counter` (seconds since 1970 divided by 30).
    func code(step counter: Int64) -> Int {
        let message = withUnsafeBytes(of: UInt64(bitPattern: counter).bigEndian, Array.init)
        let mac = Array(HMAC<Insecure.SHA1>.authenticationCode(for: message, using: SymmetricKey(data: secret)))
        let offset = Int(mac[mac.count - 1] & 0x0F)
        let truncated = (Int(mac[offset] & 0x7F) << 24) | (Int(mac[offset + 1]) << 16) | (Int(mac[offset + 2]) << 8) | Int(mac[offset + 3])
        return truncated % 1_000_000
    }

    static func step(at date: Date) -> Int64 { Int64((date.timeIntervalSince1970 / period).rounded(.down)) }

    /// The `otpauth://` URI an authenticator app scans (Key Uri Format): the secret in base32
    /// without padding; SHA1, 6 digits and 30 s are the defaults, so they are not spelled out.
    func authenticatorURI(label: String, issuer: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~:@")
        let encode = { (text: String) in text.addingPercentEncoding(withAllowedCharacters: allowed) ?? "" }
        return "otpauth://totp/\(encode(label))?secret=\(Base32.encode(secret))&issuer=\(encode(issuer))"
    }
}
