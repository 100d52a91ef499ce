import DoorKit
import Federation
import Foundation
import Hummingbird
import Inputs
import Operations

/// RP-initiated logout, the browser's part: `/oauth/logout`. The operations decide whether the
/// session ends at once (the application's ID token is this session's) or the person is asked;
/// afterwards the browser goes to the application's registered post-logout URI, or to a page here.
struct EndSessionPages {
    let console: Console
    static let path = "/oauth/logout"

    func addRoutes(to group: RouterGroup<DoorContext>) {
        let get: @Sendable (Request, DoorContext) async throws -> Response = { request, context in
            let query = request.form
            var parameters: [String: String]
            do { parameters = try query.all() } catch let error as InputError { return refusedHere(FederationError.invalidRequest(error.field), request, context) }
            let hopped = parameters.removeValue(forKey: AuthorizePages.hop) != nil
            if let hop = AuthorizePages(console: console).sameSiteHop(Self.path, parameters, hopped: hopped, request, console.page(request, context)) {
                return hop
            }
            return try await answer(parameters, repeated: query.repeated.subtracting([AuthorizePages.hop]), confirmed: false, request, context)
        }
        group.get("oauth/logout", use: get)
        group.post("oauth/logout") { request, context -> Response in
            let page = console.page(request, context)
            let form = try await ConsoleForm.read(request, page, limit: console.formLimit)
            guard let encoded = form.raw("request"), let parameters = AuthorizePages.decodeRequest(encoded) else {
                return refusedHere(FederationError.invalidRequest("request"), request, context)
            }
            return try await answer(parameters, repeated: [], confirmed: form.raw("decision") == "logout", request, context)
        }
    }

    func answer(_ parameters: [String: String], repeated: Set<String>, confirmed: Bool, _ request: Request, _ context: DoorContext) async throws -> Response {
        let page = console.page(request, context)
        let logout: EndSessionRequest
        do {
            logout = try await console.operations.endSessionRequest(parameters, repeated: repeated)
        } catch let error as FederationError {
            return refusedHere(error, request, context)
        }
        switch try await console.operations.endSession(logout, token: context.token, confirmed: confirmed) {
        case .confirm(let client, _):
            return console.render("oauth_logout", page, ["client": client?.name, "clientID": client?.clientID,
                                                         "request": AuthorizePages.encodeRequest(parameters)])
        case .signedOut(let destination):
            let signedOut = Page(language: page.language, session: nil, token: nil, csrf: nil, path: page.path)
            // Through a page of its own: a redirect answering the form is held to its form-action 'self'.
            var response = destination.map { console.hop(to: $0, signedOut) } ?? console.render("oauth_signed_out", signedOut)
            response.setCookie(console.cookies.expired(ConsoleCookies.session))
            return response
        }
    }

    /// A request this provider will not act on: said here, never followed, and nobody is signed out.
    func refusedHere(_ error: FederationError, _ request: Request, _ context: DoorContext) -> Response {
        let page = console.page(request, context)
        return console.render("error", page, ["heading": console.t("oauth_logout_refused", page),
                                              "message": console.t(error == .unknownClient ? "oauth_unknown_client" : "oauth_logout_bad_request", page)],
                              status: .badRequest)
    }
}
