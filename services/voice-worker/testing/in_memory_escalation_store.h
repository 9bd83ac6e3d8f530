#pragma once
// In-memory EscalationStore and RecipientAlerts for unit tests (expiry is not modelled beyond
// RecipientAlerts::List's `now`). `status`, when not OK, is what every call returns.

#include <map>
#include <set>
#include <string>

#include "services/voice-worker/escalation_store.h"

namespace klaxon::voice::testing {

class InMemoryEscalationStore final : public EscalationStore {
 public:
  absl::Status Remember(const events::v1::AlertRequested& request, absl::Time) override {
    if (!status.ok()) return status;
    requests[request.header().alert_id()] = request;
    return absl::OkStatus();
  }
  absl::StatusOr<std::optional<events::v1::AlertRequested>> Find(
      std::string_view alert_id) override {
    if (!status.ok()) return status;
    const auto it = requests.find(std::string(alert_id));
    if (it == requests.end()) return std::nullopt;
    return it->second;
  }
  absl::StatusOr<bool> ClaimStep(std::string_view alert_id, std::string_view step,
                                 absl::Time) override {
    if (!status.ok()) return status;
    return steps.insert(std::string(alert_id) + "/" + std::string(step)).second;
  }
  absl::Status ReleaseStep(std::string_view alert_id, std::string_view step) override {
    steps.erase(std::string(alert_id) + "/" + std::string(step));
    return status;
  }

  absl::Status status = absl::OkStatus();
  std::map<std::string, events::v1::AlertRequested> requests;
  std::set<std::string> steps;  // "<alert_id>/<step>"
};

class InMemoryRecipientAlerts final : public RecipientAlerts {
 public:
  absl::Status Add(std::string_view recipient, std::string_view alert_id,
                   absl::Time until) override {
    alerts[std::string(recipient)][std::string(alert_id)] = until;
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<std::string>> List(std::string_view recipient,
                                                absl::Time now) override {
    std::vector<std::string> ids;
    for (const auto& [id, until] : alerts[std::string(recipient)]) {
      if (until > now) ids.push_back(id);
    }
    return ids;
  }
  absl::Status Remove(std::string_view recipient, std::string_view alert_id) override {
    alerts[std::string(recipient)].erase(std::string(alert_id));
    return absl::OkStatus();
  }

  std::map<std::string, std::map<std::string, absl::Time>> alerts;  // recipient → id → until
};

}  // namespace klaxon::voice::testing
