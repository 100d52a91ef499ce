import Accounts
import Foundation
import DoorKit
import Hummingbird
import Operations

/// "Akun saya": any signed-in person's own account — its facts, the authenticator and recovery
/// codes left, the live sessions — and signing out of the others (one, or all).
struct MyAccountPage {
    let console: Console
    var operations: Operations { console.operations }

    func addRoutes(to group: RouterGroup<DoorContext>) {
        group.get("akun-saya") { request, context -> Response in
            let page = console.page(request, context)
            guard let token = page.token else { return console.redirect("/masuk") }
            _ = try page.caller()
            let mine = try await operations.myAccount(token: token)
            let account = mine.account
            let others = mine.sessions.filter { !$0.isCurrent }
            return console.render("my_account", page, [
                "flash": console.flash(request, page),
                "a": [
                    "userID": account.userID.value, "fullName": account.fullName.value, "nip": account.nip?.value ?? "-",
                    "email": account.email.value, "agency": account.agency.value, "roleName": console.t("role_\(account.role.rawValue)", page),
                ],
                "authenticator": mine.signIn.authenticatorConfirmedAt.flatMap(Formatting.time),
                "codesLeft": mine.signIn.recoveryCodesLeft,
                "sessions": mine.sessions.map { session -> [String: Any] in
                    let started = Formatting.time(session.createdAt) ?? ""
                    return ["handle": session.handle, "current": session.isCurrent, "started": started,
                            "lastSeen": Formatting.time(session.lastSeenAt) ?? "", "expires": Formatting.time(session.expiresAt) ?? "",
                            "scope": console.t("scope_\(session.scope.rawValue)", page),
                            "endLabel": console.t("end_session_label", page, ["when": started])]
                },
                "hasOthers": !others.isEmpty,
            ])
        }
        group.post("akun-saya/sesi/:handle/akhiri") { request, context -> Response in
            try await end(request, context, handle: context.parameters.get("handle") ?? "")
        }
        group.post("akun-saya/sesi/akhiri-semua") { request, context -> Response in
            try await end(request, context, handle: nil)
        }
    }

    /// Ends one other session, or all of them; back to the page with what happened.
    func end(_ request: Request, _ context: DoorContext, handle: String?) async throws -> Response {
        let page = console.page(request, context)
        guard let token = page.token else { return console.redirect("/masuk") }
        _ = try page.caller()
        _ = try await ConsoleForm.read(request, page, limit: console.formLimit)
        try await operations.endOtherSessions(handle, token: token)
        return console.redirect("/akun-saya", flash: handle == nil ? "sessions_ended" : "session_ended")
    }
}
