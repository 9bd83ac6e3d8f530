#include "services/audit/caller_callbacks/curl_callback_poster.h"

#include <sys/socket.h>

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/caller_callbacks/callback_url.h"

namespace klaxon::audit {
namespace {

// The caller's answer body is not read: only its status matters, and a large one costs nothing.
size_t DiscardBody(char* /*data*/, size_t size, size_t count, void* /*user*/) {
  return size * count;
}

// Opens the socket of each new connection unless its address is one no callback may reach
// (caller_callbacks::IsRefusedAddress): checked here, where the name has been resolved, so a
// name that resolves to the metadata service is refused as its literal address is by ingress.
curl_socket_t OpenAllowedSocket(void* refused, curlsocktype purpose, curl_sockaddr* address) {
  if (purpose == CURLSOCKTYPE_IPCXN && caller_callbacks::IsRefusedAddress(address->addr)) {
    *static_cast<bool*>(refused) = true;
    return CURL_SOCKET_BAD;
  }
  return ::socket(address->family, address->socktype, address->protocol);
}

}  // namespace

absl::StatusOr<std::unique_ptr<CurlCallbackPoster>> CurlCallbackPoster::Create(
    size_t max_idle_connections) {
  if (absl::Status initialized = curl::InitializeOnce(); !initialized.ok()) return initialized;
  return std::unique_ptr<CurlCallbackPoster>(new CurlCallbackPoster(max_idle_connections));
}

CallbackAnswer CurlCallbackPoster::Post(const CallbackPost& post) {
  curl::CurlEasy handle = pool_.Acquire();
  if (!handle) {
    return {.kind = CallbackAnswer::Kind::kNetworkError, .error = "curl_easy_init failed"};
  }
  CURL* curl = handle.get();
  curl::CurlSlist headers(curl_slist_append(nullptr, "Content-Type: application/json"));
  headers.reset(curl_slist_append(headers.release(), "Connection: keep-alive"));
  headers.reset(curl_slist_append(headers.release(), "Expect:"));
  for (const auto& [name, value] : post.headers) {
    headers.reset(curl_slist_append(headers.release(), absl::StrCat(name, ": ", value).c_str()));
  }
  std::optional<absl::Duration> retry_after;
  curl_easy_setopt(curl, CURLOPT_URL, post.url.c_str());
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, post.body.c_str());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(post.body.size()));
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "klaxon-caller-callbacks/1");
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS,
                   static_cast<long>(absl::ToInt64Milliseconds(post.timeout)));  // NOLINT
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);  // a redirect is an answer, not a hop
  // Never through a proxy named in the environment (HTTPS_PROXY and the like): the socket would
  // then be the proxy's, and the address check above could not see where a callback goes.
  curl_easy_setopt(curl, CURLOPT_PROXY, "");
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &DiscardBody);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &curl::CaptureRetryAfter);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &retry_after);
  bool refused_address = false;
  curl_easy_setopt(curl, CURLOPT_OPENSOCKETFUNCTION, &OpenAllowedSocket);
  curl_easy_setopt(curl, CURLOPT_OPENSOCKETDATA, &refused_address);

  const CURLcode code = curl_easy_perform(curl);
  // A name with an allowed address beside a refused one was posted to the allowed one.
  if (code != CURLE_OK && refused_address) {
    return {.kind = CallbackAnswer::Kind::kNetworkError,
            .error =
                "the caller's URL resolves only to link-local, metadata-service or unspecified "
                "addresses, which no callback may reach; not connected"};
  }
  if (code != CURLE_OK) {
    // The handle is dropped with its connection, whose state is unknown.
    return {.kind = code == CURLE_OPERATION_TIMEDOUT ? CallbackAnswer::Kind::kTimedOut
                                                     : CallbackAnswer::Kind::kNetworkError,
            .error = absl::StrCat("POST to the caller's URL: ", curl_easy_strerror(code))};
  }
  long status = 0;  // NOLINT(runtime/int): libcurl's type
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  pool_.Release(std::move(handle));
  return {.kind = CallbackAnswer::Kind::kAnswered,
          .http_status = static_cast<int>(status),
          .retry_after = retry_after};
}

}  // namespace klaxon::audit
