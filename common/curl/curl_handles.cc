#include "common/curl/curl_handles.h"

#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"

namespace klaxon::curl {

absl::Status InitializeOnce() {
  static std::once_flag once;
  static CURLcode init = CURLE_OK;
  std::call_once(once, [] { init = curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (init != CURLE_OK) {
    return absl::InternalError(absl::StrCat("curl_global_init: ", curl_easy_strerror(init)));
  }
  return absl::OkStatus();
}

CurlEasy HandlePool::Acquire() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!idle_.empty()) {
      CurlEasy handle = std::move(idle_.back());
      idle_.pop_back();
      return handle;
    }
  }
  return CurlEasy(curl_easy_init());
}

void HandlePool::Release(CurlEasy handle) {
  // Options go, the live connection stays.
  curl_easy_reset(handle.get());
  std::lock_guard<std::mutex> lock(mutex_);
  if (idle_.size() < max_idle_) idle_.push_back(std::move(handle));
}

bool RequestWentOut(CURL* handle) {
  long request_bytes = 0;  // NOLINT(runtime/int): libcurl's type
  curl_easy_getinfo(handle, CURLINFO_REQUEST_SIZE, &request_bytes);
  return request_bytes != 0;
}

size_t AppendBody(char* data, size_t size, size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

size_t CaptureRetryAfter(char* data, size_t size, size_t count, void* user) {
  absl::string_view line(data, size * count);
  auto* retry_after = static_cast<std::optional<absl::Duration>*>(user);
  if (absl::StartsWithIgnoreCase(line, "HTTP/")) retry_after->reset();
  constexpr absl::string_view kRetryAfter = "Retry-After:";
  if (absl::StartsWithIgnoreCase(line, kRetryAfter)) {
    line.remove_prefix(kRetryAfter.size());
    int64_t seconds = 0;
    if (absl::SimpleAtoi(absl::StripAsciiWhitespace(line), &seconds) && seconds >= 0) {
      *retry_after = absl::Seconds(seconds);
    }
  }
  return size * count;
}

}  // namespace klaxon::curl
