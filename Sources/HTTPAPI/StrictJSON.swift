import DoorKit
import Foundation
import Hummingbird

/// Request bodies are read strictly: a JSON object, valid UTF-8, no unknown fields, each field of
/// the right type — every refusal a 400 naming the problem, never a 500.
extension Request {
    /// `nested`: the fields allowed inside an object-valued field (`subject` of a request).
    func decodeStrict<T: Decodable>(_ type: T.Type, fields: Set<String>, nested: [String: Set<String>] = [:], limit: Int = 64 * 1024) async throws -> T {
        let buffer: ByteBuffer
        do {
            buffer = try await body.collect(upTo: limit)
        } catch {
            throw HTTPError(.contentTooLarge, message: "the body is larger than \(limit) bytes")
        }
        let bytes = Array(buffer.readableBytesView)
        guard String(validating: bytes, as: UTF8.self) != nil else { throw DoorError.badRequest("the body is not valid UTF-8") }
        guard let object = (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any] else {
            throw DoorError.badRequest("the body must be a JSON object")
        }
        let unknown = Set(object.keys).subtracting(fields)
        guard unknown.isEmpty else { throw DoorError.badRequest("unknown field(s): \(unknown.sorted().joined(separator: ", "))") }
        for (field, allowed) in nested {
            guard let inner = object[field] as? [String: Any] else { continue }
            let unknown = Set(inner.keys).subtracting(allowed)
            guard unknown.isEmpty else {
                throw DoorError.badRequest("unknown field(s): \(unknown.sorted().map { "\(field).\($0)" }.joined(separator: ", "))")
            }
        }
        do {
            return try JSONDecoder().decode(T.self, from: Data(bytes))
        } catch let DecodingError.keyNotFound(key, _) {
            throw DoorError.badRequest("missing field: \(key.stringValue)")
        } catch let DecodingError.typeMismatch(expected, context) {
            throw DoorError.badRequest("field \(context.codingPath.map(\.stringValue).joined(separator: ".")) must be \(Self.name(of: expected))")
        } catch let DecodingError.valueNotFound(expected, context) {
            throw DoorError.badRequest("field \(context.codingPath.map(\.stringValue).joined(separator: ".")) must be \(Self.name(of: expected)), not null")
        } catch let DecodingError.dataCorrupted(context) {
            throw DoorError.badRequest("field \(context.codingPath.map(\.stringValue).joined(separator: ".")): \(context.debugDescription)")
        }
    }

    private static func name(of type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Int.Type: return "an integer"
        case is Bool.Type: return "true or false"
        case is [String].Type: return "a list of strings"
        default: return "\(type)"
        }
    }
}

/// A JSON body with a status, for handlers.
struct JSONResponse<Value: Encodable & Sendable>: ResponseGenerator {
    let status: HTTPResponse.Status
    let value: Value

    init(_ value: Value, status: HTTPResponse.Status = .ok) {
        self.value = value
        self.status = status
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(value)
        return Response(status: status, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
