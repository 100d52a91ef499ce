import Foundation
import DoorKit
import Gate
import Hummingbird
import Inputs
import Operations

/// The public door in the browser, for whoever cannot sign in: "Lupa password atau User ID?"
/// files a request with both documents and shows its receipt once; "Lacak permohonan" shows where
/// it stands with the number and tracking code, and takes the supplement (step 4). The same
/// operations as the API's public routes; no session, a pre-login CSRF value like the sign-in page.
struct PublicPages {
    let console: Console
    var operations: Operations { console.operations }
    static let paths: Set<String> = ["/lupa", "/lacak", "/lacak/lengkapi"]

    func addRoutes(to group: RouterGroup<DoorContext>) {
        group.get("lupa") { request, context -> Response in
            withPreLoginCSRF(request, context) { page in filingPage(page, form: ["kind_reset": true, "role": "helpdesk"], error: nil, fields: [:], status: .ok) }
        }
        group.post("lupa") { request, context -> Response in
            let page = console.page(request, context)
            var typed: [String: Any] = [:]
            do {
                let receipt = try await operations.filePublicRequest(from: context.remoteAddress) {
                    let form = try await ConsoleForm.read(request, page, limit: 2 * operations.documentLimit + 64 * 1024)
                    for name in ["full_name", "nip", "user_id", "email", "phone", "agency"] { typed[name] = form.raw(name) ?? "" }
                    typed["kind_reset"] = form["kind_reset"] != nil
                    typed["kind_user_id"] = form["kind_user_id"] != nil
                    typed["role"] = form["role"] ?? "helpdesk"
                    func document(_ type: DocumentType) -> DocumentForm? {
                        form.file(type.rawValue).map { DocumentForm(type: type.rawValue, fileName: $0.fileName, mediaType: $0.contentType ?? "", content: $0.body) }
                    }
                    return PublicFilingForm(
                        kinds: (form["kind_reset"] != nil ? ["reset_password"] : []) + (form["kind_user_id"] != nil ? ["user_id_info"] : []),
                        fullName: form.raw("full_name"), nip: form["nip"], userID: form["user_id"], email: form["email"], phone: form["phone"],
                        agency: form.raw("agency"), role: form["role"], requestLetter: document(.suratPermohonan), appointmentDecree: document(.skPengangkatan))
                }
                let text = [console.t("receipt_title", page), "\(console.t("request", page)): \(receipt.number)",
                            "\(console.t("tracking_code", page)): \(receipt.trackingCode)", "\(console.t("filed_at", page)): \(Formatting.time(receipt.filedAt) ?? "")"]
                    .joined(separator: "\n") + "\n"
                return console.render("public_receipt", page, [
                    "number": receipt.number, "code": receipt.trackingCode, "filedAt": Formatting.time(receipt.filedAt),
                    "download": Data(text.utf8).base64EncodedString(), "downloadName": "tanda-terima-\(receipt.number).txt",
                ], status: .created)
            } catch let error where !(error is ConsoleFormError) {
                let (problem, text) = console.message(for: error, page)
                let field = problem.extra["field"] ?? ""
                return console.retrying(filingPage(page, form: typed, error: text, fields: field.isEmpty ? [:] : [field: text], status: problem.status), problem)
            }
        }
        group.get("lacak") { request, context -> Response in
            withPreLoginCSRF(request, context) { page in console.render("public_track", page, ["number": (try? request.form["nomor"]) ?? ""]) }
        }
        group.post("lacak") { request, context -> Response in
            let page = console.page(request, context)
            let form = try await ConsoleForm.read(request, page, limit: console.formLimit)
            return try await statusPage(page, number: form["number"] ?? "", code: form["code"], address: context.remoteAddress) { number, code in
                try await operations.trackPublicRequest(number, code: code, from: context.remoteAddress)
            }
        }
        group.post("lacak/lengkapi") { request, context -> Response in
            let page = console.page(request, context)
            let form = try await ConsoleForm.read(request, page, limit: 2 * operations.documentLimit + 64 * 1024)
            return try await statusPage(page, number: form["number"] ?? "", code: form["code"], address: context.remoteAddress, done: "supplement") { number, code in
                try await operations.supplementPublicRequest(number, code: code, from: context.remoteAddress) {
                    [DocumentType.suratPermohonan, .skPengangkatan].compactMap { type in
                        form.file(type.rawValue).map { DocumentForm(type: type.rawValue, fileName: $0.fileName, mediaType: $0.contentType ?? "", content: $0.body) }
                    }
                }
            }
        }
    }

    /// A page with a form for someone not signed in: a pre-login CSRF value set now when the browser has none.
    func withPreLoginCSRF(_ request: Request, _ context: DoorContext, _ render: (Page) -> Response) -> Response {
        var page = console.page(request, context)
        guard page.csrf == nil else { return render(page) }
        let fresh = CSRF.random()
        page = Page(language: page.language, session: page.session, token: page.token, csrf: fresh, path: page.path)
        var response = render(page)
        response.setCookie(console.cookies.cookie(ConsoleCookies.preLogin, fresh))
        return response
    }

    func filingPage(_ page: Page, form: [String: Any], error: String?, fields: [String: String], status: HTTPResponse.Status) -> Response {
        let role = form["role"] as? String ?? "helpdesk"
        return console.render("public_request", page, [
            "form": form, "error": error, "fields": fields,
            "roles": ["helpdesk", "admin_agency", "verifikator", "auditor"].map { ["value": $0, "name": console.t("role_\($0)", page), "selected": $0 == role] },
        ], status: status)
    }

    /// Where the request stands, in plain words; a refusal is the tracking form again with its message.
    func statusPage(_ page: Page, number: String, code: String?, address: String, done: String? = nil,
                    _ load: (String, String?) async throws -> PublicStatus) async throws -> Response {
        do {
            let status = try await load(number, code)
            return console.render("public_status", page, [
                "flash": done.map { console.t("done_\($0)", page) },
                "number": status.number, "code": code ?? "", "stateName": console.t("public_state_\(status.state.rawValue)", page),
                "kinds": status.kinds.map { console.t($0 == "reset_password" ? "kind_reset" : "kind_user_id", page) }.joined(separator: ", "),
                "filedAt": Formatting.time(status.filedAt), "step": status.dueStep.map { console.t("step_\($0)", page) },
                "dueBy": status.dueBy.flatMap(Formatting.time),
                "missing": status.missing.isEmpty ? nil : status.missing.map { console.t($0 == .skPengangkatan ? "appointment_decree" : "request_letter", page) }.joined(separator: ", "),
                "note": status.completenessNote,
                "rejection": status.rejectionReason.map { reason in
                    DismissReason(rawValue: reason).map { console.t("dismissed_\($0.rawValue)", page) } ?? reason
                }, "maySupplement": status.maySupplement,
            ])
        } catch let error where !(error is ConsoleFormError) {
            let (problem, text) = console.message(for: error, page)
            return console.retrying(console.render("public_track", page, ["number": number, "error": text], status: problem.status), problem)
        }
    }
}
