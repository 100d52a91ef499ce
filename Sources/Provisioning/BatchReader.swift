import CSV
import Foundation

/// Turns a provisioning file into records, reporting every structural problem (encoding, header,
/// quoting, field count, JSON) with the line it is on. Values are not judged here.
public enum BatchReader {
    public static func read(_ bytes: [UInt8], format: BatchFormat) -> (records: [BatchRecord], problems: [RowProblem]) {
        var body = bytes[...]
        if body.starts(with: [0xEF, 0xBB, 0xBF]) { body = body.dropFirst(3) }  // a BOM from Excel's "CSV UTF-8"
        guard let text = String(validating: body, as: UTF8.self) else {
            return ([], invalidUTF8Lines(body))
        }
        switch format {
        case .csv: return readCSV(text)
        case .jsonl: return readJSONL(text)
        }
    }

    // MARK: CSV

    static func readCSV(_ text: String) -> (records: [BatchRecord], problems: [RowProblem]) {
        var problems: [RowProblem] = []
        // A well-formed CSV has an even number of quotes (each field opens and closes, "" escapes).
        // The parser would otherwise swallow the rest of the file into one field without a word.
        let quoteCount = text.utf8.reduce(0) { $0 + ($1 == UInt8(ascii: "\"") ? 1 : 0) }
        guard let reader = try? CSVReader(string: text, hasHeaderRow: false) else {
            return ([], [RowProblem(line: 1, column: nil, rule: .missingHeader, detail: "the file is empty")])
        }
        var line = 1
        var header: [BatchColumn]?
        var records: [BatchRecord] = []
        var lastStart = 1
        while let row = reader.next() {
            let start = line
            lastStart = start
            line += 1 + row.reduce(0) { $0 + lineBreaks(in: $1) }
            if row.count == 1 && row[0].trimmingCharacters(in: .whitespaces).isEmpty { continue }  // blank line
            guard let columns = header else {
                switch parseHeader(row, line: start) {
                case .columns(let parsed): header = parsed
                case .problem(let problem): return ([], [problem])
                }
                continue
            }
            guard row.count == columns.count else {
                problems.append(RowProblem(line: start, column: nil, rule: .fieldCount,
                                           detail: "has \(row.count) fields, the header has \(columns.count)"))
                continue
            }
            records.append(BatchRecord(line: start, values: Dictionary(uniqueKeysWithValues: zip(columns, row))))
        }
        if header == nil {
            return ([], [RowProblem(line: 1, column: nil, rule: .missingHeader,
                                    detail: "the first line must name the columns: \(BatchColumn.allCases.map(\.rawValue).joined(separator: ","))")])
        }
        if !quoteCount.isMultiple(of: 2) {
            problems.append(RowProblem(line: lastStart, column: nil, rule: .unterminatedQuote,
                                       detail: "a quoted field is never closed; the rest of the file was read as one field"))
        }
        return (records, problems)
    }

    private enum Header {
        case columns([BatchColumn])
        case problem(RowProblem)
    }

    private static func parseHeader(_ row: [String], line: Int) -> Header {
        var columns: [BatchColumn] = []
        for name in row {
            let trimmed = name.trimmingCharacters(in: .whitespaces).lowercased()
            guard let column = BatchColumn(rawValue: trimmed) else {
                return .problem(RowProblem(line: line, column: nil, rule: .badHeader,
                                           detail: "unknown column \"\(trimmed)\"; the columns are \(BatchColumn.allCases.map(\.rawValue).joined(separator: ","))"))
            }
            guard !columns.contains(column) else {
                return .problem(RowProblem(line: line, column: column, rule: .badHeader, detail: "column \(column.rawValue) appears twice"))
            }
            columns.append(column)
        }
        let missing = BatchColumn.allCases.filter { !columns.contains($0) }
        guard missing.isEmpty else {
            return .problem(RowProblem(line: line, column: nil, rule: .badHeader,
                                       detail: "missing column\(missing.count == 1 ? "" : "s") \(missing.map(\.rawValue).joined(separator: ", "))"))
        }
        return .columns(columns)
    }

    /// Line breaks inside a quoted field move the next record's line number on.
    private static func lineBreaks(in field: String) -> Int {
        var count = 0
        var previous: UInt8 = 0
        for byte in field.utf8 {
            if byte == UInt8(ascii: "\n") || (previous == UInt8(ascii: "\r")) && byte != UInt8(ascii: "\n") { count += 1 }
            previous = byte
        }
        return previous == UInt8(ascii: "\r") ? count + 1 : count
    }

    // MARK: JSON Lines

    static func readJSONL(_ text: String) -> (records: [BatchRecord], problems: [RowProblem]) {
        var records: [BatchRecord] = []
        var problems: [RowProblem] = []
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = index + 1
            let content = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine[...]
            if content.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            guard let object = try? JSONSerialization.jsonObject(with: Data(content.utf8)) as? [String: Any] else {
                problems.append(RowProblem(line: line, column: nil, rule: .invalidJSON, detail: "is not one JSON object"))
                continue
            }
            var values: [BatchColumn: String] = [:]
            var bad = false
            for (key, value) in object {
                guard let column = BatchColumn(rawValue: key) else {
                    problems.append(RowProblem(line: line, column: nil, rule: .invalidJSON, detail: "unknown key \"\(key)\""))
                    bad = true
                    continue
                }
                if let string = value as? String {
                    values[column] = string
                } else if value is NSNull, column == .nip {
                    values[column] = ""
                } else {
                    problems.append(RowProblem(line: line, column: column, rule: .invalidJSON, detail: "must be a string"))
                    bad = true
                }
            }
            if values[.nip] == nil && !bad { values[.nip] = "" }  // NIP is optional; the key may be left out
            let missing = BatchColumn.allCases.filter { values[$0] == nil }
            if !missing.isEmpty && !bad {
                problems.append(RowProblem(line: line, column: nil, rule: .fieldCount,
                                           detail: "missing \(missing.map(\.rawValue).joined(separator: ", "))"))
                bad = true
            }
            if !bad { records.append(BatchRecord(line: line, values: values)) }
        }
        return (records, problems)
    }

    // MARK: Encoding

    private static func invalidUTF8Lines(_ bytes: ArraySlice<UInt8>) -> [RowProblem] {
        bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated().compactMap { index, line in
            String(validating: line, as: UTF8.self) == nil
                ? RowProblem(line: index + 1, column: nil, rule: .notUTF8, detail: "is not UTF-8 (save the file as \"CSV UTF-8\")")
                : nil
        }
    }
}
