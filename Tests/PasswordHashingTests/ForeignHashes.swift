/// Hashes made by other implementations, committed as fixtures. Regenerate with:
///   python3 -c "from argon2 import PasswordHasher as P; print(P(time_cost=3, memory_cost=65536, parallelism=4).hash('Kata sandi rahasia LPSE 2026'))"
///   echo -n "correct horse battery staple" | argon2 garamdapur16 -i -t 3 -m 12 -p 2 -e
///   echo -n "correct horse battery staple" | argon2 garamdapur16 -d -v 10 -t 1 -m 10 -p 1 -e
/// (argon2-cffi 25.1 from PyPI; Debian 12's `argon2` CLI.)
enum ForeignHashes {
    struct Fixture: Sendable, CustomStringConvertible {
        let origin: String
        let password: String
        let encoded: String
        var description: String { origin }
    }

    static let all: [Fixture] = [
        Fixture(
            origin: "argon2-cffi argon2id m=64MiB t=3 p=4", password: "Kata sandi rahasia LPSE 2026",
            encoded: "$argon2id$v=19$m=65536,t=3,p=4$vH3VYSeJpiWb4HVfnA7Uxg$jbZFiSRMsE4ZYFv2v+puLYWs7L/xGpos0EWMMJ0yVOE"),
        Fixture(
            origin: "argon2 CLI argon2i m=4MiB t=3 p=2", password: "correct horse battery staple",
            encoded: "$argon2i$v=19$m=4096,t=3,p=2$Z2FyYW1kYXB1cjE2$2SoklcKD+83YdaCLTuCJZx4ZU/QkI0QFkeMOYTC6H6w"),
        Fixture(
            origin: "argon2 CLI argon2d version 1.0 m=1MiB t=1 p=1", password: "correct horse battery staple",
            encoded: "$argon2d$v=16$m=1024,t=1,p=1$Z2FyYW1kYXB1cjE2$2ibBuTHDDD8aETbyP8/NKKmMdqH0zi3nQIMXuddBwCw"),
    ]
}
