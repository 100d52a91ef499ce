import Foundation
import Postgres

extension AccountDirectory {
    /// Query words beyond this many are ignored by the word search (names rarely have more).
    static let nameSearchMaxWords = 6
    /// Vocabulary words kept per query word, most similar first.
    static let nameSearchWordsPerWord = 32

    /// Name lookup by words (sql/008_name_words.sql): each query word of two or more letters is
    /// matched by trigram similarity (≥ 0.3) against the vocabulary of name words; the distinct
    /// names holding a match for every word are scored once each (word similarity of the whole
    /// text), and accounts are read for the best names only — closest name first, then name, then
    /// user ID. nil when the word search does not apply — a word that matches no name word, or no
    /// account holding them all — so the caller falls back to similarity over names and agencies.
    func searchNameWords(_ text: String, filters: [any PostgresEncodable], page: Int, pageSize: Int,
                         on connection: PostgresConnection) async throws -> LookupResult? {
        let matches = try await connection.query(
            """
            SELECT q.ord, m.word
            FROM (SELECT w, ord FROM unnest(name_words($1)) WITH ORDINALITY AS t(w, ord)
                  WHERE length(w) >= 2 ORDER BY ord LIMIT \(Self.nameSearchMaxWords)) q
            LEFT JOIN LATERAL (SELECT word FROM name_vocabulary WHERE word % q.w
                               ORDER BY similarity(word, q.w) DESC, word LIMIT \(Self.nameSearchWordsPerWord)) m ON true
            """, [text])
        var groups: [Int: [String]] = [:]
        for row in matches {
            let position = try row.decode(Int.self, at: 0)
            let word = try row.decode(String?.self, at: 1)
            groups[position, default: []].append(contentsOf: word.map { [$0] } ?? [])
        }
        guard !groups.isEmpty, groups.values.allSatisfy({ !$0.isEmpty }) else { return nil }
        let arrays = groups.keys.sorted().map { PostgresTextArray(groups[$0]!) }
        // The word groups are parameters $g, $g+1, …; the role and agency filters are $r and $r+1.
        func namesHoldingEveryWord(from g: Int) -> String {
            arrays.indices.map { "n.name_words && $\($0 + g)::text[]" }.joined(separator: " AND ")
        }
        func accountFilters(at r: Int) -> String {
            "($\(r)::text IS NULL OR role = $\(r)) AND ($\(r + 1)::text IS NULL OR strpos(lower(agency), lower($\(r + 1))) > 0)"
        }
        let rows = try await connection.query(
            """
            SELECT a.* FROM
                (SELECT n.full_name, word_similarity(lower($1), lower(n.full_name)) AS score FROM account_names n
                 WHERE \(namesHoldingEveryWord(from: 6)) ORDER BY score DESC, n.full_name) best
                CROSS JOIN LATERAL (SELECT \(Self.columns) FROM accounts
                                    WHERE full_name = best.full_name AND \(accountFilters(at: 4)) ORDER BY user_id) a
            ORDER BY best.score DESC, best.full_name, a.user_id
            LIMIT $2 OFFSET $3
            """, [text, pageSize + 1, (page - 1) * pageSize] + filters + arrays)
        let accounts = try rows.map(Self.decode)
        if accounts.isEmpty {
            // A page past the end of the word search's matches is empty, not a different search.
            guard page > 1 else { return nil }
            let any = try await connection.query(
                """
                SELECT 1 FROM account_names n JOIN accounts ON accounts.full_name = n.full_name
                WHERE \(namesHoldingEveryWord(from: 3)) AND \(accountFilters(at: 1)) LIMIT 1
                """, filters + arrays)
            guard any.count > 0 else { return nil }
        }
        return LookupResult(matchedBy: "name", accounts: Array(accounts.prefix(pageSize)), page: page,
                            hasMore: accounts.count > pageSize)
    }
}
