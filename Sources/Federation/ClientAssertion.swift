import _CryptoExtras
import Crypto
import Foundation

/// Why a registered JWKS will not do, said at its field.
public struct JWKSProblem: Error, Sendable, ExpressibleByStringLiteral {
    public let reason: String
    public init(stringLiteral reason: String) { self.reason = reason }
}

/// A public key that verifies signatures: a client's, from the JWKS it was registered with, or
/// one of this provider's own, from the JWK it publishes. P-256 for ES256, RSA (2048 bits or
/// more) for RS256.
public struct VerifyingKey: Sendable, Equatable {
    public let kid: String?
    public let algorithm: SigningKey.Algorithm
    /// x || y for P-256; for RSA, the modulus and exponent.
    let material: [[UInt8]]

    /// The keys of a JWKS document (`{"keys": [...]}` or the array alone), or the reason it will not do.
    public static func parse(jwks text: String) -> Result<[VerifyingKey], JWKSProblem> {
        guard text.utf8.count <= 32 * 1024, let json = try? JSONSerialization.jsonObject(with: Data(text.utf8)) else { return .failure("is not JSON") }
        guard let entries = (json as? [String: Any])?["keys"] as? [[String: Any]] ?? json as? [[String: Any]] else {
            return .failure("must be a JWKS ({\"keys\": [...]})")
        }
        guard (1...10).contains(entries.count) else { return .failure("must hold 1 to 10 keys") }
        var keys: [VerifyingKey] = []
        for entry in entries {
            switch from(jwk: entry) {
            case .success(let key): keys.append(key)
            case .failure(let problem): return .failure(problem)
            }
        }
        return .success(keys)
    }

    /// One public JWK, or the reason it will not do.
    static func from(jwk entry: [String: Any]) -> Result<VerifyingKey, JWKSProblem> {
        let kid = entry["kid"] as? String
        if let kid, kid.utf8.count > 128 { return .failure("has a kid longer than 128 characters") }
        if entry["d"] != nil || entry["p"] != nil { return .failure("holds a private key: register the public keys only") }
        switch entry["kty"] as? String {
        case "EC":
            // Coordinates are 32 bytes (RFC 7518 §6.2.1.2); some libraries drop leading zero bytes, restored here.
            func coordinate(_ name: String) -> [UInt8]? {
                guard let bytes = (entry[name] as? String).flatMap(Base64URL.decode), (1...32).contains(bytes.count) else { return nil }
                return Array(repeating: 0, count: 32 - bytes.count) + bytes
            }
            guard entry["crv"] as? String == "P-256", let x = coordinate("x"), let y = coordinate("y"),
                  (try? P256.Signing.PublicKey(x963Representation: [0x04] + x + y)) != nil else { return .failure("has an EC key that is not a P-256 public key") }
            return .success(VerifyingKey(kid: kid, algorithm: .es256, material: [x, y]))
        case "RSA":
            guard let n = (entry["n"] as? String).flatMap(Base64URL.decode), let e = (entry["e"] as? String).flatMap(Base64URL.decode),
                  let key = try? _RSA.Signing.PublicKey(n: n, e: e), key.keySizeInBits >= 2048 else {
                return .failure("has an RSA key that is not a public key of 2048 bits or more")
            }
            return .success(VerifyingKey(kid: kid, algorithm: .rs256, material: [n, e]))
        default:
            return .failure("may hold only EC (P-256) and RSA keys")
        }
    }

    /// The key as stored: its public JWK.
    var jwk: [String: String] {
        var jwk: [String: String] = algorithm == .es256
            ? ["kty": "EC", "crv": "P-256", "x": Base64URL.encode(material[0]), "y": Base64URL.encode(material[1])]
            : ["kty": "RSA", "n": Base64URL.encode(material[0]), "e": Base64URL.encode(material[1])]
        if let kid { jwk["kid"] = kid }
        return jwk
    }

    func isValidSignature(_ signature: [UInt8], for input: [UInt8]) -> Bool {
        switch algorithm {
        case .es256:
            guard let key = try? P256.Signing.PublicKey(x963Representation: [0x04] + material[0] + material[1]),
                  let parsed = try? P256.Signing.ECDSASignature(rawRepresentation: signature) else { return false }
            return key.isValidSignature(parsed, for: input)
        case .rs256:
            guard let key = try? _RSA.Signing.PublicKey(n: material[0], e: material[1]) else { return false }
            return key.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: signature), for: input, padding: .insecurePKCS1v1_5)
        }
    }
}

/// A compact JWS presented to the provider (a client assertion, an ID token hint), read once:
/// its header, claims and signature. Nothing in it is trusted until `isSigned(by:)` says so.
struct CompactJWS {
    let header: [String: Any]
    let claims: [String: Any]
    let signature: [UInt8]
    let signingInput: [UInt8]

    init?(_ text: String) {
        guard text.utf8.count <= 8192 else { return nil }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, let header = Base64URL.decode(parts[0]).flatMap({ (try? JSONSerialization.jsonObject(with: Data($0))) as? [String: Any] }),
              let claims = Base64URL.decode(parts[1]).flatMap({ (try? JSONSerialization.jsonObject(with: Data($0))) as? [String: Any] }),
              let signature = Base64URL.decode(parts[2]) else { return nil }
        (self.header, self.claims, self.signature, self.signingInput) = (header, claims, signature, Array((parts[0] + "." + parts[1]).utf8))
    }

    /// `alg` when it is one the provider verifies (never `none`).
    var algorithm: SigningKey.Algorithm? { (header["alg"] as? String).flatMap(SigningKey.Algorithm.init(rawValue:)) }
    var kid: String? { header["kid"] as? String }
    /// `aud` as a list, whether it came as one string or an array.
    var audience: [String] { (claims["aud"] as? String).map { [$0] } ?? (claims["aud"] as? [String]) ?? [] }

    /// Whether one of `keys` of the header's algorithm (and `kid`, when both name one) signed it.
    func isSigned(by keys: [VerifyingKey]) -> Bool {
        guard let algorithm else { return false }
        return keys.contains { $0.algorithm == algorithm && (kid == nil || $0.kid == nil || $0.kid == kid) && $0.isValidSignature(signature, for: signingInput) }
    }
}

/// A `private_key_jwt` client assertion (RFC 7523 §3), checked against the client's keys.
struct ClientAssertion {
    /// The longest an assertion may live (an hour: what client libraries such as Authlib make by
    /// default); its `jti` is remembered that long.
    static let maximumLifetime: TimeInterval = 3600

    let jti: String
    let expiresAt: Date

    /// The assertion when `keys` signed it, it names `clientID` as issuer and subject and it is for `audiences`, now; nil otherwise.
    static func verify(_ jws: CompactJWS, keys: [VerifyingKey], clientID: String, audiences: Set<String>, now: Date) -> ClientAssertion? {
        let claims = jws.claims
        guard jws.isSigned(by: keys), claims["iss"] as? String == clientID, claims["sub"] as? String == clientID,
              let jti = claims["jti"] as? String, (1...256).contains(jti.utf8.count),
              let exp = (claims["exp"] as? NSNumber)?.doubleValue, exp.isFinite else { return nil }
        let expiresAt = Date(timeIntervalSince1970: exp)
        guard !audiences.isDisjoint(with: jws.audience), expiresAt > now, expiresAt <= now.addingTimeInterval(maximumLifetime + 60) else { return nil }
        if let nbf = (claims["nbf"] as? NSNumber)?.doubleValue, !nbf.isFinite || Date(timeIntervalSince1970: nbf) > now.addingTimeInterval(60) { return nil }
        return ClientAssertion(jti: jti, expiresAt: expiresAt)
    }
}
