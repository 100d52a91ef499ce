/// The notices SOP 004 sends the requester (steps 3, 7 and 8), in Bahasa Indonesia and English.
/// A notice never carries a password: step 8 tells the helpdesk to log in at once with the
/// password the Admin PPE gave them, and that they must change it.
public struct Notice: Sendable, Equatable {
    public let step: Int
    public let subjectID: String
    public let bodyID: String
    public let subjectEN: String
    public let bodyEN: String

    /// Step 1 through the public door: the filing arrived. Never the tracking code (the receipt
    /// page showed it once; a mailbox is no place for it) and nothing of any account, so the
    /// mail reads the same whoever's name was given.
    public static func onlineReceipt(number: String) -> Notice {
        Notice(
            step: 1,
            subjectID: "[\(number)] Permohonan diterima",
            bodyID: "Permohonan \(number) telah kami terima dan akan diperiksa kelengkapannya oleh Staf Administrasi. "
                + "Pantau permohonan di halaman Lacak permohonan dengan nomor ini dan kode pelacakan dari tanda terima Anda. "
                + "Petugas LPSE tidak pernah meminta password atau kode pelacakan Anda. Jika Anda tidak mengajukan permohonan ini, abaikan e-mail ini "
                + "dan beri tahu LPSE.",
            subjectEN: "[\(number)] Request received",
            bodyEN: "We have received request \(number); Staf Administrasi will check that the file is complete. "
                + "Follow it on the Track a request page with this number and the tracking code from your receipt. "
                + "LPSE staff never ask for your password or tracking code. If you did not file this request, ignore this e-mail and tell the LPSE.")
    }

    /// Step 3: the file is incomplete; names the missing documents.
    public static func supplement(number: String, missing: [DocumentType]) -> Notice {
        let names = missing.map(\.readableID).joined(separator: ", ")
        let namesEN = missing.map(\.readableEN).joined(separator: ", ")
        return Notice(
            step: 3,
            subjectID: "[\(number)] Berkas permohonan belum lengkap",
            bodyID: "Berkas permohonan \(number) belum lengkap. Mohon lengkapi dokumen berikut: \(names.isEmpty ? "(lihat catatan petugas)" : names).",
            subjectEN: "[\(number)] Request file incomplete",
            bodyEN: "Request file \(number) is incomplete. Please supply: \(namesEN.isEmpty ? "(see the officer's note)" : namesEN).")
    }

    /// Step 7: the request is rejected, with the reason.
    public static func rejection(number: String, reason: String) -> Notice {
        Notice(
            step: 7,
            subjectID: "[\(number)] Permohonan ditolak",
            bodyID: "Permohonan \(number) ditolak. Alasan: \(reason)",
            subjectEN: "[\(number)] Request rejected",
            bodyEN: "Request \(number) was rejected. Reason: \(reason)")
    }

    /// The file stayed incomplete too long and the service rejected it.
    public static func abandonment(number: String, days: Int) -> Notice {
        Notice(
            step: 7,
            subjectID: "[\(number)] Permohonan ditolak",
            bodyID: "Permohonan \(number) ditolak karena berkas tidak dilengkapi dalam \(days) hari. Silakan ajukan permohonan baru.",
            subjectEN: "[\(number)] Request rejected",
            bodyEN: "Request \(number) was rejected because the file was not completed within \(days) days. Please file a new request.")
    }

    /// Sealed delivery (step 6): the second half of the temporary password, to the e-mail on
    /// file. `{sealed}` is replaced by the half only when the notice is sent.
    public static let sealedPlaceholder = "{sealed}"
    /// An e-mail address as shown to people who need not read it: `he…@purbalinggakab.go.id`.
    public static func masked(_ address: String) -> String {
        let at = address.firstIndex(of: "@") ?? address.endIndex
        return String(address[..<at].prefix(2)) + "…" + String(address[at...])
    }

    /// What a sealed half is bound to: its purpose and its request.
    public static func sealedContext(_ requestID: Int64) -> String { "sealed-half:\(requestID)" }
    public static func sealedHalf(number: String) -> Notice {
        Notice(
            step: 6,
            subjectID: "[\(number)] Bagian kedua password sementara",
            bodyID: "Bagian kedua password sementara Anda: \(sealedPlaceholder) . Bagian pertama disampaikan oleh Admin PPE. "
                + "Saat login, ketik bagian pertama lalu bagian kedua tanpa spasi; Anda wajib mengganti password.",
            subjectEN: "[\(number)] Second half of the temporary password",
            bodyEN: "The second half of your temporary password: \(sealedPlaceholder) . The Admin PPE tells you the first half. "
                + "At login type the first half, then the second, with no space; you must change the password.")
    }

    /// Step 8: the reset is done and/or the user ID is given; never the password itself.
    public static func completion(number: String, kinds: RequestKinds, userID: String?) -> Notice {
        var bodyID = "Permohonan \(number) telah diproses."
        var bodyEN = "Request \(number) has been processed."
        if kinds.contains(.userIDInfo), let userID {
            bodyID += " User ID Anda: \(userID)."
            bodyEN += " Your user ID: \(userID)."
        }
        if kinds.contains(.resetPassword) {
            bodyID += " Password sementara telah disampaikan oleh Admin PPE. Segera login ke SPSE; Anda wajib mengganti password saat login pertama."
            bodyEN += " The Admin PPE has given you a temporary password. Log in to SPSE at once; you must change the password at first login."
        }
        return Notice(
            step: 8, subjectID: "[\(number)] Permohonan selesai diproses", bodyID: bodyID,
            subjectEN: "[\(number)] Request processed", bodyEN: bodyEN)
    }
}

extension DocumentType {
    var readableID: String {
        switch self {
        case .suratPermohonan: return "Surat Permohonan"
        case .skPengangkatan: return "SK Pengangkatan"
        case .other: return "dokumen pendukung lain"
        }
    }

    var readableEN: String {
        switch self {
        case .suratPermohonan: return "request letter (Surat Permohonan)"
        case .skPengangkatan: return "appointment decree (SK Pengangkatan)"
        case .other: return "other supporting document"
        }
    }
}
