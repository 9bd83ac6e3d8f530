// bench-sendalert-http: SendAlert over the HTTP/JSON API (POST /v1/alerts, docs/adr/0023), open
// loop, with the same alerts bench-sendalert sends over gRPC (one recipient, a numbered text, a
// fresh idempotency key each), so the two paths compare on one machine. The requests are prepared
// before the clock starts and sent over keep-alive HTTP/1.1 connections (http_load_run.h); each
// latency counts from its due time. Prints one JSON line on stdout and a summary on stderr, and
// exits 0 only when every measured request got a 2xx and the achieved rate is at least 95% of the
// planned one.
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bench/http_load_run.h"
#include "bench/schedule.h"
#include "bench/status_callbacks.h"
#include "nlohmann/json.hpp"

namespace klaxon::bench {
namespace {

struct Flags : HttpLoadFlags {
  Flags() : HttpLoadFlags{.url = "http://127.0.0.1:8081", .duration_seconds = 30} {}
  std::string api_key;
  std::string recipient = "+14155550100";
};

// Request `index` on the wire: the JSON body bench-sendalert's gRPC request has.
std::string SendAlertRequest(const WebhookTarget& target, const Flags& flags,
                             const std::string& run_id, int64_t index) {
  const std::string body =
      nlohmann::json{
          {"channel", "CHANNEL_SMS"},
          {"recipient", flags.recipient},
          {"text", absl::StrCat("klaxon load test ", run_id, " #", index)},
          {"idempotencyKey", absl::StrCat("bench-http-", run_id, "-", index)},
      }
          .dump();
  return absl::StrCat("POST /v1/alerts HTTP/1.1\r\nHost: ", target.authority,
                      "\r\nAuthorization: Bearer ", flags.api_key,
                      "\r\nContent-Type: application/json\r\nContent-Length: ", body.size(),
                      "\r\n\r\n", body);
}

int Main(int argc, char** argv) {
  Flags flags;
  CLI::App app{"Open-loop load generator for SendAlert over the HTTP/JSON API.",
               "bench-sendalert-http"};
  AddHttpLoadFlags(app, flags, "the HTTP/JSON API's address, http://host:port",
                   "KLAXON_HTTP_API_URL");
  app.add_option("--api-key", flags.api_key, "API key [env KLAXON_API_KEY]")
      ->envname("KLAXON_API_KEY")
      ->required();
  app.add_option("--recipient", flags.recipient, "E.164 number every alert goes to")
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error) == 0 ? EXIT_SUCCESS : kHttpExitUsage;
  }

  const absl::StatusOr<WebhookTarget> target = ParseWebhookUrl(flags.url);
  if (!target.ok()) {
    std::cerr << "bench-sendalert-http: " << target.status().message() << "\n";
    return kHttpExitUsage;
  }
  const std::optional<OpenLoopSchedule> schedule = HttpScheduleOf("bench-sendalert-http", flags);
  if (!schedule.has_value()) return kHttpExitUsage;
  const std::string run_id = absl::StrFormat("%016x", absl::Uniform<uint64_t>(absl::BitGen()));
  std::vector<std::string> requests;
  requests.reserve(static_cast<size_t>(schedule->size()));
  for (int64_t i = 0; i < schedule->size(); ++i) {
    requests.push_back(SendAlertRequest(*target, flags, run_id, i));
  }
  return RunHttpLoad(
      "bench-sendalert-http", "SendAlert over HTTP/JSON", flags, *target, *schedule,
      [&requests](int64_t index) -> std::string_view {
        return requests[static_cast<size_t>(index)];
      },
      [](int64_t) { return false; });
}

}  // namespace
}  // namespace klaxon::bench

int main(int argc, char** argv) { return klaxon::bench::Main(argc, argv); }
