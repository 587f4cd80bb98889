import Foundation
import XCTest

@testable import Web

final class SignInThrottleTests: XCTestCase {
    func testANameIsRefusedAfterItsFailuresUntilTheyLeaveTheWindow() {
        let throttle = SignInThrottle()
        let t0 = Date(timeIntervalSince1970: 1_000_000)
        for i in 0..<5 {
            XCTAssertNil(throttle.retryAfter(name: "olga", address: "10.0.0.1", now: t0 + Double(i)))
            throttle.failed(name: "olga", address: "10.0.0.1", now: t0 + Double(i))
        }
        // Refused from anywhere, until the first failure is 15 minutes old.
        XCTAssertEqual(throttle.retryAfter(name: "olga", address: "10.0.0.9", now: t0 + 10), 890)
        XCTAssertNil(throttle.retryAfter(name: "anna", address: "10.0.0.9", now: t0 + 10))
        XCTAssertNil(throttle.retryAfter(name: "olga", address: "10.0.0.9", now: t0 + 900))
    }

    func testOneAddressTryingManyNamesIsRefused() {
        let throttle = SignInThrottle()
        let t0 = Date(timeIntervalSince1970: 1_000_000)
        for i in 0..<20 { throttle.failed(name: "name-\(i)", address: "10.0.0.1", now: t0) }
        XCTAssertNotNil(throttle.retryAfter(name: "someone-new", address: "10.0.0.1", now: t0 + 1))
        XCTAssertNil(throttle.retryAfter(name: "someone-new", address: "10.0.0.2", now: t0 + 1))
    }

    func testASuccessClearsTheNamesFailures() {
        let throttle = SignInThrottle()
        let t0 = Date(timeIntervalSince1970: 1_000_000)
        for _ in 0..<4 { throttle.failed(name: "olga", address: "10.0.0.1", now: t0) }
        throttle.succeeded(name: "olga")
        throttle.failed(name: "olga", address: "10.0.0.1", now: t0 + 1)
        XCTAssertNil(throttle.retryAfter(name: "olga", address: "10.0.0.1", now: t0 + 2))
    }
}
