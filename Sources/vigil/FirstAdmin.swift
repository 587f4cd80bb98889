import Foundation
import Store

/// A store with no accounts gets one admin with a generated password, printed once on stderr: the
/// service is never open to anyone, and `make run` still needs no setup.
enum FirstAdmin {
    static func ensure(store: ScanStore) throws {
        guard try store.accounts().isEmpty else { return }
        var bytes = [UInt8](repeating: 0, count: 18)
        var generator = SystemRandomNumberGenerator()
        for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255, using: &generator) }
        let password = Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        try store.addAccount(name: "admin", role: .admin, site: nil, password: password, by: "vigil serve (first start)")
        // Straight to the terminal, not through the logger: log files must never hold a secret.
        FileHandle.standardError.write(Data("""
            vigil: no accounts yet: created "admin" (role admin) with password \(password)
            vigil: it is shown only now; sign in at /review or POST /api/login, and add accounts with `vigil users add`

            """.utf8))
    }
}
