#pragma once
// In-memory TemplateStore for unit tests: the same versions, default locales, order and caller
// scoping as Postgres (the contract in template_store_contract.h holds both to it), created_at
// from an injected clock, and a way to fail like a database that is down.

#include <algorithm>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "common/timing/clock.h"
#include "services/audit/templates/template_store.h"

namespace klaxon::audit {

class FakeTemplateStore final : public TemplateStore {
 public:
  // `clock` stamps created_at; borrowed.
  explicit FakeTemplateStore(timing::Clock& clock) : clock_(clock) {}

  absl::StatusOr<MessageTemplate> Create(std::string_view caller,
                                         const MessageTemplate& created) override {
    std::lock_guard lock(mutex_);
    if (!fail_with_.ok()) return fail_with_;
    const VersionsKey key{std::string(caller), created.name, created.locale};
    const auto existing = versions_.find(key);
    if (existing == versions_.end()) {
      const size_t kept = static_cast<size_t>(
          std::count_if(versions_.begin(), versions_.end(),
                        [&](const auto& entry) { return entry.first.caller == caller; }));
      if (kept >= kMaxTemplatesPerCaller) return TooManyTemplates();
    } else if (existing->second.size() >= kMaxVersionsPerTemplate) {
      return TooManyVersions(created.name, created.locale);
    }
    std::vector<MessageTemplate>& versions = versions_[key];
    MessageTemplate stored = created;
    stored.version = static_cast<uint32_t>(versions.size() + 1);
    stored.created_at = clock_.Now();
    versions.push_back(stored);
    // The name's first locale is its default until a create asks for another.
    const auto default_locale =
        defaults_.try_emplace({std::string(caller), created.name}, created.locale).first;
    if (created.default_locale) default_locale->second = created.locale;
    return Marked(caller, std::move(stored));
  }

  absl::StatusOr<std::vector<MessageTemplate>> List(std::string_view caller,
                                                    std::string_view name) override {
    std::lock_guard lock(mutex_);
    if (!fail_with_.ok()) return fail_with_;
    std::vector<MessageTemplate> listed;
    // Keyed by caller, name, locale: one caller's entries come by name, then locale.
    for (const auto& [key, versions] : versions_) {
      if (key.caller == caller && (name.empty() || key.name == name)) {
        listed.push_back(Marked(caller, versions.back()));
      }
    }
    return listed;
  }

  absl::StatusOr<std::optional<MessageTemplate>> Latest(std::string_view caller,
                                                        std::string_view name,
                                                        std::string_view locale) override {
    std::lock_guard lock(mutex_);
    if (!fail_with_.ok()) return fail_with_;
    const auto default_locale = defaults_.find({std::string(caller), std::string(name)});
    if (default_locale == defaults_.end()) return std::nullopt;
    auto versions = versions_.find({std::string(caller), std::string(name), std::string(locale)});
    if (versions == versions_.end()) {
      versions = versions_.find({std::string(caller), std::string(name), default_locale->second});
    }
    return Marked(caller, versions->second.back());
  }

  // Every call fails with `status` until it is OK again.
  void FailWith(absl::Status status) {
    std::lock_guard lock(mutex_);
    fail_with_ = std::move(status);
  }

 private:
  struct VersionsKey {
    std::string caller;
    std::string name;
    std::string locale;
    friend auto operator<=>(const VersionsKey&, const VersionsKey&) = default;
  };
  struct DefaultKey {
    std::string caller;
    std::string name;
    friend auto operator<=>(const DefaultKey&, const DefaultKey&) = default;
  };

  // `stored` with default_locale saying whether its locale is its name's default now.
  MessageTemplate Marked(std::string_view caller, MessageTemplate stored) const {
    stored.default_locale = defaults_.at({std::string(caller), stored.name}) == stored.locale;
    return stored;
  }

  timing::Clock& clock_;
  std::mutex mutex_;
  std::map<VersionsKey, std::vector<MessageTemplate>> versions_;  // guarded by mutex_; oldest first
  std::map<DefaultKey, std::string> defaults_;                    // guarded by mutex_
  absl::Status fail_with_;                                        // guarded by mutex_
};

}  // namespace klaxon::audit
