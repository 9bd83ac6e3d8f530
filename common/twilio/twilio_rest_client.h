#pragma once
// TwilioRestClient: the adapter the sms and voice workers use to create and read Twilio Message
// and Call resources over Twilio's REST API (libcurl, form-encoded POST, HTTP Basic auth,
// keep-alive). It never retries: every failure comes back as a TwilioError that says whether the
// request reached Twilio, so the caller's retry policy can tell "safe to resend" from "outcome
// unknown, read the resource back".

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/twilio/price.h"

namespace klaxon::curl {
class HandlePool;
}  // namespace klaxon::curl

namespace klaxon::twilio {

struct TwilioRestClientOptions {
  std::string base_url = "https://api.twilio.com";
  // Twilio's Messaging API (Messaging Services), another host.
  std::string messaging_base_url = "https://messaging.twilio.com";
  std::string account_sid;  // whose resources the requests name (/Accounts/<sid>/)
  // Basic auth: as an API key (SK...) with its secret when one is set, Twilio's preferred way,
  // else as the account with its auth token.
  std::string api_key_sid;
  std::string api_key_secret;
  std::string auth_token;
  absl::Duration connect_timeout = absl::Seconds(5);
  // Whole request, connect included. Twilio answers creates in well under a second.
  absl::Duration total_timeout = absl::Seconds(15);
  std::string user_agent = "klaxon-twilio/1";
  // Idle connections kept for reuse; concurrent requests beyond this open extra connections
  // that are closed after use.
  int max_idle_connections = 8;
};

// Whether a failed request reached Twilio.
enum class Transport {
  // Nothing was sent (DNS, connect, TLS handshake): resending cannot duplicate.
  kNotSent,
  // The request may have been processed but no usable answer came back (timeout or connection
  // lost after sending, unparseable 2xx body): settle it by reading the resource.
  kUnknown,
  // Twilio answered with an HTTP error status.
  kAnswered,
};

struct TwilioError {
  Transport transport = Transport::kNotSent;
  int http_status = 0;  // 0 unless kAnswered
  int code = 0;         // Twilio error code (21211, 20429 ...); 0 when the body had none
  // Twilio's message. It can quote the phone number, so it must not be logged as is.
  std::string message;
  std::string more_info;
  std::optional<absl::Duration> retry_after;  // from a Retry-After header in seconds
};

// Maps an error to a status for callers that only need retryability: kNotSent and 5xx are
// kUnavailable, kUnknown is kDeadlineExceeded, 429 or code 20429 is kResourceExhausted, 401/403 are
// kUnauthenticated/kPermissionDenied, 404 is kNotFound, other 4xx are kInvalidArgument. The
// message carries the HTTP status and Twilio code only, never Twilio's text.
absl::Status ToStatus(const TwilioError& error);

// Either the parsed resource of a 2xx answer or the error.
template <typename Resource>
class TwilioResult {
 public:
  TwilioResult(Resource resource) : value_(std::move(resource)) {}  // NOLINT: implicit by design
  TwilioResult(TwilioError error) : value_(std::move(error)) {}     // NOLINT: implicit by design

  bool ok() const { return std::holds_alternative<Resource>(value_); }
  // Precondition: ok().
  const Resource& value() const { return std::get<Resource>(value_); }
  // Precondition: !ok().
  const TwilioError& error() const { return std::get<TwilioError>(value_); }

 private:
  std::variant<Resource, TwilioError> value_;
};

struct MessageResource {
  std::string sid;  // SM + 32 hex
  std::string account_sid;
  std::string to;
  std::string from;
  std::string status;  // queued, accepted, sending, sent, delivered, undelivered, failed, ...
  std::string body;    // personal data: compare it, never log it
  std::optional<int> error_code;
  std::string error_message;
  int num_segments = 0;
  std::optional<Charge> charge;  // empty until Twilio priced the message
  std::optional<absl::Time> date_created;
  std::optional<absl::Time> date_sent;
  std::optional<absl::Time> date_updated;
};

struct CallResource {
  std::string sid;  // CA + 32 hex
  std::string account_sid;
  std::string to;
  std::string from;
  std::string status;  // queued, initiated, ringing, in-progress, completed, busy, no-answer, ...
  std::optional<absl::Duration> duration;
  std::string answered_by;       // empty unless machine detection ran
  std::optional<Charge> charge;  // empty until Twilio priced the call
  std::optional<absl::Time> start_time;
  std::optional<absl::Time> end_time;
  std::optional<absl::Time> date_created;
  std::optional<absl::Time> date_updated;
};

struct AccountResource {
  std::string sid;
  std::string friendly_name;
  std::string status;  // active, suspended or closed
};

struct CreateMessageRequest {
  std::string to;
  // One of the two: the number to send from, or a Messaging Service that picks it from its pool.
  std::string from;
  std::string messaging_service_sid;
  std::string body;
  std::optional<std::string> status_callback;
  std::optional<absl::Duration> validity_period;  // sent in whole seconds, 1 to 36000
};

struct CreateCallRequest {
  std::string to;
  std::string from;
  std::string twiml;
  std::optional<std::string> status_callback;
  // initiated, ringing, answered, completed; Twilio sends only "completed" when empty.
  std::vector<std::string> status_callback_events;
  std::optional<std::string> machine_detection;  // Enable or DetectMessageEnd
  std::optional<absl::Duration> timeout;         // ringing time, whole seconds
};

// Twilio stamps resources in whole seconds, on its own clock: a resource created by a request
// may carry a date_created up to this much before the time the request was sent.
inline constexpr absl::Duration kClockSlack = absl::Seconds(2);

// The first page of a list read, Twilio's newest resources first.
struct ListRequest {
  std::string to;
  std::string from;    // empty: from any sender
  int page_size = 50;  // Twilio allows 1 to 1000
};

template <typename Resource>
struct ResourcePage {
  std::vector<Resource> resources;
  bool has_more = false;  // Twilio named a next page
};

// Thread-safe: any number of threads may call it at once.
class TwilioRestClient {
 public:
  // Fails with kInvalidArgument when a required option is missing or out of range.
  static absl::StatusOr<std::unique_ptr<TwilioRestClient>> Create(TwilioRestClientOptions options);

  ~TwilioRestClient();
  TwilioRestClient(const TwilioRestClient&) = delete;
  TwilioRestClient& operator=(const TwilioRestClient&) = delete;

  TwilioResult<MessageResource> CreateMessage(const CreateMessageRequest& request);
  TwilioResult<CallResource> CreateCall(const CreateCallRequest& request);
  TwilioResult<MessageResource> FetchMessage(std::string_view sid);
  TwilioResult<CallResource> FetchCall(std::string_view sid);
  // GET Messages.json / Calls.json filtered by To and From (Twilio's list filters).
  TwilioResult<ResourcePage<MessageResource>> ListMessages(const ListRequest& request);
  TwilioResult<ResourcePage<CallResource>> ListCalls(const ListRequest& request);
  // GET Accounts/{AccountSid}.json: the account, if the credentials open it.
  TwilioResult<AccountResource> FetchAccount();
  // Whether the account has `sender`: a phone number (IncomingPhoneNumbers.json?PhoneNumber=) or
  // a short code, 5 or 6 digits (SMS/ShortCodes.json?ShortCode=).
  TwilioResult<bool> OwnsSender(std::string_view sender);
  // Whether the account has the Messaging Service `sid` (GET /v1/Services/{sid} on the Messaging
  // API): false when Twilio says 404.
  TwilioResult<bool> HasMessagingService(std::string_view sid);

 private:
  struct HttpResponse;

  TwilioRestClient(TwilioRestClientOptions options, std::unique_ptr<curl::HandlePool> pool);

  // Performs one request to `url`; on success returns status and body, on failure the error.
  std::variant<HttpResponse, TwilioError> PerformAt(std::string_view method, const std::string& url,
                                                    const std::string& form_body);
  // PerformAt() on the REST API's `path`.
  std::variant<HttpResponse, TwilioError> Perform(std::string_view method, std::string_view path,
                                                  const std::string& form_body);
  // Perform() under the account's base path, then the answer read as a Resource by `parse`.
  template <typename Resource, typename Parse>
  TwilioResult<Resource> Request(std::string_view method, std::string_view account_path,
                                 const std::string& form_body, Parse parse);
  // A GET of Messages or Calls filtered by `request` (ListAt).
  template <typename Resource, typename Parse>
  TwilioResult<ResourcePage<Resource>> List(std::string_view collection, const char* field,
                                            const ListRequest& request, Parse parse);
  // A GET of a list at `account_path` under the account's base path (its query string included);
  // `field` names the resource array, each item read by `parse`.
  template <typename Resource, typename Parse>
  TwilioResult<ResourcePage<Resource>> ListAt(std::string_view account_path, const char* field,
                                              Parse parse);

  TwilioRestClientOptions options_;
  std::unique_ptr<curl::HandlePool> pool_;
};

}  // namespace klaxon::twilio
