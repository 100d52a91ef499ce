import ArgumentParser
import Foundation
import PasswordHashing
import Postgres

/// Accounts loaded straight into a scratch database with COPY: the load scenarios need many
/// accounts fast, and the provisioning path (one Argon2 per account) is measured on its own.
enum BenchAccounts {
    static let password = "benchmark password 2026"

    /// `count` accounts `load0000…` sharing one Argon2id hash of `password` (same cost to verify as
    /// distinct hashes), active, with no change pending; plus the operators `bench.admin` (admin_ppe)
    /// and `bench.staf` (staf_administrasi).
    static func loadLoginAccounts(_ count: Int, parameters: Argon2Parameters, into database: ScratchDatabase) async throws {
        let hash = try PasswordHasher.hashBlocking(password, salt: RandomBytes.system(parameters.saltLength), parameters: parameters).encoded
        let connection = try await PostgresConnection.connect(database.configuration)
        let now = Date()
        try await connection.copyIn(
            "COPY accounts (user_id, role, full_name, email, agency, password_hash, must_change_password, created_at, updated_at) FROM STDIN"
        ) { writer in
            try await writer.append(["bench.admin", "admin_ppe", "Bench Admin", "bench.admin@lpse.go.id", "LPSE", hash, false, now, now])
            try await writer.append(["bench.staf", "staf_administrasi", "Bench Staf", "bench.staf@lpse.go.id", "LPSE", hash, false, now, now])
            for i in 0..<count {
                try await writer.append([String(format: "load%04d", i), "helpdesk", "Pegawai Beban \(i)", "load\(i)@purbalinggakab.go.id",
                                         "Dinas Kominfo", hash, false, now, now])
            }
        }
        await connection.close()
    }

    static let given = ["Agus", "Budi", "Citra", "Dewi", "Eko", "Fitri", "Gunawan", "Hadi", "Indah", "Joko", "Kartika", "Lestari", "Made",
                        "Nur", "Putri", "Rahmat", "Sri", "Teguh", "Wahyu", "Yuni", "Ayu", "Bambang", "Dian", "Endang", "Fajar", "Galih",
                        "Hendra", "Intan", "Kurniawan", "Larasati", "Muhammad", "Nanda", "Oktaviani", "Purnomo", "Ratna", "Siti", "Tri",
                        "Utami", "Wulan", "Yoga"]
    static let family = ["Santoso", "Wulandari", "Nugroho", "Saputra", "Hidayat", "Kusuma", "Setiawan", "Handayani", "Pratama", "Susanti",
                         "Wijaya", "Rahayu", "Purwanto", "Lestari", "Gunawan", "Siregar", "Nasution", "Harahap", "Simanjuntak", "Situmorang",
                         "Wibowo", "Prasetyo", "Kurniawati", "Hartono", "Sulistyo", "Permana", "Ramadhan", "Maharani", "Anggraini", "Firmansyah"]
    static let agencies = ["Dinas Kesehatan", "Dinas Pendidikan dan Kebudayaan", "Dinas Pekerjaan Umum dan Penataan Ruang",
                           "Bagian Pengadaan Barang/Jasa", "Inspektorat Daerah", "Badan Perencanaan Pembangunan Daerah",
                           "Dinas Perhubungan", "Dinas Sosial", "Badan Keuangan Daerah", "Dinas Pertanian dan Ketahanan Pangan",
                           "Dinas Lingkungan Hidup", "Dinas Komunikasi dan Informatika", "Satuan Polisi Pamong Praja",
                           "Dinas Kependudukan dan Pencatatan Sipil", "Rumah Sakit Umum Daerah", "Badan Kepegawaian Daerah"]
    static let roles = ["helpdesk", "admin_agency", "verifikator", "auditor"]

    /// How the generated names vary: `common` draws three words from 40 given and 30 family names
    /// (2,522 distinct names at a million accounts, each shared by ~400 accounts, as in a
    /// directory of very common names); `varied` builds each word from syllables (about 20,000
    /// given and 20,000 family words), so nearly every account has a name of its own.
    enum Names: String, CaseIterable, ExpressibleByArgument {
        case common, varied
    }

    static let openings = ["A", "Ba", "Ca", "Da", "E", "Fa", "Ga", "Ha", "I", "Ja", "Ka", "La", "Ma", "Na", "O", "Pa", "Ra", "Sa",
                           "Ta", "U", "Wa", "Ya", "Bu", "Di", "Gu", "Hi", "Ku", "Li", "Mu", "Nu", "Pu", "Ri", "Su", "Ti", "Wi", "Yu"]
    static let middles = ["di", "gus", "han", "ju", "kar", "lan", "man", "nan", "ran", "san", "tar", "wan", "yan", "bang", "dra",
                          "gan", "las", "mad", "nur", "pur", "ris", "sih", "tin", "war", "yat", "ban", "cah", "dew", "fit", "hen"]
    static let givenEndings = ["", "o", "a", "i", "to", "ti", "na", "wati", "yanto", "ningsih", "sari", "ati", "udin", "ah", "ri",
                               "ni", "no", "dy"]
    static let familyEndings = ["", "to", "wan", "jaya", "kusuma", "putra", "putri", "wati", "nata", "dinata", "pratama", "santoso",
                                "siregar", "harja", "atmaja", "wibowo", "saputra", "hadi"]

    static func word(_ n: Int, endings: [String]) -> String {
        openings[n % openings.count] + middles[(n / openings.count) % middles.count]
            + endings[(n / (openings.count * middles.count)) % endings.count]
    }

    /// A name for row `i`: three words, deterministic.
    static func name(_ i: Int, _ names: Names) -> String {
        switch names {
        case .common:
            return "\(given[i % given.count]) \(given[(i / 7) % given.count]) \(family[(i / 3) % family.count])"
        case .varied:
            // (a, b) is unique per row, and so is the pair of given words; the multipliers, coprime
            // with the word counts, scatter neighbouring rows over the vocabulary.
            let words = openings.count * middles.count * givenEndings.count
            let familyWords = openings.count * middles.count * familyEndings.count
            let (a, b) = (i % words, i / words)
            return "\(word(a * 7919 % words, endings: givenEndings)) \(word((a * 104_729 + b * 7) % words, endings: givenEndings)) "
                + word((a * 31 + b * 15_485_863) % familyWords, endings: familyEndings)
        }
    }

    /// Row `i` of the million: deterministic, every NIP valid and unique (birth date from i mod
    /// 10,000, appointment month from i / 10,000, sequence from i / 120,000).
    static func person(_ i: Int, names: Names = .common) -> (userID: String, name: String, nip: String, email: String, agency: String, role: String) {
        let day = i % 10_000
        let (year, month, dayOfMonth) = (1965 + day / 336, day % 336 / 28 + 1, day % 28 + 1)
        let nip = String(format: "%04d%02d%02d%04d%02d%d%03d", year, month, dayOfMonth, year + 25, (i / 10_000) % 12 + 1, i % 2 + 1, i / 120_000 + 1)
        let name = name(i, names)
        return (String(format: "pegawai%07d", i), name, nip, String(format: "pegawai%07d@purbalinggakab.go.id", i), agencies[i % agencies.count],
                roles[i % roles.count])
    }

    static func loadDirectory(_ count: Int, names: Names = .common, into database: ScratchDatabase) async throws {
        let connection = try await PostgresConnection.connect(database.configuration)
        let now = Date()
        // Trigram indexes are cheaper built once after the load than maintained row by row.
        try await connection.executeScript("DROP INDEX accounts_full_name_trgm; DROP INDEX accounts_agency_trgm; DROP INDEX accounts_full_name_user_id;")
        try await connection.copyIn("COPY accounts (user_id, role, full_name, nip, email, agency, created_at, updated_at) FROM STDIN") { writer in
            for i in 0..<count {
                let p = person(i, names: names)
                try await writer.append([p.userID, p.role, p.name, p.nip, p.email, p.agency, now, now])
            }
        }
        try await connection.executeScript("""
            SET maintenance_work_mem = '512MB';
            CREATE INDEX accounts_full_name_trgm ON accounts USING gin (lower(full_name) gin_trgm_ops);
            CREATE INDEX accounts_agency_trgm ON accounts USING gin (lower(agency) gin_trgm_ops);
            CREATE INDEX accounts_full_name_user_id ON accounts (full_name, user_id);
            ANALYZE accounts;
            """)
        await connection.close()
    }
}
