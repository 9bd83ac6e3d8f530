#include "services/voice-worker/twilio_call_sender.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/twilio/twiml.h"
#include "common/twilio/webhook_routes.h"
#include "services/delivery/twilio_outcome.h"

namespace klaxon::voice {

std::string AlertTwiml(std::string_view text, std::string_view gather_action,
                       std::string_view voice, std::string_view language) {
  const std::string say_open = absl::StrCat("<Say voice=\"", twilio::XmlEscape(voice),
                                            "\" language=\"", twilio::XmlEscape(language), "\">");
  // Without an action URL a key press would have nowhere to go, so the text is only read out.
  if (gather_action.empty()) {
    return absl::StrCat("<Response>", say_open, twilio::XmlEscape(text), "</Say></Response>");
  }
  return absl::StrCat("<Response><Gather numDigits=\"1\" action=\"",
                      twilio::XmlEscape(gather_action), "\" method=\"POST\">", say_open,
                      twilio::XmlEscape(text), " ", kPressAnyKey, "</Say></Gather>", say_open,
                      kNoKeyPressed, "</Say></Response>");
}

twilio::CreateCallRequest CallRequestFor(const events::v1::AlertRequested& request,
                                         const transit::AlertPersonalData& personal,
                                         std::string_view from, const CallSenderOptions& options) {
  const types::v1::VoicePolicy& policy = request.voice();
  const std::string gather_action =
      options.webhook_public_url.empty() || policy.read_only()
          ? std::string()
          : twilio::CallbackUrl(options.webhook_public_url, twilio::kGatherPath,
                                request.header().alert_id(), request.header().attempt());
  twilio::CreateCallRequest call{
      .to = personal.recipient,
      .from = std::string(from),
      .twiml = AlertTwiml(personal.text, gather_action,
                          policy.voice_name().empty() ? options.voice : policy.voice_name(),
                          policy.language().empty() ? options.language : policy.language()),
      .machine_detection = "Enable"};
  if (!options.webhook_public_url.empty()) {
    call.status_callback =
        twilio::CallbackUrl(options.webhook_public_url, twilio::kCallStatusPath,
                            request.header().alert_id(), request.header().attempt());
    call.status_callback_events = {"initiated", "ringing", "answered", "completed"};
  }
  return call;
}

TwilioCallSender::TwilioCallSender(twilio::TwilioRestClient& client, CallSenderOptions options)
    : client_(client), options_(std::move(options)) {}

delivery::SendResult TwilioCallSender::Send(const events::v1::AlertRequested& request,
                                            const transit::AlertPersonalData& personal,
                                            const delivery::PacedSender& from) {
  const twilio::CreateCallRequest call = CallRequestFor(request, personal, from.address, options_);
  if (call.twiml.size() > kMaxTwimlLength) {
    return {.kind = delivery::SendResult::Kind::kRejected,
            .reason = absl::StrCat("the alert text is too long to read out in one call (its TwiML "
                                   "has ",
                                   call.twiml.size(), " characters, Twilio takes ", kMaxTwimlLength,
                                   ")")};
  }
  twilio::TwilioResult<twilio::CallResource> result = client_.CreateCall(call);
  if (!result.ok()) return delivery::ClassifyTwilioError(result.error());
  return {.kind = delivery::SendResult::Kind::kAccepted,
          .sid = result.value().sid,
          .provider_status = result.value().status,
          .account_evidence = delivery::SendResult::AccountEvidence::kAnswered};
}

delivery::SendResult SettleFromCalls(const twilio::ResourcePage<twilio::CallResource>& page,
                                     absl::Time sent_at) {
  const absl::Time since = sent_at - twilio::kClockSlack;
  if (page.has_more && !page.resources.empty() && page.resources.back().date_created &&
      *page.resources.back().date_created >= since) {
    return {.kind = delivery::SendResult::Kind::kUnknown,
            .reason = "settlement: more recent calls to the recipient than one page holds"};
  }
  const twilio::CallResource* earliest = nullptr;
  for (const twilio::CallResource& call : page.resources) {
    if (call.date_created && *call.date_created >= since) earliest = &call;  // newest first
  }
  if (earliest == nullptr) {
    return {.kind = delivery::SendResult::Kind::kRetryable,
            .reason = "settled: Twilio has no call of this attempt"};
  }
  return {.kind = delivery::SendResult::Kind::kAccepted,
          .sid = earliest->sid,
          .provider_status = earliest->status,
          .reason = "settled: Twilio lists the attempt's call"};
}

delivery::SendResult TwilioCallSender::Settle(const events::v1::AlertRequested&,
                                              const transit::AlertPersonalData& personal,
                                              absl::Time sent_at) {
  // Filtering on StartTime would miss a call still queued or ringing (its start_time is null),
  // so the list is filtered by To only (the caller ID is the routing rule's, one of several) and
  // the attempt's window is applied here.
  const auto listed = client_.ListCalls({.to = personal.recipient});
  if (!listed.ok()) {
    return {.kind = delivery::SendResult::Kind::kUnknown,
            .reason = absl::StrCat("settlement: Twilio's call list could not be read (",
                                   twilio::ToStatus(listed.error()).message(), ")")};
  }
  return SettleFromCalls(listed.value(), sent_at);
}

delivery::StatusReadBack ReadBackOf(const twilio::CallResource& call) {
  delivery::StatusReadBack read;
  events::v1::CallStatusUpdate& update = *read.status.mutable_call_status();
  update.set_call_sid(call.sid);
  update.set_account_sid(call.account_sid);
  update.set_call_status(call.status);
  update.set_answered_by(call.answered_by);
  const auto seconds =
      static_cast<uint32_t>(absl::ToInt64Seconds(call.duration.value_or(absl::ZeroDuration())));
  if (call.duration) update.set_call_duration_seconds(seconds);
  if (call.charge) {
    events::v1::AttemptCharge& charge = read.charge.emplace();
    charge.set_sid(call.sid);
    charge.set_amount_micros(call.charge->micros);
    charge.set_currency(call.charge->currency);
    charge.set_duration_seconds(seconds);
  }
  return read;
}

absl::StatusOr<delivery::StatusReadBack> TwilioCallSender::ReadStatus(
    const events::v1::AlertRequested&, const std::string& sid) {
  const auto fetched = client_.FetchCall(sid);
  if (!fetched.ok()) return twilio::ToStatus(fetched.error());
  return ReadBackOf(fetched.value());
}

}  // namespace klaxon::voice
