import Foundation
import DoorKit
import Hummingbird

/// The console's stylesheet and script, read once from the bundle and served from memory.
enum StaticFiles {
    static let files: [String: (type: String, bytes: [UInt8])] = {
        var files: [String: (String, [UInt8])] = [:]
        for (name, type) in [("console.css", "text/css; charset=utf-8"), ("console.js", "text/javascript; charset=utf-8")] {
            let stem = String(name.split(separator: ".")[0]), ext = String(name.split(separator: ".")[1])
            if let url = Bundle.module.url(forResource: stem, withExtension: ext, subdirectory: "Resources/Static"),
               let data = try? Data(contentsOf: url) {
                files[name] = (type, Array(data))
            }
        }
        return files
    }()

    static func addRoutes(to router: Router<DoorContext>) {
        router.get("static/:file") { _, context -> Response in
            guard let name = context.parameters.get("file"), let file = files[name] else { throw HTTPError(.notFound) }
            var headers: HTTPFields = [.contentType: file.type, .cacheControl: "public, max-age=3600"]
            headers[.init("X-Content-Type-Options")!] = "nosniff"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: file.bytes)))
        }
    }
}
