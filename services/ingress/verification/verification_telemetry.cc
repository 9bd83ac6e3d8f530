#include "services/ingress/verification/verification_telemetry.h"

#include <string>

#include "common/channels/channel_switches.h"
#include "common/verification_status/verification_status.h"

namespace klaxon::ingress::verification {
namespace {

std::string RefusalLabel(StartRefusal refusal) {
  switch (refusal) {
    case StartRefusal::kRegion:
      return "region";
    case StartRefusal::kCallerLimit:
      return "caller";
    case StartRefusal::kPrefixLimit:
      return "prefix";
    case StartRefusal::kRecipientLimit:
      return "recipient";
    case StartRefusal::kDailySpend:
      return "spend";
  }
  return "unknown";
}

}  // namespace

VerificationTelemetry::VerificationTelemetry(prometheus::Registry& registry,
                                             const log::Logger& logger)
    : sends_(prometheus::BuildCounter()
                 .Name("klaxon_verification_sends_total")
                 .Help("Verification codes handed to Kafka, by channel and whether the start was "
                       "a resend of a pending code (resent) or a new verification (new)")
                 .Register(registry)),
      refusals_(prometheus::BuildCounter()
                    .Name("klaxon_verification_refusals_total")
                    .Help("StartVerification calls refused before a code was sent, by limit: "
                          "region (KLAXON_VERIFY_REGIONS), caller (KLAXON_VERIFY_CALLER_LIMITS), "
                          "prefix (KLAXON_VERIFY_PREFIX_LIMITS), recipient "
                          "(KLAXON_VERIFY_RECIPIENT_LIMITS) or spend (KLAXON_VERIFY_DAILY_SPEND)")
                    .Register(registry)),
      checks_(prometheus::BuildCounter()
                  .Name("klaxon_verification_checks_total")
                  .Help("CheckVerification results: approved, pending (wrong code), expired, "
                        "max_attempts, not_found")
                  .Register(registry)),
      time_to_approve_(
          prometheus::BuildHistogram()
              .Name("klaxon_verification_time_to_approve_seconds")
              .Help("From StartVerification to the check that approved it")
              .Register(registry)
              .Add({}, prometheus::Histogram::BucketBoundaries{5, 10, 20, 30, 45, 60, 90, 120, 180,
                                                               300, 600})),
      unrecorded_(prometheus::BuildCounter()
                      .Name("klaxon_verification_checks_unrecorded_total")
                      .Help("Checks whose record for audit was not published (Kafka refused it, "
                            "or the code's alert was never noted): the check stands, its trail "
                            "entry is missing")
                      .Register(registry)
                      .Add({})),
      logger_(logger) {}

void VerificationTelemetry::OnStarted(types::v1::Channel channel, bool resent) {
  sends_
      .Add({{"channel", std::string(channels::ChannelName(channel))},
            {"start", resent ? "resent" : "new"}})
      .Increment();
}

void VerificationTelemetry::OnRefused(StartRefusal refusal) {
  refusals_.Add({{"limit", RefusalLabel(refusal)}}).Increment();
}

void VerificationTelemetry::OnChecked(verify::v1::VerificationStatus status,
                                      std::optional<absl::Duration> time_to_approve) {
  checks_.Add({{"result", std::string(verification_status::Word(status))}}).Increment();
  if (time_to_approve.has_value()) {
    time_to_approve_.Observe(absl::ToDoubleSeconds(*time_to_approve));
  }
}

// The counter says that trail entries are missing; the line says why, so an SRE can tell Kafka
// refusing records (retry may help, see the publisher's own logs) from a code's alert that was
// never noted (a note refused by a full pool, or Redis down when it was due). The reason holds
// ids and Kafka's error, never the code or the number.
void VerificationTelemetry::OnCheckUnrecorded(const absl::Status& why) {
  unrecorded_.Increment();
  logger_.Warn("verification_check_unrecorded", {{"code", absl::StatusCodeToString(why.code())},
                                                 {"error", std::string(why.message())}});
}

}  // namespace klaxon::ingress::verification
