import Foundation
@testable import DoorKit
import Hummingbird
import Testing

@Suite("multipart/form-data parsing is total on any bytes")
struct MultipartFormTests {
    static let boundary = "b0undary"

    func parse(_ bytes: [UInt8]) throws -> [MultipartForm.Part] {
        try MultipartForm(ByteBuffer(bytes: bytes), contentType: "multipart/form-data; boundary=\(Self.boundary)").parts
    }

    @Test("a well-formed form gives its parts, names, file names and bodies")
    func wellFormed() throws {
        let body = "preamble\r\n--b0undary\r\nContent-Disposition: form-data; name=\"type\"\r\n\r\nother\r\n"
            + "--b0undary\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.7\r\n--b0undar\r\n"
            + "\r\n--b0undary--\r\n"
        let parts = try parse(Array(body.utf8))
        #expect(parts.count == 2)
        #expect(parts[0].name == "type" && parts[0].text == "other")
        #expect(parts[1].fileName == "a.pdf" && parts[1].contentType == "application/pdf")
        #expect(parts[1].text == "%PDF-1.7\r\n--b0undar\r\n", "a near-delimiter inside the body is body")
    }

    @Test("bytes that once trapped the parser, and truncated or random bodies, are a 400, never a crash")
    func hostile() {
        let cases: [[UInt8]] = [
            Array("--b0undary\r\n".utf8) + [0xFF, 0xFE, 0x3A, 0x20, 0x61, 13, 10, 13, 10] + Array("x\r\n--b0undary--".utf8),  // header name byte > 0x7F
            Array("--b0undary".utf8), Array("--b0undary\r\n".utf8), Array("--b0undary\r\nA: b\r\n\r\nno end".utf8),
            Array("--b0undary--".utf8), [], Array("no delimiter at all".utf8), Array("--b0undary\r\n: empty name\r\n\r\nx\r\n--b0undary--".utf8),
        ]
        for bytes in cases {
            #expect(throws: DoorError.self) { try parse(bytes) }
        }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            var bytes = Array("--b0undary\r\n".utf8)
            bytes += (0..<Int.random(in: 0..<64, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            if Bool.random(using: &generator) { bytes += Array("\r\n\r\nbody\r\n--b0undary--".utf8) }
            _ = try? parse(bytes)  // any answer but a trap
        }
        #expect(throws: DoorError.self) {
            try MultipartForm(ByteBuffer(bytes: []), contentType: "multipart/form-data; boundary=\u{7F}")
        }
    }
}
