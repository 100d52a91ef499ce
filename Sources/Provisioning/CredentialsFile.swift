import Crypto
import Foundation
import Inputs

/// The one place temporary passwords of a batch are written: a CSV `user_id,temporary_password,
/// expires_at`, mode 0600, never overwriting a file.
///
/// Crash safety: the lines go to `PATH.partial` (held with an exclusive lock) and are synced
/// *before* the batch commits; after the commit the partial is linked to `PATH`. A run killed
/// between the two leaves a partial whose SHA-256 the committed batch row records, so the next
/// run can tell a committed partial (publish it) from one whose batch never committed (its
/// passwords were never installed: delete it).
struct CredentialsFile {
    let path: String
    var partialPath: String { path + ".partial" }

    struct Line: Sendable {
        let userID: String
        let password: String
        let expiresAt: String
    }

    static func render(_ lines: [Line]) -> [UInt8] {
        var text = "user_id,temporary_password,expires_at\n"
        for line in lines { text += "\(line.userID),\(line.password),\(line.expiresAt)\n" }
        return Array(text.utf8)
    }

    static func digest(_ bytes: [UInt8]) -> String {
        Hex.encode(SHA256.hash(data: bytes))
    }

    /// Refuses an existing `PATH` and a directory that is not there, before any work is done.
    func checkWritable() throws(ProvisioningError) {
        if FileManager.default.fileExists(atPath: path) { throw .credentialsOutputExists(path: path) }
        let directory = (path as NSString).deletingLastPathComponent
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.isEmpty ? "." : directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw .credentialsOutput(path: path, reason: "the directory does not exist")
        }
    }

    /// A partial left by an earlier run, if no live run holds it: its bytes.
    func abandonedPartial() throws(ProvisioningError) -> [UInt8]? {
        let fd = open(partialPath, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        guard flock(fd, LOCK_SH | LOCK_NB) == 0 else {
            throw .credentialsOutput(path: path, reason: "another provisioning run is writing it")
        }
        guard let data = FileManager.default.contents(atPath: partialPath) else { return nil }
        return Array(data)
    }

    func discardPartial() { unlink(partialPath) }

    /// Writes and syncs the partial, keeping it locked until `publish` or `discard`.
    func writePartial(_ bytes: [UInt8]) throws(ProvisioningError) -> Int32 {
        let fd = open(partialPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .credentialsOutput(path: path, reason: String(cString: strerror(errno))) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0, fchmod(fd, 0o600) == 0 else {
            close(fd)
            throw .credentialsOutput(path: path, reason: "cannot lock \(partialPath)")
        }
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard n > 0 else {
                let reason = String(cString: strerror(errno))
                close(fd)
                unlink(partialPath)
                throw .credentialsOutput(path: path, reason: reason)
            }
            written += n
        }
        guard fsync(fd) == 0 else {
            close(fd)
            unlink(partialPath)
            throw .credentialsOutput(path: path, reason: "fsync failed")
        }
        return fd
    }

    /// Gives the partial its final name without ever replacing a file (`link` fails on an existing
    /// one, where `rename` would overwrite it), then drops the partial name.
    func publish() throws(ProvisioningError) {
        guard link(partialPath, path) == 0 else {
            throw .credentialsOutput(path: path, reason: "\(String(cString: strerror(errno))); the credentials are in \(partialPath)")
        }
        unlink(partialPath)
        let directory = (path as NSString).deletingLastPathComponent
        let dirFD = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY)
        if dirFD >= 0 {
            fsync(dirFD)
            close(dirFD)
        }
    }
}
