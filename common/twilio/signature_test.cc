#include "common/twilio/signature.h"

#include "common/twilio/signature_example.h"
#include "gtest/gtest.h"

namespace klaxon::twilio {
namespace {

using example::CallParams;
using example::kAuthToken;
using example::kSignature;
using example::kUrl;

TEST(ComputeSignatureTest, MatchesTwilioVector) {
  EXPECT_EQ(ComputeSignature(kAuthToken, kUrl, CallParams()), kSignature);
}

TEST(ComputeSignatureTest, MatchesTwilioVectorWithDefaultPort) {
  EXPECT_EQ(
      ComputeSignature(kAuthToken, "https://mycompany.com:443/myapp.php?foo=1&bar=2", CallParams()),
      "kvajT1Ptam85bY51eRf/AJRuM3w=");
}

TEST(ComputeSignatureTest, IgnoresParameterOrder) {
  FormParams reversed = CallParams();
  std::reverse(reversed.begin(), reversed.end());
  EXPECT_EQ(ComputeSignature(kAuthToken, kUrl, reversed), kSignature);
}

TEST(ComputeSignatureTest, SortsRepeatedValuesAndDropsDuplicates) {
  const FormParams params = {{"Sid", "CA123"},
                             {"SidAccount", "AC123"},
                             {"Digits", "5678"},
                             {"Digits", "1234"},
                             {"Digits", "1234"}};
  EXPECT_EQ(ComputeSignature(kAuthToken, kUrl, params), "IK+Dwps556ElfBT0I3Rgjkr1wJU=");
}

TEST(ComputeSignatureTest, EmptyValueChangesSignature) {
  FormParams with_empty = CallParams();
  with_empty.emplace_back("Body", "");
  EXPECT_NE(ComputeSignature(kAuthToken, kUrl, with_empty), kSignature);
}

TEST(SignatureMatchesTest, AcceptsEqualSignature) {
  EXPECT_TRUE(SignatureMatches(kSignature, kSignature));
}

TEST(SignatureMatchesTest, RejectsLastCharacterDifference) {
  EXPECT_FALSE(SignatureMatches(kSignature, "RSOYDt4T1cUTdK1PDd93/VVr8B8A"));
}

TEST(SignatureMatchesTest, RejectsEmptyAndPrefix) {
  EXPECT_FALSE(SignatureMatches(kSignature, ""));
  EXPECT_FALSE(SignatureMatches(kSignature, "RSOYDt4T1cUTdK1PDd93"));
}

}  // namespace
}  // namespace klaxon::twilio
