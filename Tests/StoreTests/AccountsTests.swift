import Foundation
import XCTest

@testable import Store

final class AccountsTests: XCTestCase {
    var folder: String!

    override func setUpWithError() throws {
        folder = NSTemporaryDirectory() + "vigil-accounts-\(UUID().uuidString)"
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: folder)
    }

    func testPasswordHashRoundTripsAndMatchesOnlyItsPassword() throws {
        // A low cost keeps the test quick; the stored form carries it, so checks use the same.
        let hash = try PasswordHash(password: "correct horse battery", rounds: 1 << 10)
        let parsed = try XCTUnwrap(PasswordHash(encoded: hash.description))
        XCTAssertEqual(parsed, hash)
        XCTAssertTrue(parsed.matches("correct horse battery"))
        XCTAssertFalse(parsed.matches("correct horse batterY"))
        XCTAssertFalse(parsed.matches(""))
        // Two hashes of one password differ by their salt.
        XCTAssertNotEqual(try PasswordHash(password: "correct horse battery", rounds: 1 << 10).hash, hash.hash)
        for bad in ["", "scrypt$1024$8$1$AAAA", "bcrypt$1024$8$1$AAAA$AAAA", "scrypt$999999999$8$1$AAAA$AAAA", "scrypt$1024$8$1$!!$AAAA"] {
            XCTAssertNil(PasswordHash(encoded: bad), bad)
        }
    }

    func testAccountsSignInWithTheirPasswordOnlyAndTokensExpireOrAreRevoked() throws {
        let store = try ScanStore(directory: folder)
        let olga = try store.addAccount(name: "olga", role: .analyst, site: "narva", password: "a long enough password", by: "test")
        XCTAssertEqual(try store.checkPassword(name: "olga", password: "a long enough password"), olga)
        XCTAssertNil(try store.checkPassword(name: "olga", password: "a long enough passworD"))
        XCTAssertNil(try store.checkPassword(name: "nobody", password: "a long enough password"))

        let issued = try store.issueToken(for: olga, lifetime: 60)
        guard case .valid(let account, let expires) = try store.checkToken(issued.token) else { return XCTFail("token not valid") }
        XCTAssertEqual(account, olga)
        XCTAssertEqual(expires.timeIntervalSince1970, issued.expiresAt.timeIntervalSince1970, accuracy: 0.001)
        guard case .expired = try store.checkToken(issued.token, now: issued.expiresAt.addingTimeInterval(1)) else {
            return XCTFail("token past its expiry still accepted")
        }
        XCTAssertEqual(try store.checkToken("vgl_" + String(issued.token.dropFirst(4).reversed())), .unknown)
        // Only the token's hash is stored.
        XCTAssertFalse(try Data(contentsOf: URL(fileURLWithPath: folder + "/vigil.sqlite")).contains(Data(issued.token.utf8)))

        try store.revokeToken(issued.token)
        XCTAssertEqual(try store.checkToken(issued.token), .unknown)
        let second = try store.issueToken(for: olga, lifetime: 60)
        try store.setPassword(name: "olga", password: "a different long password", by: "test")
        XCTAssertEqual(try store.checkToken(second.token), .unknown, "a new password signs the account out everywhere")
        let third = try store.issueToken(for: olga, lifetime: 60)
        try store.removeAccount(name: "olga", by: "test")
        XCTAssertEqual(try store.checkToken(third.token), .unknown)
        XCTAssertEqual(try store.verifyAudit().ok, true)
        XCTAssertEqual(try store.auditLog().map(\.action), ["account.add", "account.password", "account.remove"])
    }

    func testAccountRulesAreEnforced() throws {
        let store = try ScanStore(directory: folder)
        let cases: [(String, AccountRole, String?, String, String)] = [
            ("anna", .siteAdmin, nil, "a long enough password", "needs --site"),
            ("root", .admin, "narva", "a long enough password", "not bound to a site"),
            ("bob", .analyst, nil, "short", "too short"),
            ("bad name", .analyst, nil, "a long enough password", "must be 1 to 64"),
        ]
        for (name, role, site, password, message) in cases {
            XCTAssertThrowsError(try store.addAccount(name: name, role: role, site: site, password: password, by: "t"), name) { error in
                XCTAssertTrue("\(error)".contains(message), "\(error)")
            }
        }
        try store.addAccount(name: "anna", role: .siteAdmin, site: "narva", password: "a long enough password", by: "t")
        XCTAssertThrowsError(try store.addAccount(name: "anna", role: .analyst, site: nil, password: "a long enough password", by: "t")) {
            XCTAssertTrue("\($0)".contains("already exists"))
        }
        XCTAssertEqual(try store.accounts().map(\.name), ["anna"])
    }
}

final class StationRegistryTests: XCTestCase {
    func testRegistrationsAreLookedUpByNameAndAETitleReplacedRemovedAndAudited() throws {
        let folder = NSTemporaryDirectory() + "vigil-stations-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = try ScanStore(directory: folder)
        try store.registerStation(name: "gate-1", site: "narva", profiles: ["parcel-de-160kv"], aeTitle: "GATE1", by: "test")
        XCTAssertEqual(try store.station(aeTitle: "GATE1")?.name, "gate-1")
        XCTAssertThrowsError(try store.registerStation(name: "gate-2", site: "narva", profiles: ["p"], aeTitle: "GATE1", by: "test")) {
            XCTAssertTrue("\($0)".contains("already station gate-1's"))
        }
        // Registering again replaces: another site, two profiles, no AE title.
        try store.registerStation(name: "gate-1", site: "tallinn", profiles: ["a", "b"], aeTitle: nil, by: "test")
        XCTAssertEqual(try store.station(named: "gate-1").map { [$0.site] + $0.profiles }, ["tallinn", "a", "b"])
        XCTAssertNil(try store.station(aeTitle: "GATE1"))
        try store.removeStation(name: "gate-1", by: "test")
        XCTAssertEqual(try store.stations(), [])
        XCTAssertEqual(try store.auditLog().map(\.action), ["station.register", "station.register", "station.remove"])
        XCTAssertTrue(try store.verifyAudit().ok)
    }
}
