#include "tools/twilio-sandbox/callback_scheduler.h"

#include <curl/curl.h>

#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/http/form.h"

namespace klaxon::sandbox {

CallbackScheduler::CallbackScheduler() : worker_([this] { Run(); }) {}

CallbackScheduler::~CallbackScheduler() { Stop(); }

void CallbackScheduler::Schedule(absl::Duration delay, std::function<void()> task) {
  const auto due = std::chrono::steady_clock::now() + absl::ToChronoNanoseconds(delay);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return;
    tasks_.emplace(std::make_pair(due, next_sequence_++), std::move(task));
  }
  wake_.notify_one();
}

void CallbackScheduler::Stop() {
  decltype(tasks_) dropped;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    dropped.swap(tasks_);
  }
  wake_.notify_one();
  if (worker_.joinable()) worker_.join();
  // `dropped` is destroyed here: outside the lock, and after the worker has stopped using it.
}

void CallbackScheduler::Run() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    if (tasks_.empty()) {
      wake_.wait(lock);
      continue;
    }
    const auto first = tasks_.begin();
    // A copy, not a reference into the node: wait_until reads its deadline again after waking,
    // and by then Stop() may have freed the node.
    const std::chrono::steady_clock::time_point due = first->first.first;
    if (due > std::chrono::steady_clock::now()) {
      wake_.wait_until(lock, due);
      continue;
    }
    std::function<void()> task = std::move(first->second);
    tasks_.erase(first);
    lock.unlock();
    task();
    lock.lock();
  }
}

namespace {

size_t Discard(char*, size_t size, size_t count, void*) { return size * count; }

}  // namespace

absl::Status CurlCallbackSender::Send(const StatusCallback& callback) {
  curl::CurlEasy handle = handles_.Acquire();
  if (!handle) return absl::InternalError("curl_easy_init failed");
  CURL* curl = handle.get();
  const std::string form = http::EncodeForm(callback.params);
  curl::CurlSlist headers(
      curl_slist_append(nullptr, "Content-Type: application/x-www-form-urlencoded"));
  headers.reset(curl_slist_append(headers.release(), "Expect:"));
  // Some receivers (Pistache's Http::Endpoint among them) close a connection after each answer
  // unless asked not to; ingress's webhook server keeps an HTTP/1.1 one open either way.
  headers.reset(curl_slist_append(headers.release(), "Connection: keep-alive"));
  for (const auto& [name, value] : callback.headers) {
    headers.reset(curl_slist_append(headers.release(), absl::StrCat(name, ": ", value).c_str()));
  }
  curl_easy_setopt(curl, CURLOPT_URL, callback.url.c_str());
  // The URL was signed as given; curl would otherwise squash "/./" and "/../" out of the path and
  // post to a URL other than the signed one.
  curl_easy_setopt(curl, CURLOPT_PATH_AS_IS, 1L);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "TwilioProxy/1.1");
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, form.c_str());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(form.size()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS,
                   static_cast<long>(absl::ToInt64Milliseconds(timeout_)));  // NOLINT
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &Discard);
  const CURLcode code = curl_easy_perform(curl);
  if ((code == CURLE_COULDNT_CONNECT || code == CURLE_COULDNT_RESOLVE_HOST) &&
      !curl::RequestWentOut(curl)) {
    return absl::UnavailableError(
        absl::StrCat("callback not delivered: ", curl_easy_strerror(code)));
  }
  if (code != CURLE_OK) {
    return absl::UnknownError(absl::StrCat("callback sent, no answer: ", curl_easy_strerror(code)));
  }
  long status = 0;  // NOLINT(runtime/int): libcurl's type
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  handles_.Release(std::move(handle));  // answered: its connection is sound (failures drop it)
  if (status < 200 || status > 299) {
    return absl::FailedPreconditionError(absl::StrCat("callback answered HTTP ", status));
  }
  return absl::OkStatus();
}

ConcurrentCallbackSender::ConcurrentCallbackSender(CallbackSender& inner,
                                                   CallbackDeliveryOptions options)
    : inner_(inner),
      connect_retry_(options.connect_retry),
      retry_timers_(std::in_place),
      pool_(options.pool) {}

ConcurrentCallbackSender::~ConcurrentCallbackSender() {
  {
    std::lock_guard lock(retries_mutex_);
    closing_ = true;
  }
  // Runs the waiting retries with "not due" (dropped) and waits for one coming due now to be
  // queued; the pool then delivers what it holds.
  retry_timers_.reset();
}

absl::Status ConcurrentCallbackSender::Send(const StatusCallback& callback) {
  if (!pool_.Submit([this, callback] { Deliver(callback, /*retry=*/false); })) {
    return absl::ResourceExhaustedError("the sandbox's callback queue is full; callback dropped");
  }
  return absl::OkStatus();
}

void ConcurrentCallbackSender::Deliver(const StatusCallback& callback, bool retry) {
  // What `inner` could not deliver in the end is dropped: its outcome is nobody's to act on.
  const absl::Status sent = inner_.Send(callback);
  if (absl::IsUnavailable(sent) && !retry) RetryLater(callback);
}

void ConcurrentCallbackSender::RetryLater(const StatusCallback& callback) {
  std::lock_guard lock(retries_mutex_);
  if (closing_) return;
  retry_timers_->At(absl::Now() + connect_retry_, [this, callback](bool due) {
    if (due) pool_.Submit([this, callback] { Deliver(callback, /*retry=*/true); });
  });
}

}  // namespace klaxon::sandbox
