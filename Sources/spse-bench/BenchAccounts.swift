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

    /// Row `i` of the million: deterministic, every NIP valid and unique (birth date from i mod
    /// 10,000, appointment month from i / 10,000, sequence from i / 120,000).
    static func person(_ i: Int) -> (userID: String, name: String, nip: String, email: String, agency: String, role: String) {
        let day = i % 10_000
        let (year, month, dayOfMonth) = (1965 + day / 336, day % 336 / 28 + 1, day % 28 + 1)
        let nip = String(format: "%04d%02d%02d%04d%02d%d%03d", year, month, dayOfMonth, year + 25, (i / 10_000) % 12 + 1, i % 2 + 1, i / 120_000 + 1)
        let name = "\(given[i % given.count]) \(given[(i / 7) % given.count]) \(family[(i / 3) % family.count])"
        return (String(format: "pegawai%07d", i), name, nip, String(format: "pegawai%07d@purbalinggakab.go.id", i), agencies[i % agencies.count],
                roles[i % roles.count])
    }

    static func loadDirectory(_ count: Int, into database: ScratchDatabase) async throws {
        let connection = try await PostgresConnection.connect(database.configuration)
        let now = Date()
        // Trigram indexes are cheaper built once after the load than maintained row by row.
        try await connection.executeScript("DROP INDEX accounts_full_name_trgm; DROP INDEX accounts_agency_trgm; DROP INDEX accounts_full_name_user_id;")
        try await connection.copyIn("COPY accounts (user_id, role, full_name, nip, email, agency, created_at, updated_at) FROM STDIN") { writer in
            for i in 0..<count {
                let p = person(i)
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
