import Accounts
import Foundation
import DoorKit
import Hummingbird
import Operations

/// In front of every console page: finds the session from its cookie, sends whoever has none to
/// the sign-in page (before reading any body) and whoever must change a temporary password to
/// that page, sets the security headers, and renders every refusal as a page in the user's language.
struct ConsoleMiddleware: RouterMiddleware {
    typealias Context = DoorContext
    let console: Console

    /// Pages for anyone, signed in or not.
    /// `/oauth/authorize` decides itself what a missing or limited session must do first.
    static let publicPaths: Set<String> = Set(["/masuk", "/masuk/kode", "/bahasa", AuthorizePages.path, EndSessionPages.path]).union(PublicPages.paths)
    /// What a session that must change its password, or enrol an authenticator, may still reach.
    static let changeOnlyPaths: Set<String> = ["/ganti-password", "/keluar", "/bahasa", AuthorizePages.path, EndSessionPages.path]
    static let enrolmentPaths: Set<String> = ["/totp", "/keluar", "/bahasa", AuthorizePages.path, EndSessionPages.path]

    func handle(_ request: Request, context: DoorContext, next: (Request, DoorContext) async throws -> Response) async throws -> Response {
        var context = context
        var response: Response
        var clearSession = false
        if let value = request.cookies[ConsoleCookies.session]?.value, !value.isEmpty {
            let token = SessionToken(presented: value)
            if let session = try? await console.operations.session(for: token) {
                context.session = session
                context.token = token
            } else {
                clearSession = true  // expired or signed out elsewhere: forget it
            }
        }
        let path = request.uri.path
        do {
            if context.session == nil, !Self.publicPaths.contains(path) {
                response = console.redirect("/masuk")
            } else if let session = context.session, session.scope == .changePasswordOnly, !Self.changeOnlyPaths.contains(path) {
                response = console.redirect("/ganti-password")
            } else if let session = context.session, session.scope == .totpEnrolment, !Self.enrolmentPaths.contains(path) {
                response = console.redirect("/totp")
            } else {
                response = try await next(request, context)
            }
        } catch {
            response = errorPage(error, request, context)
        }
        if clearSession { response.setCookie(console.cookies.expired(ConsoleCookies.session)) }
        Self.secure(&response.headers)
        return response
    }

    /// Every console answer: nothing cached (pages show personal data, some a secret), nothing
    /// framed, scripts and styles only from this origin.
    static func secure(_ headers: inout HTTPFields) {
        if headers[.contentSecurityPolicy] == nil {
            headers[.contentSecurityPolicy] = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
        }
        headers[.cacheControl] = "no-store"
        headers[.init("X-Content-Type-Options")!] = "nosniff"
        headers[.init("X-Frame-Options")!] = "DENY"
        headers[.init("Referrer-Policy")!] = "no-referrer"
    }

    func errorPage(_ error: any Error, _ request: Request, _ context: DoorContext) -> Response {
        let page = console.page(request, context)
        if error is ConsoleFormError {
            return console.render("error", page, ["heading": console.t("error_heading", page), "message": console.t("form_expired", page)],
                                  status: .forbidden)
        }
        let (problem, text) = console.message(for: error, page)
        switch problem.code {
        case "session_invalid", "unauthenticated": return console.redirect("/masuk")
        case "password_change_required": return console.redirect("/ganti-password")
        case "totp_enrolment_required": return console.redirect("/totp")
        case "step_up_required":
            // A change that needs a fresh code: ask for it here, then the person repeats the action.
            return console.render("step_up", page, ["error": text], status: .forbidden)
        default:
            if problem.status == .internalServerError {
                context.logger.error("console error", metadata: ["error_type": "\(type(of: error))"])
            }
            return console.render("error", page, ["heading": console.t("error_heading", page), "message": text], status: problem.status)
        }
    }
}

/// A posted form without its CSRF token (or with a wrong one), or one the console cannot read.
struct ConsoleFormError: Error {}

/// A posted form, urlencoded or multipart, read only when a handler asks for it (after the
/// operation authorized the caller) and refused unless its CSRF token matches.
struct ConsoleForm {
    private var fields: [String: String] = [:]
    private(set) var files: [String: MultipartForm.Part] = [:]

    subscript(_ name: String) -> String? {
        guard let value = fields[name] else { return nil }
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.isEmpty ? nil : value
    }

    /// The raw text of a field, as typed (passwords keep their spaces).
    func raw(_ name: String) -> String? { fields[name] }

    func file(_ name: String) -> MultipartForm.Part? {
        guard let part = files[name], !part.body.isEmpty else { return nil }
        return part
    }

    static func read(_ request: Request, _ page: Page, limit: Int) async throws -> ConsoleForm {
        let buffer: ByteBuffer
        do { buffer = try await request.body.collect(upTo: limit) } catch { throw HTTPError(.contentTooLarge) }
        var form = ConsoleForm()
        let contentType = request.headers[.contentType] ?? ""
        if MultipartForm.accepts(contentType) {
            for part in try MultipartForm(buffer, contentType: contentType).parts {
                guard let name = part.name else { continue }
                if part.fileName != nil { form.files[name] = part } else if form.fields[name] == nil { form.fields[name] = part.text }
            }
        } else {
            form.fields = try FormQuery(String(decoding: buffer.readableBytesView, as: UTF8.self)).all()
        }
        guard CSRF.matches(form.fields["csrf"], page.csrf) else { throw ConsoleFormError() }
        return form
    }
}

/// A page address that matches no route answers as the console does — the sign-in page for
/// whoever has no session, "not found" in the layout and the reader's language for whoever has
/// one — when a browser asks for it; the API's and the probes' paths keep their problem+json.
struct ConsolePathNotFoundMiddleware: RouterMiddleware {
    typealias Context = DoorContext
    let console: Console

    func handle(_ request: Request, context: DoorContext, next: (Request, DoorContext) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound && Self.unrouted(context) && Self.isPage(request) {
            return try await ConsoleMiddleware(console: console).handle(request, context: context) { _, _ in throw error }
        }
    }

    /// Hummingbird names the route of an address that matched none "NotFound".
    static func unrouted(_ context: DoorContext) -> Bool { context.endpointPath == nil || context.endpointPath == "NotFound" }

    static func isPage(_ request: Request) -> Bool {
        let path = request.uri.path
        guard request.method == .get || request.method == .head,
              request.headers[.accept]?.contains("text/html") == true else { return false }
        return !["/v1/", "/static/", "/.well-known/"].contains { path.hasPrefix($0) }
            && !["/healthz", "/readyz", "/metrics", "/openapi.yaml"].contains(path)
    }
}
