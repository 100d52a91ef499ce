import Crypto
import Foundation

/// An authenticator app in miniature: RFC 6238 (HMAC-SHA1, 6 digits, 30 s steps) from the base32
/// key an enrolment shows, written independently of the service so tests check interoperability.
public enum AuthenticatorApp {
    public static func code(_ key: String, at date: Date) -> String {
        let counter = withUnsafeBytes(of: UInt64(date.timeIntervalSince1970 / 30).bigEndian) { Array($0) }
        let mac = Array(HMAC<Insecure.SHA1>.authenticationCode(for: counter, using: SymmetricKey(data: base32Decode(key))))
        let offset = Int(mac[mac.count - 1] & 0x0F)
        let value = (UInt32(mac[offset] & 0x7F) << 24) | (UInt32(mac[offset + 1]) << 16) | (UInt32(mac[offset + 2]) << 8) | UInt32(mac[offset + 3])
        return String(format: "%06d", value % 1_000_000)
    }

    /// RFC 4648 base32, padding and unknown characters ignored.
    public static func base32Decode(_ text: String) -> [UInt8] {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        var bytes: [UInt8] = [], buffer = 0, bits = 0
        for character in text.uppercased() {
            guard let value = alphabet.firstIndex(of: character) else { continue }
            buffer = (buffer << 5) | value
            bits += 5
            if bits >= 8 {
                bytes.append(UInt8((buffer >> (bits - 8)) & 0xFF))
                bits -= 8
            }
        }
        return bytes
    }
}
