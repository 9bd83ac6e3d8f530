#include "services/ingress/twilio_webhook.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/ids/uuid.h"
#include "common/sms_acks/ack_reply.h"
#include "common/twilio/statuses.h"
#include "common/twilio/webhook_routes.h"
#include "google/protobuf/util/time_util.h"

namespace klaxon::ingress {
namespace {

using events::v1::TwilioEvent;

constexpr std::array<std::string_view, 6> kOptOutKeywords = {"STOP",   "STOPALL", "UNSUBSCRIBE",
                                                             "CANCEL", "END",     "QUIT"};
constexpr std::array<std::string_view, 3> kOptInKeywords = {"START", "YES", "UNSTOP"};
constexpr std::array<std::string_view, 2> kHelpKeywords = {"HELP", "INFO"};

// The first value of `key`, or nullopt.
std::optional<std::string> Find(const http::FormParams& params, std::string_view key) {
  for (const auto& [name, value] : params) {
    if (name == key) return value;
  }
  return std::nullopt;
}

absl::StatusOr<std::string> Required(const http::FormParams& params, std::string_view key) {
  std::optional<std::string> value = Find(params, key);
  if (!value || value->empty()) {
    return absl::InvalidArgumentError(absl::StrCat(std::string(key), " is required"));
  }
  return *std::move(value);
}

// A whole number in [0, max] when present and non-empty, else 0.
template <typename Int>
absl::StatusOr<Int> OptionalNumber(const http::FormParams& params, std::string_view key) {
  const std::optional<std::string> value = Find(params, key);
  if (!value || value->empty()) return Int{0};
  int64_t parsed = 0;
  if (!absl::SimpleAtoi(*value, &parsed) || parsed < 0 ||
      parsed > static_cast<int64_t>(std::numeric_limits<Int>::max())) {
    return absl::InvalidArgumentError(absl::StrCat(std::string(key), " must be a whole number"));
  }
  return static_cast<Int>(parsed);
}

std::string UpperTrimmed(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  std::string upper(text);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return upper;
}

bool Contains(const auto& keywords, std::string_view word) {
  return std::find(keywords.begin(), keywords.end(), word) != keywords.end();
}

// Fills header.alert_id and header.attempt from the callback URL's query.
absl::Status ReadAlertReference(const WebhookInput& input, events::v1::EventHeader& header) {
  const std::optional<std::string> alert_id = Find(*input.url_query, twilio::kAlertIdParameter);
  if (!alert_id) return absl::OkStatus();
  if (!ids::IsUuid(*alert_id)) {
    return absl::InvalidArgumentError("alert_id in the URL must be a UUID");
  }
  absl::StatusOr<uint32_t> attempt =
      OptionalNumber<uint32_t>(*input.url_query, twilio::kAttemptParameter);
  if (!attempt.ok()) return attempt.status();
  header.set_alert_id(*alert_id);
  header.set_attempt(*attempt == 0 ? 1 : *attempt);
  return absl::OkStatus();
}

absl::Status FillMessageStatus(const http::FormParams& params, TwilioEvent& event, std::string& sid,
                               std::string& status) {
  absl::StatusOr<std::string> message_sid = Required(params, "MessageSid");
  absl::StatusOr<std::string> message_status = Required(params, "MessageStatus");
  absl::StatusOr<int32_t> error_code = OptionalNumber<int32_t>(params, "ErrorCode");
  for (const absl::Status& s :
       {message_sid.status(), message_status.status(), error_code.status()}) {
    if (!s.ok()) return s;
  }
  auto& update = *event.mutable_message_status();
  update.set_message_sid(*message_sid);
  update.set_account_sid(Find(params, "AccountSid").value_or(""));
  update.set_message_status(*message_status);
  update.set_error_code(*error_code);
  sid = *message_sid;
  status = *message_status;
  return absl::OkStatus();
}

absl::Status FillCallStatus(const http::FormParams& params, TwilioEvent& event, std::string& sid,
                            std::string& status, uint32_t& sequence) {
  absl::StatusOr<std::string> call_sid = Required(params, "CallSid");
  absl::StatusOr<std::string> call_status = Required(params, "CallStatus");
  absl::StatusOr<uint32_t> sequence_number = OptionalNumber<uint32_t>(params, "SequenceNumber");
  absl::StatusOr<uint32_t> duration = OptionalNumber<uint32_t>(params, "CallDuration");
  absl::StatusOr<int32_t> error_code = OptionalNumber<int32_t>(params, "ErrorCode");
  for (const absl::Status& s : {call_sid.status(), call_status.status(), sequence_number.status(),
                                duration.status(), error_code.status()}) {
    if (!s.ok()) return s;
  }
  auto& update = *event.mutable_call_status();
  update.set_call_sid(*call_sid);
  update.set_account_sid(Find(params, "AccountSid").value_or(""));
  update.set_call_status(*call_status);
  update.set_sequence_number(*sequence_number);
  update.set_call_duration_seconds(*duration);
  update.set_answered_by(Find(params, "AnsweredBy").value_or(""));
  update.set_error_code(*error_code);
  sid = *call_sid;
  status = *call_status;
  sequence = *sequence_number;
  return absl::OkStatus();
}

// STOP-like keywords and OptOutType=STOP opt out, START-like ones and OptOutType=START opt back
// in; anything else (HELP included) is an ordinary inbound message.
absl::Status FillInbound(const http::FormParams& params, const InboundPrivacy& privacy,
                         TwilioEvent& event, std::string& sid, std::string& from,
                         std::string& answerable_at) {
  absl::StatusOr<std::string> message_sid = Required(params, "MessageSid");
  absl::StatusOr<std::string> sender = Required(params, "From");
  absl::StatusOr<std::string> to = Required(params, "To");
  for (const absl::Status& s : {message_sid.status(), sender.status(), to.status()}) {
    if (!s.ok()) return s;
  }
  const std::string body = Find(params, "Body").value_or("");
  const std::string opt_out_type = UpperTrimmed(Find(params, "OptOutType").value_or(""));
  const std::string keyword = UpperTrimmed(body);
  events::v1::KeywordMessage* consent = nullptr;
  if (opt_out_type == "STOP" || (opt_out_type.empty() && Contains(kOptOutKeywords, keyword))) {
    consent = event.mutable_opt_out();
  } else if (opt_out_type == "START" ||
             (opt_out_type.empty() && Contains(kOptInKeywords, keyword))) {
    consent = event.mutable_opt_in();
  }
  if (consent != nullptr) {
    consent->set_message_sid(*message_sid);
    consent->set_account_sid(Find(params, "AccountSid").value_or(""));
    consent->set_to(*to);
    consent->set_keyword(opt_out_type.empty() ? keyword : opt_out_type);
    if (absl::Status sealed = privacy.transit.SealKeyword(*sender, *consent); !sealed.ok()) {
      return sealed;
    }
  } else {
    const bool asks_for_help =
        opt_out_type == "HELP" || (opt_out_type.empty() && Contains(kHelpKeywords, keyword));
    if (!asks_for_help && !sms_acks::ParseAckReply(body).has_value()) answerable_at = *to;
    auto& message = *event.mutable_inbound_message();
    message.set_message_sid(*message_sid);
    message.set_account_sid(Find(params, "AccountSid").value_or(""));
    message.set_to(*to);
    if (absl::Status sealed = privacy.transit.SealInbound({.from = *sender, .body = body}, message);
        !sealed.ok()) {
      return sealed;
    }
  }
  sid = *message_sid;
  from = privacy.tokens.Token(*sender);
  return absl::OkStatus();
}

absl::Status FillGather(const http::FormParams& params, TwilioEvent& event, std::string& sid,
                        std::string& digits) {
  absl::StatusOr<std::string> call_sid = Required(params, "CallSid");
  if (!call_sid.ok()) return call_sid.status();
  const std::optional<std::string> pressed = Find(params, "Digits");
  if (!pressed) return absl::InvalidArgumentError("Digits is required");
  auto& press = *event.mutable_key_press();
  press.set_call_sid(*call_sid);
  press.set_account_sid(Find(params, "AccountSid").value_or(""));
  press.set_digits(*pressed);
  sid = *call_sid;
  digits = *pressed;
  return absl::OkStatus();
}

}  // namespace

std::optional<WebhookRoute> RouteForPath(std::string_view path) {
  // A URL typed into Twilio's console with a trailing slash names the same route (the signature
  // is over the URL as requested, slash and all).
  if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  if (path == twilio::kMessageStatusPath) return WebhookRoute::kMessageStatus;
  if (path == twilio::kCallStatusPath) return WebhookRoute::kCallStatus;
  if (path == twilio::kInboundMessagePath) return WebhookRoute::kInboundMessage;
  if (path == twilio::kGatherPath) return WebhookRoute::kGather;
  return std::nullopt;
}

std::string_view RouteName(WebhookRoute route) {
  switch (route) {
    case WebhookRoute::kMessageStatus:
      return "message_status";
    case WebhookRoute::kCallStatus:
      return "call_status";
    case WebhookRoute::kInboundMessage:
      return "inbound_message";
    case WebhookRoute::kGather:
      return "gather";
  }
  return "unknown";
}

bool ExpectsTwiml(WebhookRoute route) {
  return route == WebhookRoute::kInboundMessage || route == WebhookRoute::kGather;
}

bool IsStatusRoute(WebhookRoute route) {
  return route == WebhookRoute::kMessageStatus || route == WebhookRoute::kCallStatus;
}

absl::StatusOr<InterpretedWebhook> InterpretWebhook(const WebhookInput& input,
                                                    const InboundPrivacy& privacy) {
  InterpretedWebhook result;
  TwilioEvent& event = result.event;
  events::v1::EventHeader& header = *event.mutable_header();
  *header.mutable_occurred_at() = google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(
      absl::ToUnixMicros(input.received_at));
  if (absl::Status status = ReadAlertReference(input, header); !status.ok()) return status;

  // The SID-based dedupe key parts: SID, status (or what stands for it) and sequence number.
  std::string sid;
  std::string status;
  uint32_t sequence = 0;
  std::string sender_token;
  absl::Status filled;
  switch (input.route) {
    case WebhookRoute::kMessageStatus:
      header.set_channel(types::v1::CHANNEL_SMS);
      filled = FillMessageStatus(*input.params, event, sid, status);
      if (filled.ok() && twilio::IsFinalMessageStatus(status)) {
        result.final_sid = sid;
      }
      break;
    case WebhookRoute::kCallStatus:
      header.set_channel(types::v1::CHANNEL_VOICE);
      filled = FillCallStatus(*input.params, event, sid, status, sequence);
      if (filled.ok() && twilio::IsFinalCallStatus(status)) {
        result.final_sid = sid;
      }
      break;
    case WebhookRoute::kInboundMessage:
      header.set_channel(types::v1::CHANNEL_SMS);
      filled = FillInbound(*input.params, privacy, event, sid, sender_token, result.answerable_at);
      status = "received";
      break;
    case WebhookRoute::kGather:
      header.set_channel(types::v1::CHANNEL_VOICE);
      filled = FillGather(*input.params, event, sid, status);
      status = "gather-" + status;
      break;
  }
  if (!filled.ok()) return filled;

  result.dedupe_key = input.idempotency_token && !input.idempotency_token->empty()
                          ? absl::StrCat("token:", *input.idempotency_token)
                          : absl::StrCat("sid:", sid, ":", status, ":", sequence);
  event.set_dedupe_key(result.dedupe_key);
  // One alert's events stay in order with its other events; one sender's consent changes and
  // messages stay in order with each other, keyed by the sender's token, never the number.
  result.partition_key = !header.alert_id().empty() ? header.alert_id()
                         : !sender_token.empty()    ? sender_token
                                                    : sid;
  return result;
}

}  // namespace klaxon::ingress
