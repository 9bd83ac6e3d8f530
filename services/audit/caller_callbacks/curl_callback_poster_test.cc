// The libcurl poster's guard on where it connects: an address no callback may reach is refused
// before a connection is opened, whatever name led there.
#include "services/audit/caller_callbacks/curl_callback_poster.h"

#include <cstdlib>
#include <memory>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace klaxon::audit::curl_callback_poster_test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

CallbackAnswer PostTo(const std::string& url) {
  absl::StatusOr<std::unique_ptr<CurlCallbackPoster>> poster = CurlCallbackPoster::Create(1);
  EXPECT_TRUE(poster.ok()) << poster.status();
  return (*poster)->Post({.url = url, .body = "{}", .timeout = absl::Seconds(5)});
}

TEST(CurlCallbackPosterTest, NeverConnectsToTheMetadataServiceOrAnyLinkLocalAddress) {
  for (const char* url : {"http://169.254.169.254/latest/meta-data", "http://0.0.0.0:9/cb"}) {
    const CallbackAnswer answer = PostTo(url);
    EXPECT_EQ(answer.kind, CallbackAnswer::Kind::kNetworkError) << url;
    EXPECT_THAT(answer.error, HasSubstr("link-local, metadata-service or unspecified")) << url;
  }
}

TEST(CurlCallbackPosterTest, AProxyInTheEnvironmentIsNotUsedSoTheGuardSeesTheDestination) {
  ::setenv("http_proxy", "http://127.0.0.1:1", 1);
  ::setenv("HTTPS_PROXY", "http://127.0.0.1:1", 1);
  const CallbackAnswer answer = PostTo("http://169.254.169.254/latest/meta-data");
  ::unsetenv("http_proxy");
  ::unsetenv("HTTPS_PROXY");
  EXPECT_EQ(answer.kind, CallbackAnswer::Kind::kNetworkError);
  EXPECT_THAT(answer.error, HasSubstr("link-local, metadata-service or unspecified"));
}

TEST(CurlCallbackPosterTest, OtherAddressesAreConnectedTo) {
  // Nothing listens on port 1 of loopback: a plain connection failure, not a refusal.
  const CallbackAnswer answer = PostTo("http://127.0.0.1:1/cb");
  EXPECT_EQ(answer.kind, CallbackAnswer::Kind::kNetworkError);
  EXPECT_THAT(answer.error, Not(HasSubstr("link-local")));
  EXPECT_THAT(answer.error, HasSubstr("POST to the caller's URL"));
}

}  // namespace
}  // namespace klaxon::audit::curl_callback_poster_test
