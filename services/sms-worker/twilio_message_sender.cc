#include "services/sms-worker/twilio_message_sender.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/prototime/prototime.h"
#include "common/twilio/webhook_routes.h"
#include "services/delivery/senders.h"
#include "services/delivery/twilio_outcome.h"

namespace klaxon::sms {
namespace {

constexpr absl::Duration kMinValidityPeriod = absl::Seconds(1);
constexpr absl::Duration kMaxValidityPeriod = absl::Seconds(36000);

}  // namespace

std::optional<absl::Duration> ValidityPeriodFor(const events::v1::AlertRequested& request,
                                                absl::Time now) {
  if (!request.has_deadline()) return std::nullopt;
  const absl::Time deadline = prototime::FromProto(request.deadline());
  // Whole seconds, rounded down, so the message never outlives the deadline.
  const absl::Duration left = absl::Trunc(deadline - now, absl::Seconds(1));
  return std::clamp(left, kMinValidityPeriod, kMaxValidityPeriod);
}

twilio::CreateMessageRequest MessageRequestFor(const events::v1::AlertRequested& request,
                                               const transit::AlertPersonalData& personal,
                                               const delivery::PacedSender& from,
                                               const MessageSenderOptions& options,
                                               absl::Time now) {
  twilio::CreateMessageRequest message{.to = personal.recipient, .body = personal.text};
  if (from.kind == delivery::SenderKind::kMessagingService) {
    message.messaging_service_sid = from.address;
  } else {
    message.from = from.address;
  }
  if (!options.webhook_public_url.empty()) {
    message.status_callback =
        twilio::CallbackUrl(options.webhook_public_url, twilio::kMessageStatusPath,
                            request.header().alert_id(), request.header().attempt());
  }
  message.validity_period = ValidityPeriodFor(request, now);
  return message;
}

TwilioMessageSender::TwilioMessageSender(twilio::TwilioRestClient& client,
                                         MessageSenderOptions options, timing::Clock& clock)
    : client_(client), options_(std::move(options)), clock_(clock) {}

delivery::SendResult TwilioMessageSender::Send(const events::v1::AlertRequested& request,
                                               const transit::AlertPersonalData& personal,
                                               const delivery::PacedSender& from) {
  twilio::TwilioResult<twilio::MessageResource> result =
      client_.CreateMessage(MessageRequestFor(request, personal, from, options_, clock_.Now()));
  if (!result.ok()) return delivery::ClassifyTwilioError(result.error());
  return {.kind = delivery::SendResult::Kind::kAccepted,
          .sid = result.value().sid,
          .provider_status = result.value().status,
          .account_evidence = delivery::SendResult::AccountEvidence::kAnswered};
}

delivery::SendResult SettleFromMessages(const twilio::ResourcePage<twilio::MessageResource>& page,
                                        std::string_view text, absl::Time sent_at) {
  const absl::Time since = sent_at - twilio::kClockSlack;
  for (const twilio::MessageResource& message : page.resources) {
    if (message.date_created && *message.date_created >= since && message.body == text) {
      return {.kind = delivery::SendResult::Kind::kAccepted,
              .sid = message.sid,
              .provider_status = message.status,
              .reason = "settled: Twilio lists the attempt's message"};
    }
  }
  if (page.has_more && !page.resources.empty() && page.resources.back().date_created &&
      *page.resources.back().date_created >= since) {
    return {.kind = delivery::SendResult::Kind::kUnknown,
            .reason = "settlement: more recent messages to the recipient than one page holds"};
  }
  return {.kind = delivery::SendResult::Kind::kRetryable,
          .reason = "settled: Twilio has no message of this attempt"};
}

delivery::SendResult TwilioMessageSender::Settle(const events::v1::AlertRequested&,
                                                 const transit::AlertPersonalData& personal,
                                                 absl::Time sent_at) {
  // Filtering on DateSent would miss a message still queued (its date_sent is null), so the
  // list is filtered by To only and the attempt's window is applied here. Not by From: the
  // attempt's sender is not kept, and a Messaging Service's message is from the number it picked.
  const auto listed = client_.ListMessages({.to = personal.recipient});
  if (!listed.ok()) {
    return {.kind = delivery::SendResult::Kind::kUnknown,
            .reason = absl::StrCat("settlement: Twilio's message list could not be read (",
                                   twilio::ToStatus(listed.error()).message(), ")")};
  }
  return SettleFromMessages(listed.value(), personal.text, sent_at);
}

delivery::StatusReadBack ReadBackOf(const twilio::MessageResource& message) {
  delivery::StatusReadBack read;
  events::v1::MessageStatusUpdate& update = *read.status.mutable_message_status();
  update.set_message_sid(message.sid);
  update.set_account_sid(message.account_sid);
  update.set_message_status(message.status);
  update.set_error_code(message.error_code.value_or(0));
  if (message.charge) {
    events::v1::AttemptCharge& charge = read.charge.emplace();
    charge.set_sid(message.sid);
    charge.set_amount_micros(message.charge->micros);
    charge.set_currency(message.charge->currency);
    charge.set_segments(static_cast<uint32_t>(std::max(message.num_segments, 0)));
  }
  return read;
}

absl::StatusOr<delivery::StatusReadBack> TwilioMessageSender::ReadStatus(
    const events::v1::AlertRequested&, const std::string& sid) {
  const auto fetched = client_.FetchMessage(sid);
  if (!fetched.ok()) return twilio::ToStatus(fetched.error());
  return ReadBackOf(fetched.value());
}

}  // namespace klaxon::sms
