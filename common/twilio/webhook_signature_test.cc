#include "common/twilio/webhook_signature.h"

#include <string>
#include <vector>

#include "common/twilio/signature_example.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace klaxon::twilio {
namespace {

using example::CallParams;
using example::kSignature;
using example::kUrl;
using ::testing::ElementsAre;

const std::vector<std::string> kTokens = {example::kAuthToken};
SignedRequest FormRequest(std::string url, FormParams params) {
  return {.url = std::move(url), .params = std::move(params)};
}

TEST(SignatureUrlVariantsTest, AddsDefaultPortWhenThereIsNone) {
  EXPECT_THAT(SignatureUrlVariants("https://mycompany.com/myapp.php?foo=1"),
              ElementsAre("https://mycompany.com/myapp.php?foo=1",
                          "https://mycompany.com:443/myapp.php?foo=1"));
  EXPECT_THAT(SignatureUrlVariants("http://h.example/x"),
              ElementsAre("http://h.example/x", "http://h.example:80/x"));
  EXPECT_THAT(SignatureUrlVariants("https://h.example?x=1"),
              ElementsAre("https://h.example?x=1", "https://h.example:443?x=1"));
  EXPECT_THAT(SignatureUrlVariants("https://h.example"),
              ElementsAre("https://h.example", "https://h.example:443"));
}

TEST(SignatureUrlVariantsTest, RemovesAnyPort) {
  EXPECT_THAT(SignatureUrlVariants("https://mycompany.com:443/a"),
              ElementsAre("https://mycompany.com:443/a", "https://mycompany.com/a"));
  EXPECT_THAT(SignatureUrlVariants("http://127.0.0.1:8080/a?b=c:1"),
              ElementsAre("http://127.0.0.1:8080/a?b=c:1", "http://127.0.0.1/a?b=c:1"));
}

TEST(SignatureUrlVariantsTest, LeavesUserinfoIpv6CaseAndSlashesAlone) {
  EXPECT_THAT(SignatureUrlVariants("https://user:pa:ss@Host.example//a//b"),
              ElementsAre("https://user:pa:ss@Host.example//a//b",
                          "https://user:pa:ss@Host.example:443//a//b"));
  EXPECT_THAT(SignatureUrlVariants("http://[::1]:9000/a"),
              ElementsAre("http://[::1]:9000/a", "http://[::1]/a"));
  EXPECT_THAT(SignatureUrlVariants("HTTPS://[::1]/a"),
              ElementsAre("HTTPS://[::1]/a", "HTTPS://[::1]:443/a"));
}

TEST(SignatureUrlVariantsTest, OnlyTheUrlWhenItIsNotAbsolute) {
  EXPECT_THAT(SignatureUrlVariants("/twilio/status"), ElementsAre("/twilio/status"));
}

// Found by tests/fuzz/signature_fuzzer: a "://" after something that is not a scheme was taken
// for the authority, so the query of a relative URL got a port added or removed.
TEST(SignatureUrlVariantsTest, OnlyTheUrlWhenWhatPrecedesColonSlashSlashIsNoScheme) {
  EXPECT_THAT(SignatureUrlVariants("/x?next=http://h:80/"), ElementsAre("/x?next=http://h:80/"));
  EXPECT_THAT(SignatureUrlVariants("\xffhttps://h/x"), ElementsAre("\xffhttps://h/x"));
  EXPECT_THAT(SignatureUrlVariants("1http://h/x"), ElementsAre("1http://h/x"));
  EXPECT_THAT(SignatureUrlVariants("svn+ssh://h/x"),
              ElementsAre("svn+ssh://h/x", "svn+ssh://h:80/x"));
}

// The vectors every official helper library tests (TWILIO.md).
TEST(VerifySignatureTest, AcceptsTwilioVectorForPortlessUrl) {
  EXPECT_TRUE(VerifySignature(kTokens, FormRequest(kUrl, CallParams()), kSignature));
}

TEST(VerifySignatureTest, AcceptsSignatureOverDefaultPortForPortlessUrl) {
  EXPECT_TRUE(
      VerifySignature(kTokens, FormRequest(kUrl, CallParams()), "kvajT1Ptam85bY51eRf/AJRuM3w="));
}

TEST(VerifySignatureTest, AcceptsPortlessSignatureForUrlWithPort) {
  EXPECT_TRUE(VerifySignature(
      kTokens, FormRequest("https://mycompany.com:443/myapp.php?foo=1&bar=2", CallParams()),
      kSignature));
}

TEST(VerifySignatureTest, AcceptsRepeatedKeyVector) {
  const FormParams params = {{"Sid", "CA123"},
                             {"SidAccount", "AC123"},
                             {"Digits", "5678"},
                             {"Digits", "1234"},
                             {"Digits", "1234"}};
  EXPECT_TRUE(VerifySignature(kTokens, FormRequest(kUrl, params), "IK+Dwps556ElfBT0I3Rgjkr1wJU="));
}

TEST(VerifySignatureTest, UnknownParameterCounts) {
  FormParams params = CallParams();
  params.emplace_back("SomethingNew", "x");
  EXPECT_FALSE(VerifySignature(kTokens, FormRequest(kUrl, params), kSignature));
  EXPECT_TRUE(
      VerifySignature(kTokens, FormRequest(kUrl, params), ComputeSignature("12345", kUrl, params)));
}

TEST(VerifySignatureTest, EmptyValueCounts) {
  FormParams params = CallParams();
  params.emplace_back("ErrorCode", "");
  EXPECT_FALSE(VerifySignature(kTokens, FormRequest(kUrl, params), kSignature));
  EXPECT_EQ(CanonicalSignedData("u", {{"b", ""}, {"a", "1"}}), "ua1b");
}

TEST(VerifySignatureTest, QueryStringIsPartOfTheUrlNotTheParameters) {
  // Re-ordering the query changes the URL, and so the signature.
  EXPECT_FALSE(VerifySignature(
      kTokens, FormRequest("https://mycompany.com/myapp.php?bar=2&foo=1", CallParams()),
      kSignature));
}

TEST(VerifySignatureTest, UrlIsNotNormalised) {
  EXPECT_FALSE(VerifySignature(
      kTokens, FormRequest("https://MyCompany.com/myapp.php?foo=1&bar=2", CallParams()),
      kSignature));
  EXPECT_FALSE(VerifySignature(
      kTokens, FormRequest("https://mycompany.com//myapp.php?foo=1&bar=2", CallParams()),
      kSignature));
}

TEST(VerifySignatureTest, NonDefaultPortMustBeSignedAsSentOrWithout) {
  const std::string url = "https://h.example:8443/s";
  EXPECT_TRUE(VerifySignature(kTokens, FormRequest(url, {}), ComputeSignature("12345", url, {})));
  EXPECT_TRUE(VerifySignature(kTokens, FormRequest(url, {}),
                              ComputeSignature("12345", "https://h.example/s", {})));
  EXPECT_FALSE(VerifySignature(kTokens, FormRequest(url, {}),
                               ComputeSignature("12345", "https://h.example:443/s", {})));
}

TEST(VerifySignatureTest, AcceptsPrimaryOrSecondaryToken) {
  const std::vector<std::string> tokens = {"new-token", "12345"};
  EXPECT_TRUE(VerifySignature(tokens, FormRequest(kUrl, CallParams()), kSignature));
  EXPECT_TRUE(VerifySignature(tokens, FormRequest(kUrl, CallParams()),
                              ComputeSignature("new-token", kUrl, CallParams())));
  EXPECT_FALSE(VerifySignature(tokens, FormRequest(kUrl, CallParams()),
                               ComputeSignature("old-token", kUrl, CallParams())));
}

TEST(VerifySignatureTest, MissingOrMalformedSignatureNeverMatches) {
  EXPECT_FALSE(VerifySignature(kTokens, FormRequest(kUrl, CallParams()), ""));
  EXPECT_FALSE(VerifySignature(kTokens, FormRequest(kUrl, CallParams()), "RSOYDt4T1cUTdK1PDd93"));
  EXPECT_FALSE(VerifySignature({}, FormRequest(kUrl, CallParams()), kSignature));
}

TEST(VerifySignatureTest, GetIsSignedOverTheUrlAlone) {
  const std::string url = "https://h.example/inbound?MessageSid=SM1&Body=hi";
  EXPECT_TRUE(VerifySignature(kTokens, {.url = url}, ComputeSignature("12345", url, {})));
  EXPECT_FALSE(VerifySignature(kTokens, {.url = url},
                               ComputeSignature("12345", url, {{"MessageSid", "SM1"}})));
}

TEST(BodySha256HexTest, IsLowercaseHex) {
  EXPECT_EQ(BodySha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(BodySha256Hex("{\"a\":1}"),
            "015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862");
}

TEST(VerifySignatureTest, JsonBodyIsSignedThroughBodySha256) {
  const std::string body = R"({"MessageSid":"SM1","MessageStatus":"delivered"})";
  const std::string url = "https://h.example/status?bodySHA256=" + BodySha256Hex(body);
  const std::string signature = ComputeSignature("12345", url, {});
  EXPECT_TRUE(VerifySignature(kTokens, {.url = url, .json_body = body}, signature));
  // The same URL and signature with another body: the hash no longer matches.
  EXPECT_FALSE(VerifySignature(kTokens, {.url = url, .json_body = body + " "}, signature));
  // A JSON request whose URL carries no hash is refused even when the URL's signature is right.
  const std::string bare = "https://h.example/status";
  EXPECT_FALSE(VerifySignature(kTokens, {.url = bare, .json_body = body},
                               ComputeSignature("12345", bare, {})));
  // Parameters play no part for a JSON body.
  EXPECT_TRUE(
      VerifySignature(kTokens, {.url = url, .params = {{"x", "y"}}, .json_body = body}, signature));
}

TEST(VerifySignatureTest, JsonBodyHashComparisonIsExact) {
  const std::string body = "{}";
  std::string upper = BodySha256Hex(body);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  const std::string url = "https://h.example/s?bodySHA256=" + upper;
  EXPECT_FALSE(VerifySignature(kTokens, {.url = url, .json_body = body},
                               ComputeSignature("12345", url, {})));
}

TEST(QueryParameterTest, DecodesTheFirstValue) {
  EXPECT_EQ(QueryParameter("https://h/p?a=1&b=x%20y&b=2#f", "b"), "x y");
  EXPECT_EQ(QueryParameter("https://h/p?a=1", "b"), std::nullopt);
  EXPECT_EQ(QueryParameter("https://h/p", "a"), std::nullopt);
  EXPECT_EQ(QueryParameter("https://h/p?a=%zz", "a"), std::nullopt);
}

}  // namespace
}  // namespace klaxon::twilio
