// How klaxonctl names statuses and channels and renders an alert or a verification for a person
// or as JSON. An alert's recipient is shown only as country code and last four digits, the most
// the API returns.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "klaxon/alerts/v1/alerts.pb.h"
#include "klaxon/alerts/v1/inbound_messages.pb.h"
#include "klaxon/types/v1/types.pb.h"
#include "klaxon/verify/v1/verify.pb.h"

namespace klaxon::ctl {

// "QUEUED", "SENT", ... as callers know them; "UNSPECIFIED" for anything else.
absl::string_view StatusName(types::v1::AlertStatus status);
// Accepts the names StatusName returns, in any case.
absl::StatusOr<types::v1::AlertStatus> ParseStatus(absl::string_view name);
// Every name ParseStatus accepts, in rank order; and the same as prose ("QUEUED, ... or X").
std::vector<std::string> StatusNames();
std::string StatusNameList();

// "sms" or "voice"; "unspecified" for anything else.
absl::string_view ChannelName(types::v1::Channel channel);
// Accepts "sms" or "voice", in any case.
absl::StatusOr<types::v1::Channel> ParseChannel(absl::string_view name);

// "+1 ••• 2671"; "unknown" when audit returned no digits.
std::string MaskedRecipient(absl::string_view country_code, absl::string_view last4);
std::string MaskedRecipient(const alerts::v1::Alert& alert);

// A multi-line, aligned description of the alert and its attempts, ending in a newline.
std::string FormatAlert(const alerts::v1::Alert& alert);

// One line per alert of a list: id, status, channel, recipient, created; and its header line.
std::string FormatAlertListHeader();
std::string FormatAlertRow(const alerts::v1::Alert& alert);

// One line for a status `watch` saw: when the alert last changed, its status and error.
std::string FormatStatusChange(const alerts::v1::Alert& alert);

// The alert's events, one aligned line each, oldest first.
std::string FormatTrail(const alerts::v1::AuditTrail& trail);

// The report as a table: total, then a row per channel, country code and Twilio error code.
std::string FormatReport(const alerts::v1::DeliveryReport& report);

// One line per dead letter for `dlq list`: id, channel, masked recipient, attempt, when, why,
// and the new alert's id once replayed.
std::string FormatDeadLetterLine(const alerts::v1::DeadLetterRecord& record);
// A multi-line, aligned description for `dlq show`, with the recipient and text when audit
// returned them (masked recipient and "-" once they were shredded).
std::string FormatDeadLetter(const alerts::v1::DeadLetterRecord& record);

// One line per inbound message for `inbound`: when it arrived, its MessageSid, the sender and the
// text on one line (line breaks shown as \n); "(shredded)" once retention destroyed them.
std::string FormatInboundMessageLine(const alerts::v1::InboundMessage& message);

// What `verify start` began or resent: the verification's id, its expiry, whether the code was
// sent again, and the alert carrying it; aligned lines.
std::string FormatVerificationStart(const verify::v1::StartVerificationResponse& started);
// One line for `verify check`: the status (verification_status::Word), and while pending how many
// checks are left.
std::string FormatVerificationCheck(const verify::v1::CheckVerificationResponse& checked);

// One line of proto3 JSON with the schema's field names and every field present.
absl::StatusOr<std::string> ToJson(const google::protobuf::Message& message);

}  // namespace klaxon::ctl
