#pragma once
// The CallbackPoster adapter: libcurl, connections kept alive per handle (curl::HandlePool).
// https URLs are verified against the system's CA store.

#include <memory>

#include "absl/status/statusor.h"
#include "common/curl/curl_handles.h"
#include "services/audit/caller_callbacks/callback_poster.h"

namespace klaxon::audit {

class CurlCallbackPoster final : public CallbackPoster {
 public:
  // `max_idle_connections`: kept for reuse (one per concurrent POST is enough).
  static absl::StatusOr<std::unique_ptr<CurlCallbackPoster>> Create(size_t max_idle_connections);

  CallbackAnswer Post(const CallbackPost& post) override;

 private:
  explicit CurlCallbackPoster(size_t max_idle_connections) : pool_(max_idle_connections) {}

  curl::HandlePool pool_;
};

}  // namespace klaxon::audit
