import Foundation
import DoorKit

/// The console's languages: Bahasa Indonesia first, English by the switch or `Accept-Language`.
public enum Language: String, Sendable, CaseIterable {
    case id, en

    var other: Language { self == .id ? .en : .id }
    var name: String { self == .id ? "Bahasa Indonesia" : "English" }
}

/// Every string the console shows, one catalogue per language (`Resources/Catalog/<lang>.json`).
/// A key missing from a catalogue fails loading, so no page can show a raw key.
struct Catalog: Sendable {
    let strings: [Language: [String: String]]

    init(bundle: Bundle) throws {
        var strings: [Language: [String: String]] = [:]
        for language in Language.allCases {
            guard let url = bundle.url(forResource: language.rawValue, withExtension: "json", subdirectory: "Resources/Catalog") else {
                throw ConsoleSetupError("the \(language.rawValue) catalogue is missing")
            }
            strings[language] = try JSONDecoder().decode([String: String].self, from: Data(contentsOf: url))
        }
        let keys = Set(strings[.id, default: [:]].keys)
        for language in Language.allCases where Set(strings[language, default: [:]].keys) != keys {
            throw ConsoleSetupError("the \(language.rawValue) catalogue does not have the same keys as the Indonesian one")
        }
        self.strings = strings
    }

    func table(_ language: Language) -> [String: String] { strings[language] ?? [:] }

    func text(_ key: String, _ language: Language, _ values: [String: String] = [:]) -> String {
        var text = strings[language]?[key] ?? key
        for (name, value) in values { text = text.replacingOccurrences(of: "{\(name)}", with: value) }
        return text
    }

    /// The language a request asks for: the switch's cookie, else English only when the browser
    /// ranks it above Indonesian (the API's rule).
    static func language(cookie: String?, acceptLanguage: String?) -> Language {
        if let cookie, let language = Language(rawValue: cookie) { return language }
        return Problem.prefersEnglish(acceptLanguage) ? .en : .id
    }
}

struct ConsoleSetupError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
