import Accounts
import Foundation
import Gate
import DoorKit
import Inputs
import Hummingbird
import Mustache
import Operations

/// The web console: server-rendered pages for Staf Administrasi, Admin PPE, the managed users and
/// the auditor, served by the same `serve` at `/` (the API stays under `/v1`). A third door: each
/// page translates form fields into one operation and its answer into HTML; it decides nothing.
public struct Console: Sendable {
    let operations: Operations
    let library: MustacheLibrary
    let catalog: Catalog
    let cookies: ConsoleCookies
    /// Largest urlencoded form read (a multipart upload has the document limit).
    let formLimit = 64 * 1024
    let batchLimit: Int

    /// `secureCookies`: mark cookies `Secure` (served over TLS, or behind a TLS proxy).
    public init(operations: Operations, secureCookies: Bool, batchLimit: Int = 16 * 1024 * 1024) throws {
        self.operations = operations
        self.cookies = ConsoleCookies(secure: secureCookies)
        self.batchLimit = batchLimit
        catalog = try Catalog(bundle: .module)
        var library = MustacheLibrary()
        guard let directory = Bundle.module.url(forResource: "Templates", withExtension: nil, subdirectory: "Resources") else {
            throw ConsoleSetupError("the templates are missing")
        }
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) where name.hasSuffix(".mustache") {
            let text = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
            try library.register(text, named: String(name.dropLast(".mustache".count)))
        }
        self.library = library
    }

    /// Adds the console's routes, behind its middleware (session cookie, security headers, HTML errors).
    public func addRoutes(to router: Router<DoorContext>) {
        StaticFiles.addRoutes(to: router)
        let group = router.group().add(middleware: ConsoleMiddleware(console: self))
        AuthPages(console: self).addRoutes(to: group)
        HomePage(console: self).addRoutes(to: group)
        RequestPages(console: self).addRoutes(to: group)
        AccountPages(console: self).addRoutes(to: group)
        ReportPages(console: self).addRoutes(to: group)
        MyAccountPage(console: self).addRoutes(to: group)
        PublicPages(console: self).addRoutes(to: group)
        AuthorizePages(console: self).addRoutes(to: group)
        EndSessionPages(console: self).addRoutes(to: group)
        ApplicationPages(console: self).addRoutes(to: group)
        // Last: it wraps only the answer to a path no route matched.
        router.add(middleware: ConsolePathNotFoundMiddleware(console: self))
    }
}

/// What every page knows of the request it answers.
struct Page: Sendable {
    let language: Language
    let session: Session?
    let token: SessionToken?
    let csrf: String?
    /// The path and query, to come back to after switching language.
    let path: String

    /// The caller for an operation; a page reached without a full session never gets here (the
    /// middleware redirected it), so this is the API's own refusal otherwise.
    func caller() throws -> Caller {
        guard let session else { throw AccountsError.sessionInvalid }
        return try Caller(session: session)
    }
}

extension Console {
    func page(_ request: Request, _ context: DoorContext) -> Page {
        let language = Catalog.language(cookie: request.cookies[ConsoleCookies.language]?.value,
                                        acceptLanguage: request.headers[.acceptLanguage])
        let path = request.uri.path + (request.uri.query.map { "?\($0)" } ?? "")
        return Page(language: language, session: context.session, token: context.token,
                    csrf: CSRF.token(session: context.token, preLogin: request.cookies[ConsoleCookies.preLogin]?.value),
                    path: path)
    }

    func t(_ key: String, _ page: Page, _ values: [String: String] = [:]) -> String { catalog.text(key, page.language, values) }

    /// Renders `template` with `data` and what every page shows (the catalogue, the user, the menu by role).
    /// `data`'s nil values are left out, so a template's `{{#key}}` section sees "absent".
    func render(_ template: String, _ page: Page, _ data: [String: Any?] = [:], status: HTTPResponse.Status = .ok) -> Response {
        var model: [String: Any] = [
            "t": catalog.table(page.language), "lang": page.language.rawValue, "otherLang": page.language.other.rawValue,
            "otherLangName": page.language.other.name, "csrf": page.csrf ?? "",
            "path": page.path.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "/",
        ]
        if let session = page.session, session.scope == .full {
            let role = session.role
            model["user"] = ["userID": session.userID.value, "roleName": t("role_\(role.rawValue)", page)]
            model["nav"] = [
                "newRequest": AccessPolicy.allows(role, .submitRequests),
                "requests": AccessPolicy.allows(role, .readAllRequests),
                "accounts": AccessPolicy.allows(role, .createAccounts),
                "reports": AccessPolicy.allows(role, .readSLAReports),
                "audit": AccessPolicy.allows(role, .readAudit),
                "applications": AccessPolicy.allows(role, .manageApplications),
            ]
        }
        for (key, value) in data { if let value { model[key] = value } }
        let html = library.render(model, withTemplate: template) ?? "<!DOCTYPE html><title>spse-accounts</title><p>template \(template) missing</p>"
        return Response(status: status, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// A page that moves the browser on to `target` (a meta refresh): how the console leaves a
    /// form for an application (a redirect answering a form is held to its `form-action 'self'`)
    /// and how a cross-site arrival comes back same-site.
    func hop(to target: String, _ page: Page) -> Response {
        render("oauth_hop", page, ["target": target])
    }

    /// 303 to `location` (a path of this site), optionally with a message for the next page.
    func redirect(_ location: String, flash: String? = nil) -> Response {
        var target = location
        if let flash { target += (target.contains("?") ? "&" : "?") + "ok=\(flash)" }
        return Response(status: .seeOther, headers: [.location: target])
    }

    /// A refusal in the page's language: the console's catalogue for what people meet at the
    /// door (credentials, throttling, policy), the problem's own detail otherwise.
    /// A field of the requester's hint (`user_id`, `nip`, `email`, `full_name`) in the reader's words.
    func hintFieldName(_ field: String, _ page: Page) -> String {
        switch field {
        case "user_id": return "User ID"
        case "nip": return "NIP"
        case "email": return t("email", page)
        default: return t("full_name", page)
        }
    }

    func message(for error: any Error, _ page: Page) -> (problem: Problem, text: String) {
        let problem = ProblemMapping.problem(for: error)
        let english = page.language == .en
        let text: String
        // The gate's refusals that name states and fields: in the catalogue's words.
        switch error as? GateError {
        case .wrongState(let current, _)?:
            return (problem, t("wrong_state", page, ["state": t("state_\(current.rawValue)", page)]))
        case .hintMismatch(let fields)?:
            return (problem, t("mismatch_refused", page, ["fields": fields.map { hintFieldName($0, page) }.joined(separator: ", ")]))
        case .missingDocuments(let types)?:
            let names = types.map { type -> String in
                switch type {
                case .skPengangkatan: return t("appointment_decree", page)
                case .suratPermohonan: return t("request_letter", page)
                case .other: return t("other_document", page)
                }
            }
            return (problem, t("documents_missing", page, ["documents": names.joined(separator: ", ")]))
        case .reasonRequired?:
            return (problem, t("reason_required", page))
        default: break
        }
        if let input = error as? InputError, input.field == "kinds" { return (problem, t("kinds_required", page)) }
        if let input = error as? InputError, ["complete", "valid"].contains(input.field) { return (problem, t("verdict_required", page)) }
        if !english, case .invalidField(let field, _)? = error as? AccountsError {
            // The account rules explain themselves in English; name the field in the reader's words.
            let label = field.rawValue == "nip" ? "NIP" : t(field.rawValue, page)
            return (problem, "\(t("invalid_value", page)): \(label).")
        }
        if problem.status == .serviceUnavailable {
            return (problem, t("service_unavailable", page, ["n": String(problem.retryAfter ?? 5)]))
        }
        switch problem.code {
        case "invalid_credentials": text = t("wrong_credentials", page)
        case "too_many_requests", "locked":
            text = t("too_many_attempts", page, ["n": String(max(1, ((problem.retryAfter ?? 60) + 59) / 60))])
        case "temporary_password_expired": text = t("temporary_expired", page)
        case "account_disabled": text = t("account_disabled", page)
        case "password_policy": text = t("policy_\(problem.extra["rule"] ?? "min_length")", page)
        case "not_found", "account_not_found": text = t("not_found", page)
        case "not_permitted": text = t("forbidden", page)
        case "invalid_input", "invalid_field":
            let detail = english ? problem.detailEN : problem.detailID
            if let input = error as? InputError, input.reason.hasPrefix("is required") {
                text = t("required", page)
            } else {
                text = english ? detail : "\(t("invalid_value", page)) — \(detail)"
            }
        default: text = english ? problem.detailEN : problem.detailID
        }
        return (problem, text)
    }

    /// `response` with the problem's `Retry-After`, when it has one.
    func retrying(_ response: Response, _ problem: Problem) -> Response {
        var response = response
        if let seconds = problem.retryAfter { response.headers[.retryAfter] = String(seconds) }
        return response
    }

    /// The flash message a redirect carried (`?ok=…`), only from the catalogue's `done_*` keys.
    func flash(_ request: Request, _ page: Page) -> String? {
        guard let key = try? request.form["ok"], key.allSatisfy({ $0.isLetter || $0 == "_" }),
              catalog.table(page.language)["done_\(key)"] != nil else { return nil }
        return t("done_\(key)", page)
    }
}
