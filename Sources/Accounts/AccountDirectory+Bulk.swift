import Foundation
import Postgres

extension AccountDirectory {
    /// Every account whose user ID, e-mail or NIP collides with one of `candidates`
    /// (case-insensitively where uniqueness is), for checking a provisioning batch in one query.
    /// Runs on the caller's connection so a batch can re-check inside its own transaction.
    public func colliding(with candidates: [NewAccount], on connection: PostgresConnection) async throws -> [Account] {
        guard !candidates.isEmpty else { return [] }
        // Three JSON arrays as parameters: one round trip whatever the batch size, no interpolation.
        func json(_ values: [String]) throws -> String {
            String(decoding: try JSONEncoder().encode(values), as: UTF8.self)
        }
        let rows = try await connection.query(
            """
            SELECT \(Self.columns) FROM accounts
            WHERE lower(user_id) IN (SELECT lower(v) FROM jsonb_array_elements_text($1::jsonb) v)
               OR lower(email) IN (SELECT lower(v) FROM jsonb_array_elements_text($2::jsonb) v)
               OR nip IN (SELECT v FROM jsonb_array_elements_text($3::jsonb) v)
            """,
            [try json(candidates.map(\.userID.value)), try json(candidates.map(\.email.value)),
             try json(candidates.compactMap(\.nip?.value))])
        return try rows.map(Self.decode)
    }
}

extension NewAccount {
    /// Whether `account` is exactly this account already (a provisioning re-run's `unchanged`).
    public func isProvisioned(as account: Account) -> Bool {
        account.userID == userID && account.role == role && account.fullName == fullName && account.nip == nip
            && account.email.value.lowercased() == email.value.lowercased() && account.agency == agency
    }
}
