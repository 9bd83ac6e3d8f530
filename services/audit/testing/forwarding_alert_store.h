#pragma once
// An AlertStore that hands every call to another one. A test's or benchmark's decorator derives
// from it and overrides only what it changes (usually Write).

#include <string_view>
#include <vector>

#include "services/audit/alert_store.h"

namespace klaxon::audit::testing {

class ForwardingAlertStore : public AlertStore {
 public:
  // `inner` is borrowed and must outlive this store.
  explicit ForwardingAlertStore(AlertStore& inner) : inner_(inner) {}

  absl::StatusOr<std::vector<IngestResult>> Write(const std::vector<IngestItem>& batch) override {
    return inner_.Write(batch);
  }
  absl::StatusOr<std::optional<AlertRecord>> GetAlert(std::string_view caller,
                                                      std::string_view alert_id) override {
    return inner_.GetAlert(caller, alert_id);
  }
  absl::StatusOr<std::vector<AlertRecord>> EscalationPages(
      std::string_view caller, std::string_view escalation_id) override {
    return inner_.EscalationPages(caller, escalation_id);
  }
  absl::Status AdvanceProgress(const std::vector<ConsumedOffset>& progress) override {
    return inner_.AdvanceProgress(progress);
  }
  absl::StatusOr<int64_t> NextOffset(std::string_view topic, int32_t partition) override {
    return inner_.NextOffset(topic, partition);
  }

 protected:
  AlertStore& inner_;
};

}  // namespace klaxon::audit::testing
