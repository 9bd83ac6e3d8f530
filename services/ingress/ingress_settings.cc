#include "services/ingress/ingress_settings.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/alert_lifetime/alert_lifetime.h"
#include "common/budgets/budget_guard.h"
#include "common/runtime/process_hardening.h"
#include "common/twilio/accounts.h"

namespace klaxon::ingress {
namespace {

bool IsLoopbackHost(const std::string& host) {
  if (host == "localhost") return true;
  const std::optional<IpAddress> address = IpAddress::Parse(host);
  return address && address->IsLoopback();
}

WebhookSettings ReadWebhookSettings(config::Reader& reader) {
  WebhookSettings settings{
      .address = reader.HostPortValue("KLAXON_WEBHOOK_ADDR", "127.0.0.1:8080"),
      .sandbox = reader.Bool("KLAXON_TWILIO_SANDBOX", false),
      .rate_limit = reader.Int("KLAXON_WEBHOOK_RATE_LIMIT", 200, 1, 1'000'000),
      .dedupe_window = reader.Duration("KLAXON_WEBHOOK_DEDUPE_WINDOW", absl::Hours(48),
                                       absl::Hours(24), absl::Hours(24 * 30)),
      .header_timeout = reader.Duration("KLAXON_WEBHOOK_HEADER_TIMEOUT", absl::Seconds(5),
                                        absl::Milliseconds(100), absl::Seconds(60)),
      .body_timeout = reader.Duration("KLAXON_WEBHOOK_BODY_TIMEOUT", absl::Seconds(10),
                                      absl::Milliseconds(100), absl::Seconds(60)),
      .idle_timeout = reader.Duration("KLAXON_WEBHOOK_IDLE_TIMEOUT", absl::Seconds(75),
                                      absl::Milliseconds(100), absl::Minutes(10)),
      .write_timeout = reader.Duration("KLAXON_WEBHOOK_WRITE_TIMEOUT", absl::Seconds(10),
                                       absl::Milliseconds(100), absl::Seconds(60)),
      .max_connections = reader.Int("KLAXON_WEBHOOK_MAX_CONNECTIONS", 4096, 1, 1'000'000),
      .max_connections_per_source =
          reader.Int("KLAXON_WEBHOOK_MAX_CONNECTIONS_PER_SOURCE", 256, 1, 1'000'000),
      .workers = reader.Int("KLAXON_WEBHOOK_WORKERS", 4, 1, 256)};
  if (absl::StatusOr<InboundAutoReplies> replies =
          InboundAutoReplies::Parse(reader.Optional("KLAXON_INBOUND_AUTO_REPLY", ""));
      replies.ok()) {
    settings.auto_replies = *std::move(replies);
  } else {
    reader.AddError("KLAXON_INBOUND_AUTO_REPLY", std::string(replies.status().message()));
  }
  const std::string configured_url = reader.Url("KLAXON_WEBHOOK_PUBLIC_URL", "", {"http", "https"});
  settings.public_url_from_proxy = configured_url.empty();
  const std::string public_url =
      configured_url.empty() ? "http://" + settings.address.ToString() : configured_url;
  if (absl::StatusOr<twilio::PublicBaseUrl> parsed = twilio::ParsePublicBaseUrl(public_url);
      parsed.ok()) {
    settings.public_url = *std::move(parsed);
  } else {
    reader.AddError("KLAXON_WEBHOOK_PUBLIC_URL", std::string(parsed.status().message()));
  }
  if (absl::StatusOr<TrustedProxies> proxies =
          TrustedProxies::Parse(reader.Optional("KLAXON_WEBHOOK_TRUSTED_PROXIES", ""));
      proxies.ok()) {
    settings.trusted_proxies = *std::move(proxies);
  } else {
    reader.AddError("KLAXON_WEBHOOK_TRUSTED_PROXIES", std::string(proxies.status().message()));
  }
  if (!reader.Optional("KLAXON_WEBHOOK_TRUST_FORWARDED", "").empty()) {
    reader.AddError("KLAXON_WEBHOOK_TRUST_FORWARDED",
                    "no longer read: list the proxies' addresses in "
                    "KLAXON_WEBHOOK_TRUSTED_PROXIES (CIDR ranges) instead");
  }
  // The sandbox's token is public: only a webhook port nobody else can reach may accept it.
  if (settings.sandbox && !IsLoopbackHost(settings.address.host)) {
    reader.AddError("KLAXON_TWILIO_SANDBOX",
                    absl::StrCat("true is allowed only when KLAXON_WEBHOOK_ADDR binds a loopback "
                                 "address (127.0.0.0/8 or ::1), not ",
                                 settings.address.host));
  }
  std::string secondary = reader.OptionalSecret("KLAXON_TWILIO_AUTH_TOKEN_SECONDARY");
  // Several accounts (docs/adr/0035): each signs its own webhooks with its own token, and a
  // webhook is verified with the tokens of the account it names only.
  if (!reader.Optional("KLAXON_TWILIO_ACCOUNTS_FILE", "").empty()) {
    std::vector<twilio::TwilioAccount> accounts =
        twilio::ReadTwilioAccounts(reader, twilio::CredentialsFor::kWebhooks);
    for (const twilio::TwilioAccount& account : accounts) {
      std::vector<std::string>& tokens = settings.account_tokens[account.account_sid];
      tokens.push_back(account.auth_token);
      if (!account.auth_token_secondary.empty()) tokens.push_back(account.auth_token_secondary);
    }
    twilio::WipeCredentials(accounts);
    if (!secondary.empty()) {
      reader.AddError("KLAXON_TWILIO_AUTH_TOKEN_SECONDARY",
                      "is not read with KLAXON_TWILIO_ACCOUNTS_FILE: give the account whose token "
                      "rotates an auth_token_secondary_file");
    }
    runtime::WipeSecret(secondary);
    return settings;
  }
  std::string primary = reader.OptionalSecret("KLAXON_TWILIO_AUTH_TOKEN");
  if (!primary.empty()) {
    settings.auth_tokens.push_back(std::move(primary));
  } else if (settings.sandbox) {
    settings.auth_tokens.emplace_back(twilio::kSandboxAuthToken);
  } else {
    reader.AddError("KLAXON_TWILIO_AUTH_TOKEN",
                    "is required to verify Twilio's webhooks (or KLAXON_TWILIO_AUTH_TOKEN_FILE)");
  }
  if (!secondary.empty()) settings.auth_tokens.push_back(std::move(secondary));
  // Moved-from strings may keep the bytes in their own buffer (short strings do).
  runtime::WipeSecret(primary);
  runtime::WipeSecret(secondary);
  return settings;
}

HttpApiSettings ReadHttpApiSettings(config::Reader& reader) {
  HttpApiSettings settings{
      .enabled = reader.Optional("KLAXON_HTTP_API_ADDR", "") != "off",
      .audit_target = reader.Optional("KLAXON_HTTP_API_AUDIT_TARGET", "127.0.0.1:50052"),
      .deadline = reader.Duration("KLAXON_HTTP_API_DEADLINE", absl::Seconds(10),
                                  absl::Milliseconds(100), absl::Minutes(1))};
  // The channel to audit follows the rule of every Klaxon gRPC client (channel_security.h). It is
  // read with the API off too: SendAlert's templates are rendered by audit over it.
  const grpcutil::ClientTlsOptions tls{
      .ca_file = reader.Optional("KLAXON_HTTP_API_AUDIT_CA_FILE", ""),
      .cert_file = reader.Optional("KLAXON_HTTP_API_AUDIT_CERT_FILE", ""),
      .key_file = reader.Optional("KLAXON_HTTP_API_AUDIT_KEY_FILE", ""),
      .plaintext = reader.Bool("KLAXON_HTTP_API_AUDIT_PLAINTEXT", false)};
  absl::StatusOr<grpcutil::ChannelSecurity> security =
      grpcutil::ResolveChannelSecurity(tls, settings.audit_target);
  if (security.ok()) {
    settings.audit_security = *std::move(security);
  } else {
    reader.AddError("KLAXON_HTTP_API_AUDIT_CA_FILE/CERT_FILE/KEY_FILE/PLAINTEXT",
                    std::string(security.status().message()));
  }
  if (!settings.enabled) return settings;
  settings.address = reader.HostPortValue("KLAXON_HTTP_API_ADDR", "127.0.0.1:8081");
  settings.loopback = IsLoopbackHost(settings.address.host);
  return settings;
}

verification::VerifierOptions ReadVerificationSettings(config::Reader& reader) {
  verification::VerifierOptions options{
      .code_length =
          static_cast<int>(reader.Int("KLAXON_VERIFY_CODE_LENGTH", 6, verification::kMinCodeLength,
                                      verification::kMaxCodeLength)),
      // The code's message is an alert, which lives at most alert_lifetime::kMaxTimeToLive.
      .code_validity = reader.Duration("KLAXON_VERIFY_CODE_TTL", absl::Minutes(10),
                                       absl::Seconds(5), alert_lifetime::kMaxTimeToLive),
      .max_checks = static_cast<int>(reader.Int("KLAXON_VERIFY_MAX_CHECKS", 5, 1, 20)),
      .webotp_domain = reader.Optional("KLAXON_VERIFY_WEBOTP_DOMAIN", "")};
  if (absl::StatusOr<std::vector<limits::Rate>> limits =
          limits::ParseRateList(reader.Optional("KLAXON_VERIFY_RECIPIENT_LIMITS", "5/1h,20/24h"));
      limits.ok()) {
    options.recipient_starts = *std::move(limits);
  } else {
    reader.AddError("KLAXON_VERIFY_RECIPIENT_LIMITS", std::string(limits.status().message()));
  }
  if (absl::StatusOr<std::vector<limits::Rate>> limits =
          limits::ParseRateList(reader.Optional("KLAXON_VERIFY_PREFIX_LIMITS", "50/1h"));
      limits.ok()) {
    options.prefix_starts = *std::move(limits);
  } else {
    reader.AddError("KLAXON_VERIFY_PREFIX_LIMITS", std::string(limits.status().message()));
  }
  options.prefix_digits = static_cast<int>(reader.Int("KLAXON_VERIFY_PREFIX_DIGITS", 7, 2, 14));
  if (absl::StatusOr<std::map<std::string, limits::Rate>> limits = limits::ParseNamedRates(
          reader.Optional("KLAXON_VERIFY_CALLER_LIMITS", ""), "KLAXON_VERIFY_CALLER_LIMITS");
      limits.ok()) {
    options.caller_starts = *std::move(limits);
  } else {
    reader.AddError(limits.status());
  }
  if (absl::StatusOr<verification::SpendSettings> spend =
          verification::ParseSpendSettings(reader.Optional("KLAXON_VERIFY_PRICES", ""),
                                           reader.Optional("KLAXON_VERIFY_DAILY_SPEND", ""));
      spend.ok()) {
    options.spend = *std::move(spend);
  } else {
    reader.AddError(spend.status());  // its message names the variable at fault
  }
  if (absl::StatusOr<verification::RegionPermissions> regions =
          verification::RegionPermissions::Parse(reader.Optional("KLAXON_VERIFY_REGIONS", ""));
      regions.ok()) {
    options.regions = *std::move(regions);
  } else {
    reader.AddError(regions.status());
  }
  // The domain ends the SMS as "@<domain> #<code>": a bare host name, nothing a text could abuse.
  if (!std::all_of(options.webotp_domain.begin(), options.webotp_domain.end(), [](char c) {
        return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-';
      })) {
    reader.AddError("KLAXON_VERIFY_WEBOTP_DOMAIN",
                    "must be a host name (letters, digits, '.' and '-'), e.g. example.com");
  }
  return options;
}

}  // namespace

absl::StatusOr<IngressSettings> LoadIngressSettings(config::Reader& reader) {
  IngressSettings settings{
      .common = runtime::ReadCommonSettings(reader),
      .grpc = reader.HostPortValue("KLAXON_GRPC_ADDR", "127.0.0.1:50051"),
      .grpc_security = grpcutil::ReadServerSecurity(reader),
      .redis = redis::ReadRedisOptions(reader, {.pool_size = kRedisConnections}),
      .redis_key_prefix = reader.Optional("KLAXON_REDIS_KEY_PREFIX", "klaxon:"),
      .publish_timeout = reader.Duration("KLAXON_PUBLISH_TIMEOUT", absl::Seconds(5),
                                         absl::Milliseconds(100), absl::Seconds(60)),
      .publish_linger = reader.Duration("KLAXON_PUBLISH_LINGER", absl::Milliseconds(1),
                                        absl::ZeroDuration(), absl::Milliseconds(100)),
      .admission = {.max_in_flight = reader.Int("KLAXON_INTAKE_MAX_IN_FLIGHT", 1024, 1, 100'000),
                    // 0 turns the backlog bound off.
                    .max_backlog =
                        reader.Int("KLAXON_INTAKE_MAX_BACKLOG", 100'000, 0, 1'000'000'000)},
      .intake_threads = reader.Int("KLAXON_INTAKE_THREADS", 16, 1, kRedisConnections)};
  settings.webhook = ReadWebhookSettings(reader);
  settings.http_api = ReadHttpApiSettings(reader);
  if (absl::StatusOr<std::map<std::string, limits::Rate>> quotas = limits::ParseNamedRates(
          reader.Optional("KLAXON_CALLER_QUOTAS", ""), "KLAXON_CALLER_QUOTAS");
      quotas.ok()) {
    settings.caller_quotas = *std::move(quotas);
  } else {
    reader.AddError(quotas.status());
  }
  settings.budgets = budgets::ReadBudgets(reader);
  if (absl::StatusOr<QuietHours> quiet =
          QuietHours::Parse(reader.Optional("KLAXON_QUIET_HOURS", ""),
                            reader.Optional("KLAXON_QUIET_HOURS_EXEMPT", "high"));
      quiet.ok()) {
    settings.quiet_hours = *std::move(quiet);
  } else {
    reader.AddError(quiet.status());
  }
  settings.verification = ReadVerificationSettings(reader);
  settings.api_keys = auth::ReadApiKeySettings(reader);
  if (absl::Status finished = reader.Finish(); !finished.ok()) return finished;
  return settings;
}

}  // namespace klaxon::ingress
