#include "common/metrics/admin_server.h"

#include <curl/curl.h>

#include <atomic>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/counter.h"

namespace klaxon::metrics {
namespace {

using ::testing::HasSubstr;

struct HttpResponse {
  long status = 0;
  std::string content_type;
  std::string body;
};

size_t AppendBody(char* data, size_t size, size_t count, void* body) {
  static_cast<std::string*>(body)->append(data, size * count);
  return size * count;
}

// GET http://127.0.0.1:<port><path>; status 0 when the request failed.
HttpResponse Get(uint16_t port, const std::string& path) {
  HttpResponse response;
  const std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(),
                                                                 &curl_easy_cleanup);
  if (curl == nullptr) return response;
  const std::string url = absl::StrCat("http://127.0.0.1:", port, path);
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT_MS, 10000L);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, &AppendBody);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &response.body);
  if (curl_easy_perform(curl.get()) != CURLE_OK) return response;
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &response.status);
  char* content_type = nullptr;
  curl_easy_getinfo(curl.get(), CURLINFO_CONTENT_TYPE, &content_type);
  if (content_type != nullptr) response.content_type = content_type;
  return response;
}

class AdminServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<AdminServer>> server = AdminServer::Start({
        .host = "127.0.0.1",
        .port = 0,
        .registry = registry_,
        .ready = [this] { return ready_.load(); },
    });
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }

  std::shared_ptr<prometheus::Registry> registry_ = std::make_shared<prometheus::Registry>();
  std::atomic<bool> ready_{true};
  std::unique_ptr<AdminServer> server_;
};

TEST_F(AdminServerTest, BindsAFreePortWhenAskedForPortZero) { EXPECT_GT(server_->port(), 0); }

TEST_F(AdminServerTest, ServesMetricsInPrometheusTextFormat) {
  prometheus::BuildCounter()
      .Name("klaxon_test_events_total")
      .Help("Events seen by the test.")
      .Register(*registry_)
      .Add({{"kind", "x"}})
      .Increment(3);
  const HttpResponse response = Get(server_->port(), "/metrics");
  EXPECT_EQ(response.status, 200);
  EXPECT_THAT(response.content_type, HasSubstr("text/plain"));
  EXPECT_THAT(response.body, HasSubstr("# TYPE klaxon_test_events_total counter"));
  EXPECT_THAT(response.body, HasSubstr("klaxon_test_events_total{kind=\"x\"} 3"));
}

TEST_F(AdminServerTest, LivezIsOk) { EXPECT_EQ(Get(server_->port(), "/livez").status, 200); }

TEST_F(AdminServerTest, ReadyzFollowsTheReadinessCheck) {
  EXPECT_EQ(Get(server_->port(), "/readyz").status, 200);
  ready_ = false;
  EXPECT_EQ(Get(server_->port(), "/readyz").status, 503);
  ready_ = true;
  EXPECT_EQ(Get(server_->port(), "/readyz").status, 200);
}

TEST_F(AdminServerTest, UnknownPathIsNotFound) {
  EXPECT_EQ(Get(server_->port(), "/debug").status, 404);
}

TEST_F(AdminServerTest, StopsServingAfterShutdown) {
  const uint16_t port = server_->port();
  server_->Shutdown();
  server_->Shutdown();  // idempotent
  EXPECT_EQ(Get(port, "/livez").status, 0);
}

TEST_F(AdminServerTest, PortInUseIsUnavailable) {
  const absl::StatusOr<std::unique_ptr<AdminServer>> second = AdminServer::Start({
      .host = "127.0.0.1",
      .port = server_->port(),
      .registry = registry_,
      .ready = [] { return true; },
  });
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
}

TEST(AdminServerStartTest, RequiresRegistryAndReadinessCheck) {
  EXPECT_EQ(AdminServer::Start({.port = 0, .ready = [] { return true; }}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(AdminServer::Start({.port = 0, .registry = std::make_shared<prometheus::Registry>()})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace klaxon::metrics
