#include "common/caller_callbacks/signature.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace klaxon::caller_callbacks {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kSecret[] = "whsec_test_3f9a";
constexpr int64_t kTimestamp = 1'700'000'000;
constexpr char kBody[] =
    R"({"alert_id":"0190c4d2-7a5e-7c1b-9f3e-2b8d4a6c1e90","sequence":1,"status":"delivered"})";
// `printf '%s' "1700000000.$kBody" | openssl dgst -sha256 -hmac whsec_test_3f9a`
constexpr char kBodySignature[] =
    "v1=aa59c04b5e22a5a6548ad39e72336a3357422bafe1423a1c5b04da8b2cacdbe5";
// The same for an empty body: "1700000000." alone.
constexpr char kEmptyBodySignature[] =
    "v1=29bc9de7458211541aca991a5b50463898e5180241054f31ac93bfb13b58ccd8";

const absl::Time kSignedAt = absl::FromUnixSeconds(kTimestamp);

// The expected signature by OpenSSL's one-shot HMAC, independent of klaxon::crypto.
std::string OpenSslSignature(const std::string& secret, const std::string& signed_string) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(signed_string.data()), signed_string.size(), mac,
       &length);
  return "v1=" +
         absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(mac), length));
}

absl::Status VerifyAt(absl::Time now, absl::string_view signature_header,
                      absl::string_view timestamp_header = "1700000000",
                      absl::string_view body = kBody) {
  return Verify(kSecret, std::string_view(timestamp_header.data(), timestamp_header.size()),
                std::string_view(signature_header.data(), signature_header.size()),
                std::string_view(body.data(), body.size()), now);
}

TEST(SignTest, MatchesTheKnownAnswer) {
  EXPECT_EQ(Sign(kSecret, kTimestamp, kBody), kBodySignature);
  EXPECT_EQ(Sign(kSecret, kTimestamp, ""), kEmptyBodySignature);
}

TEST(SignTest, IsHmacSha256OfTimestampDotBody) {
  const std::string body = "{\"status\":\"failed\",\"reason\":\"caf\xC3\xA9\\n\"}\n";
  EXPECT_EQ(Sign("another secret", 42, body),
            OpenSslSignature("another secret", absl::StrCat("42.", body)));
}

TEST(SignTest, IsLowercaseHexBehindTheV1Prefix) {
  const std::string signature = Sign(kSecret, kTimestamp, kBody);
  ASSERT_EQ(signature.size(), 3u + 64u);
  EXPECT_EQ(signature.substr(0, 3), "v1=");
  EXPECT_EQ(signature.find_first_not_of("0123456789abcdef", 3), std::string::npos);
}

TEST(SignTest, DependsOnTheTimestamp) {
  EXPECT_NE(Sign(kSecret, kTimestamp, kBody), Sign(kSecret, kTimestamp + 1, kBody));
}

TEST(VerifyTest, AcceptsTheSignatureOfTheBody) {
  EXPECT_TRUE(VerifyAt(kSignedAt, kBodySignature).ok());
}

TEST(VerifyTest, AcceptsAnEmptyBody) {
  EXPECT_TRUE(VerifyAt(kSignedAt, kEmptyBodySignature, "1700000000", "").ok());
}

TEST(VerifyTest, RejectsAChangedBody) {
  const std::string changed = absl::StrCat(kBody, "\n");
  const absl::Status status = VerifyAt(kSignedAt, kBodySignature, "1700000000", changed);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(status.message(), AllOf(HasSubstr("no v1 signature matches the body and timestamp"),
                                      HasSubstr("the secret is wrong or the body was changed"),
                                      HasSubstr("raw body bytes")));
}

TEST(VerifyTest, RejectsAWrongSecretWithoutNamingEither) {
  const absl::Status status =
      Verify("whsec_wrong_77x", "1700000000", kBodySignature, kBody, kSignedAt);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(status.message(), AllOf(Not(HasSubstr("whsec_wrong_77x")), Not(HasSubstr(kSecret))));
}

TEST(VerifyTest, RejectsASignatureForAnotherTimestamp) {
  // The signature of 1700000000 under the header of the next second: a timestamp swapped to
  // pass the tolerance check.
  EXPECT_EQ(VerifyAt(kSignedAt, kBodySignature, "1700000001").code(),
            absl::StatusCode::kUnauthenticated);
}

TEST(VerifyTest, RejectsAnUppercaseSignature) {
  const std::string upper =
      "v1=" + absl::AsciiStrToUpper(absl::string_view(kBodySignature).substr(3));
  EXPECT_EQ(VerifyAt(kSignedAt, upper).code(), absl::StatusCode::kUnauthenticated);
}

TEST(VerifyTest, RejectsATruncatedSignatureAndSaysItsLength) {
  const std::string truncated = std::string(kBodySignature).substr(0, 3 + 63);
  const absl::Status status = VerifyAt(kSignedAt, truncated);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(status.message(), HasSubstr("has 63 characters instead of 64"));
}

TEST(VerifyTest, AcceptsWhenTheSecondEntryMatches) {
  const std::string header =
      absl::StrCat(Sign("the previous secret", kTimestamp, kBody), ", ", kBodySignature);
  EXPECT_TRUE(VerifyAt(kSignedAt, header).ok());
}

TEST(VerifyTest, AcceptsWhenTheFirstEntryMatches) {
  const std::string header =
      absl::StrCat(kBodySignature, ",", Sign("the next secret", kTimestamp, kBody));
  EXPECT_TRUE(VerifyAt(kSignedAt, header).ok());
}

TEST(VerifyTest, IgnoresEntriesOfOtherSchemes) {
  EXPECT_TRUE(VerifyAt(kSignedAt, absl::StrCat("v2=abc,", kBodySignature)).ok());
}

TEST(VerifyTest, RejectsWhenNoEntryMatches) {
  const std::string header =
      absl::StrCat(Sign("one", kTimestamp, kBody), ",", Sign("two", kTimestamp, kBody));
  EXPECT_EQ(VerifyAt(kSignedAt, header).code(), absl::StatusCode::kUnauthenticated);
}

TEST(VerifyTest, AcceptsATimestampExactlyAtTheToleranceInThePast) {
  EXPECT_TRUE(VerifyAt(kSignedAt + kDefaultTolerance, kBodySignature).ok());
}

TEST(VerifyTest, RejectsATimestampJustBeyondTheToleranceInThePast) {
  const absl::Status status =
      VerifyAt(kSignedAt + kDefaultTolerance + absl::Seconds(1), kBodySignature);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(status.message(),
            "Klaxon-Timestamp is 301 s old, beyond the 300 s tolerance: a replay or a delayed "
            "delivery; refuse it");
}

TEST(VerifyTest, RoundsAPartSecondPastTheToleranceUp) {
  const absl::Status status =
      VerifyAt(kSignedAt + kDefaultTolerance + absl::Milliseconds(1), kBodySignature);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(status.message(), HasSubstr("301 s old"));
}

TEST(VerifyTest, AcceptsATimestampExactlyAtTheToleranceInTheFuture) {
  EXPECT_TRUE(VerifyAt(kSignedAt - kDefaultTolerance, kBodySignature).ok());
}

TEST(VerifyTest, RejectsATimestampJustBeyondTheToleranceInTheFuture) {
  const absl::Status status =
      VerifyAt(kSignedAt - kDefaultTolerance - absl::Seconds(1), kBodySignature);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(status.message(), AllOf(HasSubstr("Klaxon-Timestamp is 301 s in the future"),
                                      HasSubstr("300 s tolerance"), HasSubstr("clock")));
}

TEST(VerifyTest, AppliesTheGivenTolerance) {
  EXPECT_TRUE(Verify(kSecret, "1700000000", kBodySignature, kBody, kSignedAt + absl::Minutes(30),
                     absl::Hours(1))
                  .ok());
  EXPECT_EQ(Verify(kSecret, "1700000000", kBodySignature, kBody, kSignedAt + absl::Seconds(11),
                   absl::Seconds(10))
                .code(),
            absl::StatusCode::kUnauthenticated);
}

TEST(VerifyTest, ReportsABadSignatureBeforeAStaleTimestamp) {
  // A stale timestamp is news only when the request is Klaxon's.
  const absl::Status status =
      VerifyAt(kSignedAt + absl::Hours(1), Sign("other", kTimestamp, kBody));
  EXPECT_THAT(status.message(), HasSubstr("no v1 signature matches"));
}

TEST(VerifyTest, RejectsAMissingTimestamp) {
  for (const absl::string_view missing : {"", "  "}) {
    const absl::Status status = VerifyAt(kSignedAt, kBodySignature, missing);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(status.message(), HasSubstr("Klaxon-Timestamp is missing"));
  }
}

TEST(VerifyTest, RejectsATimestampThatIsNotWholeSeconds) {
  const absl::Status status = VerifyAt(kSignedAt, kBodySignature, "abc");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "Klaxon-Timestamp \"abc\" is not a whole number of seconds");
  for (const absl::string_view malformed : {"+1700000000", "-1700000000", "1700000000.5", "1.7e9",
                                            "0x6553F100", "1700000000 s", "99999999999999999999"}) {
    EXPECT_EQ(VerifyAt(kSignedAt, kBodySignature, malformed).code(),
              absl::StatusCode::kInvalidArgument)
        << malformed;
  }
}

TEST(VerifyTest, AcceptsATimestampWithSurroundingSpaces) {
  EXPECT_TRUE(VerifyAt(kSignedAt, kBodySignature, " 1700000000 ").ok());
}

TEST(VerifyTest, ShowsOnlyTheStartOfAHostileTimestampEscaped) {
  const std::string hostile = "\n" + std::string(1000, 'x');
  const absl::Status status = VerifyAt(kSignedAt, kBodySignature, hostile);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), AllOf(Not(HasSubstr("\n")), HasSubstr("...\"")));
  EXPECT_LT(status.message().size(), 200u);
}

TEST(VerifyTest, RejectsAMissingSignature) {
  const absl::Status status = VerifyAt(kSignedAt, "");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("Klaxon-Signature is missing"));
}

TEST(VerifyTest, RejectsASignatureWithoutAV1Entry) {
  for (const absl::string_view header :
       {"aa59c04b5e22a5a6548ad39e72336a3357422bafe1423a1c5b04da8b2cacdbe5", "v2=abc", ",,",
        "V1=aa59c04b5e22a5a6548ad39e72336a3357422bafe1423a1c5b04da8b2cacdbe5",
        "sha256=aa59c04b5e22a5a6548ad39e72336a3357422bafe1423a1c5b04da8b2cacdbe5"}) {
    const absl::Status status = VerifyAt(kSignedAt, header);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << header;
    EXPECT_THAT(status.message(), HasSubstr("Klaxon-Signature holds no v1= signature")) << header;
  }
}

TEST(VerifyTest, RejectsAnEmptyV1Entry) {
  EXPECT_EQ(VerifyAt(kSignedAt, "v1=").code(), absl::StatusCode::kUnauthenticated);
}

TEST(VerifyTest, RejectsAnEmptySecretEvenForItsOwnSignature) {
  const absl::Status status =
      Verify("", "1700000000", Sign("", kTimestamp, kBody), kBody, kSignedAt);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("secret is empty"));
}

}  // namespace
}  // namespace klaxon::caller_callbacks
