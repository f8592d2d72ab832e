import Core
import Foundation
import Testing

@Suite struct SQLInterpolationTests {
    @Test func valuesAreBoundNeverSpliced() {
        let name = "x'; DROP TABLE users; --", limit = 5, since: Date? = Date(milliseconds: 1_800_000_000_000)
        let sql = SQL("SELECT * FROM t WHERE name = \(name) AND n < \(limit) AND at > \(since) AND gone = \(false) AND note = \(nil as String?)")
        #expect(sql.text == "SELECT * FROM t WHERE name = $1 AND n < $2 AND at > $3 AND gone = $4 AND note = $5")
        #expect(sql.binds == [.text(name), .int(5), .int(1_800_000_000_000), .int(0), .null])
        #expect(!sql.text.contains("DROP"))
        let table = "pin_auth_configs"
        #expect(SQL("SELECT * FROM \(unsafeRaw: table) WHERE id = \("a")").text == "SELECT * FROM pin_auth_configs WHERE id = $1")
    }
}
