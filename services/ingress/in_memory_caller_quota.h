#pragma once
// CallerQuota in memory for tests of AlertIntake: each caller may send `limit` alerts in all,
// and the test can see how many each one was charged.

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/ingress/caller_quota.h"

namespace klaxon::ingress {

class InMemoryCallerQuota final : public CallerQuota {
 public:
  explicit InMemoryCallerQuota(int limit) : limit_(limit) {}

  std::vector<absl::Status> AdmitAll(std::span<const std::string_view> callers) override {
    std::lock_guard lock(mutex_);
    std::vector<absl::Status> admitted;
    for (std::string_view caller : callers) {
      int& used = used_[std::string(caller)];
      if (used >= limit_) {
        admitted.push_back(absl::ResourceExhaustedError(absl::StrCat(
            "caller ", std::string(caller), " is over its quota of ", limit_, " alerts")));
      } else {
        ++used;
        admitted.push_back(absl::OkStatus());
      }
    }
    return admitted;
  }

  int used(const std::string& caller) {
    std::lock_guard lock(mutex_);
    return used_[caller];
  }

 private:
  const int limit_;
  std::mutex mutex_;
  std::map<std::string, int> used_;
};

}  // namespace klaxon::ingress
