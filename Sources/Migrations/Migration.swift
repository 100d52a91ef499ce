import Crypto
import Foundation
import Inputs

/// One schema change: the file `sql/NNN_name.sql`, applied once, in order, in a transaction.
public struct Migration: Sendable, Equatable {
    public let version: Int
    public let name: String
    public let sql: String
    /// SHA-256 of the file's bytes, hex; an applied file whose checksum changes is refused.
    public let checksum: String

    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
        self.checksum = Hex.encode(SHA256.hash(data: Data(sql.utf8)))
    }

    public var fileName: String { String(format: "%03d_%@.sql", version, name) }

    /// Reads every `NNN_name.sql` in `directory`, sorted by version. Other files are ignored, but a
    /// `.sql` file that does not follow the pattern, or two files with one version, is an error.
    public static func load(from directory: URL) throws(MigrationError) -> [Migration] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        } catch {
            throw .directoryUnreadable(path: directory.path, reason: error.localizedDescription)
        }
        var migrations: [Migration] = []
        for fileName in names where fileName.hasSuffix(".sql") {
            guard let (version, name) = parse(fileName) else { throw .invalidFileName(fileName) }
            let url = directory.appendingPathComponent(fileName)
            guard let data = FileManager.default.contents(atPath: url.path),
                let sql = String(data: data, encoding: .utf8)
            else { throw .directoryUnreadable(path: url.path, reason: "not readable as UTF-8") }
            migrations.append(Migration(version: version, name: name, sql: sql))
        }
        migrations.sort { $0.version < $1.version }
        for (previous, next) in zip(migrations, migrations.dropFirst()) where previous.version == next.version {
            throw .duplicateVersion(previous.version, [previous.fileName, next.fileName])
        }
        return migrations
    }

    private static func parse(_ fileName: String) -> (Int, String)? {
        let stem = fileName.dropLast(4)
        guard let underscore = stem.firstIndex(of: "_") else { return nil }
        let digits = stem[..<underscore]
        let name = stem[stem.index(after: underscore)...]
        guard digits.count >= 3, digits.allSatisfy(\.isASCII), let version = Int(digits), version > 0,
            !name.isEmpty,
            name.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_") })
        else { return nil }
        return (version, String(name))
    }
}
