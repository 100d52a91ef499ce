import Accounts
import Audit
import Crypto
import Foundation
import Gate
import Inputs

/// A public filing as a door received it: what is asked, who the requester says they are, and
/// both documents as softcopy.
public struct PublicFilingForm: Sendable {
    public var kinds: [String]
    public var fullName: String?
    public var nip: String?
    public var userID: String?
    public var email: String?
    public var phone: String?
    public var agency: String?
    public var role: String?
    public var requestLetter: DocumentForm?
    public var appointmentDecree: DocumentForm?
    public init(kinds: [String], fullName: String?, nip: String?, userID: String?, email: String?, phone: String?, agency: String?,
                role: String?, requestLetter: DocumentForm?, appointmentDecree: DocumentForm?) {
        self.kinds = kinds
        self.fullName = fullName
        self.nip = nip
        self.userID = userID
        self.email = email
        self.phone = phone
        self.agency = agency
        self.role = role
        self.requestLetter = requestLetter
        self.appointmentDecree = appointmentDecree
    }
}

/// The receipt of a public filing: the request's number and its tracking code, shown this once.
public struct PublicReceipt: Sendable {
    public let number: String
    public let trackingCode: String
    public let filedAt: Date
}

/// Where an online request stands, as its requester may see it: never an account, a user ID, a
/// password or who handled it.
public struct PublicStatus: Sendable, Equatable {
    public let number: String
    public let state: RequestState
    public let kinds: [String]
    public let filedAt: Date
    /// The step due now and its deadline (nil once archived, or for a step without a limit).
    public let dueStep: Int?
    public let dueBy: Date?
    /// What the requester must still send (step 3's notice, less what was filed since).
    public let missing: [DocumentType]
    /// Why the request was refused, as written for the requester.
    public let rejectionReason: String?
    /// Step 2's note on what is wrong with the file (an unreadable SK is on file, yet due again).
    public let completenessNote: String?
    /// Whether the supplement (step 4) is theirs to send now.
    public let maySupplement: Bool
}

extension Operations {
    /// Step 1 through the public door. The address's budget is spent before the body is read,
    /// the e-mail's once it is known; the answer is the same receipt whether or not the name,
    /// NIP or e-mail match an account (matching is step 5's).
    public func filePublicRequest(from address: String, _ read: () async throws -> PublicFilingForm) async throws -> PublicReceipt {
        try await spendPublic([(.filingAddress, address)], action: "public.file_refused", number: nil)
        let form = try await read()
        let fullName = try FullName(try required(form.fullName, "full_name")).value
        let email = try EmailAddress(try required(form.email, "email")).value
        let nip = try form.nip.flatMap { $0.isEmpty ? nil : $0 }.map { text throws(AccountsError) in try NIP(text).value }
        let agency = try FreeText(try required(form.agency, "agency"), field: "agency").value
        let phone = try FreeText.optional(form.phone, field: "phone", maxLength: 30)?.value
        if let phone, !phone.allSatisfy({ $0.isASCII && ($0.isNumber || "+-() ".contains($0)) }) {
            throw InputError(field: "phone", reason: "digits, spaces and + - ( ) only")
        }
        let userID = try form.userID.flatMap { $0.isEmpty ? nil : $0 }.map { text throws(AccountsError) in try UserID(text).value }
        guard let letter = form.requestLetter, !letter.content.isEmpty else {
            throw InputError(field: "surat_permohonan", reason: "is required: the request letter as PDF, JPEG or PNG")
        }
        guard let decree = form.appointmentDecree, !decree.content.isEmpty else {
            throw InputError(field: "sk_pengangkatan", reason: "is required: the appointment decree as PDF, JPEG or PNG")
        }
        let documents = [try upload(DocumentForm(type: DocumentType.suratPermohonan.rawValue, fileName: letter.fileName ?? "surat-permohonan",
                                                 mediaType: letter.mediaType, content: letter.content)),
                         try upload(DocumentForm(type: DocumentType.skPengangkatan.rawValue, fileName: decree.fileName ?? "sk-pengangkatan",
                                                 mediaType: decree.mediaType, content: decree.content))]
        let new = try NewRequest(
            kinds: form.kinds, subject: SubjectHint(userID: userID, fullName: fullName, nip: nip, email: email, agency: agency),
            subjectRole: form.role, requesterName: fullName, requesterContact: email + (phone.map { " · \($0)" } ?? ""),
            channel: SubmissionChannel.email.rawValue, priority: nil)
        try await spendPublic([(.filingEmail, email.lowercased())], action: "public.file_refused", number: nil)
        let code = Self.newTrackingCode()
        let request = try await gate.submitOnline(new, documents: documents, trackingDigest: Self.trackingDigest(code),
                                                  maxOpen: publicBudget.limits.openOnline)
        return PublicReceipt(number: request.number, trackingCode: code, filedAt: request.createdAt)
    }

    /// The request's state for whoever holds its number and tracking code; anything else —
    /// a wrong code, an unknown number, a request filed at another door — is `requestNotFound`.
    public func trackPublicRequest(_ number: String, code: String?, from address: String) async throws -> PublicStatus {
        let snapshot = try await openOnline(number, code: code, from: address)
        let documents = try await gate.documents(of: snapshot.request.id)
        try await gate.recordPublic("public.track", number: snapshot.request.number, details: ["state": .string(snapshot.request.state.rawValue)])
        return Self.status(snapshot, documents)
    }

    /// Step 4 by the requester: files the documents sent (the missing ones), then sends the
    /// supplement. Refused before anything is filed unless a supplement is awaited.
    public func supplementPublicRequest(_ number: String, code: String?, from address: String,
                                        _ read: () async throws -> [DocumentForm]) async throws -> PublicStatus {
        let snapshot = try await openOnline(number, code: code, from: address)
        guard snapshot.request.actions(for: .online).contains(.supplement) else {
            throw GateError.wrongState(current: snapshot.request.state, allowed: snapshot.request.allowedActions)
        }
        let uploads = try await read().map(upload)
        for upload in uploads { _ = try await gate.addDocument(upload, to: snapshot.request.id, by: .online) }
        _ = try await gate.act(.supplement, on: snapshot.request.id, by: .online)
        let after = try await gate.onlineSnapshot(snapshot.request.number, trackingDigest: Self.trackingDigest(try Self.trackingCode(code)))
        return Self.status(after, try await gate.documents(of: after.request.id))
    }

    // MARK: Parts

    /// The request the number and code open, after both budgets (the number's and the
    /// address's) are spent: every attempt counts, right or wrong, so guessing is bounded.
    func openOnline(_ number: String, code: String?, from address: String) async throws -> RequestSnapshot {
        // A number that cannot be one is answered like an unknown one, after the same budget.
        let plausible = number.utf8.count == 15 && number.wholeMatch(of: /REQ-[0-9]{4}-[0-9]{6}/) != nil
        let key = plausible ? number : "-"
        try await spendPublic([(.trackingRequest, key), (.trackingAddress, address)], action: "public.track_refused", number: plausible ? number : nil)
        do {
            guard plausible else { throw GateError.requestNotFound }
            return try await gate.onlineSnapshot(number, trackingDigest: Self.trackingDigest(try Self.trackingCode(code)))
        } catch GateError.requestNotFound {
            try await gate.recordPublic("public.track_refused", number: plausible ? number : nil, details: ["reason": .string("not_found")])
            throw GateError.requestNotFound
        }
    }

    func spendPublic(_ keys: [(PublicBudget.Scope, String)], action: String, number: String?) async throws {
        if let wait = try await publicBudget.spend(keys, at: clock.now) {
            try await gate.recordPublic(action, number: number, details: ["reason": .string("budget"), "scope": .string(keys.map(\.0.rawValue).joined(separator: ","))])
            throw GateError.publicBudgetSpent(retryAfter: wait)
        }
    }

    func required(_ text: String?, _ field: String) throws -> String {
        guard let text, !text.trimmingCharacters(in: .whitespaces).isEmpty else { throw InputError(field: field, reason: "is required") }
        return text
    }

    static func status(_ snapshot: RequestSnapshot, _ documents: [DocumentInfo]) -> PublicStatus {
        let request = snapshot.request
        let awaiting = [.incomplete, .awaitingSupplement].contains(request.state)
        return PublicStatus(
            number: request.number, state: request.state, kinds: request.kinds.names, filedAt: request.createdAt, dueStep: snapshot.dueStep, dueBy: snapshot.dueBy,
            missing: request.stillMissing(documents, incompleteSince: snapshot.incompleteSince),
            rejectionReason: request.state == .rejected || request.state == .invalid ? request.rejectionReason : nil,
            completenessNote: awaiting ? request.completenessNote : nil,
            maySupplement: request.actions(for: .online).contains(.supplement))
    }

    /// 130 random bits as 26 characters of Crockford's base32 (no I, L, O, U), shown in groups.
    static func newTrackingCode() -> String {
        let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
        let bytes = SymmetricKey(size: .init(bitCount: 136)).withUnsafeBytes { Array($0) }
        var bits = 0, value = 0, characters: [Character] = []
        for byte in bytes {
            value = (value << 8) | Int(byte)
            bits += 8
            while bits >= 5, characters.count < 26 {
                bits -= 5
                characters.append(alphabet[(value >> bits) & 31])
            }
            value &= (1 << bits) - 1
        }
        return stride(from: 0, to: 26, by: 5).map { String(characters[$0..<min($0 + 5, 26)]) }.joined(separator: "-")
    }

    /// The code as typed, normalized (case, spaces and dashes; O as 0, I and L as 1), or refused.
    static func trackingCode(_ text: String?) throws -> String {
        guard let text, text.utf8.count <= 64 else { throw GateError.requestNotFound }
        var normalized = ""
        for character in text.uppercased() where character != "-" && character != " " {
            switch character {
            case "O": normalized.append("0")
            case "I", "L": normalized.append("1")
            case let c where c.isASCII && (c.isNumber || c.isLetter) && c != "U": normalized.append(c)
            default: throw GateError.requestNotFound
            }
        }
        guard normalized.count == 26 else { throw GateError.requestNotFound }
        return normalized
    }

    static func trackingDigest(_ code: String) -> [UInt8] {
        let normalized = (try? trackingCode(code)) ?? code
        return Array(SHA256.hash(data: Data("spse-tracking\u{0}\(normalized)".utf8)))
    }
}

