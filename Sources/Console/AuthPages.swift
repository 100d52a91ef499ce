import Accounts
import Foundation
import DoorKit
import Hummingbird
import QRCode
import Operations

/// Sign in, the forced first-login change and the voluntary one, sign out, the language switch.
struct AuthPages {
    let console: Console

    func addRoutes(to group: RouterGroup<DoorContext>) {
        group.get("/") { _, context -> Response in
            console.redirect(context.session == nil ? "/masuk" : "/beranda")
        }
        group.get("masuk") { request, context -> Response in
            // Signed in already: home, unless an application's authorization waits for a fresh
            // sign-in (prompt=login, max_age) — then the password is asked again.
            if context.session?.scope == .full, Continuation.read(request) == nil { return console.redirect("/beranda") }
            return signInPage(request, context, userID: nil, error: nil, status: .ok)
        }
        group.post("masuk") { request, context -> Response in
            let page = console.page(request, context)
            let form = try await ConsoleForm.read(request, page, limit: console.formLimit)
            let userID = form.raw("user_id") ?? ""
            let outcome: LoginOutcome
            do {
                outcome = try await console.operations.login(userID: userID, password: form.raw("password") ?? "", from: context.remoteAddress)
            } catch {
                // What the API answers, in the reader's words: a throttle is 429, an overloaded or
                // unavailable service 503 with its Retry-After — never "too many attempts" for a fault.
                let (problem, text) = console.message(for: error, page)
                return console.retrying(signInPage(request, context, userID: userID, error: text, status: problem.status), problem)
            }
            switch outcome {
            case .ok(let token, _), .passwordChangeRequired(let token, _), .totpEnrolmentRequired(let token, _):
                return signedIn(token, next: outcome.code == "ok" ? "/beranda" : outcome.code == "password_change_required" ? "/ganti-password" : "/totp", request, context)
            case .totpRequired(let challenge):
                // The code is due: the challenge waits in an HttpOnly cookie for the next page.
                var response = console.redirect("/masuk/kode")
                response.setCookie(console.cookies.cookie(ConsoleCookies.challenge, challenge.token, maxAge: 300))
                return response
            case .invalidCredentials, .disabled, .temporaryPasswordExpired, .locked:
                // The refusal as every door answers it (status, code, Retry-After), in the reader's words.
                let (problem, text) = console.message(for: LoginRefusal.refusal(of: outcome) ?? AccountsError.invalidCredentials, page)
                return console.retrying(signInPage(request, context, userID: userID, error: text, status: problem.status), problem)
            }
        }
        group.get("masuk/kode") { request, context -> Response in
            guard request.cookies[ConsoleCookies.challenge] != nil else { return console.redirect("/masuk") }
            return console.render("login_code", console.page(request, context))
        }
        group.post("masuk/kode") { request, context -> Response in
            let page = console.page(request, context)
            let form = try await ConsoleForm.read(request, page, limit: console.formLimit)
            guard let challenge = request.cookies[ConsoleCookies.challenge]?.value else { return console.redirect("/masuk") }
            let outcome: LoginOutcome
            do {
                outcome = try await console.operations.completeLogin(challenge: challenge, code: form.raw("code") ?? "", from: context.remoteAddress)
            } catch {
                let (problem, text) = console.message(for: error, page)
                return console.retrying(console.render("login_code", page, ["error": text], status: problem.status), problem)
            }
            switch outcome {
            case .ok(let token, _):
                var response = signedIn(token, next: "/beranda", request, context)
                response.setCookie(console.cookies.expired(ConsoleCookies.challenge))
                return response
            case .locked(let retryAfter):
                return console.render("login_code", page, ["error": console.t("too_many_attempts", page, ["n": String(max(1, Int((retryAfter / 60).rounded(.up))))])],
                                      status: .tooManyRequests)
            default:
                return console.render("login_code", page, ["error": console.t("wrong_code", page)], status: .unauthorized)
            }
        }
        group.get("totp") { request, context -> Response in
            let page = console.page(request, context)
            guard let token = context.token else { return console.redirect("/masuk") }
            return enrolmentPage(page, try await console.operations.beginTOTPEnrolment(token: token), error: nil)
        }
        group.post("totp") { request, context -> Response in
            let page = console.page(request, context)
            guard let token = context.token else { return console.redirect("/masuk") }
            let form = try await ConsoleForm.read(request, page, limit: console.formLimit)
            do {
                let codes = try await console.operations.confirmTOTPEnrolment(token: token, code: form.raw("code") ?? "", from: context.remoteAddress)
                // The recovery codes, once; the session is full now, so the menu shows.
                let full = Page(language: page.language, session: try await console.operations.session(for: token), token: token, csrf: page.csrf,
                                path: page.path)
                // Then on to an application's authorization when one is waiting for this sign-in.
                return console.render("recovery", full, ["codes": codes, "next": Continuation.read(request)?.path ?? "/beranda"])
            } catch AccountsError.invalidCredentials {
                return enrolmentPage(page, try await console.operations.beginTOTPEnrolment(token: token), error: console.t("wrong_code", page))
            }
        }
        group.post("kode-ulang") { request, context -> Response in
            let page = console.page(request, context)
            guard let token = context.token else { return console.redirect("/masuk") }
            let form = try await ConsoleForm.read(request, page, limit: console.formLimit)
            do {
                _ = try await console.operations.stepUp(token: token, code: form.raw("code") ?? "", from: context.remoteAddress)
            } catch AccountsError.invalidCredentials {
                return console.render("step_up", page, ["error": console.t("wrong_code", page)], status: .unauthorized)
            }
            return console.redirect("/beranda", flash: "step_up")
        }
        group.get("ganti-password") { request, context -> Response in
            let page = console.page(request, context)
            return console.render("password", page, ["forced": context.session?.scope != .full, "flash": console.flash(request, page)])
        }
        group.post("ganti-password") { request, context -> Response in
            let page = console.page(request, context)
            guard let token = context.token else { return console.redirect("/masuk") }
            let form = try await ConsoleForm.read(request, page, limit: console.formLimit)
            let forced = context.session?.scope != .full
            func refuse(_ field: String, _ text: String) -> Response {
                console.render("password", page, ["forced": forced, "fields": [field: text], "error": text], status: .unprocessableContent)
            }
            let new = form.raw("new_password") ?? ""
            guard new == (form.raw("repeat_password") ?? "") else { return refuse("repeat_password", console.t("passwords_differ", page)) }
            do {
                try await console.operations.changePassword(token: token, current: form.raw("current_password") ?? "", new: new, from: context.remoteAddress)
            } catch {
                let (problem, text) = console.message(for: error, page)
                return refuse(problem.code == "password_policy" ? "new_password" : "current_password", text)
            }
            // Signed out after the change: the person signs in again with what they just chose.
            try? await console.operations.logout(token)
            var response = console.redirect("/masuk", flash: "password")
            response.setCookie(console.cookies.expired(ConsoleCookies.session))
            return response
        }
        group.post("keluar") { request, context -> Response in
            let page = console.page(request, context)
            _ = try await ConsoleForm.read(request, page, limit: console.formLimit)
            if let token = context.token { try? await console.operations.logout(token) }
            var response = console.redirect("/masuk")
            response.setCookie(console.cookies.expired(ConsoleCookies.session))
            return response
        }
        group.get("bahasa") { request, _ -> Response in
            let language = Language(rawValue: (try? request.form["l"]) ?? "") ?? .id
            // Back to where the switch was pressed, on this site only.
            var back = (try? request.form["kembali"]) ?? "/"
            // A path of this site only: no scheme, no host, nothing a browser strips (tabs, line breaks).
            if !back.hasPrefix("/") || back.hasPrefix("//") || back.contains("\\")
                || back.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7F || !$0.isASCII }) { back = "/" }
            var response = console.redirect(back)
            response.setCookie(console.cookies.cookie(ConsoleCookies.language, language.rawValue, maxAge: 365 * 86_400))
            return response
        }
    }

    /// The session cookie for a successful sign-in, and where to go next.
    /// A full sign-in goes back to an application's authorization request that was waiting for it.
    func signedIn(_ token: SessionToken, next: String, _ request: Request, _ context: DoorContext) -> Response {
        let waiting = next == "/beranda" ? Continuation.read(request) : nil
        // Back to the authorization through a page of its own: redirects after a form are held to
        // the form's `form-action 'self'`, and the authorization's next redirect is the application's.
        var response = waiting.map { console.hop(to: $0.path, console.page(request, context)) } ?? console.redirect(next)
        response.setCookie(console.cookies.cookie(ConsoleCookies.session, token.value))
        response.setCookie(console.cookies.expired(ConsoleCookies.preLogin))
        return response
    }

    func enrolmentPage(_ page: Page, _ enrolment: TOTPEnrolment, error: String?) -> Response {
        let secret = Array(enrolment.secret)
        return console.render("totp", page, [
            "qr": QRCode.svg(enrolment.uri), "secret": enrolment.secret, "error": error, "fields": error.map { ["code": $0] },
            "groups": stride(from: 0, to: secret.count, by: 4).map { String(secret[$0..<min($0 + 4, secret.count)]) },
        ], status: error == nil ? .ok : .unprocessableContent)
    }

    /// The sign-in page, with a pre-login CSRF value set now when the browser has none.
    func signInPage(_ request: Request, _ context: DoorContext, userID: String?, error: String?, status: HTTPResponse.Status) -> Response {
        var page = console.page(request, context)
        var fresh: String?
        if page.csrf == nil {
            fresh = CSRF.random()
            page = Page(language: page.language, session: nil, token: nil, csrf: fresh, path: page.path)
        }
        var response = console.render("login", page, ["form": ["user_id": userID ?? ""], "error": error,
                                                      "flash": console.flash(request, page)], status: status)
        if let fresh { response.setCookie(console.cookies.cookie(ConsoleCookies.preLogin, fresh)) }
        return response
    }
}
