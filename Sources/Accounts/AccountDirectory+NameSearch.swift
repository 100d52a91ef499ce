import Foundation
import Inputs
import Postgres

extension AccountDirectory {
    /// Query words beyond this many are ignored by the word search (names rarely have more).
    static let nameSearchMaxWords = 6
    /// Vocabulary words kept per query word, most similar first.
    static let nameSearchWordsPerWord = 32
    /// Distinct names ranked per search; pages beyond their accounts are empty (narrow the search).
    static let nameSearchMaxNames = 5_000

    /// Name lookup by words (sql/008_name_words.sql): each query word of two or more letters is
    /// matched by trigram similarity (≥ 0.3) against the vocabulary of name words; the distinct
    /// names holding a match for every word are scored once each (word similarity of the whole
    /// text), and accounts are read for the best names only — closest name first, then name, then
    /// user ID. nil when the word search does not apply — a word that matches no name word, or no
    /// account (within the filters) holding them all — so the caller falls back to similarity over
    /// names and agencies.
    func searchNameWords(_ text: String, filters: [any PostgresEncodable], page: Page,
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
        let holdsEveryWord = arrays.indices.map { "n.name_words && $\($0 + 2)::text[]" }.joined(separator: " AND ")
        let names = try await connection.query(
            """
            SELECT n.full_name FROM account_names n WHERE \(holdsEveryWord)
            ORDER BY word_similarity(lower($1), lower(n.full_name)) DESC, n.full_name LIMIT \(Self.nameSearchMaxNames)
            """, [text] + arrays).map { try $0.decode(String.self, at: 0) }
        // Accounts of the best names, a window of names at a time, at most as many per name as the
        // page still needs: a name shared by hundreds of accounts costs no more than the page.
        let (offset, pageSize) = (page.offset, page.size)
        let needed = offset + pageSize + 1
        var found: [Account] = []
        var next = 0
        while found.count < needed, next < names.count {
            let window = Array(names[next..<min(next + max(needed - found.count, 8), names.count)])
            next += window.count
            let rows = try await connection.query(
                """
                SELECT a.* FROM unnest($1::text[]) WITH ORDINALITY AS n(full_name, rank)
                CROSS JOIN LATERAL (
                    SELECT \(Self.columns) FROM accounts
                    WHERE full_name = n.full_name AND \(Self.lookupFilters(roleAt: 3))
                    ORDER BY user_id LIMIT $2) a
                ORDER BY n.rank, a.user_id LIMIT $2
                """, [PostgresTextArray(window), needed - found.count] + filters)
            found += try rows.map(Self.decode)
        }
        // No account holds every word: not a word search; a page past its end: empty.
        guard !found.isEmpty else { return nil }
        let onPage = found.dropFirst(offset)
        return LookupResult(matchedBy: "name", accounts: Array(onPage.prefix(pageSize)), page: page.number,
                            hasMore: onPage.count > pageSize)
    }
}
