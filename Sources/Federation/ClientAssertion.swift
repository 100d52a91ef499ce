import _CryptoExtras
import Crypto
import Foundation

/// Why a registered JWKS will not do, said at its field.
public struct JWKSProblem: Error, Sendable, ExpressibleByStringLiteral {
    public let reason: String
    public init(stringLiteral reason: String) { self.reason = reason }
}

/// A client's public key from the JWKS it was registered with: P-256 for ES256, RSA (2048 bits
/// or more) for RS256.
public struct ClientKey: Sendable, Equatable {
    public let kid: String?
    public let algorithm: SigningKey.Algorithm
    /// x || y for P-256; for RSA, the modulus and exponent.
    let material: [[UInt8]]

    /// The keys of a JWKS document (`{"keys": [...]}` or the array alone); nil with the reason when it will not do.
    public static func parse(jwks text: String) -> Result<[ClientKey], JWKSProblem> {
        guard text.utf8.count <= 32 * 1024, let json = try? JSONSerialization.jsonObject(with: Data(text.utf8)) else { return .failure("is not JSON") }
        guard let entries = (json as? [String: Any])?["keys"] as? [[String: Any]] ?? json as? [[String: Any]] else {
            return .failure("must be a JWKS ({\"keys\": [...]})")
        }
        guard (1...10).contains(entries.count) else { return .failure("must hold 1 to 10 keys") }
        var keys: [ClientKey] = []
        for entry in entries {
            let kid = entry["kid"] as? String
            if let kid, kid.utf8.count > 128 { return .failure("has a kid longer than 128 characters") }
            if entry["d"] != nil || entry["p"] != nil { return .failure("holds a private key: register the public keys only") }
            switch entry["kty"] as? String {
            case "EC":
                guard entry["crv"] as? String == "P-256", let x = (entry["x"] as? String).flatMap(Base64URL.decode),
                      let y = (entry["y"] as? String).flatMap(Base64URL.decode), x.count == 32, y.count == 32,
                      (try? P256.Signing.PublicKey(x963Representation: [0x04] + x + y)) != nil else { return .failure("has an EC key that is not a P-256 public key") }
                keys.append(ClientKey(kid: kid, algorithm: .es256, material: [x, y]))
            case "RSA":
                guard let n = (entry["n"] as? String).flatMap(Base64URL.decode), let e = (entry["e"] as? String).flatMap(Base64URL.decode),
                      let key = try? _RSA.Signing.PublicKey(n: n, e: e), key.keySizeInBits >= 2048 else {
                    return .failure("has an RSA key that is not a public key of 2048 bits or more")
                }
                keys.append(ClientKey(kid: kid, algorithm: .rs256, material: [n, e]))
            default:
                return .failure("may hold only EC (P-256) and RSA keys")
            }
        }
        return .success(keys)
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

/// A `private_key_jwt` client assertion (RFC 7523 §3), parsed and checked against the client's keys.
struct ClientAssertion {
    static let type = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    /// The longest an assertion may live (an hour: what client libraries such as Authlib make by
    /// default); its `jti` is remembered that long.
    static let maximumLifetime: TimeInterval = 3600

    let clientID: String
    let jti: String
    let expiresAt: Date

    /// The assertion's claims when `keys` signed it and it is for `audiences`, now; nil otherwise.
    static func verify(_ jws: String, keys: [ClientKey], clientID: String, audiences: Set<String>, now: Date) -> ClientAssertion? {
        guard jws.utf8.count <= 8192 else { return nil }
        let parts = jws.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, let headerBytes = Base64URL.decode(parts[0]), let payloadBytes = Base64URL.decode(parts[1]),
              let signature = Base64URL.decode(parts[2]),
              let header = (try? JSONSerialization.jsonObject(with: Data(headerBytes))) as? [String: Any],
              let algorithm = (header["alg"] as? String).flatMap(SigningKey.Algorithm.init(rawValue:)) else { return nil }
        let kid = header["kid"] as? String
        let candidates = keys.filter { $0.algorithm == algorithm && (kid == nil || $0.kid == nil || $0.kid == kid) }
        let input = Array((parts[0] + "." + parts[1]).utf8)
        guard candidates.contains(where: { $0.isValidSignature(signature, for: input) }),
              let claims = (try? JSONSerialization.jsonObject(with: Data(payloadBytes))) as? [String: Any],
              claims["iss"] as? String == clientID, claims["sub"] as? String == clientID,
              let jti = claims["jti"] as? String, (1...256).contains(jti.utf8.count),
              let exp = (claims["exp"] as? NSNumber)?.doubleValue, exp.isFinite else { return nil }
        let audience = (claims["aud"] as? String).map { [$0] } ?? (claims["aud"] as? [String]) ?? []
        let expiresAt = Date(timeIntervalSince1970: exp)
        guard !audiences.isDisjoint(with: audience), expiresAt > now, expiresAt <= now.addingTimeInterval(maximumLifetime + 60) else { return nil }
        if let nbf = (claims["nbf"] as? NSNumber)?.doubleValue, !nbf.isFinite || Date(timeIntervalSince1970: nbf) > now.addingTimeInterval(60) { return nil }
        return ClientAssertion(clientID: clientID, jti: jti, expiresAt: expiresAt)
    }
}
