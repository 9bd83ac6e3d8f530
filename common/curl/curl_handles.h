#pragma once
// What every libcurl client of Klaxon needs (the Twilio REST client, audit's caller callbacks):
// owning handles, a pool of idle easy handles that keeps their connections alive between
// requests, and the callbacks that collect a body and a Retry-After header.

#include <curl/curl.h>

#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace klaxon::curl {

struct CurlEasyDeleter {
  void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};
using CurlEasy = std::unique_ptr<CURL, CurlEasyDeleter>;

struct CurlSlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using CurlSlist = std::unique_ptr<curl_slist, CurlSlistDeleter>;

// curl_global_init, once per process, before any handle is made. kInternal if it fails.
absl::Status InitializeOnce();

// Idle easy handles, each holding its live connection for the next request.
class HandlePool {
 public:
  // At most `max_idle` handles are kept; more concurrent requests use extra handles that are
  // closed after use.
  explicit HandlePool(size_t max_idle) : max_idle_(max_idle) {}

  // An idle handle, or a new one.
  CurlEasy Acquire();
  // Keeps `handle` (its options reset, its connection kept) unless max_idle are idle already.
  // A handle whose request failed should be dropped instead: its connection's state is unknown.
  void Release(CurlEasy handle);

 private:
  const size_t max_idle_;
  std::mutex mutex_;
  std::vector<CurlEasy> idle_;  // guarded by mutex_
};

// Whether any request of the handle's last transfer went out (CURLINFO_REQUEST_SIZE). A failed
// connect does not prove the receiver got nothing: when a kept connection ends without an answer,
// libcurl sends the request again on a new one, and it is that connect which failed.
bool RequestWentOut(CURL* handle);

// CURLOPT_WRITEFUNCTION appending to the std::string in CURLOPT_WRITEDATA.
size_t AppendBody(char* data, size_t size, size_t count, void* user);

// CURLOPT_HEADERFUNCTION keeping, in the std::optional<absl::Duration> in CURLOPT_HEADERDATA, the
// Retry-After (in seconds) of the last response (a redirect's or 100-continue's come first and
// are overwritten).
size_t CaptureRetryAfter(char* data, size_t size, size_t count, void* user);

}  // namespace klaxon::curl
