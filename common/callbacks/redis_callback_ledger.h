#pragma once
// CallbackLedger in Redis, shared by every ingress replica and worker:
// - <prefix>callback_final:<SID> = "1", expiring after `final_kept`;
// - <prefix>callbacks_lost_at = the latest loss time in Unix milliseconds, raised (never lowered)
//   by one Lua script, so a replica that writes late cannot hide a later loss; no expiry.
// Read is one MGET of both keys. A SID is Twilio's resource id, not personal data.

#include <string>

#include "common/callbacks/callback_ledger.h"
#include "common/redis/redis_client.h"

namespace klaxon::callbacks {

struct RedisCallbackLedgerOptions {
  std::string key_prefix;  // KLAXON_REDIS_KEY_PREFIX
  // Longer than the status checks of an attempt run: the longest time to live SendAlert allows
  // (10 h) plus the checks' grace past the deadline (1 h), from the attempt's acceptance, which
  // precedes every callback of it.
  absl::Duration final_kept = absl::Hours(12);
};

class RedisCallbackLedger final : public CallbackLedger {
 public:
  // `redis` is borrowed and must outlive this.
  RedisCallbackLedger(redis::RedisClient& redis, RedisCallbackLedgerOptions options);

  std::vector<absl::Status> RecordFinal(const std::vector<std::string>& sids) override;
  absl::Status RecordLoss(absl::Time at) override;
  absl::StatusOr<CallbackRecord> Read(std::string_view sid) override;

  std::string FinalKey(std::string_view sid) const;
  std::string LostAtKey() const;

 private:
  redis::RedisClient& redis_;
  const RedisCallbackLedgerOptions options_;
};

}  // namespace klaxon::callbacks
