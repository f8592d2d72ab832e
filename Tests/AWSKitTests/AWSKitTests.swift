import AWSKit
import Foundation
import Testing

@Suite("X-Amz-Date")
struct AmzDateTests {
    @Test func formatsAndParsesUTCBothWays() throws {
        let date = Date(timeIntervalSince1970: 1_440_938_160)  // 2015-08-30T12:36:00Z, AWS's test-suite date
        #expect(SigV4Signer.amzDate(date) == "20150830T123600Z")
        #expect(SigV4Signer.parseAmzDate("20150830T123600Z") == date)
        #expect(SigV4Signer.amzDate(Date(timeIntervalSince1970: 0.999)) == "19700101T000000Z")
        let now = Date(timeIntervalSince1970: floor(Date().timeIntervalSince1970))
        #expect(SigV4Signer.parseAmzDate(SigV4Signer.amzDate(now)) == now)
    }

    @Test func refusesWhatIsNotADate() {
        for text in ["", "20150830T123600", "20150830 123600Z", "2015083OT123600Z", "20150231T000000Z", "20151330T000000Z",
                     "20150830T243600Z", "20150830T126000Z", "+0150830T123600Z", "20150830T123600Z "] {
            #expect(SigV4Signer.parseAmzDate(text) == nil, "\(text)")
        }
    }
}
