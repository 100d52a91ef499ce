import Accounts
import Foundation
import HTTPAPI
import Hummingbird
import Operations

/// Sign in, the forced first-login change and the voluntary one, sign out, the language switch.
struct AuthPages {
    let console: Console

    func addRoutes(to group: RouterGroup<APIContext>) {
        group.get("/") { _, context -> Response in
            console.redirect(context.session == nil ? "/masuk" : "/beranda")
        }
        group.get("masuk") { request, context -> Response in
            if context.session?.scope == .full { return console.redirect("/beranda") }
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
                return signInPage(request, context, userID: userID, error: console.message(for: error, page).text, status: .tooManyRequests)
            }
            let refusal: String
            switch outcome {
            case .ok(let token, _), .passwordChangeRequired(let token, _):
                var response = console.redirect(outcome.code == "ok" ? "/beranda" : "/ganti-password")
                response.setCookie(console.cookies.cookie(ConsoleCookies.session, token.value))
                response.setCookie(console.cookies.expired(ConsoleCookies.preLogin))
                return response
            case .invalidCredentials, .disabled: refusal = console.t("wrong_credentials", page)
            case .temporaryPasswordExpired: refusal = console.t("temporary_expired", page)
            case .locked(let retryAfter):
                refusal = console.t("too_many_attempts", page, ["n": String(max(1, Int((retryAfter / 60).rounded(.up))))])
            }
            return signInPage(request, context, userID: userID, error: refusal, status: .unauthorized)
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
            if !back.hasPrefix("/") || back.hasPrefix("//") || back.contains("\\") { back = "/" }
            var response = console.redirect(back)
            response.setCookie(console.cookies.cookie(ConsoleCookies.language, language.rawValue, maxAge: 365 * 86_400))
            return response
        }
    }

    /// The sign-in page, with a pre-login CSRF value set now when the browser has none.
    func signInPage(_ request: Request, _ context: APIContext, userID: String?, error: String?, status: HTTPResponse.Status) -> Response {
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
