import _CryptoExtras
import Crypto
import Foundation

/// A key that signs ID tokens (and logout tokens): ES256 (P-256) or RS256 (RSA 2048, PKCS#1
/// v1.5, which every relying party library verifies). Its `kid` is the RFC 7638 thumbprint of
/// its public JWK, so the same key always has the same id.
public struct SigningKey: Sendable {
    public enum Algorithm: String, Sendable, CaseIterable { case es256 = "ES256", rs256 = "RS256" }

    public let algorithm: Algorithm
    /// What is sealed at rest: the raw scalar for ES256, DER for RS256. The key objects are made
    /// from it where used (swift-crypto 3's private keys are not Sendable).
    public let privateBytes: [UInt8]

    public static func generate(_ algorithm: Algorithm) throws -> SigningKey {
        switch algorithm {
        case .es256: return SigningKey(algorithm: .es256, checked: Array(P256.Signing.PrivateKey().rawRepresentation))
        case .rs256: return SigningKey(algorithm: .rs256, checked: Array(try _RSA.Signing.PrivateKey(keySize: .bits2048).derRepresentation))
        }
    }

    /// A key read back from its private bytes; refused when they are not a key of `algorithm`.
    public init(algorithm: Algorithm, privateBytes: [UInt8]) throws {
        switch algorithm {
        case .es256: _ = try P256.Signing.PrivateKey(rawRepresentation: privateBytes)
        case .rs256: _ = try _RSA.Signing.PrivateKey(derRepresentation: privateBytes)
        }
        self.init(algorithm: algorithm, checked: privateBytes)
    }

    private init(algorithm: Algorithm, checked: [UInt8]) {
        (self.algorithm, self.privateBytes) = (algorithm, checked)
    }

    private var ecdsa: P256.Signing.PrivateKey? {
        algorithm == .es256 ? try? P256.Signing.PrivateKey(rawRepresentation: privateBytes) : nil
    }

    private var rsa: _RSA.Signing.PrivateKey? {
        algorithm == .rs256 ? try? _RSA.Signing.PrivateKey(derRepresentation: privateBytes) : nil
    }

    /// The public JWK's members that define the key (RFC 7638 §3.2), in lexicographic order.
    var requiredMembers: [(String, String)] {
        if let ecdsa {
            let point = Array(ecdsa.publicKey.x963Representation)  // 0x04 || x || y
            return [("crv", "P-256"), ("kty", "EC"), ("x", Base64URL.encode(point[1...32])), ("y", Base64URL.encode(point[33...64]))]
        }
        let primitives = try! rsa!.publicKey.getKeyPrimitives()  // an RSA key we made always has them
        return [("e", Base64URL.encode(primitives.publicExponent)), ("kty", "RSA"), ("n", Base64URL.encode(primitives.modulus))]
    }

    public var kid: String {
        let canonical = "{" + requiredMembers.map { "\"\($0.0)\":\"\($0.1)\"" }.joined(separator: ",") + "}"
        return Base64URL.encode(SHA256.hash(data: Data(canonical.utf8)))
    }

    /// The public key as a JWKS entry.
    public var publicJWK: [String: String] {
        var jwk = Dictionary(uniqueKeysWithValues: requiredMembers)
        jwk["kid"] = kid
        jwk["alg"] = algorithm.rawValue
        jwk["use"] = "sig"
        return jwk
    }

    func sign(_ input: [UInt8]) throws -> [UInt8] {
        if let ecdsa { return Array(try ecdsa.signature(for: input).rawRepresentation) }
        return Array(try rsa!.signature(for: input, padding: .insecurePKCS1v1_5).rawRepresentation)
    }

    /// A compact JWS of `claims` (a JWT), with this key's `kid` and `typ`.
    public func compactJWS(_ claims: [String: Any], type: String = "JWT") throws -> String {
        let header = try JSONSerialization.data(withJSONObject: ["alg": algorithm.rawValue, "kid": kid, "typ": type], options: [.sortedKeys])
        let payload = try JSONSerialization.data(withJSONObject: claims, options: [.sortedKeys, .withoutEscapingSlashes])
        let input = Base64URL.encode(header) + "." + Base64URL.encode(payload)
        return input + "." + Base64URL.encode(try sign(Array(input.utf8)))
    }
}

/// Base64url without padding (RFC 7515 §2).
public enum Base64URL {
    public static func encode<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    public static func decode(_ text: String) -> [UInt8]? {
        guard text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else { return nil }
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64).map(Array.init)
    }
}
