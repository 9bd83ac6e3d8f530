#include "services/audit/postgres/planner_statistics.h"

#include "absl/strings/str_cat.h"

namespace klaxon::audit {

absl::StatusOr<std::vector<AnalyzedTable>> PlannerStatistics::AnalyzeOutgrownTables() {
  std::vector<AnalyzedTable> outgrown;
  absl::Status status = db_.Autocommit([&](pqxx::nontransaction& txn) {
    outgrown.clear();
    // reltuples is -1 until the first ANALYZE or VACUUM.
    for (const auto& row :
         txn.exec_params("SELECT s.relname, s.n_live_tup FROM pg_stat_user_tables s "
                         "JOIN pg_class c ON c.oid = s.relid "
                         "WHERE s.schemaname = current_schema() AND s.n_live_tup >= $1 "
                         "  AND s.n_live_tup > $2 * greatest(c.reltuples, 0) ORDER BY s.relname",
                         options_.min_rows, options_.outgrown_factor)) {
      outgrown.push_back({row[0].as<std::string>(), row[1].as<int64_t>()});
    }
    for (const AnalyzedTable& table : outgrown) {
      txn.exec(absl::StrCat("ANALYZE ", txn.quote_name(table.name)));
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return outgrown;
}

}  // namespace klaxon::audit
