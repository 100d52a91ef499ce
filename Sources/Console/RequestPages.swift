import Accounts
import Foundation
import Gate
import DoorKit
import Hummingbird
import Inputs
import Operations

/// Intake of a request with both documents, the request's page (timeline, documents inline, the
/// step the caller may take now), each step's form, the documents and the archive export.
struct RequestPages {
    let console: Console
    var operations: Operations { console.operations }

    func addRoutes(to group: RouterGroup<DoorContext>) {
        group.get("permohonan") { request, context -> Response in
            try await listPage(request, console.page(request, context))
        }
        group.get("permohonan/baru") { request, context -> Response in
            let page = console.page(request, context)
            let caller = try page.caller()
            try AccessPolicy.require(caller.role, .submitRequests)
            return newRequestPage(page, caller, form: [:], fields: [:], error: nil, status: .ok)
        }
        group.post("permohonan/baru") { request, context -> Response in
            try await submit(request, context)
        }
        group.get("permohonan/:id") { request, context -> Response in
            let page = console.page(request, context)
            return try await detailPage(request, page, reference: try Self.reference(context), error: nil, status: .ok)
        }
        group.post("permohonan/:id/langkah/:action") { request, context -> Response in
            try await step(request, context)
        }
        group.post("permohonan/:id/dokumen") { request, context -> Response in
            let page = console.page(request, context)
            let caller = try page.caller()
            let reference = try Self.reference(context)
            do {
                _ = try await operations.addDocument(to: reference, by: caller) {
                    let form = try await ConsoleForm.read(request, page, limit: operations.documentLimit + 64 * 1024)
                    let file = form.file("file")
                    return DocumentForm(type: form["type"], fileName: file?.fileName, mediaType: file?.contentType ?? "", content: file?.body ?? [])
                }
            } catch let error where !(error is ConsoleFormError) && ProblemMapping.problem(for: error).status != .notFound {
                return try await detailPage(request, page, reference: reference, error: console.message(for: error, page).text,
                                            status: ProblemMapping.problem(for: error).status)
            }
            return console.redirect("/permohonan/\(reference)", flash: "document")
        }
        group.get("permohonan/:id/dokumen/:doc") { request, context -> Response in
            let page = console.page(request, context)
            let (info, content) = try await operations.document(
                context.parameters.get("doc") ?? "", of: try Self.reference(context), by: try page.caller())
            // Shown inline, in a sandbox: a stored file never runs script in the console's origin. A
            // file from the public door (nobody vouched for it) is only ever a download.
            let fromPublic = info.uploadedBy == Actor.online.userID
            var headers: HTTPFields = [.contentType: info.mediaType,
                                       .contentDisposition: fromPublic ? ContentDisposition.attachment(info.fileName) : ContentDisposition.inline(info.fileName)]
            headers[.contentSecurityPolicy] = "default-src 'none'; img-src 'self'; object-src 'self'; plugin-types application/pdf; sandbox"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: content)))
        }
        group.get("permohonan/:id/ekspor") { request, context -> Response in
            let page = console.page(request, context)
            let (found, tar) = try await operations.exportRequest(
                try Self.reference(context), reason: try request.form["alasan"], by: try page.caller())
            return Response(status: .ok, headers: [.contentType: "application/x-tar", .contentDisposition: ContentDisposition.attachment("\(found.number).tar")],
                            body: .init(byteBuffer: ByteBuffer(bytes: tar)))
        }
    }

    static func reference(_ context: DoorContext) throws -> String {
        guard let text = context.parameters.get("id") else { throw HTTPError(.notFound) }
        return text
    }

    // MARK: Intake (step 1)

    static let textFields = ["subject_user_id", "subject_full_name", "subject_nip", "subject_email", "requester_name", "requester_contact"]

    func submit(_ request: Request, _ context: DoorContext) async throws -> Response {
        let page = console.page(request, context)
        let caller = try page.caller()
        var typed: [String: Any] = [:]
        do {
            let created = try await operations.submitRequest(by: caller) {
                let form = try await ConsoleForm.read(request, page, limit: 2 * operations.documentLimit + 64 * 1024)
                for name in Self.textFields { typed[name] = form.raw(name) ?? "" }
                typed["kind_reset"] = form["kind_reset"] != nil
                typed["kind_user_id"] = form["kind_user_id"] != nil
                typed["channel_\(form["channel"] ?? "hardcopy")"] = true
                typed["subject_role"] = form["subject_role"] ?? "helpdesk"
                typed["priority"] = form["priority"] ?? "normal"
                // Both documents are checked (type, size, magic bytes) here, to name the field, and
                // filed with the request in one transaction.
                var documents: [DocumentForm] = []
                for type in [DocumentType.suratPermohonan, .skPengangkatan] {
                    guard let file = form.file(type.rawValue) else { continue }
                    do {
                        _ = try DocumentUpload(type: type, fileName: file.fileName ?? "", mediaType: file.contentType ?? "",
                                               content: file.body, limit: operations.documentLimit)
                    } catch { throw InputError(field: type.rawValue, reason: console.message(for: error, page).text) }
                    documents.append(DocumentForm(type: type.rawValue, fileName: file.fileName, mediaType: file.contentType ?? "", content: file.body))
                }
                let kinds = (form["kind_reset"] != nil ? ["reset_password"] : []) + (form["kind_user_id"] != nil ? ["user_id_info"] : [])
                return SubmitForm(
                    kinds: kinds,
                    subject: SubjectHint(userID: form["subject_user_id"], fullName: form["subject_full_name"], nip: form["subject_nip"],
                                         email: form["subject_email"]),
                    subjectRole: form["subject_role"], requesterName: form.raw("requester_name") ?? "",
                    requesterContact: form.raw("requester_contact") ?? "", channel: form["channel"] ?? "hardcopy", priority: form["priority"],
                    documents: documents)
            }
            return console.redirect("/permohonan/\(created.number)", flash: "submit")
        } catch let error where !(error is ConsoleFormError) && !(error is AccountsError) {
            let (problem, text) = console.message(for: error, page)
            var field = problem.extra["field"] ?? ""
            field = field.replacingOccurrences(of: "subject.", with: "subject_")
            if field.isEmpty, case .some(.noKind) = error as? GateError { field = "kinds" }
            if field.isEmpty, case .some(.unknownKind) = error as? GateError { field = "kinds" }
            return newRequestPage(page, caller, form: typed, fields: field.isEmpty ? [:] : [field: text], error: text, status: problem.status)
        }
    }

    func newRequestPage(_ page: Page, _ caller: Caller, form: [String: Any], fields: [String: String], error: String?,
                        status: HTTPResponse.Status) -> Response {
        var form = form
        if form.isEmpty {
            // A managed user files for themself: their own User ID is the hint.
            if AccessPolicy.managedRoles.contains(caller.role) { form["subject_user_id"] = caller.userID.value }
            form["kind_reset"] = true
            // A managed user files by e-mail for themself; an operator enters a paper file.
            form["channel_\(AccessPolicy.managedRoles.contains(caller.role) ? "email" : "hardcopy")"] = true
        }
        let role = form["subject_role"] as? String ?? (AccessPolicy.managedRoles.contains(caller.role) ? caller.role.rawValue : "helpdesk")
        let priority = form["priority"] as? String ?? "normal"
        return console.render("request_new", page, [
            "form": form, "fields": fields, "error": error,
            "roles": Role.allCases.filter(AccessPolicy.managedRoles.contains).map {
                ["value": $0.rawValue, "name": console.t("role_\($0.rawValue)", page), "selected": $0.rawValue == role]
            },
            "priorities": ["urgent", "high", "normal", "low"].map {
                ["value": $0, "name": console.t("priority_\($0)", page), "selected": $0 == priority]
            },
        ], status: status)
    }

    // MARK: Steps

    /// A verdict given explicitly: "true" or "false". A form posted without one decides nothing.
    static func verdict(_ form: ConsoleForm, _ field: String) throws -> Bool {
        switch form[field] {
        case "true": return true
        case "false": return false
        default: throw InputError(field: field, reason: "is required: choose a verdict")
        }
    }

    func step(_ request: Request, _ context: DoorContext) async throws -> Response {
        let page = console.page(request, context)
        var caller = try page.caller()
        let reference = try Self.reference(context)
        let action = context.parameters.get("action") ?? ""
        let result: ActionResult
        do {
            // Step 6's form carries the step-up code: proved first, so the operation sees a fresh second factor.
            var early: ConsoleForm?
            if action == "execute" {
                // A reload of step 6's result posts the form again: the request has moved on, so
                // say so instead of spending (and refusing) the authenticator code once more.
                let current = try await operations.request(reference, by: caller).request
                if !current.actions(for: caller.actor).contains(.execute), current.state == .executed {
                    return console.redirect("/permohonan/\(current.number)", flash: "already_executed")
                }
            }
            if action == "execute" || action == "reissue", let token = page.token {
                let form = try await ConsoleForm.read(request, page, limit: console.formLimit)
                if let code = form["code"] {
                    do {
                        _ = try await operations.stepUp(token: token, code: code, from: context.remoteAddress)
                    } catch AccountsError.invalidCredentials {
                        return try await detailPage(request, page, reference: reference, error: console.t("wrong_code", page), status: .unauthorized)
                    }
                    caller = try await operations.caller(for: token)
                }
                early = form
            }
            result = try await operations.act(on: reference, by: caller) {
                let form: ConsoleForm
                if let early { form = early } else { form = try await ConsoleForm.read(request, page, limit: console.formLimit) }
                switch action {
                case "completeness":
                    let wanting = [DocumentType.suratPermohonan, .skPengangkatan].map(\.rawValue).filter { form["wanting_\($0)"] != nil }
                    return .completeness(complete: try Self.verdict(form, "complete"), note: form["note"], wanting: wanting)
                case "validity":
                    return .validity(valid: try Self.verdict(form, "valid"), subjectUserID: form["subject_user_id"], reason: form["reason"],
                                     acknowledgement: form["acknowledgement"])
                case "handover": return .handover(channel: form["channel"], recipient: form["recipient"], handedAt: form["handed_at"])
                case "notify": return .notify
                case "supplement": return .supplement
                case "execute": return .execute
                case "reissue": return .reissue
                case "confirm-receipt": return .confirmReceipt
                case "archive": return .archive
                case "dismiss": return .dismiss(reason: form["reason"])
                default: throw HTTPError(.notFound)
                }
            }
        } catch let error where !(error is ConsoleFormError) && ![.notFound, .unauthorized].contains(ProblemMapping.problem(for: error).status) {
            return try await detailPage(request, page, reference: reference, error: console.message(for: error, page).text,
                                        status: ProblemMapping.problem(for: error).status)
        }
        if action == "execute" || action == "reissue" {
            // The one page that shows the temporary password: never cached (the middleware says
            // no-store), and not reachable again — reloading it does not re-run step 6.
            var data: [String: Any?] = ["heading": console.t("executed_heading", page), "forUser": result.request.subjectUserID]
            if let password = result.temporaryPassword {
                let text = password.reveal
                data["password"] = text
                data["groups"] = Formatting.dictation(text)
                data["expires"] = Formatting.time(result.temporaryPasswordExpiresAt)
            }
            if let half = result.firstHalf {
                // Sealed delivery: only the first half is the Admin PPE's to tell.
                data["password"] = half
                data["groups"] = Formatting.dictation(half)
                data["sealedTo"] = result.secondHalfSentTo
            }
            data["userID"] = result.disclosedUserID
            data["r"] = ["number": result.request.number, "requesterName": result.request.requesterName, "handoverForm": true]
            return console.render("secret", page, data)
        }
        return console.redirect("/permohonan/\(result.request.number)", flash: action.replacingOccurrences(of: "-", with: "_"))
    }

    // MARK: The request list

    /// Every request, by state, step due, holder, overdue and a text; a bad filter is said at the
    /// form, never a 500. Managed roles have their own requests on the home page instead.
    func listPage(_ request: Request, _ page: Page) async throws -> Response {
        let caller = try page.caller()
        // As the form sends it: `+` is a space; a value that is not UTF-8 is said at the form.
        let query = request.form
        var undecodable: InputError?
        func value(_ name: String) -> String? {
            do { return try query[name] } catch { undecodable = undecodable ?? error; return nil }
        }
        let form = RequestSearchForm(state: value("status"), step: value("langkah"), holder: value("pemegang"), overdue: value("terlambat"),
                                     text: value("q"), page: value("halaman"))
        var data: [String: Any?] = [
            "q": form.text ?? "", "overdue": form.overdue == "true",
            "states": RequestState.allCases.map { ["value": $0.rawValue, "name": console.t("state_\($0.rawValue)", page), "selected": form.state == $0.rawValue] },
            "steps": (1...9).map { ["value": String($0), "name": console.t("step_\($0)", page), "selected": form.step == String($0)] },
            "holders": RequestSearch.stepHolders.map { holder in
                ["value": holder, "name": console.t(holder == "requester" ? "requester" : "role_\(holder)", page), "selected": form.holder == holder]
            },
        ]
        do {
            if let undecodable { throw undecodable }
            let (entries, more) = try await operations.searchRequests(form, by: caller)
            let now = operations.now
            data["hasEntries"] = !entries.isEmpty
            data["entries"] = entries.map { entry -> [String: Any] in
                var row = requestModel(entry.request, page)
                row["subject"] = entry.request.subjectUserID ?? entry.request.subject.fullName ?? ""
                row["overdue"] = entry.isOverdue(at: now)
                if let step = entry.dueStep { row["stepName"] = console.t("step_\(step)", page) }
                row["created"] = Formatting.time(entry.request.createdAt) ?? ""
                return row
            }
            let number = (try? Inputs.Page(parsing: form.page).number) ?? 1
            let filters: [(String, String?)] = [("status", form.state), ("langkah", form.step), ("pemegang", form.holder),
                                                ("terlambat", form.overdue), ("q", form.text)]
            func link(_ n: Int) -> String { "/permohonan?" + FormQuery.encode(filters + [("halaman", String(n))]) }
            if number > 1 { data["previous"] = link(number - 1) }
            if more { data["next"] = link(number + 1) }
            return console.render("requests", page, data)
        } catch let error where error is InputError {
            let (problem, text) = console.message(for: error, page)
            data["error"] = text
            return console.render("requests", page, data, status: problem.status)
        }
    }

    // MARK: The request's page

    /// What step 2 found missing, less what has been filed since: "Kurang" names only what the
    /// file still lacks, and only while a supplement is due.
    func stillMissing(_ model: [String: Any], _ details: RequestDetails, _ page: Page) -> [String: Any] {
        var model = model
        let missing = details.request.stillMissing(details.documents, incompleteSince: details.record.incompleteSince)
        model["missing"] = missing.isEmpty ? nil : missing.map { documentName($0, page) }.joined(separator: ", ")
        return model
    }

    func detailPage(_ request: Request, _ page: Page, reference: String, error: String?, status: HTTPResponse.Status) async throws -> Response {
        let caller = try page.caller()
        let details = try await operations.request(reference, by: caller)
        let r = details.request
        // The buttons are the state machine's answer for this caller, the one the gate refuses with.
        let actions = r.actions(for: caller.actor)
        func may(_ action: GateAction) -> Bool { actions.contains(action) }
        let mayUpload = GateService.isOpenForDocuments(r.state) && GateService.mayFileDocuments(r, caller.actor)
        let needsCode = operations.stepUpDue(caller)
        let can: [String: Bool] = [
            "stepUpCode": needsCode,
            "upload": mayUpload, "completeness": may(.completeness), "notify": may(.notify), "supplement": may(.supplement),
            "validity": may(.validity), "execute": may(.execute), "handover": may(.handover), "reissue": may(.reissue),
            "confirmReceipt": may(.confirmReceipt), "archive": may(.archive), "dismiss": may(.dismiss),
            // Someone other than the helpdesk confirming is a deviation the page says so of.
            "confirmForOther": may(.confirmReceipt) && ![r.requesterUserID, r.subjectUserID].contains(caller.userID.value),
            "export": r.state == .archived && AccessPolicy.allows(caller.role, .readAllRequests),
            "exportWithReason": r.state != .archived && AccessPolicy.allows(caller.role, .manageArchive),
        ]
        var data: [String: Any?] = [
            "r": stillMissing(requestModel(r, page), details, page), "can": can, "error": error,
            // The upload form sits with the documents; "next step" counts the steps and the export.
            "anyAction": can.contains { $0.key != "upload" && $0.key != "stepUpCode" && $0.value },
            "flash": console.flash(request, page), "hasDocuments": !details.documents.isEmpty,
            "documents": details.documents.map { document -> [String: Any] in
                ["id": document.id, "fileName": document.fileName, "typeName": documentName(document.type, page), "size": document.size,
                 "shortHash": String(document.sha256Hex.prefix(12)), "purged": document.purgedAt != nil]
            },
            "steps": details.record.steps.map { stepModel($0, page) },
            "hasNotices": !details.record.notices.isEmpty,
            "notices": details.record.notices.map { notice -> [String: Any] in
                ["step": notice.step, "recipient": notice.recipient, "outcome": console.t("notice_\(notice.outcome)", page),
                 "queued": Formatting.time(notice.queuedAt) ?? ""]
            },
            "hasDeviations": !details.record.deviations.isEmpty,
            "deviations": details.record.deviations.map { deviationModel($0, page) },
            "hintUserID": r.subject.userID,
        ]
        if let handover = details.record.handover {
            data["handover"] = ["recipient": handover.recipient, "channelName": console.t("channel_\(handover.channel.rawValue)", page),
                                "at": Formatting.time(handover.handedAt) ?? "", "by": handover.handedBy]
        }
        switch r.state {
        case .incomplete: data["notifyText"] = console.t("notice_step3", page)
        case .invalid: data["notifyText"] = console.t("notice_step7", page)
        default:
            // Step 8: the hand-over is the step (it queues the notice too); the notice alone is optional, after it.
            data["notifyText"] = console.t("notice_step8", page)
            data["notifyLater"] = true
        }
        data["executeText"] = (r.kinds.contains(.resetPassword) ? [console.t("execute_reset", page)] : [])
            .joined(separator: " ") + (r.kinds.contains(.userIDInfo) ? " " + console.t("execute_user_id", page) : "")
        if can["validity"] == true, let query = try request.form["cari"] {
            data["search"] = try await search(query, for: r, page, caller)
        }
        return console.render("request", page, data, status: status)
    }

    /// Step 5's search for the subject: by name, NIP, User ID or e-mail, each account marked
    /// where it differs from what the requester wrote.
    func search(_ query: String, for r: Gate.Request, _ page: Page, _ caller: Caller) async throws -> [String: Any] {
        let result = try await operations.lookUpAccounts(LookupForm(q: query, reason: "SOP 004 step 5, \(r.number)"), by: caller)
        let accounts = result.accounts.filter { $0.role == r.subjectRole }
        return [
            "q": query, "done": true, "hasResults": !accounts.isEmpty,
            "results": accounts.enumerated().map { index, account -> [String: Any] in
                let subject = SubjectAccount(id: account.id, userID: account.userID.value, role: account.role, fullName: account.fullName.value,
                                             nip: account.nip?.value, email: account.email.value)
                let mismatch = subject.mismatches(r.subject).map { field -> String in
                    switch field {
                    case "full_name": return console.t("full_name", page)
                    case "email": return console.t("email", page)
                    case "user_id": return "User ID"
                    default: return "NIP"
                    }
                }
                return ["userID": account.userID.value, "fullName": account.fullName.value, "roleName": console.t("role_\(account.role.rawValue)", page),
                        "nip": account.nip?.value ?? "-", "email": account.email.value, "first": index == 0,
                        "mismatch": mismatch.isEmpty ? false : mismatch.joined(separator: ", ") as Any]
            },
        ]
    }

    func requestModel(_ r: Gate.Request, _ page: Page) -> [String: Any] {
        let hint = [r.subject.userID, r.subject.fullName, r.subject.nip.map { "NIP \($0)" }, r.subject.email].compactMap { $0 }
        var model: [String: Any] = [
            "number": r.number, "state": r.state.rawValue, "stateName": console.t("state_\(r.state.rawValue)", page),
            "kindNames": r.kinds.names.map { console.t($0 == "reset_password" ? "kind_reset" : "kind_user_id", page) }.joined(separator: ", "),
            "priorityName": console.t("priority_\(r.priority.rawValue)", page), "requesterName": r.requesterName,
            "requesterContact": r.requesterContact, "channelName": console.t("channel_\(r.channel.rawValue)", page),
            "roleName": console.t("role_\(r.subjectRole.rawValue)", page), "hintText": hint.joined(separator: " · "),
            "receiptConfirmed": r.receiptConfirmedAt != nil, "notified": r.state == .notified, "online": r.channel == .online,
        ]
        if let subject = r.subjectUserID { model["subjectUserID"] = subject }
        if let note = r.completenessNote { model["completenessNote"] = note }
        if !r.hintMismatch.isEmpty {
            model["mismatch"] = r.hintMismatch.map { console.hintFieldName($0, page) }.joined(separator: ", ")
            model["mismatchAcknowledgement"] = r.mismatchAcknowledgement ?? ""
        }
        if let reason = r.rejectionReason { model["rejectionReason"] = reason }
        if let received = r.receiptConfirmedAt { model["receipt"] = "\(Formatting.time(received) ?? "") (\(r.receiptConfirmedBy ?? "-"))" }
        return model
    }

    func stepModel(_ step: StepRecord, _ page: Page) -> [String: Any] {
        var model: [String: Any] = [
            "stepName": console.t("step_\(step.step)", page), "started": Formatting.time(step.startedAt) ?? "",
            "actor": step.actor ?? "", "late": step.isLate(at: operations.now),
            "limit": step.limitMinutes.map { "\($0) \(console.t("minutes_short", page))" } ?? "-",
        ]
        if let ended = Formatting.time(step.endedAt) { model["ended"] = ended }
        if step.endedAt == nil, let limit = step.limitMinutes {
            let deadline = SLA.deadline(startedAt: step.startedAt, limitMinutes: limit)
            model["deadline"] = Formatting.iso(deadline)
            model["left"] = Formatting.clock(deadline.timeIntervalSince(operations.now))
        }
        return model
    }

    func deviationModel(_ deviation: Deviation, _ page: Page) -> [String: Any] {
        var model: [String: Any] = [
            "id": deviation.id, "request": deviation.requestNumber, "step": deviation.step, "actor": deviation.actor,
            "kindName": console.t("deviation_\(deviation.kind.rawValue)", page), "detail": deviation.detail,
        ]
        if let explanation = deviation.explanation { model["explanation"] = explanation }
        return model
    }

    func documentName(_ type: DocumentType, _ page: Page) -> String {
        switch type {
        case .suratPermohonan: return console.t("request_letter", page)
        case .skPengangkatan: return console.t("appointment_decree", page)
        case .other: return console.t("other_document", page)
        }
    }
}
