#include "services/voice-worker/twilio_call_sender.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/delivery/twilio_outcome.h"
#include "common/twilio/webhook_routes.h"

namespace klaxon::voice {
namespace {

std::string XmlEscape(std::string_view text) {
  std::string escaped;
  escaped.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        escaped += "&amp;";
        break;
      case '<':
        escaped += "&lt;";
        break;
      case '>':
        escaped += "&gt;";
        break;
      case '"':
        escaped += "&quot;";
        break;
      case '\'':
        escaped += "&apos;";
        break;
      default:
        // XML 1.0 forbids other control characters; a stray one would make Twilio refuse the
        // whole TwiML, so it is read as a pause instead.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') {
          escaped += ' ';
        } else {
          escaped += c;
        }
    }
  }
  return escaped;
}

}  // namespace

std::string SayTwiml(std::string_view text, std::string_view voice, std::string_view language) {
  return absl::StrCat("<Response><Say voice=\"", XmlEscape(voice), "\" language=\"",
                      XmlEscape(language), "\">", XmlEscape(text), "</Say></Response>");
}

twilio::CreateCallRequest CallRequestFor(const events::v1::AlertRequested& request,
                                         const CallSenderOptions& options) {
  twilio::CreateCallRequest call{
      .to = request.recipient(),
      .from = options.from,
      .twiml = SayTwiml(request.text(), options.voice, options.language)};
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

delivery::SendResult TwilioCallSender::Send(const events::v1::AlertRequested& request) {
  const twilio::CreateCallRequest call = CallRequestFor(request, options_);
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
          .provider_status = result.value().status};
}

}  // namespace klaxon::voice
