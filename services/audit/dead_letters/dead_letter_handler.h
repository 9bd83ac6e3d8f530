#pragma once
// Audit's handler of klaxon.dlq (its own consumer group, apart from the projection's): each
// DeadLetter becomes one dead_letters row (docs/adr/0008-audit-records.md), its whole request
// (recipient and text opened from their transit seal, ADR 0013) sealed by PersonalData under a
// fresh data key, the recipient kept only as a blind index,
// country calling code and last four digits. A repeat of a stored alert's dead letter changes
// nothing.
//
// Result contract (see messaging::MessageHandler):
//   OK                stored, or already stored
//   kInvalidArgument  undecodable message (or a value the database refused): counted and logged
//                     without personal data; the consumer skips it, so it never blocks its
//                     partition
//   kUnavailable      sealing or the store failed; the consumer retries the same message (a
//                     dead letter is the only record of what to replay, so it is never dropped
//                     for an outage)

#include "common/crypto/blind_index.h"
#include "common/log/log.h"
#include "common/messaging/message.h"
#include "common/transit/transit_cipher.h"
#include "services/audit/dead_letters/dead_letter_metrics.h"
#include "services/audit/dead_letters/dead_letters.h"
#include "services/audit/personal_data.h"

namespace klaxon::audit {

class DeadLetterHandler final : public messaging::MessageHandler {
 public:
  // All borrowed; they must outlive the handler.
  DeadLetterHandler(DeadLetterStore& store, PersonalData& personal_data,
                    const crypto::BlindIndex& blind_index, DeadLetterMetrics& metrics,
                    const log::Logger& logger, transit::TransitCipher& transit);

  absl::Status Handle(const messaging::InboundMessage& message) override;

 private:
  absl::Status Skip(const messaging::InboundMessage& message, const absl::Status& invalid);
  absl::Status Retry(const absl::Status& status);

  DeadLetterStore& store_;
  PersonalData& personal_data_;
  transit::TransitCipher& transit_;
  const crypto::BlindIndex& blind_index_;
  DeadLetterMetrics& metrics_;
  const log::Logger& logger_;
};

}  // namespace klaxon::audit
