#include "common/twilio/signature.h"

#include "gtest/gtest.h"

namespace klaxon::twilio {
namespace {

constexpr char kToken[] = "12345";
constexpr char kUrl[] = "https://mycompany.com/myapp.php?foo=1&bar=2";

FormParams CallParams() {
  return {{"CallSid", "CA1234567890ABCDE"},
          {"Caller", "+14158675309"},
          {"Digits", "1234"},
          {"From", "+14158675309"},
          {"To", "+18005551212"}};
}

TEST(ComputeSignatureTest, MatchesTwilioVector) {
  EXPECT_EQ(ComputeSignature(kToken, kUrl, CallParams()), "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
}

TEST(ComputeSignatureTest, MatchesTwilioVectorWithDefaultPort) {
  EXPECT_EQ(
      ComputeSignature(kToken, "https://mycompany.com:443/myapp.php?foo=1&bar=2", CallParams()),
      "kvajT1Ptam85bY51eRf/AJRuM3w=");
}

TEST(ComputeSignatureTest, IgnoresParameterOrder) {
  FormParams reversed = CallParams();
  std::reverse(reversed.begin(), reversed.end());
  EXPECT_EQ(ComputeSignature(kToken, kUrl, reversed), "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
}

TEST(ComputeSignatureTest, SortsRepeatedValuesAndDropsDuplicates) {
  const FormParams params = {{"Sid", "CA123"},
                             {"SidAccount", "AC123"},
                             {"Digits", "5678"},
                             {"Digits", "1234"},
                             {"Digits", "1234"}};
  EXPECT_EQ(ComputeSignature(kToken, kUrl, params), "IK+Dwps556ElfBT0I3Rgjkr1wJU=");
}

TEST(ComputeSignatureTest, EmptyValueChangesSignature) {
  FormParams with_empty = CallParams();
  with_empty.emplace_back("Body", "");
  EXPECT_NE(ComputeSignature(kToken, kUrl, with_empty), "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
}

TEST(SignatureMatchesTest, AcceptsEqualSignature) {
  EXPECT_TRUE(SignatureMatches("RSOYDt4T1cUTdK1PDd93/VVr8B8=", "RSOYDt4T1cUTdK1PDd93/VVr8B8="));
}

TEST(SignatureMatchesTest, RejectsLastCharacterDifference) {
  EXPECT_FALSE(SignatureMatches("RSOYDt4T1cUTdK1PDd93/VVr8B8=", "RSOYDt4T1cUTdK1PDd93/VVr8B8A"));
}

TEST(SignatureMatchesTest, RejectsEmptyAndPrefix) {
  EXPECT_FALSE(SignatureMatches("RSOYDt4T1cUTdK1PDd93/VVr8B8=", ""));
  EXPECT_FALSE(SignatureMatches("RSOYDt4T1cUTdK1PDd93/VVr8B8=", "RSOYDt4T1cUTdK1PDd93"));
}

}  // namespace
}  // namespace klaxon::twilio
