#include "tools/klaxon-admin/online_check.h"

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/twilio/twilio_rest_client.h"
#include "services/delivery/senders.h"
#include "services/delivery/worker_settings.h"
#include "services/sms-worker/sms_worker_spec.h"
#include "services/voice-worker/voice_worker_spec.h"

namespace klaxon::admin {
namespace {

constexpr char kMessagingBaseUrl[] = "KLAXON_TWILIO_MESSAGING_BASE_URL";

// What Twilio said of a request that failed, as a status naming `what` was asked.
absl::Status Failed(const twilio::TwilioError& error, const std::string& what) {
  const absl::Status status = twilio::ToStatus(error);
  return absl::Status(status.code(), absl::StrCat(what, ": ", status.message()));
}

OnlineFinding CheckAccount(const twilio::TwilioAccount& account, twilio::TwilioRestClient& client) {
  OnlineFinding finding{
      .subject = absl::StrCat("account ", account.name, " (", account.account_sid, ")"),
      .status = absl::OkStatus()};
  const twilio::TwilioResult<twilio::AccountResource> fetched = client.FetchAccount();
  if (!fetched.ok()) {
    finding.status = Failed(fetched.error(), "fetching the account with its credentials failed");
  } else if (fetched.value().status != "active") {
    finding.status = absl::FailedPreconditionError(
        absl::StrCat("Twilio says the account is ", fetched.value().status, ", not active"));
  }
  return finding;
}

OnlineFinding CheckSender(const delivery::PacedSender& sender, twilio::TwilioRestClient& client) {
  OnlineFinding finding{
      .subject = absl::StrCat("sender ", sender.address, " of account ", sender.account),
      .status = absl::OkStatus()};
  twilio::TwilioResult<bool> found = false;
  std::string where;
  switch (sender.kind) {
    case delivery::SenderKind::kAlphanumeric:
      finding.checked = false;  // Twilio has no lookup for it
      return finding;
    case delivery::SenderKind::kMessagingService:
      found = client.HasMessagingService(sender.address);
      where = "its Messaging Services";
      break;
    case delivery::SenderKind::kShortCode:
      found = client.OwnsSender(sender.address);
      where = "its short codes (SMS/ShortCodes)";
      break;
    case delivery::SenderKind::kLongCode:
    case delivery::SenderKind::kTollFree:
      found = client.OwnsSender(sender.address);
      where = "its phone numbers (IncomingPhoneNumbers)";
      break;
  }
  if (!found.ok()) {
    finding.status = Failed(found.error(), absl::StrCat("looking it up in ", where));
  } else if (!found.value()) {
    finding.status =
        absl::NotFoundError(absl::StrCat("the account does not have it: it is not among ", where));
  }
  return finding;
}

}  // namespace

std::vector<OnlineFinding> CheckOnline(const config::Environment& environment,
                                       const std::vector<std::string>& services) {
  std::vector<OnlineFinding> findings;
  std::set<std::string> accounts_seen;
  std::set<std::pair<std::string, std::string>> senders_seen;
  const auto messaging_base_url = environment.find(kMessagingBaseUrl);
  for (const delivery::WorkerSpec& spec : {sms::SmsWorkerSpec(), voice::VoiceWorkerSpec()}) {
    if (!services.empty() && std::ranges::find(services, spec.service) == services.end()) continue;
    config::Reader reader(environment);
    absl::StatusOr<delivery::WorkerSettings> settings = delivery::LoadWorkerSettings(reader, spec);
    if (!settings.ok()) {
      findings.push_back({.subject = absl::StrCat(spec.channel, "-worker's configuration"),
                          .status = settings.status()});
      continue;
    }
    if (messaging_base_url != environment.end()) {
      settings->twilio_client.messaging_base_url = messaging_base_url->second;
    }
    absl::StatusOr<std::map<std::string, std::unique_ptr<twilio::TwilioRestClient>>> clients =
        delivery::TwilioClients(*settings);
    if (!clients.ok()) {
      findings.push_back({.subject = absl::StrCat(spec.channel, "-worker's Twilio clients"),
                          .status = clients.status()});
      continue;
    }
    for (const twilio::TwilioAccount& account : settings->accounts) {
      if (accounts_seen.insert(account.name).second) {
        findings.push_back(CheckAccount(account, *clients->at(account.name)));
      }
    }
    for (const delivery::PacedSender& sender : settings->limits.send.senders) {
      const auto client = clients->find(sender.account);
      if (client == clients->end() ||
          !senders_seen.emplace(sender.address, sender.account).second) {
        continue;  // the offline check refuses a sender of an unknown account
      }
      findings.push_back(CheckSender(sender, *client->second));
    }
  }
  return findings;
}

}  // namespace klaxon::admin
