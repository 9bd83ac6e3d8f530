#include "tools/klaxonctl/format.h"

#include <array>
#include <cstdint>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "common/prototime/prototime.h"
#include "common/verification_status/verification_status.h"
#include "google/protobuf/timestamp.pb.h"
#include "google/protobuf/util/json_util.h"

namespace klaxon::ctl {
namespace {

using types::v1::AlertStatus;
using types::v1::Channel;

constexpr std::array<std::pair<AlertStatus, absl::string_view>, 9> kStatusNames = {{
    {types::v1::ALERT_STATUS_QUEUED, "QUEUED"},
    {types::v1::ALERT_STATUS_WAITING, "WAITING"},
    {types::v1::ALERT_STATUS_SENT, "SENT"},
    {types::v1::ALERT_STATUS_DELIVERED, "DELIVERED"},
    {types::v1::ALERT_STATUS_UNDELIVERED, "UNDELIVERED"},
    {types::v1::ALERT_STATUS_FAILED, "FAILED"},
    {types::v1::ALERT_STATUS_SUPPRESSED, "SUPPRESSED"},
    {types::v1::ALERT_STATUS_CANCELLED, "CANCELLED"},
    {types::v1::ALERT_STATUS_ACKNOWLEDGED, "ACKNOWLEDGED"},
}};

constexpr std::array<std::pair<Channel, absl::string_view>, 2> kChannelNames = {{
    {types::v1::CHANNEL_SMS, "sms"},
    {types::v1::CHANNEL_VOICE, "voice"},
}};

std::string OrDash(absl::string_view text) { return text.empty() ? "-" : std::string(text); }

std::string FormatTimestamp(const google::protobuf::Timestamp& timestamp) {
  if (timestamp.seconds() == 0 && timestamp.nanos() == 0) return "-";
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", prototime::FromProto(timestamp),
                          absl::UTCTimeZone());
}

std::string FormatError(int32_t code, absl::string_view reason) {
  if (code == 0) return OrDash(reason);
  if (reason.empty()) return absl::StrCat(code);
  return absl::StrCat(code, ": ", reason);
}

// `text` padded with spaces to `width` columns, counting a UTF-8 character (the recipient's
// bullets) as one column where printf's widths count bytes.
std::string PadColumn(absl::string_view text, size_t width) {
  size_t columns = 0;
  for (const char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++columns;
  }
  return absl::StrCat(text, std::string(columns < width ? width - columns : 0, ' '));
}

}  // namespace

absl::string_view StatusName(AlertStatus status) {
  for (const auto& [value, name] : kStatusNames) {
    if (value == status) return name;
  }
  return "UNSPECIFIED";
}

absl::StatusOr<AlertStatus> ParseStatus(absl::string_view name) {
  const std::string upper = absl::AsciiStrToUpper(name);
  for (const auto& [value, known] : kStatusNames) {
    if (known == upper) return value;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown status \"", name, "\"; expected ", StatusNameList()));
}

std::vector<std::string> StatusNames() {
  std::vector<std::string> names;
  for (const auto& [value, name] : kStatusNames) names.emplace_back(name);
  return names;
}

std::string StatusNameList() {
  std::vector<std::string> names = StatusNames();
  const std::string last = names.back();
  names.pop_back();
  return absl::StrCat(absl::StrJoin(names, ", "), " or ", last);
}

absl::string_view ChannelName(Channel channel) {
  for (const auto& [value, name] : kChannelNames) {
    if (value == channel) return name;
  }
  return "unspecified";
}

absl::StatusOr<Channel> ParseChannel(absl::string_view name) {
  const std::string lower = absl::AsciiStrToLower(name);
  for (const auto& [value, known] : kChannelNames) {
    if (known == lower) return value;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown channel \"", name, "\"; expected sms or voice"));
}

std::string MaskedRecipient(absl::string_view country_code, absl::string_view last4) {
  if (last4.empty()) return "unknown";
  if (country_code.empty()) return absl::StrCat("••• ", last4);
  return absl::StrCat("+", country_code, " ••• ", last4);
}

std::string MaskedRecipient(const alerts::v1::Alert& alert) {
  return MaskedRecipient(alert.recipient_country_code(), alert.recipient_last4());
}

std::string FormatAlert(const alerts::v1::Alert& alert) {
  std::string out;
  const auto line = [&out](absl::string_view label, absl::string_view value) {
    absl::StrAppendFormat(&out, "%-11s %s\n", label, value);
  };
  line("alert id", alert.alert_id());
  line("status", StatusName(alert.status()));
  line("channel", ChannelName(alert.channel()));
  line("recipient", MaskedRecipient(alert));
  if (!alert.template_name().empty()) {
    line("template", absl::StrCat(alert.template_name(), " (", alert.template_locale(), " v",
                                  alert.template_version(), ")"));
  }
  line("twilio sid", OrDash(alert.twilio_sid()));
  line("error", FormatError(alert.twilio_error_code(), alert.reason()));
  line("created", FormatTimestamp(alert.created_at()));
  line("updated", FormatTimestamp(alert.updated_at()));
  line("attempts", absl::StrCat(alert.attempts_size()));
  for (const alerts::v1::Attempt& attempt : alert.attempts()) {
    absl::StrAppendFormat(&out, "  #%-3d %-5s %-12s %-34s %s  %s\n", attempt.number(),
                          ChannelName(attempt.channel()), StatusName(attempt.status()),
                          OrDash(attempt.twilio_sid()), FormatTimestamp(attempt.occurred_at()),
                          FormatError(attempt.twilio_error_code(), attempt.reason()));
    if (attempt.has_charge()) {
      const alerts::v1::Charge& charge = attempt.charge();
      absl::StrAppendFormat(&out, "       cost %s %s", charge.amount(), charge.currency());
      if (charge.segments() > 0) absl::StrAppendFormat(&out, ", %d segments", charge.segments());
      if (charge.duration_seconds() > 0) {
        absl::StrAppendFormat(&out, ", %d s", charge.duration_seconds());
      }
      if (!charge.twilio_account().empty()) {
        absl::StrAppendFormat(&out, ", account %s", charge.twilio_account());
      }
      absl::StrAppend(&out, "\n");
    }
  }
  return out;
}

std::string FormatAlertListHeader() {
  return absl::StrFormat("%-36s  %-12s  %-5s  %-13s  %s\n", "ALERT ID", "STATUS", "CHAN",
                         "RECIPIENT", "CREATED");
}

std::string FormatAlertRow(const alerts::v1::Alert& alert) {
  return absl::StrFormat("%-36s  %-12s  %-5s  %s  %s\n", alert.alert_id(),
                         StatusName(alert.status()), ChannelName(alert.channel()),
                         PadColumn(MaskedRecipient(alert), 13),
                         FormatTimestamp(alert.created_at()));
}

std::string FormatStatusChange(const alerts::v1::Alert& alert) {
  return absl::StrFormat("%s  %-12s  %s\n", FormatTimestamp(alert.updated_at()),
                         StatusName(alert.status()),
                         FormatError(alert.twilio_error_code(), alert.reason()));
}

std::string FormatTrail(const alerts::v1::AuditTrail& trail) {
  std::string out = absl::StrCat("alert id    ", trail.alert_id(), "\n");
  if (trail.events().empty()) absl::StrAppend(&out, "no events recorded\n");
  for (const alerts::v1::AuditEvent& event : trail.events()) {
    absl::StrAppendFormat(
        &out, "%s  %-16s  #%-3d %-5s %-12s %-34s %s\n", FormatTimestamp(event.occurred_at()),
        event.kind(), event.attempt(),
        event.channel() == types::v1::CHANNEL_UNSPECIFIED ? "-" : ChannelName(event.channel()),
        event.status() == types::v1::ALERT_STATUS_UNSPECIFIED ? "-" : StatusName(event.status()),
        OrDash(event.twilio_sid()), FormatError(event.twilio_error_code(), event.reason()));
  }
  return out;
}

std::string FormatReport(const alerts::v1::DeliveryReport& report) {
  std::string out = absl::StrCat("period  ", FormatTimestamp(report.from()), " to ",
                                 FormatTimestamp(report.before()), " (before)\n");
  absl::StrAppendFormat(&out, "%-14s %8s %10s %8s %9s %8s %8s\n", "", "ALERTS", "SUCCEEDED",
                        "FAILED", "NOT SENT", "PENDING", "SUCCESS");
  const auto row = [&out](absl::string_view label, const alerts::v1::DeliveryReportRow& counts) {
    absl::StrAppendFormat(&out, "%-14s %8d %10d %8d %9d %8d %7.1f%%\n", label, counts.alerts(),
                          counts.succeeded(), counts.failed(), counts.not_sent(), counts.pending(),
                          counts.success_rate() * 100);
  };
  row("total", report.total());
  for (const auto& counts : report.by_channel()) row(counts.key(), counts);
  for (const auto& counts : report.by_country()) {
    row(counts.key().empty() ? "country ?" : absl::StrCat("country +", counts.key()), counts);
  }
  for (const auto& counts : report.by_error_code()) {
    row(absl::StrCat("error ", counts.key()), counts);
  }
  if (report.costs().empty())
    return absl::StrCat(out, "\ncost    none read back from Twilio yet\n");
  absl::StrAppendFormat(&out, "\n%-6s %-14s %14s %-4s %9s %9s %9s\n", "COST", "ACCOUNT", "AMOUNT",
                        "", "ATTEMPTS", "SEGMENTS", "SECONDS");
  for (const alerts::v1::CostReportRow& cost : report.costs()) {
    absl::StrAppendFormat(&out, "%-6s %-14s %14s %-4s %9d %9d %9d\n", ChannelName(cost.channel()),
                          OrDash(cost.twilio_account()), cost.amount(), cost.currency(),
                          cost.charged_attempts(), cost.segments(), cost.duration_seconds());
  }
  return out;
}

std::string FormatDeadLetterLine(const alerts::v1::DeadLetterRecord& record) {
  std::string line = absl::StrFormat(
      "%s  %-5s  %-14s  #%-2d  %s  %s", record.alert_id(), ChannelName(record.channel()),
      MaskedRecipient(record.recipient_country_code(), record.recipient_last4()), record.attempts(),
      FormatTimestamp(record.dead_lettered_at()),
      FormatError(record.twilio_error_code(), record.reason()));
  if (!record.replayed_as().empty()) absl::StrAppend(&line, "  replayed as ", record.replayed_as());
  if (!record.replayed_by().empty()) absl::StrAppend(&line, " by ", record.replayed_by());
  if (!record.caller().empty()) absl::StrAppend(&line, "  caller ", record.caller());
  return absl::StrCat(line, "\n");
}

namespace {

// U+2028 and U+2029 (line and paragraph separators) and the bidirectional controls U+202A to
// U+202E and U+2066 to U+2069, which can rearrange how the rest of a line reads: their code point
// if `text` starts with one (each is three bytes of UTF-8), else 0.
char32_t LayoutControlAt(std::string_view text) {
  if (text.size() < 3 || text[0] != '\xe2') return 0;
  const uint32_t second = static_cast<unsigned char>(text[1]);
  const uint32_t third = static_cast<unsigned char>(text[2]);
  if ((second & 0xc0) != 0x80 || (third & 0xc0) != 0x80) return 0;
  const uint32_t code_point = 0x2000 | ((second & 0x3f) << 6) | (third & 0x3f);
  const bool layout = (code_point >= 0x2028 && code_point <= 0x202e) ||
                      (code_point >= 0x2066 && code_point <= 0x2069);
  return layout ? static_cast<char32_t>(code_point) : 0;
}

// Text a stranger wrote, on one line and harmless to the terminal: backslashes and control
// characters (line breaks, the escape sequences a terminal would obey, C1 controls such as
// U+009B, line separators and bidirectional controls) are written as escapes; every other UTF-8
// character stays as it is.
std::string OneLine(std::string_view text) {
  std::string line;
  for (size_t i = 0; i < text.size(); ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    const auto next = i + 1 < text.size() ? static_cast<unsigned char>(text[i + 1]) : 0;
    if (const char32_t layout = LayoutControlAt(text.substr(i)); layout != 0) {
      absl::StrAppendFormat(&line, "\\u%04x", static_cast<uint32_t>(layout));
      i += 2;
    } else if (byte == '\\') {
      line += "\\\\";
    } else if (byte == '\n') {
      line += "\\n";
    } else if (byte == '\r') {
      line += "\\r";
    } else if (byte == '\t') {
      line += "\\t";
    } else if (byte < 0x20 || byte == 0x7f) {
      absl::StrAppendFormat(&line, "\\x%02x", byte);
    } else if (byte == 0xc2 && next >= 0x80 && next <= 0x9f) {
      absl::StrAppendFormat(&line, "\\u%04x", next);
      ++i;
    } else {
      line += text[i];
    }
  }
  return line;
}

}  // namespace

std::string FormatInboundMessageLine(const alerts::v1::InboundMessage& message) {
  const std::string said = message.personal_data_shredded()
                               ? "(shredded)"
                               : absl::StrCat(message.from(), "  ", OneLine(message.body()));
  return absl::StrCat(FormatTimestamp(message.received_at()), "  ", message.message_sid(), "  ",
                      said, "\n");
}

std::string FormatDeadLetter(const alerts::v1::DeadLetterRecord& record) {
  std::string out;
  const auto line = [&out](absl::string_view label, absl::string_view value) {
    absl::StrAppendFormat(&out, "%-13s %s\n", label, value);
  };
  line("alert id", record.alert_id());
  if (!record.caller().empty()) line("caller", record.caller());
  line("channel", ChannelName(record.channel()));
  line("recipient", record.recipient().empty()
                        ? MaskedRecipient(record.recipient_country_code(), record.recipient_last4())
                        : record.recipient());
  line("text", OrDash(record.text()));
  line("attempt", absl::StrCat(record.attempts()));
  line("error", FormatError(record.twilio_error_code(), record.reason()));
  if (!record.cause().empty()) line("cause", record.cause());
  line("dead-lettered", FormatTimestamp(record.dead_lettered_at()));
  line("replayed as", OrDash(record.replayed_as()));
  line("replayed at", FormatTimestamp(record.replayed_at()));
  if (!record.replayed_by().empty()) line("replayed by", record.replayed_by());
  return out;
}

std::string FormatVerificationStart(const verify::v1::StartVerificationResponse& started) {
  std::string out;
  const auto line = [&out](absl::string_view label, absl::string_view value) {
    absl::StrAppendFormat(&out, "%-15s %s\n", label, value);
  };
  line("verification id", started.verification_id());
  line("expires", FormatTimestamp(started.expires_at()));
  line("resent", started.resent() ? "yes: the same code, sent again" : "no");
  line("alert id", OrDash(started.alert_id()));
  return out;
}

std::string FormatVerificationCheck(const verify::v1::CheckVerificationResponse& checked) {
  if (checked.status() != verify::v1::VERIFICATION_STATUS_PENDING) {
    return absl::StrCat(std::string(verification_status::Word(checked.status())), "\n");
  }
  return absl::StrCat("pending (", checked.checks_left(),
                      checked.checks_left() == 1 ? " check" : " checks", " left)\n");
}

absl::StatusOr<std::string> ToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string json;
  if (const auto status = google::protobuf::util::MessageToJsonString(message, &json, options);
      !status.ok()) {
    return absl::InternalError(absl::StrCat("cannot render JSON: ", status.ToString()));
  }
  return json;
}

}  // namespace klaxon::ctl
