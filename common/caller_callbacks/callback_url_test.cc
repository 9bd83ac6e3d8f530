#include "common/caller_callbacks/callback_url.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace klaxon::caller_callbacks {
namespace {

using ::testing::HasSubstr;

TEST(CheckCallbackUrlTest, TakesAbsoluteHttpsUrls) {
  EXPECT_TRUE(
      CheckCallbackUrl("https://hooks.example.com/klaxon?team=db", PlainHttp::kLoopbackOnly).ok());
  EXPECT_TRUE(CheckCallbackUrl("HTTPS://hooks.example.com:8443/k", PlainHttp::kLoopbackOnly).ok());
}

TEST(CheckCallbackUrlTest, PlainHttpOnlyWhereAllowed) {
  EXPECT_TRUE(CheckCallbackUrl("http://hooks.internal/cb", PlainHttp::kAllowed).ok());
  for (const char* loopback :
       {"http://127.0.0.1:9710/cb", "http://localhost/cb", "http://[::1]:80/cb"}) {
    EXPECT_TRUE(CheckCallbackUrl(loopback, PlainHttp::kLoopbackOnly).ok()) << loopback;
  }
  for (const char* outside : {"http://127.0.0.1.nip.io/cb", "http://127.evil.example/cb"}) {
    EXPECT_FALSE(CheckCallbackUrl(outside, PlainHttp::kLoopbackOnly).ok()) << outside;
  }
  const absl::Status plain = CheckCallbackUrl("http://10.0.0.7/cb", PlainHttp::kLoopbackOnly);
  EXPECT_EQ(plain.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(plain.message(), HasSubstr("must start with https://"));
}

// A caller naming the cloud's metadata service (or any link-local address) as its receiver
// would have audit POST there from inside the cluster.
TEST(CheckCallbackUrlTest, RefusesLinkLocalAndUnspecifiedAddresses) {
  for (const char* refused :
       {"https://169.254.169.254/latest/meta-data", "http://169.254.1.1/cb", "https://0.0.0.0/cb",
        "https://[fe80::1]/cb", "https://[::]/cb", "https://[::ffff:169.254.169.254]/cb",
        "https://[::169.254.169.254]/cb", "https://[64:ff9b::169.254.169.254]/cb",
        "https://[fd00:ec2::254]/latest", "http://100.100.100.200/latest"}) {
    for (const PlainHttp plain_http : {PlainHttp::kAllowed, PlainHttp::kLoopbackOnly}) {
      const absl::Status status = CheckCallbackUrl(refused, plain_http);
      EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << refused;
      EXPECT_THAT(status.message(), HasSubstr("link-local, metadata-service or unspecified"))
          << refused;
    }
  }
  // The company's own receivers, on private networks, are callers' to name.
  for (const char* allowed : {"https://10.0.0.5/cb", "https://192.168.1.2:8443/cb",
                              "https://[fd00::5]/cb", "https://169.254.example.com/cb"}) {
    EXPECT_TRUE(CheckCallbackUrl(allowed, PlainHttp::kLoopbackOnly).ok()) << allowed;
  }
}

TEST(CheckCallbackUrlTest, NamesWhatIsWrong) {
  EXPECT_THAT(CheckCallbackUrl("ftp://h.example/cb", PlainHttp::kAllowed).message(),
              HasSubstr("must start with https://"));
  EXPECT_THAT(CheckCallbackUrl("/klaxon/cb", PlainHttp::kAllowed).message(),
              HasSubstr("does not parse as an absolute URL"));
  EXPECT_THAT(CheckCallbackUrl("https://:443/cb", PlainHttp::kAllowed).message(),
              HasSubstr("the URL"));
  EXPECT_THAT(
      CheckCallbackUrl("https://h.example/" + std::string(kMaxUrlLength, 'a'), PlainHttp::kAllowed)
          .message(),
      HasSubstr("at most 2048"));
}

}  // namespace
}  // namespace klaxon::caller_callbacks
