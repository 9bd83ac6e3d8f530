#pragma once
// Keeps the planner's statistics of audit's tables from describing a table far smaller than it is.
// Until a table is first analyzed, Postgres guesses how many of its rows a condition keeps, and
// for audit's batch statements (a JSON recordset joined to a table by key) it guesses that a
// hash join over a scan of the whole table is cheapest. Autovacuum analyzes a new table only on
// its first visit after the table fills, up to autovacuum_naptime (a minute by default) later,
// and audit's tables start empty in a new database, as does each month's audit_events partition.
// In that minute audit's batches read whole tables thousands of times (bench/README.md,
// "Re-measured (29 Nov 2026)"). Analyzing a table updates its statistics and makes every
// statement prepared on it plan again (ADR 0048).

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/pg/database.h"

namespace klaxon::audit {

struct PlannerStatisticsOptions {
  // A table is analyzed once it holds at least this many live rows and more than
  // `outgrown_factor` times the rows its statistics last counted (a never-analyzed table counts
  // none). Autovacuum analyzes after a tenth more rows, so a table it keeps up with is left to it.
  int64_t min_rows = 1000;
  int64_t outgrown_factor = 2;
};

struct AnalyzedTable {
  std::string name;
  int64_t live_rows = 0;  // as the cumulative statistics counted them when the table was chosen
};

class PlannerStatistics {
 public:
  // `db` is borrowed and must outlive this.
  explicit PlannerStatistics(pg::Database& db, PlannerStatisticsOptions options = {})
      : db_(db), options_(options) {}

  // Analyzes each table of the connection's schema that has outgrown its statistics, and returns
  // them. Live rows come from the cumulative statistics, which a backend reports about once a
  // second while it writes, so a table is seen to grow a moment after its rows commit.
  absl::StatusOr<std::vector<AnalyzedTable>> AnalyzeOutgrownTables();

 private:
  pg::Database& db_;
  const PlannerStatisticsOptions options_;
};

}  // namespace klaxon::audit
