#include "services/audit/postgres/alert_rows.h"

#include <optional>
#include <string>

namespace klaxon::audit {

AlertRecord AlertFromRow(const pqxx::row& row) {
  return {.alert_id = row[0].as<std::string>(),
          .caller = row[1].as<std::string>(),
          .channel = static_cast<Channel>(row[2].as<int>()),
          .status = static_cast<AlertStatus>(row[3].as<int>()),
          .requested = row[4].as<bool>(),
          .recipient_country_code = row[5].as<std::string>(),
          .recipient_last4 = row[6].as<std::string>(),
          .twilio_sid = row[7].as<std::string>(),
          .twilio_error_code = row[8].as<int32_t>(),
          .reason = row[9].as<std::string>(),
          .created_at = absl::FromUnixMicros(row[10].as<int64_t>()),
          .updated_at = absl::FromUnixMicros(row[11].as<int64_t>()),
          .status_at = absl::FromUnixMicros(row[12].as<int64_t>()),
          .attempts = {},
          .callback_url = row[13].as<std::string>(),
          .escalation_id = row[14].as<std::string>(),
          .escalation_step = row[15].as<uint32_t>(),
          .acknowledged_by = row[16].as<std::string>(),
          .acknowledged_step = row[17].as<uint32_t>(),
          .acknowledged_at = row[18].is_null()
                                 ? std::nullopt
                                 : std::optional(absl::FromUnixMicros(row[18].as<int64_t>())),
          .template_name = row[19].as<std::string>(),
          .template_locale = row[20].as<std::string>(),
          .template_version = row[21].as<uint32_t>()};
}

}  // namespace klaxon::audit
