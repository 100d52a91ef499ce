import Accounts
import Foundation
import DoorKit
import Hummingbird
import Inputs
import Operations
import Provisioning

/// Accounts for the Admin PPE: lookup with a reason, create (the first temporary password shown
/// once), disable, enable and unlock; and batch provisioning with its dry-run report.
struct AccountPages {
    let console: Console
    var operations: Operations { console.operations }

    func addRoutes(to group: RouterGroup<DoorContext>) {
        group.get("akun") { request, context -> Response in
            let page = console.page(request, context)
            let caller = try page.caller()
            try AccessPolicy.require(caller.role, .lookUpAccounts)
            let q = try request.form["q"], reason = try request.form["reason"]
            var data: [String: Any?] = ["form": ["q": q ?? "", "reason": reason ?? ""], "flash": console.flash(request, page)]
            var status = HTTPResponse.Status.ok
            if let q, !q.isEmpty {
                do {
                    let result = try await operations.lookUpAccounts(LookupForm(q: q, reason: reason), by: caller)
                    let back = "/akun?" + "q=\(Self.encode(q))&reason=\(Self.encode(reason ?? ""))"
                    data["searched"] = true
                    data["hasResults"] = !result.accounts.isEmpty
                    data["results"] = result.accounts.map { account -> [String: Any] in
                        ["userID": account.userID.value, "fullName": account.fullName.value, "nip": account.nip?.value ?? "-",
                         "email": account.email.value, "agency": account.agency.value, "roleName": console.t("role_\(account.role.rawValue)", page),
                         "statusName": console.t("status_\(account.status.rawValue)", page), "active": account.status == .active,
                         "locked": (account.lockedUntil ?? .distantPast) > console.operations.now, "mustChange": account.mustChangePassword, "back": back,
                         "reasonEncoded": Self.encode(reason ?? "")]
                    }
                } catch let error where ProblemMapping.problem(for: error).status == .unprocessableContent
                    || ProblemMapping.problem(for: error).status == .badRequest {
                    let (problem, text) = console.message(for: error, page)
                    data["error"] = text
                    data["fields"] = [(reason ?? "").isEmpty ? "reason" : "q": text]
                    status = problem.status  // the API's status for the same refusal
                }
            }
            return console.render("accounts", page, data, status: status)
        }
        group.post("akun/:userId/:action") { request, context -> Response in
            let page = console.page(request, context)
            let caller = try page.caller()
            let userID = context.parameters.get("userId") ?? ""
            let action = context.parameters.get("action") ?? ""
            guard ["disable", "enable", "unlock", "reset-authenticator"].contains(action) else { throw HTTPError(.notFound) }
            if action == "reset-authenticator" { return try await resetAuthenticator(request, context, page, caller, userID) }
            try AccessPolicy.require(caller.role, action == "unlock" ? .unlockAccounts : .changeAccountStatus)
            let form = try await ConsoleForm.read(request, page, limit: console.formLimit)
            switch action {
            case "disable": try await operations.setAccountStatus(userID, to: .disabled, by: caller)
            case "enable": try await operations.setAccountStatus(userID, to: .active, by: caller)
            default: try await operations.unlockAccount(userID, by: caller)
            }
            var back = form["kembali"] ?? "/akun"
            if !back.hasPrefix("/akun") { back = "/akun" }
            return console.redirect(back, flash: action == "unlock" ? "unlock" : "status")
        }
        group.get("akun/:userId") { request, context -> Response in
            let page = console.page(request, context)
            return try await accountPage(request, page, userID: context.parameters.get("userId") ?? "", reason: try request.form["reason"], error: nil,
                                         status: .ok)
        }
        group.get("akun/baru") { request, context -> Response in
            let page = console.page(request, context)
            let caller = try page.caller()
            try AccessPolicy.require(caller.role, .createAccounts)
            return newAccountPage(page, values: [:], fields: [:], error: nil, status: .ok)
        }
        group.post("akun/baru") { request, context -> Response in
            let page = console.page(request, context)
            let caller = try page.caller()
            var values: [String: String] = [:]
            do {
                let enrolled = try await operations.createAccount(by: caller) {
                    let form = try await ConsoleForm.read(request, page, limit: console.formLimit)
                    for name in ["user_id", "full_name", "nip", "email", "agency", "role"] { values[name] = form.raw(name) ?? "" }
                    return NewAccountForm(userID: values["user_id"] ?? "", role: values["role"] ?? "", fullName: values["full_name"] ?? "",
                                          nip: form["nip"], email: values["email"] ?? "", agency: values["agency"] ?? "")
                }
                let text = enrolled.password.reveal
                return console.render("secret", page, [
                    "heading": "\(console.t("account_created", page)): \(enrolled.account.userID.value)",
                    "password": text, "forUser": enrolled.account.userID.value,
                    "groups": Formatting.dictation(text),
                    "expires": Formatting.time(enrolled.expiresAt), "backTo": "/akun",
                ])
            } catch let error where !(error is ConsoleFormError) && ProblemMapping.problem(for: error).status != .forbidden {
                let (problem, text) = console.message(for: error, page)
                let field = problem.extra["field"] ?? ""
                return newAccountPage(page, values: values, fields: field.isEmpty ? [:] : [field: text], error: text, status: problem.status)
            }
        }
        group.get("akun/massal") { request, context -> Response in
            let page = console.page(request, context)
            try AccessPolicy.require(try page.caller().role, .provisionAccounts)
            return console.render("provision", page, ["dryRunChecked": true])
        }
        group.post("akun/massal") { request, context -> Response in
            try await provision(request, context)
        }
    }

    func newAccountPage(_ page: Page, values: [String: String], fields: [String: String], error: String?, status: HTTPResponse.Status) -> Response {
        let inputs: [(String, String, Int, Bool)] = [
            ("user_id", console.t("user_id", page), 64, true), ("full_name", console.t("full_name", page), 200, true),
            ("nip", "NIP", 40, false), ("email", console.t("email", page), 254, true), ("agency", console.t("agency", page), 200, true),
        ]
        let role = values["role"] ?? "helpdesk"
        return console.render("account_new", page, [
            "error": error,
            "inputs": inputs.map { name, label, max, required -> [String: Any] in
                var input: [String: Any] = ["name": name, "label": label, "max": max, "required": required, "value": values[name] ?? ""]
                if let error = fields[name] { input["error"] = error }
                return input
            },
            "roles": Role.allCases.map { ["value": $0.rawValue, "name": console.t("role_\($0.rawValue)", page), "selected": $0.rawValue == role] },
        ], status: status)
    }

    func provision(_ request: Request, _ context: DoorContext) async throws -> Response {
        let page = console.page(request, context)
        let caller = try page.caller()
        // Every answer offers the form ticked "Periksa saja" again: the next file is checked first
        // unless the Admin PPE unticks it on purpose, whatever this one did.
        do {
            let report = try await operations.provision(by: caller, {
                let form = try await ConsoleForm.read(request, page, limit: console.batchLimit + 64 * 1024)
                let dryRun = form["dry_run"] != nil
                guard let file = form.file("file") else { throw InputError(field: "file", reason: "choose a CSV or JSON Lines file") }
                return BatchForm(bytes: file.body, format: file.fileName.flatMap(BatchFormat.init(fileName:)) ?? .csv, dryRun: dryRun)
            }, credentialsTo: { $0 ? .none : .returned })
            var model: [String: Any] = [
                "dryRun": report.dryRun,
                "summary": "\(report.rows.count) · \(console.t("outcome_created", page)) \(report.created) · \(console.t("outcome_unchanged", page)) \(report.unchanged)",
                "rows": report.rows.map { ["line": $0.line, "userID": $0.userID, "outcome": console.t("outcome_\($0.outcome.rawValue)", page)] },
            ]
            if let credentials = report.credentials, !credentials.isEmpty {
                // Offered once, in this answer only: the server keeps no copy to download later.
                let csv = "user_id,temporary_password,expires_at\n" + credentials.map {
                    "\($0.userID),\($0.temporaryPassword),\(Formatting.iso($0.expiresAt))"
                }.joined(separator: "\n") + "\n"
                model["credentials"] = true
                model["credentialsBase64"] = Data(csv.utf8).base64EncodedString()
                model["credentialsName"] = "credentials-\(report.batchID.map(String.init) ?? "batch").csv"
            }
            return console.render("provision", page, ["report": model, "dryRunChecked": true])
        } catch ProvisioningError.invalidRows(let problems) {
            return console.render("provision", page, [
                "dryRunChecked": true, "hasProblems": true, "error": console.message(for: ProvisioningError.invalidRows(problems), page).text,
                "problems": problems.prefix(200).map { ["line": $0.line, "column": $0.column?.rawValue ?? "-", "detail": $0.detail] },
            ], status: .unprocessableContent)
        } catch let error where !(error is ConsoleFormError) && ProblemMapping.problem(for: error).status == .unprocessableContent {
            return console.render("provision", page, ["dryRunChecked": true, "error": console.message(for: error, page).text],
                                  status: .unprocessableContent)
        }
    }

    /// One account: its facts, its sign-in state, and what the caller may do to it.
    func accountPage(_ request: Request, _ page: Page, userID: String, reason: String?, error: String?, status: HTTPResponse.Status) async throws -> Response {
        let caller = try page.caller()
        let (account, state) = try await operations.accountWithSignInState(userID, reason: reason ?? "account page", by: caller)
        let now = operations.now
        // A user ID is letters, digits and . _ - only: safe in a path as it is.
        let back = "/akun/\(account.userID.value)?reason=\(Self.encode(reason ?? ""))"
        return console.render("account", page, [
            "error": error, "back": back, "viewReason": reason ?? "", "flash": console.flash(request, page),
            "a": [
                "userID": account.userID.value, "fullName": account.fullName.value, "nip": account.nip?.value ?? "-", "email": account.email.value,
                "agency": account.agency.value, "roleName": console.t("role_\(account.role.rawValue)", page),
                "statusName": console.t("status_\(account.status.rawValue)", page), "active": account.status == .active,
                "locked": (account.lockedUntil ?? .distantPast) > now, "mustChange": account.mustChangePassword,
            ],
            "signIn": [
                "codesLeft": state.recoveryCodesLeft, "liveSessions": state.liveSessions, "lastSeen": Formatting.time(state.lastSeenAt) ?? "-",
            ].merging(state.authenticatorConfirmedAt.map { ["authenticator": Formatting.time($0) ?? "-"] } ?? [:]) { $1 },
            "can": [
                "status": AccessPolicy.allows(caller.role, .changeAccountStatus), "unlock": AccessPolicy.allows(caller.role, .unlockAccounts),
                // Never one's own authenticator (the operation refuses it too).
                "resetAuthenticator": AccessPolicy.allows(caller.role, .resetSecondFactors) && account.userID != caller.userID,
                "stepUpCode": operations.stepUpDue(caller),
            ],
        ], status: status)
    }

    /// A lost authenticator removed by a second operator, with a reason (and a fresh code of theirs when due).
    func resetAuthenticator(_ request: Request, _ context: DoorContext, _ page: Page, _ caller: Caller, _ userID: String) async throws -> Response {
        var caller = caller
        let form = try await ConsoleForm.read(request, page, limit: console.formLimit)
        if let code = form["code"], let token = page.token {
            do {
                _ = try await operations.stepUp(token: token, code: code, from: context.remoteAddress)
                caller = try await operations.caller(for: token)
            } catch AccountsError.invalidCredentials {
                return try await accountPage(request, page, userID: userID, reason: form["alasan_lihat"], error: console.t("wrong_code", page),
                                             status: .unauthorized)
            }
        }
        do {
            try await operations.resetSecondFactor(userID, reason: form["reason"], by: caller)
        } catch let error where !(error is ConsoleFormError) && ![.notFound, .forbidden].contains(ProblemMapping.problem(for: error).status) {
            let (problem, text) = console.message(for: error, page)
            return try await accountPage(request, page, userID: userID, reason: form["alasan_lihat"], error: text, status: problem.status)
        }
        let safe = (try? UserID(userID).value) ?? ""
        return console.redirect("/akun/\(safe)?reason=\(Self.encode(form["alasan_lihat"] ?? ""))", flash: "authenticator_reset")
    }

    static func encode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
    }
}
