#include "services/ingress/verification/verification_code.h"

#include <gtest/gtest.h>

#include <string>

namespace klaxon::ingress::verification {
namespace {

constexpr char kCodeKey[] = "0123456789abcdef0123456789abcdef";
constexpr char kId[] = "0190a1b2-0000-7000-8000-000000000001";

TEST(CodeDigestTest, MatchesOnlyTheSameCodeOfTheSameVerification) {
  const std::string digest = CodeDigest(kCodeKey, kId, "482913");
  EXPECT_EQ(digest.size(), 64u);
  EXPECT_EQ(digest.find("482913"), std::string::npos);
  EXPECT_TRUE(CodeMatches(kCodeKey, kId, "482913", digest));
  EXPECT_FALSE(CodeMatches(kCodeKey, kId, "482914", digest));
  EXPECT_FALSE(CodeMatches(kCodeKey, "0190a1b2-0000-7000-8000-000000000002", "482913", digest));
  EXPECT_FALSE(CodeMatches("another key, just as long as one", kId, "482913", digest));
  EXPECT_FALSE(CodeMatches(kCodeKey, kId, "482913", digest.substr(1)));
}

}  // namespace
}  // namespace klaxon::ingress::verification
