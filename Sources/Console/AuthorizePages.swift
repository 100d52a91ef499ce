import Accounts
import DoorKit
import Federation
import Foundation
import Hummingbird
import Inputs
import Operations

/// The browser's part of the OpenID provider: `/oauth/authorize`. It parses the request, lets the
/// operations decide the next step (sign in, change a temporary password, enrol an authenticator,
/// consent, or back to the application) and carries it out with the console's own pages; the
/// request waits in a cookie meanwhile, its state, nonce and PKCE challenge untouched.
struct AuthorizePages {
    let console: Console
    static let path = "/oauth/authorize"
    /// Marks the second arrival after the same-site hop below.
    static let hop = "spse_lanjut"

    func addRoutes(to group: RouterGroup<DoorContext>) {
        group.get("oauth/authorize") { request, context -> Response in
            let query = request.form
            var parameters: [String: String]
            do { parameters = try query.all() } catch let error as InputError { return refusedHere(FederationError.invalidRequest(error.field), request, context) }
            let hopped = parameters.removeValue(forKey: Self.hop) != nil
            return try await answer(parameters, repeated: query.repeated.subtracting([Self.hop]), hopped: hopped, consent: nil, request, context)
        }
        group.post("oauth/authorize") { request, context -> Response in
            let page = console.page(request, context)
            let form = try await ConsoleForm.read(request, page, limit: console.formLimit)
            guard let encoded = form.raw("request"), let parameters = Self.decodeRequest(encoded) else {
                return refusedHere(FederationError.invalidRequest("request"), request, context)
            }
            return try await answer(parameters, repeated: [], hopped: true, consent: form.raw("decision") == "allow", request, context)
        }
    }

    func answer(_ parameters: [String: String], repeated: Set<String>, hopped: Bool, consent: Bool?,
                _ request: Request, _ context: DoorContext) async throws -> Response {
        let page = console.page(request, context)
        let parsed: Result<AuthorizationRequest, AuthorizationRequest.Refusal>
        do {
            parsed = try await console.operations.authorizationRequest(parameters, repeated: repeated)
        } catch let error as FederationError {
            return refusedHere(error, request, context)
        }
        let authorization: AuthorizationRequest
        switch parsed {
        case .failure(let refusal): return Self.away(console.operations.refusalLocation(refusal))
        case .success(let request): authorization = request
        }
        let query = Self.query(parameters)
        if let hop = sameSiteHop(Self.path, parameters, hopped: hopped, request, page) { return hop }
        let waiting = Continuation.read(request)
        let signedInAfter = waiting?.path == Self.path + "?" + query ? waiting?.since : nil
        let outcome = try await console.operations.authorize(authorization, token: context.token, signedInAfter: signedInAfter ?? console.operations.now,
                                                             consent: consent)
        func wait(_ location: String) -> Response {
            var response = console.redirect(location)
            response.setCookie(console.cookies.cookie(Continuation.name, Continuation(path: Self.path + "?" + query,
                                                                                     since: signedInAfter ?? console.operations.now).encoded,
                                                      maxAge: 900))
            return response
        }
        switch outcome {
        case .redirect(let location):
            // After the consent form, through a page: a redirect answering a form is held to its `form-action 'self'`.
            var response = request.method == .post ? console.hop(to: location, page) : Self.away(location)
            response.setCookie(console.cookies.expired(Continuation.name))
            return response
        case .signIn: return wait("/masuk")
        case .changePassword: return wait("/ganti-password")
        case .enrolSecondFactor: return wait("/totp")
        case .consent(let client, let claims, _):
            return console.render("oauth_consent", page, [
                "client": client.name, "clientID": client.clientID,
                "claims": claims.map { ["name": console.t("claim_\($0)", page)] }, "hasClaims": !claims.isEmpty,
                "request": Self.encodeRequest(parameters),
            ])
        }
    }

    /// `parameters` as a query, in a stable order (what a waiting continuation is compared with).
    static func query(_ parameters: [String: String]) -> String {
        FormQuery.encode(parameters.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
    }

    /// An application's link is a cross-site navigation, on which the browser withholds the
    /// SameSite=Strict session cookie: one hop through this site's own page to `path` again brings
    /// it along. Nil when the cookie came, or the hop was made already.
    func sameSiteHop(_ path: String, _ parameters: [String: String], hopped: Bool, _ request: Request, _ page: Page) -> Response? {
        guard request.cookies[ConsoleCookies.session] == nil, !hopped else { return nil }
        let query = Self.query(parameters)
        return console.hop(to: path + "?" + query + (query.isEmpty ? "" : "&") + "\(Self.hop)=1", page)
    }

    /// A 303 to the application (its registered redirect URI, checked by the parse).
    static func away(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location, .cacheControl: "no-store"])
    }

    /// An unknown client or an unregistered redirect URI: said here, never sent anywhere.
    func refusedHere(_ error: FederationError, _ request: Request, _ context: DoorContext) -> Response {
        let page = console.page(request, context)
        return console.render("error", page, ["heading": console.t("oauth_refused", page),
                                              "message": console.t(error == .unknownClient ? "oauth_unknown_client" : "oauth_bad_request", page)],
                              status: .badRequest)
    }

    /// The request as the consent form carries it back: its parameters as a form query, base64url.
    static func encodeRequest(_ parameters: [String: String]) -> String {
        Base64URL.encode(Array(query(parameters).utf8))
    }

    static func decodeRequest(_ encoded: String) -> [String: String]? {
        guard encoded.utf8.count <= 8192, let bytes = Base64URL.decode(encoded), let text = String(bytes: bytes, encoding: .utf8) else { return nil }
        let query = FormQuery(text)
        guard query.repeated.isEmpty else { return nil }
        return try? query.all()
    }
}

/// An authorization request waiting while its person signs in: the path to come back to and
/// since when a sign-in counts (for `prompt=login`). Only an `/oauth/authorize` path of this site
/// is ever followed, so the cookie cannot be turned into a redirect elsewhere.
struct Continuation {
    static let name = "spse_oauth"
    let path: String
    let since: Date

    var encoded: String { Base64URL.encode(Array("\(Int(since.timeIntervalSince1970))|\(path)".utf8)) }

    static func read(_ request: Request) -> Continuation? {
        guard let value = request.cookies[name]?.value, value.utf8.count <= 4096, let bytes = Base64URL.decode(value),
              let text = String(bytes: bytes, encoding: .utf8), let bar = text.firstIndex(of: "|"), let seconds = Int(text[..<bar]) else { return nil }
        let path = String(text[text.index(after: bar)...])
        guard path.hasPrefix(AuthorizePages.path + "?"),
              !path.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7F || !$0.isASCII || $0 == "\\" }) else { return nil }
        return Continuation(path: path, since: Date(timeIntervalSince1970: TimeInterval(seconds)))
    }
}
