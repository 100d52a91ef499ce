import DoorKit
import Federation
import Foundation
import Hummingbird
import Operations

/// The OpenID provider's door for relying parties: discovery, the JWKS, the token endpoint,
/// revocation, introspection and userinfo (the browser's part, `/oauth/authorize`, is the console's: it needs the sign-in
/// pages). Refusals are OAuth's JSON (`error`, `error_description`), mapped from the one
/// problem mapping; every answer that carries a token is `no-store`.
public struct OpenIDDoor: Sendable {
    let operations: Operations

    public init(operations: Operations) { self.operations = operations }

    public func addRoutes(to router: Router<DoorContext>) {
        router.get(".well-known/openid-configuration") { _, _ -> Response in
            Self.json(operations.openIDConfiguration(), cache: "public, max-age=300")
        }
        router.get("oauth/jwks") { _, _ -> Response in
            try await Self.oauth { Self.json(["keys": try await operations.jwks()], cache: "public, max-age=300") }
        }
        router.post("oauth/token") { request, context -> Response in
            try await Self.oauth {
                let form = try await Self.form(request)
                let response = try await operations.exchange(form, basic: try Self.basic(request), from: context.remoteAddress)
                var answer: [String: Any] = ["access_token": response.accessToken, "token_type": "Bearer", "expires_in": response.expiresIn,
                                             "scope": response.scope]
                if let idToken = response.idToken { answer["id_token"] = idToken }
                if let refresh = response.refreshToken { answer["refresh_token"] = refresh }
                return Self.json(answer, cache: "no-store")
            }
        }
        router.post("oauth/revoke") { request, context -> Response in
            try await Self.oauth {
                try await operations.revokeToken(try await Self.form(request), basic: try Self.basic(request), from: context.remoteAddress)
                return Response(status: .ok, headers: [.cacheControl: "no-store"])
            }
        }
        router.post("oauth/introspect") { request, context -> Response in
            try await Self.oauth {
                Self.json(try await operations.introspectToken(try await Self.form(request), basic: try Self.basic(request), from: context.remoteAddress),
                          cache: "no-store")
            }
        }
        let userinfo: @Sendable (Request, DoorContext) async throws -> Response = { request, _ in
            try await Self.oauth(bearer: true) {
                guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else { throw FederationError.invalidToken }
                return Self.json(try await operations.userinfo(accessToken: String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)),
                                 cache: "no-store")
            }
        }
        router.get("oauth/userinfo", use: userinfo)
        router.post("oauth/userinfo", use: userinfo)
    }

    /// A form body (RFC 6749 §3.2: `application/x-www-form-urlencoded`), at most 16 KiB, no parameter twice.
    static func form(_ request: Request) async throws -> [String: String] {
        guard request.headers[.contentType]?.lowercased().hasPrefix("application/x-www-form-urlencoded") == true else {
            throw FederationError.invalidRequest("Content-Type")
        }
        let body = try await request.body.collect(upTo: 16 * 1024)
        let query = FormQuery(String(decoding: body.readableBytesView, as: UTF8.self))
        if let name = query.repeated.sorted().first { throw FederationError.invalidRequest(name) }
        do { return try query.all() } catch { throw FederationError.invalidRequest(error.field) }
    }

    /// `client_secret_basic`: the id and secret, each form-encoded, joined by a colon, in base64 (RFC 6749 §2.3.1).
    static func basic(_ request: Request) throws -> (id: String, secret: String)? {
        guard let header = request.headers[.authorization] else { return nil }
        guard header.lowercased().hasPrefix("basic "), let data = Data(base64Encoded: String(header.dropFirst(6)).trimmingCharacters(in: .whitespaces)),
              let text = String(data: data, encoding: .utf8), let colon = text.firstIndex(of: ":") else { throw FederationError.invalidClient }
        func decode(_ part: Substring) -> String? { String(part).replacingOccurrences(of: "+", with: " ").removingPercentEncoding }
        guard let id = decode(text[..<colon]), let secret = decode(text[text.index(after: colon)...]) else { throw FederationError.invalidClient }
        return (id, secret)
    }

    static func json(_ value: Any, status: HTTPResponse.Status = .ok, cache: String) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8", .cacheControl: cache]
        if cache == "no-store" { headers[.init("Pragma")!] = "no-cache" }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// Runs `body`; any refusal becomes OAuth's error JSON with the status the one mapping gives
    /// (401 with `WWW-Authenticate` for a client or token that failed, 503/429 with `Retry-After`).
    static func oauth(bearer: Bool = false, _ body: () async throws -> Response) async throws -> Response {
        do {
            return try await body()
        } catch {
            let problem = ProblemMapping.problem(for: error)
            if problem.status == .internalServerError { throw error }  // logged by the outer middleware, as any 500
            let code: String
            if error is FederationError { code = problem.code }
            else if problem.status == .serviceUnavailable || problem.status == .tooManyRequests { code = "temporarily_unavailable" }
            else { code = "invalid_request" }
            var response = json(["error": code, "error_description": problem.detailEN], status: problem.status, cache: "no-store")
            if let retry = problem.retryAfter { response.headers[.retryAfter] = String(retry) }
            if problem.status == .unauthorized {
                response.headers[.wwwAuthenticate] = bearer ? "Bearer error=\"\(code)\"" : "Basic realm=\"spse-accounts\""
            }
            return response
        }
    }
}
