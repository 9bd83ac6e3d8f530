#include "tools/klaxonctl/cli.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/algorithm/container.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "common/grpcutil/client_tls_flags.h"
#include "common/prototime/prototime.h"
#include "tools/klaxonctl/alert_client.h"
#include "tools/klaxonctl/caller_callbacks.h"
#include "tools/klaxonctl/format.h"
#include "tools/klaxonctl/inbound_client.h"
#include "tools/klaxonctl/twilio_webhook.h"
#include "tools/klaxonctl/verification_client.h"
#include "tools/klaxonctl/wait.h"

namespace klaxon::ctl {
namespace {

constexpr absl::string_view kDefaultIngress = "127.0.0.1:50051";
constexpr absl::string_view kDefaultAudit = "127.0.0.1:50052";
constexpr absl::string_view kDefaultTimeout = "10s";
// A single GetAlert while waiting never needs longer than this, even with a long --timeout.
constexpr absl::Duration kMaxPollRpcTimeout = absl::Seconds(5);

struct GlobalOptions {
  std::string ingress;
  std::string audit;
  std::string api_key;
  std::string timeout;
  grpcutil::ClientTlsOptions tls;
};

struct SendOptions {
  std::string to;
  std::vector<std::string> escalate;  // NUMBER[:ATTEMPTS[:SPACING]] per step, instead of --to
  std::string text;
  std::string template_name;        // instead of --text: a stored template
  std::string locale;               // the template's locale
  std::vector<std::string> params;  // the template's parameters, key=value
  std::string channel = "sms";
  std::string idempotency_key;
  std::vector<std::string> meta;
  std::string ttl;
  std::string send_at;
  std::string priority;
  std::string time_zone;
  std::string callback_url;
  uint32_t max_calls = 0;
  std::string call_spacing;
  bool sms_fallback = false;
  bool ack_by_reply = false;
  bool json = false;
};

// cancel and ack: an alert and how to print the answer.
struct AlertIdOptions {
  std::string alert_id;
  bool json = false;
};

struct GetOptions {
  std::string alert_id;
  std::string wait_for;
  bool json = false;
};

struct ListOptions {
  std::string status;
  std::string channel;
  std::string to;
  std::string from;
  std::string before;
  int32_t limit = 0;
  std::string page_token;
  bool all = false;
  bool json = false;
};

struct WatchOptions {
  std::string alert_id;
  std::string max_wait;
  bool json = false;
};

struct TrailOptions {
  std::string alert_id;
  bool json = false;
};

struct ReportOptions {
  std::string from;
  std::string before = "now";
  bool json = false;
};

struct DlqOptions {
  std::string alert_id;  // show, replay
  bool all = false;      // list: replayed ones too
  int32_t page_size = 0;
  std::string page_token;
  bool json = false;
  // Operators (docs/adr/0012): every caller's, and filters; with them `replay` is a bulk replay.
  bool all_callers = false;
  std::string caller;
  std::string cause;
  int32_t error_code = 0;
  std::string from;
  std::string to;
};

struct InboundOptions {
  std::string sender;
  std::string from;
  std::string before;
  int32_t page_size = 0;
  std::string page_token;
  bool json = false;
};

struct VerifyOptions {
  std::string to;               // start; check, instead of --id
  std::string channel = "sms";  // start
  std::string locale;           // start; empty: ingress's default
  std::string wording;          // start; empty: the locale's words
  std::string id;               // check, instead of --to; cancel
  std::string code;             // check
  bool json = false;
};

// A bare number is seconds, the unit people mean most often.
absl::StatusOr<absl::Duration> ParseFlagDuration(absl::string_view flag, std::string text,
                                                 bool allow_zero) {
  if (!text.empty() && absl::c_all_of(text, absl::ascii_isdigit)) text += "s";
  absl::Duration duration;
  if (!absl::ParseDuration(text, &duration) || duration < absl::ZeroDuration() ||
      (!allow_zero && duration == absl::ZeroDuration())) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, " must be a ", allow_zero ? "" : "positive ",
                     "duration such as 10s or 500ms, got \"", text, "\""));
  }
  return duration;
}

absl::StatusOr<absl::Duration> ParseTimeout(std::string text) {
  return ParseFlagDuration("--timeout", std::move(text), false);
}

// "now", a time relative to now, ago ("-24h", "-90m", "-7d") or ahead ("+10m", "+2d"), or RFC 3339
// ("2026-11-20T08:00:00Z").
absl::StatusOr<absl::Time> ParseTimeFlag(absl::string_view flag, absl::string_view text,
                                         absl::Time now) {
  if (text == "now") return now;
  const bool ago = absl::ConsumePrefix(&text, "-");
  if (ago || absl::ConsumePrefix(&text, "+")) {
    absl::Duration offset;
    int64_t days = 0;
    if (absl::ConsumeSuffix(&text, "d") && absl::SimpleAtoi(text, &days) && days >= 0) {
      return ago ? now - absl::Hours(24 * days) : now + absl::Hours(24 * days);
    }
    if (absl::ParseDuration(text, &offset) && offset >= absl::ZeroDuration()) {
      return ago ? now - offset : now + offset;
    }
  } else {
    absl::Time time;
    std::string error;
    if (absl::ParseTime(absl::RFC3339_full, text, &time, &error)) return time;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      flag,
      " must be now, a time ago such as -24h or -7d, a time ahead such as +10m or +2d, or RFC "
      "3339 such as 2026-11-20T08:00:00Z"));
}

void SetTimestamp(absl::Time time, google::protobuf::Timestamp& out) {
  // Whole microseconds, as the audit service keeps them.
  prototime::SetTimestamp(absl::FromUnixMicros(absl::ToUnixMicros(time)), &out);
}

// The filter flags of `dlq list` and `dlq replay`; kInvalidArgument names a bad flag.
absl::StatusOr<alerts::v1::DeadLetterFilter> DlqFilter(const DlqOptions& options, absl::Time now) {
  alerts::v1::DeadLetterFilter filter;
  filter.set_cause(options.cause);
  filter.set_twilio_error_code(options.error_code);
  filter.set_caller(options.caller);
  if (!options.from.empty()) {
    absl::StatusOr<absl::Time> from = ParseTimeFlag("--from", options.from, now);
    if (!from.ok()) return from.status();
    SetTimestamp(*from, *filter.mutable_dead_lettered_from());
  }
  if (!options.to.empty()) {
    absl::StatusOr<absl::Time> to = ParseTimeFlag("--to", options.to, now);
    if (!to.ok()) return to.status();
    SetTimestamp(*to, *filter.mutable_dead_lettered_before());
  }
  return filter;
}

void SetDuration(absl::Duration duration, google::protobuf::Duration& out) {
  out.set_seconds(absl::IDivDuration(duration, absl::Seconds(1), &duration));
  out.set_nanos(static_cast<int32_t>(absl::ToInt64Nanoseconds(duration)));
}

// --ttl, --send-at, --priority, --time-zone, --ack-by-reply and the voice policy flags; ingress
// checks their ranges and names the field.
absl::Status SetDelivery(const SendOptions& options, absl::Time now,
                         alerts::v1::SendAlertRequest& request) {
  if (!options.ttl.empty()) {
    absl::StatusOr<absl::Duration> ttl = ParseFlagDuration("--ttl", options.ttl, false);
    if (!ttl.ok()) return ttl.status();
    SetDuration(*ttl, *request.mutable_ttl());
  }
  if (!options.send_at.empty()) {
    absl::StatusOr<absl::Time> send_at = ParseTimeFlag("--send-at", options.send_at, now);
    if (!send_at.ok()) return send_at.status();
    SetTimestamp(*send_at, *request.mutable_send_at());
  }
  if (!options.priority.empty()) {
    types::v1::Priority priority = types::v1::PRIORITY_UNSPECIFIED;
    if (!types::v1::Priority_Parse("PRIORITY_" + absl::AsciiStrToUpper(options.priority),
                                   &priority) ||
        priority == types::v1::PRIORITY_UNSPECIFIED) {
      return absl::InvalidArgumentError("--priority: use low, normal, high or critical");
    }
    request.set_priority(priority);
  }
  request.set_time_zone(options.time_zone);
  request.set_callback_url(options.callback_url);
  request.set_ack_by_reply(options.ack_by_reply);
  const bool voice_policy =
      options.max_calls != 0 || !options.call_spacing.empty() || options.sms_fallback;
  if (!voice_policy) return absl::OkStatus();
  if (request.channel() != types::v1::CHANNEL_VOICE) {
    return absl::InvalidArgumentError(
        "--max-calls, --call-spacing and --sms-fallback need --channel voice");
  }
  types::v1::VoicePolicy& voice = *request.mutable_voice();
  voice.set_max_calls(options.max_calls);
  voice.set_sms_fallback(options.sms_fallback);
  if (!options.call_spacing.empty()) {
    absl::StatusOr<absl::Duration> spacing =
        ParseFlagDuration("--call-spacing", options.call_spacing, true);
    if (!spacing.ok()) return spacing.status();
    SetDuration(*spacing, *voice.mutable_call_spacing());
  }
  return absl::OkStatus();
}

// --escalate, once per step in order: NUMBER, NUMBER:ATTEMPTS or NUMBER:ATTEMPTS:SPACING; ingress
// checks the number and the ranges and names the step.
absl::Status SetEscalation(const std::vector<std::string>& steps,
                           alerts::v1::SendAlertRequest& request) {
  for (const std::string& flag : steps) {
    const std::vector<std::string> parts = absl::StrSplit(flag, ':');
    alerts::v1::EscalationStep& step = *request.add_escalation();
    step.set_recipient(parts[0]);
    uint32_t attempts = 0;
    if (parts.size() > 3 || (parts.size() > 1 && !absl::SimpleAtoi(parts[1], &attempts))) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--escalate takes NUMBER[:ATTEMPTS[:SPACING]] such as +14155550101:2:5m, got \"", flag,
          "\""));
    }
    step.set_attempts(attempts);
    if (parts.size() == 3) {
      absl::StatusOr<absl::Duration> spacing = ParseFlagDuration("--escalate", parts[2], false);
      if (!spacing.ok()) return spacing.status();
      SetDuration(*spacing, *step.mutable_spacing());
    }
  }
  return absl::OkStatus();
}

// Repeated `flag` key=value options (--meta, --param) into `map`.
absl::Status ParseKeyValues(absl::string_view flag, const std::vector<std::string>& pairs,
                            google::protobuf::Map<std::string, std::string>& map) {
  for (const std::string& pair : pairs) {
    const std::string::size_type equals = pair.find('=');
    if (equals == std::string::npos || equals == 0) {
      return absl::InvalidArgumentError(absl::StrCat(flag, " takes key=value, got \"", pair, "\""));
    }
    std::string key = pair.substr(0, equals);
    if (map.contains(key)) {
      return absl::InvalidArgumentError(absl::StrCat(flag, " key \"", key, "\" given twice"));
    }
    map[std::move(key)] = pair.substr(equals + 1);
  }
  return absl::OkStatus();
}

void PrintRpcError(std::ostream& err, absl::string_view what, const absl::Status& status) {
  err << "klaxonctl: " << what << " failed: " << absl::StatusCodeToString(status.code()) << ": "
      << status.message() << "\n";
}

// The request may have reached the server and taken effect: only its answer is missing.
bool MayHaveTakenEffect(const absl::Status& status) {
  return absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status);
}

// Prints the message as JSON or via `human`; fails only if JSON rendering does.
template <typename Message, typename Human>
int Print(const CliDependencies& deps, const Message& message, bool json, Human human) {
  if (!json) {
    deps.out << human(message);
    return kExitOk;
  }
  absl::StatusOr<std::string> rendered = ToJson(message);
  if (!rendered.ok()) {
    deps.err << "klaxonctl: " << rendered.status().message() << "\n";
    return kExitFailure;
  }
  deps.out << *rendered << "\n";
  return kExitOk;
}

int RunSend(const SendOptions& options, absl::Duration timeout, AlertClient& client,
            const CliDependencies& deps) {
  alerts::v1::SendAlertRequest request;
  absl::StatusOr<types::v1::Channel> channel = ParseChannel(options.channel);
  if (!channel.ok()) return Usage(deps.err, channel.status());
  if (absl::Status status = ParseKeyValues("--meta", options.meta, *request.mutable_metadata());
      !status.ok()) {
    return Usage(deps.err, status);
  }
  if (options.to.empty() == options.escalate.empty()) {
    return Usage(deps.err, absl::InvalidArgumentError("send needs --to or --escalate, not both"));
  }
  if (options.text.empty() == options.template_name.empty()) {
    return Usage(deps.err, absl::InvalidArgumentError("send needs --text or --template, not both"));
  }
  if (!options.template_name.empty()) {
    alerts::v1::TemplateRef& ref = *request.mutable_template_();
    ref.set_name(options.template_name);
    ref.set_locale(options.locale);
    if (absl::Status status = ParseKeyValues("--param", options.params, *ref.mutable_parameters());
        !status.ok()) {
      return Usage(deps.err, status);
    }
  }
  request.set_channel(*channel);
  request.set_recipient(options.to);
  if (absl::Status status = SetEscalation(options.escalate, request); !status.ok()) {
    return Usage(deps.err, status);
  }
  request.set_text(options.text);
  request.set_idempotency_key(options.idempotency_key.empty() ? deps.idempotency_keys.Next()
                                                              : options.idempotency_key);
  if (absl::Status status = SetDelivery(options, deps.clock.Now(), request); !status.ok()) {
    return Usage(deps.err, status);
  }

  absl::StatusOr<alerts::v1::SendAlertResponse> response =
      client.Send(request, deps.clock.Now() + timeout);
  if (!response.ok()) {
    PrintRpcError(deps.err, "SendAlert", response.status());
    if (MayHaveTakenEffect(response.status())) {
      // The alert may have been accepted; resending with the same key cannot create a second one.
      deps.err << "klaxonctl: the alert may have been accepted; retry with --idempotency-key "
               << request.idempotency_key() << " to avoid a duplicate\n";
    }
    return kExitFailure;
  }
  return Print(deps, *response, options.json, [](const alerts::v1::SendAlertResponse& sent) {
    return absl::StrCat(sent.alert_id(), "\n");
  });
}

int RunCancel(const AlertIdOptions& options, absl::Duration timeout, AlertClient& client,
              const CliDependencies& deps) {
  absl::StatusOr<alerts::v1::CancelAlertResponse> response =
      client.Cancel(options.alert_id, deps.clock.Now() + timeout);
  if (!response.ok()) {
    PrintRpcError(deps.err, "CancelAlert", response.status());
    if (MayHaveTakenEffect(response.status())) {
      deps.err << "klaxonctl: cancelling again is safe\n";
    }
    return kExitFailure;
  }
  return Print(deps, *response, options.json, [](const alerts::v1::CancelAlertResponse& done) {
    return std::string(done.already_cancelled() ? "already cancelled\n" : "cancelled\n");
  });
}

int RunAcknowledge(const AlertIdOptions& options, absl::Duration timeout, AlertClient& client,
                   const CliDependencies& deps) {
  absl::StatusOr<alerts::v1::AcknowledgeAlertResponse> response =
      client.Acknowledge(options.alert_id, deps.clock.Now() + timeout);
  if (!response.ok()) {
    PrintRpcError(deps.err, "AcknowledgeAlert", response.status());
    if (MayHaveTakenEffect(response.status())) {
      deps.err << "klaxonctl: acknowledging again is safe\n";
    }
    return kExitFailure;
  }
  return Print(deps, *response, options.json, [](const alerts::v1::AcknowledgeAlertResponse& done) {
    return std::string(done.already_acknowledged() ? "already acknowledged\n" : "acknowledged\n");
  });
}

int RunWait(const GetOptions& options, types::v1::AlertStatus target, absl::Duration timeout,
            AlertClient& client, const CliDependencies& deps) {
  const WaitOptions wait_options{.timeout = timeout,
                                 .rpc_timeout = std::min(timeout, kMaxPollRpcTimeout)};
  absl::StatusOr<WaitResult> result =
      WaitForStatus(client, options.alert_id, target, wait_options, deps.clock);
  if (!result.ok()) {
    PrintRpcError(deps.err, "GetAlert", result.status());
    return kExitFailure;
  }
  if (result->alert.has_value()) {
    if (const int printed = Print(deps, *result->alert, options.json, FormatAlert);
        printed != kExitOk) {
      return printed;
    }
  }
  switch (result->outcome) {
    case WaitResult::Outcome::kReached:
      return kExitOk;
    case WaitResult::Outcome::kEndedElsewhere:
      deps.err << "klaxonctl: alert ended as " << StatusName(result->alert->status())
               << " without reaching " << StatusName(target) << "\n";
      return kExitFailure;
    case WaitResult::Outcome::kTimedOut:
      deps.err << "klaxonctl: gave up after " << absl::FormatDuration(timeout) << " waiting for "
               << StatusName(target);
      if (result->alert.has_value()) {
        deps.err << "; last status " << StatusName(result->alert->status());
      }
      if (!result->last_error.ok()) {
        deps.err << "; last error " << absl::StatusCodeToString(result->last_error.code()) << ": "
                 << result->last_error.message();
      }
      deps.err << "\n";
      return kExitFailure;
  }
  return kExitFailure;
}

int RunGet(const GetOptions& options, absl::Duration timeout, AlertClient& client,
           const CliDependencies& deps) {
  if (!options.wait_for.empty()) {
    absl::StatusOr<types::v1::AlertStatus> target = ParseStatus(options.wait_for);
    if (!target.ok()) return Usage(deps.err, target.status());
    return RunWait(options, *target, timeout, client, deps);
  }
  absl::StatusOr<alerts::v1::Alert> alert =
      client.Get(options.alert_id, deps.clock.Now() + timeout);
  if (!alert.ok()) {
    PrintRpcError(deps.err, "GetAlert", alert.status());
    return kExitFailure;
  }
  return Print(deps, *alert, options.json, FormatAlert);
}

int RunList(const ListOptions& options, absl::Duration timeout, AlertClient& client,
            const CliDependencies& deps) {
  alerts::v1::ListAlertsRequest request;
  if (!options.status.empty()) {
    absl::StatusOr<types::v1::AlertStatus> status = ParseStatus(options.status);
    if (!status.ok()) return Usage(deps.err, status.status());
    request.set_status(*status);
  }
  if (!options.channel.empty()) {
    absl::StatusOr<types::v1::Channel> channel = ParseChannel(options.channel);
    if (!channel.ok()) return Usage(deps.err, channel.status());
    request.set_channel(*channel);
  }
  request.set_recipient(options.to);
  const absl::Time now = deps.clock.Now();
  if (!options.from.empty()) {
    absl::StatusOr<absl::Time> from = ParseTimeFlag("--from", options.from, now);
    if (!from.ok()) return Usage(deps.err, from.status());
    SetTimestamp(*from, *request.mutable_created_from());
  }
  if (!options.before.empty()) {
    absl::StatusOr<absl::Time> before = ParseTimeFlag("--before", options.before, now);
    if (!before.ok()) return Usage(deps.err, before.status());
    SetTimestamp(*before, *request.mutable_created_before());
  }
  request.set_page_size(options.limit);
  request.set_page_token(options.page_token);

  int listed = 0;
  while (true) {
    absl::StatusOr<alerts::v1::ListAlertsResponse> page =
        client.List(request, deps.clock.Now() + timeout);
    if (!page.ok()) {
      PrintRpcError(deps.err, "ListAlerts", page.status());
      return kExitFailure;
    }
    const int printed = Print(deps, *page, options.json, [&](const auto& response) {
      std::string text = listed == 0 && response.alerts_size() > 0 ? FormatAlertListHeader() : "";
      for (const alerts::v1::Alert& alert : response.alerts()) {
        absl::StrAppend(&text, FormatAlertRow(alert));
      }
      return text;
    });
    if (printed != kExitOk) return printed;
    listed += page->alerts_size();
    if (page->next_page_token().empty()) break;
    if (!options.all) {
      deps.err << "klaxonctl: more alerts follow; repeat with --page-token "
               << page->next_page_token() << " (or --all)\n";
      break;
    }
    request.set_page_token(page->next_page_token());
  }
  if (listed == 0 && !options.json) deps.out << "no alerts\n";
  return kExitOk;
}

int RunWatch(const WatchOptions& options, AlertClient& client, const CliDependencies& deps) {
  absl::Time deadline = absl::InfiniteFuture();
  if (!options.max_wait.empty()) {
    absl::StatusOr<absl::Duration> max_wait =
        ParseFlagDuration("--max-wait", options.max_wait, false);
    if (!max_wait.ok()) return Usage(deps.err, max_wait.status());
    deadline = deps.clock.Now() + *max_wait;
  }
  std::optional<types::v1::AlertStatus> last;
  bool print_failed = false;
  absl::Status status;
  // A stream audit ends UNAVAILABLE after it sent something (its maximum lifetime, a replica
  // draining) is watched again: the new stream starts with the current status, printed only if
  // it changed meanwhile.
  for (bool resumed = false;; resumed = true) {
    bool received = false;
    status = client.Watch(options.alert_id, deadline, [&](const alerts::v1::Alert& alert) {
      received = true;
      if (resumed && last == alert.status()) return;
      last = alert.status();
      if (Print(deps, alert, options.json, FormatStatusChange) != kExitOk) print_failed = true;
      deps.out.flush();  // each change as it happens, also through a pipe
    });
    if (print_failed || !received || !absl::IsUnavailable(status)) break;
  }
  if (print_failed) return kExitFailure;
  if (absl::IsDeadlineExceeded(status) && !options.max_wait.empty()) {
    deps.err << "klaxonctl: gave up after " << options.max_wait << " before a final status";
    if (last.has_value()) deps.err << "; last status " << StatusName(*last);
    deps.err << "\n";
    return kExitFailure;
  }
  if (!status.ok()) {
    PrintRpcError(deps.err, "WatchAlert", status);
    return kExitFailure;
  }
  return kExitOk;
}

int RunTrail(const TrailOptions& options, absl::Duration timeout, AlertClient& client,
             const CliDependencies& deps) {
  absl::StatusOr<alerts::v1::AuditTrail> trail =
      client.Trail(options.alert_id, deps.clock.Now() + timeout);
  if (!trail.ok()) {
    PrintRpcError(deps.err, "GetAuditTrail", trail.status());
    return kExitFailure;
  }
  return Print(deps, *trail, options.json, FormatTrail);
}

int RunReport(const ReportOptions& options, absl::Duration timeout, AlertClient& client,
              const CliDependencies& deps) {
  const absl::Time now = deps.clock.Now();
  absl::StatusOr<absl::Time> from = ParseTimeFlag("--from", options.from, now);
  if (!from.ok()) return Usage(deps.err, from.status());
  absl::StatusOr<absl::Time> before = ParseTimeFlag("--before", options.before, now);
  if (!before.ok()) return Usage(deps.err, before.status());
  alerts::v1::GetDeliveryReportRequest request;
  SetTimestamp(*from, *request.mutable_from());
  SetTimestamp(*before, *request.mutable_before());
  absl::StatusOr<alerts::v1::DeliveryReport> report = client.Report(request, now + timeout);
  if (!report.ok()) {
    PrintRpcError(deps.err, "GetDeliveryReport", report.status());
    return kExitFailure;
  }
  return Print(deps, *report, options.json, FormatReport);
}

int RunDlqList(const DlqOptions& options, absl::Duration timeout, AlertClient& client,
               const CliDependencies& deps) {
  alerts::v1::ListDeadLettersRequest request;
  request.set_include_replayed(options.all);
  request.set_page_size(options.page_size);
  request.set_page_token(options.page_token);
  request.set_all_callers(options.all_callers || !options.caller.empty());
  absl::StatusOr<alerts::v1::DeadLetterFilter> filter = DlqFilter(options, deps.clock.Now());
  if (!filter.ok()) return Usage(deps.err, filter.status());
  *request.mutable_filter() = *std::move(filter);
  absl::StatusOr<alerts::v1::ListDeadLettersResponse> response =
      client.ListDeadLetters(request, deps.clock.Now() + timeout);
  if (!response.ok()) {
    PrintRpcError(deps.err, "ListDeadLetters", response.status());
    return kExitFailure;
  }
  const int printed =
      Print(deps, *response, options.json, [](const alerts::v1::ListDeadLettersResponse& page) {
        std::string out;
        for (const alerts::v1::DeadLetterRecord& record : page.dead_letters()) {
          absl::StrAppend(&out, FormatDeadLetterLine(record));
        }
        return out;
      });
  if (printed == kExitOk && !options.json && !response->next_page_token().empty()) {
    deps.err << "klaxonctl: more dead letters: --page-token " << response->next_page_token()
             << "\n";
  }
  return printed;
}

int RunInbound(const InboundOptions& options, absl::Duration timeout, InboundClient& client,
               const CliDependencies& deps) {
  alerts::v1::ListInboundMessagesRequest request;
  request.set_from(options.sender);
  const absl::Time now = deps.clock.Now();
  if (!options.from.empty()) {
    absl::StatusOr<absl::Time> from = ParseTimeFlag("--from", options.from, now);
    if (!from.ok()) return Usage(deps.err, from.status());
    SetTimestamp(*from, *request.mutable_received_from());
  }
  if (!options.before.empty()) {
    absl::StatusOr<absl::Time> before = ParseTimeFlag("--before", options.before, now);
    if (!before.ok()) return Usage(deps.err, before.status());
    SetTimestamp(*before, *request.mutable_received_before());
  }
  request.set_page_size(options.page_size);
  request.set_page_token(options.page_token);
  absl::StatusOr<alerts::v1::ListInboundMessagesResponse> response =
      client.List(request, now + timeout);
  if (!response.ok()) {
    PrintRpcError(deps.err, "ListInboundMessages", response.status());
    return kExitFailure;
  }
  const int printed =
      Print(deps, *response, options.json, [](const alerts::v1::ListInboundMessagesResponse& page) {
        std::string out = page.messages().empty() ? "no inbound messages\n" : "";
        for (const alerts::v1::InboundMessage& message : page.messages()) {
          absl::StrAppend(&out, FormatInboundMessageLine(message));
        }
        return out;
      });
  if (printed == kExitOk && !options.json && !response->next_page_token().empty()) {
    deps.err << "klaxonctl: more inbound messages: --page-token " << response->next_page_token()
             << "\n";
  }
  return printed;
}

int RunDlqShow(const DlqOptions& options, absl::Duration timeout, AlertClient& client,
               const CliDependencies& deps) {
  absl::StatusOr<alerts::v1::DeadLetterRecord> record =
      client.GetDeadLetter(options.alert_id, deps.clock.Now() + timeout);
  if (!record.ok()) {
    PrintRpcError(deps.err, "GetDeadLetter", record.status());
    return kExitFailure;
  }
  return Print(deps, *record, options.json, FormatDeadLetter);
}

// An operator's bulk replay: every page until the last, one line per dead letter
// ("<dead letter> <caller> <new alert>" or "... failed: why"); exit 1 if any failed.
int RunDlqBulkReplay(const DlqOptions& options, absl::Duration timeout, AlertClient& client,
                     const CliDependencies& deps) {
  alerts::v1::ReplayDeadLettersRequest request;
  absl::StatusOr<alerts::v1::DeadLetterFilter> filter = DlqFilter(options, deps.clock.Now());
  if (!filter.ok()) return Usage(deps.err, filter.status());
  *request.mutable_filter() = *std::move(filter);
  request.set_page_size(options.page_size);
  request.set_page_token(options.page_token);
  int replayed = 0;
  int failed = 0;
  while (true) {
    absl::StatusOr<alerts::v1::ReplayDeadLettersResponse> page =
        client.ReplayDeadLetters(request, deps.clock.Now() + timeout);
    if (!page.ok()) {
      PrintRpcError(deps.err, "ReplayDeadLetters", page.status());
      if (replayed + failed > 0) {
        deps.err << "klaxonctl: " << replayed
                 << " replayed before the failure; running the same command again is safe\n";
      }
      return kExitFailure;
    }
    const int printed =
        Print(deps, *page, options.json, [](const alerts::v1::ReplayDeadLettersResponse& done) {
          std::string out;
          for (const alerts::v1::ReplayedDeadLetter& item : done.replayed()) {
            absl::StrAppend(
                &out, item.dead_letter_id(), " ", item.caller(), " ",
                item.alert_id().empty() ? absl::StrCat("failed: ", item.error()) : item.alert_id(),
                "\n");
          }
          return out;
        });
    if (printed != kExitOk) return printed;
    for (const alerts::v1::ReplayedDeadLetter& item : page->replayed()) {
      ++(item.alert_id().empty() ? failed : replayed);
    }
    if (page->next_page_token().empty()) break;
    request.set_page_token(page->next_page_token());
  }
  if (!options.json) {
    deps.err << "klaxonctl: " << replayed << " replayed, " << failed << " failed\n";
  }
  return failed == 0 ? kExitOk : kExitFailure;
}

int RunDlqReplay(const DlqOptions& options, absl::Duration timeout, AlertClient& client,
                 const CliDependencies& deps) {
  const bool bulk = !options.cause.empty() || !options.from.empty() || !options.to.empty() ||
                    !options.caller.empty() || options.error_code != 0;
  if (bulk != options.alert_id.empty()) {
    return Usage(deps.err, absl::InvalidArgumentError(
                               "dlq replay takes an alert id, or (operators) --cause and/or "
                               "--from and --to to replay every match"));
  }
  if (bulk) return RunDlqBulkReplay(options, timeout, client, deps);
  absl::StatusOr<alerts::v1::ReplayDeadLetterResponse> response =
      client.ReplayDeadLetter(options.alert_id, deps.clock.Now() + timeout);
  if (!response.ok()) {
    PrintRpcError(deps.err, "ReplayDeadLetter", response.status());
    if (MayHaveTakenEffect(response.status())) {
      deps.err << "klaxonctl: replaying again is safe: it answers with the same new alert\n";
    }
    return kExitFailure;
  }
  if (response->already_replayed() && !options.json) {
    deps.err << "klaxonctl: already replayed; the new alert is\n";
  }
  return Print(deps, *response, options.json, [](const alerts::v1::ReplayDeadLetterResponse& done) {
    return absl::StrCat(done.alert_id(), "\n");
  });
}

int RunVerifyStart(const VerifyOptions& options, absl::Duration timeout, VerificationClient& client,
                   const CliDependencies& deps) {
  absl::StatusOr<types::v1::Channel> channel = ParseChannel(options.channel);
  if (!channel.ok()) return Usage(deps.err, channel.status());
  verify::v1::StartVerificationRequest request;
  request.set_recipient(options.to);
  request.set_channel(*channel);
  request.set_locale(options.locale);
  request.set_template_(options.wording);
  absl::StatusOr<verify::v1::StartVerificationResponse> response =
      client.Start(request, deps.clock.Now() + timeout);
  if (!response.ok()) {
    PrintRpcError(deps.err, "StartVerification", response.status());
    if (MayHaveTakenEffect(response.status())) {
      // Ingress resends a pending verification's code rather than minting a second one.
      deps.err << "klaxonctl: the code may have been sent; starting again sends the same code, "
                  "not a second one\n";
    }
    return kExitFailure;
  }
  return Print(deps, *response, options.json, FormatVerificationStart);
}

// Exits 0 only for an approved code, so that `klaxonctl verify check ... && grant` is safe.
int RunVerifyCheck(const VerifyOptions& options, absl::Duration timeout, VerificationClient& client,
                   const CliDependencies& deps) {
  if (options.id.empty() == options.to.empty()) {
    return Usage(deps.err,
                 absl::InvalidArgumentError("verify check needs exactly one of --id and --to"));
  }
  verify::v1::CheckVerificationRequest request;
  request.set_verification_id(options.id);
  request.set_recipient(options.to);
  request.set_code(options.code);
  absl::StatusOr<verify::v1::CheckVerificationResponse> response =
      client.Check(request, deps.clock.Now() + timeout);
  if (!response.ok()) {
    PrintRpcError(deps.err, "CheckVerification", response.status());
    if (MayHaveTakenEffect(response.status())) {
      // An approved verification is gone, so the retry of a lost approval cannot approve again.
      deps.err << "klaxonctl: the check may have been made; if it approved the code, checking "
                  "again answers not_found\n";
    }
    return kExitFailure;
  }
  if (const int printed = Print(deps, *response, options.json, FormatVerificationCheck);
      printed != kExitOk) {
    return printed;
  }
  return response->status() == verify::v1::VERIFICATION_STATUS_APPROVED ? kExitOk : kExitFailure;
}

int RunVerifyCancel(const VerifyOptions& options, absl::Duration timeout,
                    VerificationClient& client, const CliDependencies& deps) {
  absl::StatusOr<verify::v1::CancelVerificationResponse> response =
      client.Cancel(options.id, deps.clock.Now() + timeout);
  if (!response.ok()) {
    PrintRpcError(deps.err, "CancelVerification", response.status());
    if (MayHaveTakenEffect(response.status())) {
      deps.err << "klaxonctl: cancelling again is safe\n";
    }
    return kExitFailure;
  }
  return Print(deps, *response, options.json,
               [](const verify::v1::CancelVerificationResponse& done) {
                 return std::string(done.already_ended() ? "already ended\n" : "cancelled\n");
               });
}

}  // namespace

int Usage(std::ostream& err, const absl::Status& status) {
  err << "klaxonctl: " << status.message() << "\n";
  return kExitUsage;
}

int RunCli(int argc, const char* const* argv, const CliDependencies& deps) {
  const auto env_or = [&deps](const std::string& name, absl::string_view fallback) {
    return deps.get_env(name).value_or(std::string(fallback));
  };
  GlobalOptions global{
      .ingress = env_or("KLAXON_INGRESS_ADDR", kDefaultIngress),
      .audit = env_or("KLAXON_AUDIT_ADDR", kDefaultAudit),
      .api_key = env_or("KLAXON_API_KEY", ""),
      .timeout = env_or("KLAXON_TIMEOUT", kDefaultTimeout),
      .tls = grpcutil::ClientTlsOptionsFromEnvironment(deps.get_env),
  };
  SendOptions send_options;
  AlertIdOptions cancel_options;
  AlertIdOptions ack_options;
  GetOptions get_options;
  ListOptions list_options;
  WatchOptions watch_options;
  TrailOptions trail_options;
  ReportOptions report_options;
  DlqOptions dlq_options;
  InboundOptions inbound_options;
  WebhookOptions webhook_options;
  CallbackOptions callback_options;
  std::string callback_tolerance = "5m";
  VerifyOptions verify_options;

  CLI::App app{
      "Send Klaxon alerts, follow their status and replay dead letters; verify phone numbers; "
      "sign and check Twilio webhooks and caller callbacks.",
      "klaxonctl"};
  // The names ParseChannel accepts, checked while parsing so that --help lists them.
  const CLI::IsMember channel_names({"sms", "voice"}, CLI::ignore_case);
  // Global options may also follow the subcommand: `klaxonctl send --api-key K ...`.
  app.fallthrough();
  app.require_subcommand(1);
  app.add_option("--ingress", global.ingress, "ingress gRPC address [env KLAXON_INGRESS_ADDR]")
      ->capture_default_str();
  app.add_option("--audit", global.audit, "audit gRPC address [env KLAXON_AUDIT_ADDR]")
      ->capture_default_str();
  // No default shown: it may come from the environment and is a secret.
  app.add_option(
      "--api-key", global.api_key,
      "API key, required by every command but twilio and callbacks [env KLAXON_API_KEY]");
  app.add_option("--timeout", global.timeout,
                 "deadline of a call, or how long --wait-for polls, e.g. 10s [env KLAXON_TIMEOUT]")
      ->capture_default_str();
  grpcutil::AddClientTlsFlags(app, global.tls);

  CLI::App* send = app.add_subcommand("send", "send an alert and print its id");
  send->add_option("--to", send_options.to, "recipient in E.164, e.g. +14155552671");
  send->add_option("--escalate", send_options.escalate,
                   "instead of --to, one step of an escalation chain, repeatable in order: "
                   "NUMBER[:ATTEMPTS[:SPACING]], e.g. +14155550101:2:5m (default 1 page, 5m); "
                   "anyone's acknowledgement stops the chain")
      ->allow_extra_args(false);
  send->add_option("--text", send_options.text, "message text or words to speak");
  send->add_option("--template", send_options.template_name,
                   "instead of --text, a stored template's name (klaxonctl has no template "
                   "editor: create them with CreateTemplate, e.g. POST /v1/templates)");
  send->add_option("--locale", send_options.locale,
                   "the template's locale, e.g. de-DE (default: the template's default)");
  send->add_option("--param", send_options.params, "a template parameter key=value, repeatable")
      ->allow_extra_args(false);
  send->add_option("--channel", send_options.channel, "sms or voice")
      ->transform(channel_names)
      ->capture_default_str();
  send->add_option("--idempotency-key", send_options.idempotency_key,
                   "repeat a send safely with the same key (default: a fresh random key)");
  send->add_option("--meta", send_options.meta, "metadata key=value, repeatable")
      ->allow_extra_args(false);
  send->add_option("--ttl", send_options.ttl,
                   "how long the alert is worth sending, 1s to 10h (default 1h)");
  send->add_option("--send-at", send_options.send_at,
                   "not before this time, at most 7 days ahead: RFC 3339, or ahead such as +10m");
  send->add_option("--priority", send_options.priority,
                   "low, normal (default), high or critical: below the exempt priority an alert "
                   "waits out the recipient's quiet hours; critical jumps the queue");
  send->add_option("--time-zone", send_options.time_zone,
                   "the recipient's IANA time zone for quiet hours, e.g. Europe/Berlin (default: "
                   "from the number)");
  send->add_option("--callback-url", send_options.callback_url,
                   "where audit POSTs this alert's status changes, signed with your caller's "
                   "callback secret (default: your caller's configured URL, if any)");
  send->add_option("--max-calls", send_options.max_calls,
                   "voice: calls before giving up, 1 to 5 (default 3)");
  send->add_option("--call-spacing", send_options.call_spacing,
                   "voice: wait after a failed call, 0s to 1h (default 60s)");
  send->add_flag("--sms-fallback", send_options.sms_fallback,
                 "voice: send the text by SMS after the last failed call");
  send->add_flag("--ack-by-reply", send_options.ack_by_reply,
                 "sms: end the text with \"Reply ACK <code> to acknowledge.\"");
  send->add_flag("--json", send_options.json, "print the whole response as JSON");

  CLI::App* cancel =
      app.add_subcommand("cancel", "stop an alert's pending sends, retries and calls");
  cancel->add_option("alert_id", cancel_options.alert_id, "the id `send` printed")->required();
  cancel->add_flag("--json", cancel_options.json, "print the whole response as JSON");

  CLI::App* ack = app.add_subcommand(
      "ack", "acknowledge an alert for its recipient: no further sends, retries or calls");
  ack->add_option("alert_id", ack_options.alert_id, "the id `send` printed")->required();
  ack->add_flag("--json", ack_options.json, "print the whole response as JSON");

  CLI::App* get = app.add_subcommand("get", "show an alert's status");
  get->add_option("alert_id", get_options.alert_id, "the id `send` printed")->required();
  get->add_option("--wait-for", get_options.wait_for,
                  absl::StrCat("poll until ", StatusNameList(),
                               "; exit 1 if the alert ends otherwise or --timeout passes"))
      ->transform(CLI::IsMember(StatusNames(), CLI::ignore_case));
  get->add_flag("--json", get_options.json, "print the alert as JSON");

  CLI::App* list = app.add_subcommand("list", "list your alerts, newest first");
  list->add_option("--status", list_options.status, absl::StrCat("only ", StatusNameList()))
      ->transform(CLI::IsMember(StatusNames(), CLI::ignore_case));
  list->add_option("--channel", list_options.channel, "only sms or voice")
      ->transform(channel_names);
  list->add_option("--to", list_options.to, "only alerts to this E.164 recipient");
  list->add_option("--from", list_options.from,
                   "only alerts created at or after: RFC 3339, or ago such as -24h or -7d");
  list->add_option("--before", list_options.before, "only alerts created before, as --from");
  list->add_option("--limit", list_options.limit, "alerts per page, 1 to 500 (default 50)");
  list->add_option("--page-token", list_options.page_token,
                   "continue where the previous list stopped (same filters)");
  list->add_flag("--all", list_options.all, "follow every page");
  list->add_flag("--json", list_options.json, "print each page as JSON");

  CLI::App* watch = app.add_subcommand(
      "watch", "print an alert's status now and at each change, until it is final");
  watch->add_option("alert_id", watch_options.alert_id, "the id `send` printed")->required();
  watch->add_option("--max-wait", watch_options.max_wait,
                    "give up (exit 1) after this long, e.g. 5m (default: until final; --timeout "
                    "does not apply)");
  watch->add_flag("--json", watch_options.json, "print each alert as JSON");

  CLI::App* trail = app.add_subcommand("trail", "show every event audit recorded for an alert");
  trail->add_option("alert_id", trail_options.alert_id, "the id `send` printed")->required();
  trail->add_flag("--json", trail_options.json, "print the trail as JSON");

  CLI::App* report = app.add_subcommand(
      "report", "count your alerts created in a period by outcome, channel, country and error");
  report
      ->add_option("--from", report_options.from,
                   "start (inclusive): RFC 3339, or ago such as -24h or -7d")
      ->required();
  report->add_option("--before", report_options.before, "end (exclusive), as --from")
      ->capture_default_str();
  report->add_flag("--json", report_options.json, "print the report as JSON");

  CLI::App* dlq = app.add_subcommand("dlq", "list, show and replay the alerts Klaxon gave up on");
  dlq->require_subcommand(1);
  CLI::App* dlq_list =
      dlq->add_subcommand("list", "list your dead letters not replayed yet, newest first");
  dlq_list->add_flag("--all", dlq_options.all, "include the ones already replayed");
  dlq_list->add_option("--page-size", dlq_options.page_size, "1 to 500 (default 50)");
  dlq_list->add_option("--page-token", dlq_options.page_token, "the next page, as printed");
  dlq_list->add_flag("--json", dlq_options.json, "print the whole response as JSON");
  const auto add_filter_options = [&dlq_options](CLI::App& command) {
    command.add_option("--cause", dlq_options.cause, "only this cause: deadline or max_attempts")
        ->check(CLI::IsMember({"deadline", "max_attempts"}));
    command.add_option("--error-code", dlq_options.error_code,
                       "only those whose last attempt got this Twilio error code");
    command.add_option("--from", dlq_options.from,
                       "only those dead-lettered at or after: RFC 3339, or ago such as -24h");
    command.add_option("--to", dlq_options.to, "only those dead-lettered before, as --from");
    command.add_option("--caller", dlq_options.caller, "operators: only this caller's");
  };
  add_filter_options(*dlq_list);
  dlq_list->add_flag("--all-callers", dlq_options.all_callers,
                     "operators: every caller's dead letters, with their caller");
  CLI::App* dlq_show =
      dlq->add_subcommand("show", "show a dead letter with its recipient and text");
  dlq_show->add_option("alert_id", dlq_options.alert_id, "the dead-lettered alert's id")
      ->required();
  dlq_show->add_flag("--json", dlq_options.json, "print the record as JSON");
  CLI::App* dlq_replay = dlq->add_subcommand(
      "replay",
      "send a dead letter again as a new alert and print the new alert's id; operators: with "
      "--cause and/or --from and --to, every caller's pending dead letters that match");
  dlq_replay->add_option("alert_id", dlq_options.alert_id, "the dead-lettered alert's id");
  add_filter_options(*dlq_replay);
  dlq_replay->add_option("--page-size", dlq_options.page_size,
                         "bulk: dead letters per request, 1 to 500 (default 50)");
  dlq_replay->add_flag("--json", dlq_options.json, "print the whole response as JSON");

  CLI::App* inbound = app.add_subcommand(
      "inbound", "list the messages the people your alerts went to sent back, newest first");
  inbound->add_option("--sender", inbound_options.sender, "only those from this E.164 number");
  inbound->add_option("--from", inbound_options.from,
                      "only those received at or after: RFC 3339, or ago such as -24h or -7d");
  inbound->add_option("--before", inbound_options.before, "only those received before, as --from");
  inbound->add_option("--page-size", inbound_options.page_size, "1 to 500 (default 50)");
  inbound->add_option("--page-token", inbound_options.page_token,
                      "the next page, as printed (same filters)");
  inbound->add_flag("--json", inbound_options.json, "print the whole response as JSON");

  CLI::App* verification = app.add_subcommand(
      "verify", "verify a phone number with a one-time code sent by SMS or read out in a call");
  verification->require_subcommand(1);
  CLI::App* verify_start = verification->add_subcommand(
      "start",
      "send a code and print the verification's id, expiry and alert; while the recipient has a "
      "pending verification, its code is sent again");
  verify_start->add_option("--to", verify_options.to, "recipient in E.164, e.g. +14155552671")
      ->required();
  verify_start->add_option("--channel", verify_options.channel, "sms or voice")
      ->transform(channel_names)
      ->capture_default_str();
  verify_start->add_option("--locale", verify_options.locale,
                           "the message's language: en (default), de, es or fr");
  verify_start->add_option("--template", verify_options.wording,
                           "your own words instead, with {code} once where the code goes");
  verify_start->add_flag("--json", verify_options.json, "print the whole response as JSON");
  CLI::App* verify_check = verification->add_subcommand(
      "check",
      "check a code and print approved, pending (with the checks left), expired, max_attempts or "
      "not_found; exit 0 only for approved, 1 otherwise, 2 on a usage error");
  verify_check->add_option("--id", verify_options.id, "the verification id `verify start` printed");
  verify_check->add_option("--to", verify_options.to,
                           "instead of --id: the recipient of your pending verification");
  verify_check->add_option("--code", verify_options.code, "the code the person received")
      ->required();
  verify_check->add_flag("--json", verify_options.json, "print the whole response as JSON");
  CLI::App* verify_cancel = verification->add_subcommand(
      "cancel", "end a pending verification: its code no longer checks");
  verify_cancel->add_option("--id", verify_options.id, "the verification id `verify start` printed")
      ->required();
  verify_cancel->add_flag("--json", verify_options.json, "print the whole response as JSON");

  CLI::App* twilio = app.add_subcommand(
      "twilio", "compute or check a Twilio webhook's X-Twilio-Signature, as ingress does");
  twilio->require_subcommand(1);
  // Both commands describe one request the same way; only `verify` takes the signature.
  const auto add_request_options = [&webhook_options](CLI::App& command) {
    // Never shown, not even as a default: it is the account's secret.
    command.add_option("--auth-token", webhook_options.auth_token, "the Twilio auth token")
        ->required();
    command
        .add_option("--url", webhook_options.url,
                    "the full public URL Twilio requested, query string included, as sent")
        ->required();
    command
        .add_option("--param", webhook_options.params,
                    "a decoded POST form parameter KEY=VALUE (the value may be empty); repeat it "
                    "for every parameter, and for a key sent several times")
        ->allow_extra_args(false);
    command.add_option("--body-file", webhook_options.body_file,
                       "a JSON webhook's raw body; --url must carry its bodySHA256");
  };
  CLI::App* twilio_sign =
      twilio->add_subcommand("sign", "print the X-Twilio-Signature of a request");
  add_request_options(*twilio_sign);
  CLI::App* twilio_verify = twilio->add_subcommand(
      "verify",
      "exit 0 if the signature is valid for the request (any URL port variant), else exit 1 and "
      "explain what was signed");
  add_request_options(*twilio_verify);
  twilio_verify
      ->add_option("--signature", webhook_options.signature, "the X-Twilio-Signature received")
      ->required();

  CLI::App* callbacks = app.add_subcommand(
      "callbacks",
      "sign or check a caller callback's Klaxon-Signature, as audit signs it and a receiver "
      "should check it");
  callbacks->require_subcommand(1);
  const auto add_callback_options = [&callback_options](CLI::App& command) {
    command
        .add_option("--secret-file", callback_options.secret_file,
                    "a file holding the callback secret (a trailing newline is ignored)")
        ->required();
    command.add_option("--body-file", callback_options.body_file,
                       "the raw body, byte for byte (default: standard input)");
  };
  CLI::App* callbacks_sign = callbacks->add_subcommand(
      "sign", "print the Klaxon-Timestamp and Klaxon-Signature headers of a body");
  add_callback_options(*callbacks_sign);
  callbacks_sign->add_option("--timestamp", callback_options.timestamp,
                             "unix seconds to sign at (default: now)");
  CLI::App* callbacks_verify = callbacks->add_subcommand(
      "verify",
      "exit 0 and print \"signature valid\" if the headers match the body and the timestamp is "
      "recent, else exit 1 and say why");
  add_callback_options(*callbacks_verify);
  callbacks_verify
      ->add_option("--timestamp", callback_options.timestamp, "the Klaxon-Timestamp received")
      ->required();
  callbacks_verify
      ->add_option("--signature", callback_options.signature, "the Klaxon-Signature received")
      ->required();
  callbacks_verify
      ->add_option("--tolerance", callback_tolerance,
                   "how far the timestamp may be from now, either way")
      ->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error, deps.out, deps.err) == 0 ? kExitOk : kExitUsage;
  }

  if (twilio_sign->parsed()) return RunTwilioSign(webhook_options, deps);
  if (twilio_verify->parsed()) return RunTwilioVerify(webhook_options, deps);
  if (callbacks_sign->parsed()) return RunCallbacksSign(callback_options, deps);
  if (callbacks_verify->parsed()) {
    absl::StatusOr<absl::Duration> tolerance =
        ParseFlagDuration("--tolerance", callback_tolerance, false);
    if (!tolerance.ok()) return Usage(deps.err, tolerance.status());
    callback_options.tolerance = *tolerance;
    return RunCallbacksVerify(callback_options, deps);
  }

  absl::StatusOr<absl::Duration> timeout = ParseTimeout(global.timeout);
  if (!timeout.ok()) return Usage(deps.err, timeout.status());
  if (global.api_key.empty()) {
    return Usage(deps.err, absl::InvalidArgumentError("--api-key or KLAXON_API_KEY is required"));
  }

  absl::StatusOr<grpcutil::ChannelSecurity> ingress_security =
      grpcutil::ResolveChannelSecurity(global.tls, global.ingress, deps.read_file);
  if (!ingress_security.ok()) return Usage(deps.err, ingress_security.status());
  const Endpoint ingress{.address = global.ingress, .security = *ingress_security};
  const Link ingress_link{.name = absl::StrCat("ingress gRPC at ", ingress.address),
                          .security = ingress.security};
  // Verification is served by ingress alone: its commands neither need nor resolve audit.
  if (verification->parsed()) {
    VerificationClient verifier(deps.make_verification(ingress), global.api_key, ingress_link);
    if (verify_start->parsed()) return RunVerifyStart(verify_options, *timeout, verifier, deps);
    if (verify_check->parsed()) return RunVerifyCheck(verify_options, *timeout, verifier, deps);
    return RunVerifyCancel(verify_options, *timeout, verifier, deps);
  }
  absl::StatusOr<grpcutil::ChannelSecurity> audit_security =
      grpcutil::ResolveChannelSecurity(global.tls, global.audit, deps.read_file);
  if (!audit_security.ok()) return Usage(deps.err, audit_security.status());
  const Endpoint audit{.address = global.audit, .security = *audit_security};
  const Link audit_link{.name = absl::StrCat("audit gRPC at ", audit.address),
                        .security = audit.security};
  if (inbound->parsed()) {
    InboundClient inbound_client(deps.make_inbound_messages(audit), global.api_key, audit_link);
    return RunInbound(inbound_options, *timeout, inbound_client, deps);
  }
  AlertClient client(deps.make_intake(ingress), deps.make_query(audit), global.api_key,
                     dlq->parsed() ? deps.make_dead_letters(audit) : nullptr,
                     {.ingress = ingress_link, .audit = audit_link});
  if (send->parsed()) return RunSend(send_options, *timeout, client, deps);
  if (cancel->parsed()) return RunCancel(cancel_options, *timeout, client, deps);
  if (ack->parsed()) return RunAcknowledge(ack_options, *timeout, client, deps);
  if (list->parsed()) return RunList(list_options, *timeout, client, deps);
  if (watch->parsed()) return RunWatch(watch_options, client, deps);
  if (trail->parsed()) return RunTrail(trail_options, *timeout, client, deps);
  if (report->parsed()) return RunReport(report_options, *timeout, client, deps);
  if (dlq_list->parsed()) return RunDlqList(dlq_options, *timeout, client, deps);
  if (dlq_show->parsed()) return RunDlqShow(dlq_options, *timeout, client, deps);
  if (dlq_replay->parsed()) return RunDlqReplay(dlq_options, *timeout, client, deps);
  return RunGet(get_options, *timeout, client, deps);
}

}  // namespace klaxon::ctl
