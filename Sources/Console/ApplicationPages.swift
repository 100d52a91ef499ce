import Accounts
import DoorKit
import Federation
import Foundation
import Hummingbird
import Operations

/// `/aplikasi`: the applications that sign their users in here, and the form an Admin PPE
/// registers one with (a fresh authenticator code when due, as every lasting change). The rules
/// are the operations'; this page only carries the form to them and shows a secret once.
struct ApplicationPages {
    let console: Console
    var operations: Operations { console.operations }

    func addRoutes(to group: RouterGroup<DoorContext>) {
        group.get("aplikasi") { request, context -> Response in
            let page = console.page(request, context)
            return try await listPage(page, try page.caller(), form: [:], error: nil, secret: nil, registered: nil)
        }
        group.post("aplikasi") { request, context -> Response in
            let page = console.page(request, context)
            var caller = try page.caller()
            try AccessPolicy.require(caller.role, .manageApplications)  // before the body is read
            let form = try await ConsoleForm.read(request, page, limit: console.formLimit)
            var typed: [String: String] = [:]
            for name in ["client_id", "name", "redirect_uris", "backchannel_logout_uri", "post_logout_redirect_uris", "confidential"] { typed[name] = form.raw(name) }
            if let code = form["code"], let token = page.token {
                do {
                    _ = try await operations.stepUp(token: token, code: code, from: context.remoteAddress)
                    caller = try await operations.caller(for: token)
                } catch AccountsError.invalidCredentials {
                    return try await listPage(page, caller, form: typed, error: console.t("wrong_code", page), secret: nil, registered: nil, status: .unauthorized)
                }
            }
            func lines(_ name: String) -> [String] {
                (form.raw(name) ?? "").split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            }
            let registration = ClientRegistration(
                clientID: form.raw("client_id") ?? "", name: form.raw("name") ?? "", redirectURIs: lines("redirect_uris"),
                confidential: form.raw("confidential") == "on", allowedClaims: OpenIDClaims.all.filter { form.raw("claim_\($0)") == "on" },
                backchannelLogoutURI: form["backchannel_logout_uri"]?.trimmingCharacters(in: .whitespaces), postLogoutRedirectURIs: lines("post_logout_redirect_uris"))
            do {
                let (client, secret) = try await operations.registerApplication(registration, by: caller)
                return try await listPage(page, caller, form: [:], error: nil, secret: secret, registered: client.clientID, status: .created)
            } catch let error where [.unprocessableContent, .conflict, .forbidden].contains(ProblemMapping.problem(for: error).status) {
                let (problem, text) = console.message(for: error, page)
                return try await listPage(page, caller, form: typed, error: text, secret: nil, registered: nil, status: problem.status)
            }
        }
    }

    func listPage(_ page: Page, _ caller: Caller, form: [String: String], error: String?, secret: String?, registered: String?,
                  status: HTTPResponse.Status = .ok) async throws -> Response {
        let clients = try await operations.applications(by: caller)
        let defaults = form.isEmpty ? Set(OpenIDClaims.defaults) : Set<String>()
        return console.render("applications", page, [
            "applications": clients.map { client in
                ["clientID": client.clientID, "name": client.name, "redirects": client.redirectURIs.joined(separator: " "),
                 "auth": client.tokenEndpointAuthMethod,
                 "claims": client.allowedClaims.map { console.t("claim_\($0)", page) }.joined(separator: ", "),
                 "backchannel": client.backchannelLogoutURI != nil]
            },
            "hasApplications": !clients.isEmpty, "error": error, "secret": secret, "registered": registered,
            "form": form, "confidentialChecked": form["confidential"] == "on",
            "claims": OpenIDClaims.all.map { ["id": $0, "name": console.t("claim_\($0)", page), "checked": defaults.contains($0)] },
            "stepUpCode": operations.stepUpDue(caller),
        ], status: status)
    }
}
