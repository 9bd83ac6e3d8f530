#include "common/twilio/twilio_rest_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/curl/curl_handles.h"
#include "common/http/form.h"
#include "common/twilio/base_url.h"
#include "nlohmann/json.hpp"

namespace klaxon::twilio {
namespace {

using curl::CurlEasy;
using curl::CurlSlist;

// A path segment (account or resource SID): percent-encoded like a form component, so only
// unreserved characters stay.
std::string EscapeSegment(std::string_view text) { return http::EncodeFormComponent(text); }

// A POST's body, handed to libcurl by a read callback rather than CURLOPT_POSTFIELDS. With no way
// to rewind it, libcurl cannot send the POST again on a new connection when a kept one ends
// without an answer (it fails with CURLE_SEND_FAIL_REWIND instead): a message or call Twilio may
// have created then is settled by reading Twilio (ADR 0004), never created twice.
struct BodyReader {
  std::string_view rest;
};

size_t ReadBody(char* buffer, size_t size, size_t count, void* user) {
  auto* body = static_cast<BodyReader*>(user);
  const size_t taken = std::min(size * count, body->rest.size());
  std::memcpy(buffer, body->rest.data(), taken);
  body->rest.remove_prefix(taken);
  return taken;
}

// Failures where libcurl gave up before a byte of the request could have reached Twilio.
bool FailedBeforeSending(CURLcode code, CURL* handle) {
  if (curl::RequestWentOut(handle)) return false;
  switch (code) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
      return true;
    case CURLE_OPERATION_TIMEDOUT: {
      // Pre-transfer time is set once the connection (TLS included) is ready and the request is
      // about to go out; zero means the timeout struck while connecting.
      curl_off_t pretransfer = 0;
      return curl_easy_getinfo(handle, CURLINFO_PRETRANSFER_TIME_T, &pretransfer) == CURLE_OK &&
             pretransfer == 0;
    }
    default:
      return false;
  }
}

std::optional<absl::Time> ParseDate(const nlohmann::json& resource, const char* field) {
  const auto it = resource.find(field);
  if (it == resource.end() || !it->is_string()) return std::nullopt;
  absl::Time time;
  std::string error;
  // Twilio's RFC 2822 dates: "Thu, 30 Jul 2015 20:12:31 +0000".
  if (!absl::ParseTime("%a, %d %b %Y %H:%M:%S %z", it->get<std::string>(), &time, &error)) {
    return std::nullopt;
  }
  return time;
}

std::string StringField(const nlohmann::json& resource, const char* field) {
  const auto it = resource.find(field);
  return it != resource.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Twilio serialises some integers as strings (num_segments, duration).
std::optional<int64_t> IntegerField(const nlohmann::json& resource, const char* field) {
  const auto it = resource.find(field);
  if (it == resource.end()) return std::nullopt;
  if (it->is_number_integer()) return it->get<int64_t>();
  int64_t value = 0;
  if (it->is_string() && absl::SimpleAtoi(it->get<std::string>(), &value)) return value;
  return std::nullopt;
}

MessageResource ParseMessage(const nlohmann::json& json) {
  MessageResource message;
  message.sid = StringField(json, "sid");
  message.account_sid = StringField(json, "account_sid");
  message.to = StringField(json, "to");
  message.from = StringField(json, "from");
  message.status = StringField(json, "status");
  message.body = StringField(json, "body");
  if (const auto code = IntegerField(json, "error_code"))
    message.error_code = static_cast<int>(*code);
  message.error_message = StringField(json, "error_message");
  message.num_segments = static_cast<int>(IntegerField(json, "num_segments").value_or(0));
  message.charge = ChargeOf(StringField(json, "price"), StringField(json, "price_unit"));
  message.date_created = ParseDate(json, "date_created");
  message.date_sent = ParseDate(json, "date_sent");
  message.date_updated = ParseDate(json, "date_updated");
  return message;
}

CallResource ParseCall(const nlohmann::json& json) {
  CallResource call;
  call.sid = StringField(json, "sid");
  call.account_sid = StringField(json, "account_sid");
  call.to = StringField(json, "to");
  call.from = StringField(json, "from");
  call.status = StringField(json, "status");
  if (const auto seconds = IntegerField(json, "duration")) call.duration = absl::Seconds(*seconds);
  call.answered_by = StringField(json, "answered_by");
  call.charge = ChargeOf(StringField(json, "price"), StringField(json, "price_unit"));
  call.start_time = ParseDate(json, "start_time");
  call.end_time = ParseDate(json, "end_time");
  call.date_created = ParseDate(json, "date_created");
  call.date_updated = ParseDate(json, "date_updated");
  return call;
}

TwilioError TransportError(Transport transport, std::string message) {
  TwilioError error;
  error.transport = transport;
  error.message = std::move(message);
  return error;
}

TwilioError UnknownOutcome(std::string message) {
  return TransportError(Transport::kUnknown, std::move(message));
}

}  // namespace

struct TwilioRestClient::HttpResponse {
  long status = 0;  // NOLINT(runtime/int): libcurl's type
  std::string body;
  std::optional<absl::Duration> retry_after;
};

// Idle easy handles, each keeping its own live connection for reuse.
absl::Status ToStatus(const TwilioError& error) {
  const std::string detail = absl::StrCat("Twilio HTTP ", error.http_status, " code ", error.code);
  switch (error.transport) {
    case Transport::kNotSent:
      return absl::UnavailableError("Twilio request not sent");
    case Transport::kUnknown:
      return absl::DeadlineExceededError("Twilio request outcome unknown");
    case Transport::kAnswered:
      break;
  }
  if (error.http_status == 429 || error.code == 20429) return absl::ResourceExhaustedError(detail);
  if (error.http_status >= 500) return absl::UnavailableError(detail);
  if (error.http_status == 401) return absl::UnauthenticatedError(detail);
  if (error.http_status == 403) return absl::PermissionDeniedError(detail);
  if (error.http_status == 404) return absl::NotFoundError(detail);
  return absl::InvalidArgumentError(detail);
}

absl::StatusOr<std::unique_ptr<TwilioRestClient>> TwilioRestClient::Create(
    TwilioRestClientOptions options) {
  if (absl::Status allowed = CheckBaseUrl(options.base_url); !allowed.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("Twilio base_url ", allowed.message()));
  }
  if (absl::Status allowed = CheckBaseUrl(options.messaging_base_url); !allowed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("Twilio messaging_base_url ", allowed.message()));
  }
  while (options.base_url.ends_with('/')) options.base_url.pop_back();
  while (options.messaging_base_url.ends_with('/')) options.messaging_base_url.pop_back();
  if (options.account_sid.empty()) {
    return absl::InvalidArgumentError("Twilio account_sid is required");
  }
  if (options.api_key_sid.empty() != options.api_key_secret.empty()) {
    return absl::InvalidArgumentError("a Twilio API key needs both its SID and its secret");
  }
  if (options.api_key_sid.empty() && options.auth_token.empty()) {
    return absl::InvalidArgumentError("Twilio auth_token (or an API key) is required");
  }
  if (options.connect_timeout <= absl::ZeroDuration() ||
      options.total_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("Twilio timeouts must be positive");
  }
  if (options.max_idle_connections < 0) {
    return absl::InvalidArgumentError("Twilio max_idle_connections must not be negative");
  }
  if (absl::Status initialized = curl::InitializeOnce(); !initialized.ok()) return initialized;
  auto pool = std::make_unique<curl::HandlePool>(static_cast<size_t>(options.max_idle_connections));
  return std::unique_ptr<TwilioRestClient>(
      new TwilioRestClient(std::move(options), std::move(pool)));
}

TwilioRestClient::TwilioRestClient(TwilioRestClientOptions options,
                                   std::unique_ptr<curl::HandlePool> pool)
    : options_(std::move(options)), pool_(std::move(pool)) {}

TwilioRestClient::~TwilioRestClient() = default;

std::variant<TwilioRestClient::HttpResponse, TwilioError> TwilioRestClient::Perform(
    std::string_view method, std::string_view path, const std::string& form_body) {
  return PerformAt(method, options_.base_url + std::string(path), form_body);
}

std::variant<TwilioRestClient::HttpResponse, TwilioError> TwilioRestClient::PerformAt(
    std::string_view method, const std::string& url, const std::string& form_body) {
  CurlEasy handle = pool_->Acquire();
  if (!handle) return TransportError(Transport::kNotSent, "curl_easy_init failed");
  CURL* curl = handle.get();

  HttpResponse response;
  CurlSlist headers(curl_slist_append(nullptr, "Accept: application/json"));
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));  // NOLINT
  const bool api_key = !options_.api_key_sid.empty();
  curl_easy_setopt(curl, CURLOPT_USERNAME,
                   api_key ? options_.api_key_sid.c_str() : options_.account_sid.c_str());
  curl_easy_setopt(curl, CURLOPT_PASSWORD,
                   api_key ? options_.api_key_secret.c_str() : options_.auth_token.c_str());
  curl_easy_setopt(curl, CURLOPT_USERAGENT, options_.user_agent.c_str());
  curl_easy_setopt(
      curl, CURLOPT_CONNECTTIMEOUT_MS,
      static_cast<long>(absl::ToInt64Milliseconds(options_.connect_timeout)));  // NOLINT
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS,
                   static_cast<long>(absl::ToInt64Milliseconds(options_.total_timeout)));  // NOLINT
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &curl::AppendBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &curl::CaptureRetryAfter);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response.retry_after);
  // HTTP/1.1 keeps connections alive by default, but some servers (the sandbox's Pistache among
  // them) close after each answer unless asked; a new connection per request costs a handshake
  // (TLS with Twilio) and leaves a TIME_WAIT socket behind. libcurl drops the header on HTTP/2.
  headers.reset(curl_slist_append(headers.release(), "Connection: keep-alive"));
  BodyReader body{.rest = form_body};
  if (method == "POST") {
    headers.reset(
        curl_slist_append(headers.release(), "Content-Type: application/x-www-form-urlencoded"));
    // Twilio answers at once; waiting for 100-continue would only add a round trip.
    headers.reset(curl_slist_append(headers.release(), "Expect:"));
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, &ReadBody);
    curl_easy_setopt(curl, CURLOPT_READDATA, &body);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(form_body.size()));
  } else {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.get());

  const CURLcode code = curl_easy_perform(curl);
  if (code != CURLE_OK) {
    // Returning without Release drops the handle: a connection in an unknown state is not
    // worth keeping.
    return TransportError(
        FailedBeforeSending(code, curl) ? Transport::kNotSent : Transport::kUnknown,
        absl::StrCat("transport: ", curl_easy_strerror(code)));
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  pool_->Release(std::move(handle));
  return response;
}

namespace {

// Turns a non-2xx answer into an error, reading Twilio's {code, message, more_info, status}.
TwilioError AnsweredError(long status, const std::string& body,  // NOLINT(runtime/int)
                          std::optional<absl::Duration> retry_after) {
  TwilioError error;
  error.transport = Transport::kAnswered;
  error.http_status = static_cast<int>(status);
  error.retry_after = retry_after;
  const nlohmann::json json = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (json.is_object()) {
    error.code = static_cast<int>(IntegerField(json, "code").value_or(0));
    error.message = StringField(json, "message");
    error.more_info = StringField(json, "more_info");
  }
  if (error.message.empty()) error.message = absl::StrCat("HTTP ", status);
  return error;
}

template <typename Resource, typename Parse>
TwilioResult<Resource> Interpret(long status, const std::string& body,  // NOLINT(runtime/int)
                                 std::optional<absl::Duration> retry_after, Parse parse) {
  if (status < 200 || status > 299) return AnsweredError(status, body, retry_after);
  const nlohmann::json json = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object()) return UnknownOutcome("unparseable 2xx response body");
  Resource resource = parse(json);
  if (resource.sid.empty()) return UnknownOutcome("2xx response without a sid");
  return resource;
}

}  // namespace

template <typename Resource, typename Parse>
TwilioResult<Resource> TwilioRestClient::Request(std::string_view method,
                                                 std::string_view account_path,
                                                 const std::string& form_body, Parse parse) {
  auto response = Perform(method,
                          absl::StrCat("/2010-04-01/Accounts/", EscapeSegment(options_.account_sid),
                                       absl::string_view(account_path.data(), account_path.size())),
                          form_body);
  if (auto* error = std::get_if<TwilioError>(&response)) return std::move(*error);
  const auto& http = std::get<HttpResponse>(response);
  return Interpret<Resource>(http.status, http.body, http.retry_after, parse);
}

template <typename Resource, typename Parse>
TwilioResult<ResourcePage<Resource>> TwilioRestClient::List(std::string_view collection,
                                                            const char* field,
                                                            const ListRequest& request,
                                                            Parse parse) {
  http::FormParams query = {{"To", request.to}};
  if (!request.from.empty()) query.emplace_back("From", request.from);
  query.emplace_back("PageSize", absl::StrCat(request.page_size));
  return ListAt<Resource>(absl::StrCat("/", absl::string_view(collection.data(), collection.size()),
                                       ".json?", http::EncodeForm(query)),
                          field, parse);
}

template <typename Resource, typename Parse>
TwilioResult<ResourcePage<Resource>> TwilioRestClient::ListAt(std::string_view account_path,
                                                              const char* field, Parse parse) {
  auto response = Perform("GET",
                          absl::StrCat("/2010-04-01/Accounts/", EscapeSegment(options_.account_sid),
                                       absl::string_view(account_path.data(), account_path.size())),
                          {});
  if (auto* error = std::get_if<TwilioError>(&response)) return std::move(*error);
  const auto& http = std::get<HttpResponse>(response);
  if (http.status < 200 || http.status > 299) {
    return AnsweredError(http.status, http.body, http.retry_after);
  }
  const nlohmann::json json = nlohmann::json::parse(http.body, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object() || !json.contains(field) || !json[field].is_array()) {
    return UnknownOutcome("unparseable list response body");
  }
  ResourcePage<Resource> page;
  for (const nlohmann::json& item : json[field]) page.resources.push_back(parse(item));
  page.has_more = !StringField(json, "next_page_uri").empty();
  return page;
}

TwilioResult<ResourcePage<MessageResource>> TwilioRestClient::ListMessages(
    const ListRequest& request) {
  return List<MessageResource>("Messages", "messages", request, &ParseMessage);
}

TwilioResult<ResourcePage<CallResource>> TwilioRestClient::ListCalls(const ListRequest& request) {
  return List<CallResource>("Calls", "calls", request, &ParseCall);
}

TwilioResult<AccountResource> TwilioRestClient::FetchAccount() {
  return Request<AccountResource>("GET", ".json", {}, [](const nlohmann::json& json) {
    return AccountResource{.sid = StringField(json, "sid"),
                           .friendly_name = StringField(json, "friendly_name"),
                           .status = StringField(json, "status")};
  });
}

TwilioResult<bool> TwilioRestClient::OwnsSender(std::string_view sender) {
  const bool number = !sender.empty() && sender.front() == '+';
  const http::FormParams query = {{number ? "PhoneNumber" : "ShortCode", std::string(sender)}};
  const TwilioResult<ResourcePage<std::string>> found = ListAt<std::string>(
      absl::StrCat(number ? "/IncomingPhoneNumbers.json?" : "/SMS/ShortCodes.json?",
                   http::EncodeForm(query)),
      number ? "incoming_phone_numbers" : "short_codes",
      [](const nlohmann::json& item) { return StringField(item, "sid"); });
  if (!found.ok()) return found.error();
  return !found.value().resources.empty();
}

TwilioResult<bool> TwilioRestClient::HasMessagingService(std::string_view sid) {
  auto response = PerformAt(
      "GET", absl::StrCat(options_.messaging_base_url, "/v1/Services/", EscapeSegment(sid)), {});
  if (auto* error = std::get_if<TwilioError>(&response)) return std::move(*error);
  const auto& http = std::get<HttpResponse>(response);
  if (http.status == 404) return false;
  if (http.status < 200 || http.status > 299) {
    return AnsweredError(http.status, http.body, http.retry_after);
  }
  return true;
}

TwilioResult<MessageResource> TwilioRestClient::CreateMessage(const CreateMessageRequest& request) {
  http::FormParams form = {{"To", request.to}};
  if (!request.from.empty()) form.emplace_back("From", request.from);
  if (!request.messaging_service_sid.empty()) {
    form.emplace_back("MessagingServiceSid", request.messaging_service_sid);
  }
  form.emplace_back("Body", request.body);
  // Twilio keeps the body as sent: a Messaging Service with smart encoding would otherwise swap
  // characters for GSM-7 look-alikes, and a settlement, which finds the attempt's message by its
  // body, would miss it and send it again (docs/adr/0007). The segments Klaxon counted (budgets,
  // pacing) then stay the segments Twilio bills.
  form.emplace_back("SmartEncoded", "false");
  if (request.status_callback) {
    form.emplace_back("StatusCallback", *request.status_callback);
  }
  if (request.validity_period) {
    form.emplace_back("ValidityPeriod",
                      absl::StrCat(absl::ToInt64Seconds(*request.validity_period)));
  }
  return Request<MessageResource>("POST", "/Messages.json", http::EncodeForm(form), &ParseMessage);
}

TwilioResult<CallResource> TwilioRestClient::CreateCall(const CreateCallRequest& request) {
  http::FormParams form = {{"To", request.to}, {"From", request.from}, {"Twiml", request.twiml}};
  if (request.status_callback) {
    form.emplace_back("StatusCallback", *request.status_callback);
    form.emplace_back("StatusCallbackMethod", "POST");
  }
  for (const std::string& event : request.status_callback_events) {
    form.emplace_back("StatusCallbackEvent", event);
  }
  if (request.machine_detection) {
    form.emplace_back("MachineDetection", *request.machine_detection);
  }
  if (request.timeout) {
    form.emplace_back("Timeout", absl::StrCat(absl::ToInt64Seconds(*request.timeout)));
  }
  return Request<CallResource>("POST", "/Calls.json", http::EncodeForm(form), &ParseCall);
}

TwilioResult<MessageResource> TwilioRestClient::FetchMessage(std::string_view sid) {
  return Request<MessageResource>("GET", absl::StrCat("/Messages/", EscapeSegment(sid), ".json"),
                                  {}, &ParseMessage);
}

TwilioResult<CallResource> TwilioRestClient::FetchCall(std::string_view sid) {
  return Request<CallResource>("GET", absl::StrCat("/Calls/", EscapeSegment(sid), ".json"), {},
                               &ParseCall);
}

}  // namespace klaxon::twilio
