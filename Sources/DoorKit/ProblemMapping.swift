import Accounts
import Federation
import Gate
import Hummingbird
import NIOCore
import Inputs
import PasswordHashing
import Postgres
import Provisioning

/// The one place where errors become HTTP problems. Unknown errors are a 500 that says nothing
/// about their insides.
public enum ProblemMapping {
    public static func problem(for error: any Error) -> Problem {
        switch error {
        case let error as DoorError: return api(error)
        case let error as InputError:
            return Problem(status: .unprocessableContent, code: "invalid_input", detailID: "\(error.field): \(error.reason)",
                           detailEN: error.description, extra: ["field": error.field])
        case let error as LoginRefusal: return login(error)
        case let error as AccountsError: return accounts(error)
        case let error as GateError: return gate(error)
        case let error as ProvisioningError: return provisioning(error)
        case let error as FederationError: return federation(error)
        case let error as PasswordHashingError:
            if case .overloaded = error {
                return Problem(status: .serviceUnavailable, code: "overloaded", detailID: "Server sedang sibuk; coba lagi sebentar.",
                               detailEN: "The server is busy; try again shortly.", retryAfter: 1)
            }
            return internalError
        case PostgresError.invalidText:
            // A last line behind the typed inputs: text PostgreSQL cannot store (a NUL byte).
            return Problem(status: .unprocessableContent, code: "invalid_input", detailID: "Teks mengandung karakter NUL.",
                           detailEN: "Text may not contain NUL characters.")
        case let error as PostgresError where error.sqlState?.errorClass == "23":
            // A constraint the typed inputs did not anticipate: the request conflicts with what is stored.
            return Problem(status: .conflict, code: "conflict", detailID: "Permintaan bertentangan dengan data yang tersimpan.",
                           detailEN: "The request conflicts with the stored data.", extra: ["constraint": Self.constraint(of: error)])
        case let error as PostgresError where error.fault != nil:
            return database(error.fault ?? .unavailable)
        case is CancellationError:
            // The work was cut off (a shutdown past its deadline): nothing was done; another instance may serve it.
            return database(.unavailable)
        case is NIOTooManyBytesError:
            return Problem(status: .contentTooLarge, code: "body_too_large", detailID: "Isi permintaan terlalu besar.",
                           detailEN: "The request body is too large.")
        case let error as HTTPError:
            let status = error.status
            let code = status == .notFound ? "not_found" : status == .contentTooLarge ? "body_too_large" : "bad_request"
            let message = error.body ?? status.reasonPhrase
            return Problem(status: status, code: code, detailID: message, detailEN: message)
        default:
            return internalError
        }
    }

    /// The OpenID provider's refusals, with OAuth's own codes (a door speaking OAuth sends `code`
    /// as `error` and the English detail as `error_description`).
    static func federation(_ error: FederationError) -> Problem {
        let status: HTTPResponse.Status
        switch error {
        case .invalidClient, .invalidToken: status = .unauthorized
        case .clientExists: status = .conflict
        case .invalidRegistration: status = .unprocessableContent
        case .signingUnavailable: status = .serviceUnavailable
        default: status = .badRequest
        }
        var problem = Problem(status: status, code: error.code, detailID: error.description, detailEN: error.description)
        if case .invalidRegistration(let field, _) = error { problem.extra["field"] = field }
        return problem
    }

    /// Every database failure class, once: a statement or lock timeout, a deadlock that outlived
    /// its retries, a full pool are "busy" (seconds); read-only, out of space, shut down or gone
    /// are "unavailable" (until it is mended or fails over). Never a 500.
    static func database(_ fault: DatabaseFault) -> Problem {
        switch fault {
        case .busy:
            return Problem(status: .serviceUnavailable, code: "database_busy", detailID: "Basis data sedang sibuk; coba lagi sebentar.",
                           detailEN: "The database is busy; try again shortly.", retryAfter: 2)
        case .unavailable:
            return Problem(status: .serviceUnavailable, code: "database_unavailable",
                           detailID: "Basis data sedang tidak dapat menerima perubahan; coba lagi nanti.",
                           detailEN: "The database cannot take changes right now; try again later.", retryAfter: 5)
        }
    }

    static func constraint(of error: PostgresError) -> String {
        if case .server(let server) = error { return server.constraint ?? "-" }
        return "-"
    }

    static let internalError = Problem(status: .internalServerError, code: "internal", detailID: "Terjadi kesalahan internal.",
                                       detailEN: "Internal error.")

    static func api(_ error: DoorError) -> Problem {
        switch error {
        case .unauthenticated:
            return Problem(status: .unauthorized, code: "unauthenticated", detailID: "Perlu login (Authorization: Bearer).",
                           detailEN: "Log in first (Authorization: Bearer).")
        case .changePasswordFirst:
            return Problem(status: .forbidden, code: "password_change_required", detailID: "Ganti password terlebih dahulu.",
                           detailEN: "Change your password first.")
        case .forbidden(let role):
            return Problem(status: .forbidden, code: "not_permitted", detailID: "Peran \(role.rawValue) tidak berwenang untuk ini.",
                           detailEN: "The \(role.rawValue) role may not do this.")
        case .badRequest(let detail):
            return Problem(status: .badRequest, code: "bad_request", detailID: detail, detailEN: detail)
        case .notFound:
            return Problem(status: .notFound, code: "not_found", detailID: "Tidak ditemukan.", detailEN: "Not found.")
        case .tooManyRequests(let seconds):
            return Problem(status: .tooManyRequests, code: "too_many_requests", detailID: "Terlalu banyak percobaan; coba lagi nanti.",
                           detailEN: "Too many attempts; try again later.", retryAfter: seconds)
        }
    }

    static func login(_ error: LoginRefusal) -> Problem {
        switch error {
        case .temporaryPasswordExpired:
            return Problem(status: .unauthorized, code: "temporary_password_expired", detailID: "Password sementara sudah kedaluwarsa; ajukan permohonan baru.",
                           detailEN: "The temporary password has expired; submit a new request.")
        case .locked(let seconds):
            return Problem(status: .tooManyRequests, code: "locked", detailID: "Akun terkunci sementara karena terlalu banyak percobaan.",
                           detailEN: "The account is locked for a while after too many failed attempts.", retryAfter: seconds)
        case .disabled:
            return Problem(status: .forbidden, code: "account_disabled", detailID: "Akun dinonaktifkan.", detailEN: "The account is disabled.")
        }
    }

    static func accounts(_ error: AccountsError) -> Problem {
        switch error {
        case .invalidField(let field, let reason):
            return Problem(status: .unprocessableContent, code: "invalid_field", detailID: "\(field.rawValue): \(reason)",
                           detailEN: "\(field.rawValue): \(reason)", extra: ["field": field.rawValue])
        case .conflict(let field):
            return Problem(status: .conflict, code: "conflict", detailID: "\(field.rawValue) sudah dipakai akun lain.",
                           detailEN: "Another account already has this \(field.rawValue).", extra: ["field": field.rawValue])
        case .accountNotFound:
            return Problem(status: .notFound, code: "account_not_found", detailID: "Akun tidak ditemukan.", detailEN: "No such account.")
        case .passwordPolicy(let rule, let detail):
            return Problem(status: .unprocessableContent, code: "password_policy", detailID: "Password ditolak (\(rule)).",
                           detailEN: "Password refused (\(rule)): \(detail)", extra: ["rule": rule])
        case .invalidCredentials:
            return Problem(status: .unauthorized, code: "invalid_credentials", detailID: "User ID atau password salah.",
                           detailEN: "Invalid user ID or password.")
        case .sessionInvalid:
            return Problem(status: .unauthorized, code: "session_invalid", detailID: "Sesi tidak berlaku; login kembali.",
                           detailEN: "The session is not valid; log in again.")
        case .sessionScope:
            return api(.changePasswordFirst)
        case .passwordChangedConcurrently:
            return Problem(status: .conflict, code: "password_changed", detailID: "Password telah diganti; login kembali.",
                           detailEN: "The password was changed meanwhile; log in again.")
        case .bootstrapRefused:
            return Problem(status: .conflict, code: "bootstrap_refused", detailID: "Admin PPE aktif sudah ada.",
                           detailEN: "An active admin_ppe exists already.")
        case .invalidLookup(let reason):
            return Problem(status: .badRequest, code: "bad_request", detailID: reason, detailEN: reason)
        case .configuration:
            return internalError
        case .notPermitted(let role, _):
            return api(.forbidden(role: role))
        case .throttled(let seconds):
            return api(.tooManyRequests(retryAfter: seconds))
        case .lastAdministrator:
            return Problem(status: .conflict, code: "last_administrator",
                           detailID: "Ini admin_ppe aktif terakhir; buat atau aktifkan admin_ppe lain lebih dulu.", detailEN: error.description)
        case .stepUpRequired:
            return Problem(status: .forbidden, code: "step_up_required",
                           detailID: "Langkah 6 memerlukan kode autentikator yang baru; konfirmasi dengan kode TOTP.", detailEN: error.description)
        case .totpAlreadyEnrolled:
            return Problem(status: .conflict, code: "totp_enrolled", detailID: "Autentikator sudah terdaftar; Admin PPE lain harus meresetnya lebih dulu.",
                           detailEN: error.description)
        case .totpNotEnrolled:
            return Problem(status: .conflict, code: "totp_not_enrolled", detailID: "Belum ada autentikator yang didaftarkan.", detailEN: error.description)
        case .totpEnrolmentRequired:
            return Problem(status: .forbidden, code: "totp_enrolment_required", detailID: "Daftarkan autentikator (TOTP) terlebih dahulu.",
                           detailEN: error.description)
        case .sessionNotFound:
            return Problem(status: .notFound, code: "session_not_found", detailID: "Tidak ada sesi lain Anda dengan tanda itu.",
                           detailEN: "No other live session of yours has this handle.")
        case .notDatabaseOwner:
            return Problem(status: .forbidden, code: "not_permitted", detailID: "Pemulihan admin_ppe memerlukan kredensial pemilik basis data.",
                           detailEN: error.description)
        }
    }

    static func provisioning(_ error: ProvisioningError) -> Problem {
        switch error {
        case .invalidRows(let problems):
            return Problem(status: .unprocessableContent, code: "invalid_batch",
                           detailID: "\(problems.count) masalah dalam berkas; tidak ada akun yang dibuat.",
                           detailEN: "\(problems.count) problem(s) in the batch; nothing was provisioned.", problems: problems)
        case .notPermitted(let role):
            return api(.forbidden(role: role))
        case .credentialsOutputRequired, .credentialsOutputExists, .credentialsOutput:
            // The API returns credentials in its answer; a file destination never comes from HTTP.
            return internalError
        }
    }

    static func gate(_ error: GateError) -> Problem {
        switch error {
        case .wrongState(let current, let allowed):
            let next = allowed.map(\.description).joined(separator: "; ")
            return Problem(status: .conflict, code: "wrong_state", detailID: "Permohonan berstatus \(current.rawValue); yang dapat dilakukan: \(next.isEmpty ? "tidak ada" : next).",
                           detailEN: error.description, extra: ["state": current.rawValue])
        case .notPermitted(let role, let action):
            return Problem(status: .forbidden, code: "not_permitted", detailID: "Peran \(role.rawValue) tidak berwenang: \(action.rawValue).",
                           detailEN: error.description)
        case .separationOfDuties(let rule):
            return Problem(status: .forbidden, code: "separation_of_duties", detailID: "Pemisahan tugas: \(rule).", detailEN: error.description)
        case .missingDocuments:
            // Valid input refused because of the file's state (documents not yet on file): a conflict.
            return Problem(status: .conflict, code: "missing_documents", detailID: error.description, detailEN: error.description)
        case .wantingInCompleteFile:
            return Problem(status: .unprocessableContent, code: "wanting_in_complete_file",
                           detailID: "Berkas yang lengkap tidak boleh menyebut dokumen yang kurang; pilih 'belum lengkap' atau hapus centangnya.",
                           detailEN: error.description, extra: ["field": "wanting"])
        case .requestNotFound, .documentNotFound:
            return Problem(status: .notFound, code: "not_found", detailID: "Tidak ditemukan.", detailEN: error.description)
        case .unknownKind, .noKind:
            return Problem(status: .unprocessableContent, code: "invalid_input", detailID: "Pilih reset password, informasi User ID, atau keduanya.",
                           detailEN: error.description, extra: ["field": "kinds"])
        case .subjectRequired:
            return Problem(status: .unprocessableContent, code: "invalid_input", detailID: "Permohonan yang sah harus menyebut akun yang dimaksud.",
                           detailEN: error.description, extra: ["field": "subject_user_id"])
        case .subjectWrongRole(let userID, let role, let expected):
            return Problem(status: .unprocessableContent, code: "subject_wrong_role",
                           detailID: "\(userID) adalah akun \(role.rawValue); permohonan ini untuk \(expected.rawValue).",
                           detailEN: error.description, extra: ["field": "subject_user_id"])
        case .reasonRequired:
            return Problem(status: .unprocessableContent, code: "reason_required", detailID: "Permohonan yang tidak sah perlu alasan untuk pemohon.",
                           detailEN: error.description, extra: ["field": "reason"])
        case .handoverBeforeExecution:
            return Problem(status: .unprocessableContent, code: "invalid_input", detailID: "Waktu penyampaian sebelum permohonan dilaksanakan.",
                           detailEN: error.description, extra: ["field": "handed_at"])
        case .handoverInFuture:
            return Problem(status: .unprocessableContent, code: "invalid_input", detailID: "Waktu penyampaian di masa depan.",
                           detailEN: error.description, extra: ["field": "handed_at"])
        case .stillInTime:
            return Problem(status: .conflict, code: "still_in_time", detailID: "Berkas masih dalam batas waktu untuk dilengkapi.", detailEN: error.description)
        case .documentRefused(let reason, let field):
            var problem = Problem(status: .unprocessableContent, code: "document_refused",
                                  detailID: "Dokumen ditolak: hanya berkas PDF, JPEG atau PNG yang isinya sesuai jenisnya, tidak kosong dan tidak melebihi batas ukuran.",
                                  detailEN: "Document refused: \(reason).")
            if let field { problem.extra["field"] = field }
            return problem
        case .subjectNotFound:
            return Problem(status: .unprocessableContent, code: "subject_not_found", detailID: "Akun yang dimaksud tidak ada.", detailEN: error.description)
        case .hintMismatch(let fields):
            return Problem(status: .unprocessableContent, code: "hint_mismatch",
                           detailID: "Akun berbeda dengan data permohonan (\(fields.joined(separator: ", "))); beri alasan pengakuan.",
                           detailEN: error.description, extra: ["fields": fields.joined(separator: ",")])
        case .deviationNotFound:
            return Problem(status: .notFound, code: "not_found", detailID: "Tidak ditemukan.", detailEN: error.description)
        case .notTheirDeviation:
            return Problem(status: .forbidden, code: "not_permitted", detailID: "Penyimpangan dijelaskan oleh pelakunya sendiri.", detailEN: error.description)
        case .deviationExplained:
            return Problem(status: .conflict, code: "already_explained", detailID: "Penyimpangan ini sudah dijelaskan.", detailEN: error.description)
        case .exportBeforeArchive:
            return Problem(status: .conflict, code: "not_archived",
                           detailID: "Berkas belum diarsipkan: hanya Admin PPE yang dapat mengekspor sekarang, dengan alasan.", detailEN: error.description)
        case .busy:
            return database(.busy)
        case .publicBudgetSpent(let seconds):
            let minutes = max(1, (seconds + 59) / 60)
            return Problem(status: .tooManyRequests, code: "too_many_requests",
                           detailID: "Terlalu banyak percobaan; coba lagi dalam \(minutes) menit.",
                           detailEN: "Too many attempts; try again in \(minutes) minutes.", retryAfter: seconds)
        case .onlineQueueFull(let seconds):
            return Problem(status: .tooManyRequests, code: "online_queue_full",
                           detailID: "Permohonan daring sedang penuh; coba lagi nanti atau serahkan permohonan langsung ke LPSE.",
                           detailEN: "Too many online requests are open; try again later or hand the request in at the LPSE.", retryAfter: seconds)
        case .documentPurged:
            return Problem(status: .gone, code: "document_purged", detailID: "Isi dokumen sudah dimusnahkan setelah masa retensi.", detailEN: error.description)
        }
    }
}
